"""Benchmark answer saves while 20 MB evidence files upload, beside saves alone.

Run from the repo root:

    .venv/bin/python tests/bench/bench_evidence_saves.py [--uploaders 2] [--port 5151]

Target (issue 18): the answer save's p95 stays under 100 ms while files
upload. On a temporary database (bench_saves.py's open 60-item cycle rated by
Northfield's senior leadership team) it starts the server the way `make run`
does: stock gunicorn (gthread, 2 workers x 4 threads, wsgi:app). Clients
signed in through the real sign-in form post autosaves, each pausing --pause
seconds between saves (a person typing, not a flood):

1. for --seconds with nothing else going on;
2. for --seconds while --uploaders people, one after another without a
   pause, add a 20 MB PDF as evidence through the real form (multipart, CSRF,
   the type read from its bytes, the file written to SQLite in 1 MB chunks,
   each its own transaction, the evidence row last). A save counts as "during
   an upload" when it starts while any upload is in flight.

Prints p50/p95/p99 of both, the ratio of the p95s and the upload times;
asserts nothing. Without nginx in front, gunicorn reads each upload body
itself, as it would behind nginx once nginx has buffered it.
"""

import argparse
import logging
import os
import pathlib
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_saves as saves  # noqa: E402

FILE_MB = 20


def pdf_bytes(size: int) -> bytes:
    """A file that reads as a PDF (its magic number), incompressible after it."""
    head = b"%PDF-1.7\n"
    return head + os.urandom(size - len(head))


def upload_body(token: str, item_id: str, data: bytes) -> tuple[str, bytes]:
    boundary = "benchboundary" + os.urandom(8).hex()
    parts = []
    for name, value in (
        ("csrf_token", token),
        ("title", "Bench upload"),
        ("items", item_id),
    ):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bench.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return boundary, b"".join(parts)


def uploader(port, email, setup, data, stop, windows, failures):
    """Upload the file again and again until stop; record (start, end) of each."""
    session = saves.Session(port, timeout=120)
    session.sign_in(email, setup["cycle_id"])
    url = f"/cycles/{setup['cycle_id']}/evidence/new/file"
    _, html = session.request("GET", url)
    token = saves._FORM_CSRF.search(html.decode()).group(1)
    boundary, body = upload_body(token, setup["item_ids"][0], data)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    while time.perf_counter() < stop:
        start = time.perf_counter()
        status, _ = session.request("POST", url, body, headers)
        end = time.perf_counter()
        if status != 302:
            failures.append(status)
        windows.append((start, end))
    session.close()


def summary(latencies: list) -> dict:
    ordered = sorted(latencies) or [0.0]
    return {
        "n": len(latencies),
        "p50": saves.percentile(ordered, 0.50) * 1000,
        "p95": saves.percentile(ordered, 0.95) * 1000,
        "p99": saves.percentile(ordered, 0.99) * 1000,
    }


def line(name: str, s: dict) -> str:
    return (
        f"{name:<24} {s['n']:>6} saves  p50 {s['p50']:6.1f} ms  "
        f"p95 {s['p95']:6.1f} ms  p99 {s['p99']:6.1f} ms"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    loads = os.getloadavg()  # other work on the machine skews every figure
    data = pdf_bytes(FILE_MB * 1024 * 1024)
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        database = folder / "bench.db"
        setup = saves.build_database(database)
        env = {
            **saves.app_env(database),
            # Room for every upload of the run: the quota is not what is measured.
            "PEERREVIEW_EVIDENCE_QUOTA_MB": "100000",
        }
        port = options.port or saves.free_port()
        with open(folder / "server.log", "wb") as log:
            web = saves.Server("wsgi:app", port, env, log=log)
            try:
                sessions = []
                for k in range(options.clients):
                    session = saves.Session(web.port)
                    session.sign_in(
                        setup["emails"][k % len(setup["emails"])], setup["cycle_id"]
                    )
                    session.close()
                    sessions.append(session)
                saves.run_load(
                    web.port, saves.save_jobs(sessions, setup, {}, "warm-up"), 1
                )
                idle = saves.run_load(
                    web.port,
                    saves.save_jobs(sessions, setup, saves.stored_revisions(database)),
                    options.seconds,
                    options.pause,
                )
                windows, failures = [], []
                stop = time.perf_counter() + options.seconds
                threads = [
                    threading.Thread(
                        target=uploader,
                        args=(
                            web.port,
                            setup["emails"][k % len(setup["emails"])],
                            setup,
                            data,
                            stop,
                            windows,
                            failures,
                        ),
                    )
                    for k in range(options.uploaders)
                ]
                busy_jobs = saves.save_jobs(
                    sessions, setup, saves.stored_revisions(database), "busy"
                )
                for t in threads:
                    t.start()
                busy = saves.run_load(
                    web.port, busy_jobs, options.seconds, options.pause
                )
                for t in threads:
                    t.join()
            finally:
                web.stop()
        size_mb = database.stat().st_size / 1024 / 1024
    during = [
        latency
        for start, latency in busy["samples"]
        if any(a <= start <= b for a, b in windows)
    ]
    quiet = summary([latency for _, latency in idle["samples"]])
    loaded = summary(during)
    times = sorted(b - a for a, b in windows)
    print(
        f"{options.clients} clients, one save every {options.pause:g} s each, "
        f"{options.seconds:g} s per phase, {options.uploaders} uploaders of "
        f"{FILE_MB} MB files, {os.cpu_count()} CPUs, load average "
        f"{loads[0]:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    print(
        f"{len(windows)} uploads ({len(failures)} failed: {failures[:3]}), "
        + (
            f"each {times[0]:.2f}-{times[-1]:.2f} s (median "
            f"{times[len(times) // 2]:.2f} s); "
            if times
            else ""
        )
        + f"database {size_mb:.0f} MB after"
    )
    print(line("saves alone", quiet))
    print(line("saves during uploads", loaded))
    print(
        f"p95 ratio uploading/alone: {loaded['p95'] / max(quiet['p95'], 0.001):.1f}x; "
        "target p95 < 100 ms while uploading: "
        + ("met" if loaded["p95"] < 100 else "MISSED")
    )
    save_failures = idle["failures"] + busy["failures"]
    if save_failures:
        print(f"{len(save_failures)} failed saves, first: {save_failures[:3]}")


if __name__ == "__main__":
    main()
