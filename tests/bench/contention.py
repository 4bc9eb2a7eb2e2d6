"""The harness of the benchmarks that measure answer saves beside other work.

bench_evidence_saves.py (files uploading) and bench_saves_under_render.py
(reports rendering) measure the same way: clients signed in through the
real sign-in form post autosaves (bench_saves.py's), each pausing between
saves, first with nothing else going on, then while the other work runs in
a thread; a save counts as "during" that work when it starts inside one of
the windows the work reports. This module is that measurement and its
printout; each benchmark brings its own work.
"""

import threading
import time

import bench_saves as saves


def signed_in(port: int, setup: dict, clients: int) -> list:
    """Sign `clients` sessions in through the form, the team's people in turn."""
    sessions = []
    for k in range(clients):
        session = saves.Session(port)
        session.sign_in(setup["emails"][k % len(setup["emails"])], setup["cycle_id"])
        session.close()
        sessions.append(session)
    return sessions


def saves_alone_then_beside(
    port, sessions, setup, database, seconds, pause, work
) -> tuple:
    """Warm up; save for `seconds` alone; then again while work(stop, windows) runs.

    work runs in a thread until time.perf_counter() passes stop, appending
    (start, end) of each of its windows. Returns (alone, beside, windows):
    the two run_load results and the windows.
    """
    saves.run_load(port, saves.save_jobs(sessions, setup, {}, "warm-up"), 1)
    alone = saves.run_load(
        port,
        saves.save_jobs(sessions, setup, saves.stored_revisions(database)),
        seconds,
        pause,
    )
    windows: list = []
    stop = time.perf_counter() + seconds
    busy_jobs = saves.save_jobs(
        sessions, setup, saves.stored_revisions(database), "busy"
    )
    thread = threading.Thread(target=work, args=(stop, windows))
    thread.start()
    beside = saves.run_load(port, busy_jobs, seconds, pause)
    thread.join()
    return alone, beside, windows


def latencies(result: dict, windows=None) -> list:
    """A run's save latencies; with windows, only of saves started inside one."""
    return [
        latency
        for start, latency in result["samples"]
        if windows is None or any(a <= start <= b for a, b in windows)
    ]


def summary(values: list) -> dict:
    """n, p50, p95 and p99 (ms) of latencies in seconds."""
    ordered = sorted(values) or [0.0]
    return {
        "n": len(values),
        "p50": saves.percentile(ordered, 0.50) * 1000,
        "p95": saves.percentile(ordered, 0.95) * 1000,
        "p99": saves.percentile(ordered, 0.99) * 1000,
    }


def line(name: str, s: dict, width: int = 24) -> str:
    return (
        f"{name:<{width}} {s['n']:>6} saves  p50 {s['p50']:6.1f} ms  "
        f"p95 {s['p95']:6.1f} ms  p99 {s['p99']:6.1f} ms"
    )


def verdict(alone: dict, beside: dict, what: str, target_ms: float = 100) -> str:
    """The p95 ratio and whether the p95 beside the work met the target."""
    return (
        f"p95 ratio {what}/alone: {beside['p95'] / max(alone['p95'], 0.001):.1f}x; "
        f"target p95 < {target_ms:g} ms while {what}: "
        + ("met" if beside["p95"] < target_ms else "MISSED")
    )
