"""Benchmark answer saves while the render worker renders team reports.

Run from the repo root:

    .venv/bin/python tests/bench/bench_saves_under_render.py [--nice 10]

Target (issue 7): the answer save's p95 stays under 100 ms while four reports
render. On a temporary database (bench_saves.py's open 60-item cycle for the
savers, plus four agreed cycles of bench_reports.py's 40-item team report, each
its own team of eight with a 15-action plan) it starts the server the way
`make run` does: gunicorn (stock gthread, 2 workers x 4 threads,
wsgi:app) and the
Huey consumer (`huey_consumer peerreview.reports.jobs.huey --workers 2
--worker-type process`, under `nice -n N` with --nice), on a queue file of its
own. Clients signed in through the real sign-in form post autosaves, each
pausing --pause seconds between saves (a person typing, not a flood):

1. for --seconds with the consumer idle;
2. for --seconds while, round after round, the four distinct team reports are
   taken out of the cache and queued together, exactly as the report page
   queues them. A save counts as "under render" when it starts between a
   round's queueing and its last PDF landing in the cache.

Prints p50/p95/p99 of both and the ratio of the p95s; asserts nothing.
"""

import argparse
import contextlib
import logging
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_saves as saves  # noqa: E402
import contention  # noqa: E402

ROOT = saves.ROOT
REPORTS = 4


class Consumer:
    """The Huey consumer as `make run` starts it, in its own process group."""

    def __init__(self, env: dict, nice: int = 0, log=None):
        command = [
            str(ROOT / ".venv" / "bin" / "huey_consumer"),
            "peerreview.reports.jobs.huey",
            "--workers",
            "2",
            "--worker-type",
            "process",
            "--delay",
            "0.1",
            "--max-delay",
            "0.5",
        ]
        if nice:
            command = ["nice", "-n", str(nice), *command]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            start_new_session=True,
            stdout=log or subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
        )

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def report_jobs(database: pathlib.Path, queue: pathlib.Path) -> tuple[str, list]:
    """Add four teams' agreed cycles; return the cache folder and their render jobs."""
    import bench_reports as reports

    from peerreview import create_app
    from peerreview.db import connect
    from peerreview.reports import jobs
    from peerreview.reports.views import _job

    app = create_app(
        {
            "DATABASE": str(database),
            "SECRET_KEY": "bench",
            "SERVER_NAME": "localhost",
            "HUEY_FILE": str(queue),
        }
    )
    db = connect(database)
    try:
        instrument = reports.instrument_of(40)
        cycles = [
            reports.team_report_cycle(db, f"r{n}", seed=n, instrument=instrument)
            for n in range(REPORTS)
        ]
        with app.test_request_context():
            work = [_job(db, cycle, "team") for cycle in cycles]
        return jobs.cache_folder(app), work
    finally:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()


def render_round(cache_dir: str, work: list, timeout: float = 120.0) -> tuple:
    """Drop the reports from the cache, queue all four, wait; return (start, end)."""
    from peerreview.reports import jobs
    from peerreview.reports.cache import ReportCache

    cache = ReportCache(cache_dir)
    for key, *_ in work:
        cache.pdf_path(key).unlink(missing_ok=True)
        cache.clear(key)
    started = time.perf_counter()
    for job in work:
        jobs.request_render(cache_dir, *job)
    while True:
        states = [cache.state(key)["state"] for key, *_ in work]
        if all(s == "ready" for s in states):
            return started, time.perf_counter()
        if "failed" in states or time.perf_counter() - started > timeout:
            raise RuntimeError(f"renders did not finish: {states}")
        time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--nice", type=int, default=0, help="the consumer's niceness")
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    loads = os.getloadavg()  # other work on the machine skews every figure
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        database, queue = folder / "bench.db", folder / "jobs.db"
        # Read when peerreview.reports.jobs is imported, here and in the consumer.
        os.environ["PEERREVIEW_HUEY_FILE"] = str(queue)
        setup = saves.build_database(database)
        cache_dir, work = report_jobs(database, queue)
        env = {**saves.app_env(database), "PEERREVIEW_HUEY_FILE": str(queue)}
        with open(folder / "server.log", "wb") as log:
            web = saves.Server("wsgi:app", saves.free_port(), env, log=log)
            consumer = Consumer(env, options.nice, log=log)
            try:
                sessions = contention.signed_in(web.port, setup, options.clients)
                warm = render_round(cache_dir, work)  # the consumer's first renders

                def renders(stop, windows):
                    while time.perf_counter() < stop - 1:
                        windows.append(render_round(cache_dir, work))

                idle, busy, rounds = contention.saves_alone_then_beside(
                    web.port,
                    sessions,
                    setup,
                    database,
                    options.seconds,
                    options.pause,
                    renders,
                )
            finally:
                web.stop()
                consumer.stop()
        failures = idle["failures"] + busy["failures"]
    quiet = contention.summary(contention.latencies(idle))
    loaded = contention.summary(contention.latencies(busy, rounds))
    print(
        f"{options.clients} clients, one save every {options.pause:g} s each, "
        f"{options.seconds:g} s per phase, {os.cpu_count()} CPUs, load average "
        f"{loads[0]:.1f} before and {os.getloadavg()[0]:.1f} after; consumer "
        + (f"under nice -n {options.nice}" if options.nice else "at normal priority")
    )
    print(
        f"{REPORTS} team reports per round: first round {warm[1] - warm[0]:.1f} s; "
        f"{len(rounds)} rounds under load, "
        + ", ".join(f"{b - a:.1f}" for a, b in rounds)
        + " s"
    )
    print(contention.line("no rendering", quiet, 22))
    print(contention.line(f"{REPORTS} reports rendering", loaded, 22))
    print(contention.verdict(quiet, loaded, "rendering"))
    if failures:
        print(f"{len(failures)} failed saves, first: {failures[:3]}")


if __name__ == "__main__":
    main()
