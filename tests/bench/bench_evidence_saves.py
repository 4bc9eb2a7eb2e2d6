"""Benchmark answer saves while 20 MB evidence files upload, beside saves alone.

Run from the repo root:

    .venv/bin/python tests/bench/bench_evidence_saves.py [--uploaders 2] [--port 5141]

Target (issue 18): the answer save's p95 stays under 100 ms while files
upload. On a temporary database (bench_saves.py's open 60-item cycle rated by
Northfield's senior leadership team), copied twice, it starts two servers the
way `make run` does (stock gunicorn: gthread, 2 workers x 4 threads,
wsgi:app), one on each copy:

- "before": files written as they were (1 MB chunks, uploads writing side by
  side: PEERREVIEW_EVIDENCE_CHUNK_KB=1024,
  PEERREVIEW_EVIDENCE_UPLOADS_ONE_AT_A_TIME=0);
- "after": the platform's settings (256 KB chunks, one upload writing at a
  time).

Clients signed in through the real sign-in form post autosaves, each pausing
--pause seconds between saves (a person typing, not a flood). Round after
round (--rounds), for each server in turn (the order swapped every round, so
that other work on the machine falls on both alike):

1. for --seconds with nothing else going on;
2. for --seconds while --uploaders people, one after another without a
   pause, add a 20 MB PDF as evidence through the real form (multipart, CSRF,
   the type read from its bytes, the file written to SQLite in chunks, each
   its own transaction, the evidence row last). A save counts as "during an
   upload" when it starts while any upload is in flight.

Prints p50/p95/p99 of both for each server, the ratio of the p95s and the
upload times; asserts nothing. Without nginx in front, gunicorn reads each
upload body itself, as it would behind nginx once nginx has buffered it.
"""

import argparse
import contextlib
import logging
import os
import pathlib
import sqlite3
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_saves as saves  # noqa: E402
import contention  # noqa: E402

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


# Each server's settings: as files were written before, and as they are now.
SETTINGS = {
    "before": {
        "PEERREVIEW_EVIDENCE_CHUNK_KB": "1024",
        "PEERREVIEW_EVIDENCE_UPLOADS_ONE_AT_A_TIME": "0",
    },
    "after": {},
}


def uploads(port, setup, data, count, failures):
    """The work of the busy phase: `count` people uploading until stop."""

    def work(stop, windows):
        threads = [
            threading.Thread(
                target=uploader,
                args=(
                    port,
                    setup["emails"][k % len(setup["emails"])],
                    setup,
                    data,
                    stop,
                    windows,
                    failures,
                ),
            )
            for k in range(count)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return work


def copy_database(source: pathlib.Path, target: pathlib.Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source)) as a,
        contextlib.closing(sqlite3.connect(target)) as b,
    ):
        a.backup(b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument(
        "--port", type=int, default=0, help="the first of two ports; default: free"
    )
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    loads = os.getloadavg()  # other work on the machine skews every figure
    data = pdf_bytes(FILE_MB * 1024 * 1024)
    alone = {name: [] for name in SETTINGS}
    during = {name: [] for name in SETTINGS}
    windows = {name: [] for name in SETTINGS}
    failures = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        setup = saves.build_database(folder / "setup.db")
        servers, sessions, databases = {}, {}, {}
        with open(folder / "server.log", "wb") as log:
            try:
                for n, (name, settings) in enumerate(SETTINGS.items()):
                    databases[name] = folder / f"{name}.db"
                    copy_database(folder / "setup.db", databases[name])
                    env = {
                        **saves.app_env(databases[name]),
                        # Room for every upload: the quota is not what is measured.
                        "PEERREVIEW_EVIDENCE_QUOTA_MB": "100000",
                        **settings,
                    }
                    port = options.port + n if options.port else saves.free_port()
                    servers[name] = saves.Server("wsgi:app", port, env, log=log)
                    sessions[name] = contention.signed_in(port, setup, options.clients)
                for r in range(options.rounds):
                    order = list(SETTINGS)[:: 1 if r % 2 == 0 else -1]
                    for name in order:
                        port = servers[name].port
                        quiet, busy, spans = contention.saves_alone_then_beside(
                            port,
                            sessions[name],
                            setup,
                            databases[name],
                            options.seconds,
                            options.pause,
                            uploads(
                                port, setup, data, options.uploaders, failures[name]
                            ),
                        )
                        alone[name] += contention.latencies(quiet)
                        during[name] += contention.latencies(busy, spans)
                        windows[name] += spans
                        failures[name] += quiet["failures"] + busy["failures"]
            finally:
                for server in servers.values():
                    server.stop()
    print(
        f"{options.clients} clients, one save every {options.pause:g} s each, "
        f"{options.rounds} rounds of {options.seconds:g} s per phase and server, "
        f"{options.uploaders} uploaders of {FILE_MB} MB files, {os.cpu_count()} "
        f"CPUs, load average {loads[0]:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    for name in SETTINGS:
        times = sorted(b - a for a, b in windows[name])
        settings = ", ".join(f"{k}={v}" for k, v in SETTINGS[name].items())
        print(f"{name} ({settings or 'the platform settings'}):")
        print(
            f"  {len(times)} uploads, "
            + (
                f"each {times[0]:.2f}-{times[-1]:.2f} s (median "
                f"{times[len(times) // 2]:.2f} s)"
                if times
                else ""
            )
            + (
                f"; {len(failures[name])} failed: {failures[name][:3]}"
                if failures[name]
                else ""
            )
        )
        quiet, loaded = (
            contention.summary(alone[name]),
            contention.summary(during[name]),
        )
        print("  " + contention.line("saves alone", quiet))
        print("  " + contention.line("saves during uploads", loaded))
        print("  " + contention.verdict(quiet, loaded, "uploading"))


if __name__ == "__main__":
    main()
