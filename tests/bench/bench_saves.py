"""Benchmark the background save under load, against a bare route.

Run from the repo root (`make bench` installs wrk first):

    .venv/bin/python tests/bench/bench_saves.py [--clients 50] [--seconds 10]

It builds a temporary database (migrations, the demo organisations, and an open
cycle of a generated 60-item instrument rated by the five people of Northfield's
senior leadership team), then starts the real server the way `make run` does:
gunicorn with the app on a free loopback port. 50 clients (one keep-alive
connection each, each signed in through the real sign-in form with its own
session) then post autosaves as fast as they can: the full path (session
cookie, user loader, CSRF header, permission, validation, a BEGIN IMMEDIATE
write to SQLite). In the same run, on the same server, the same clients send
the very same requests (cookie, CSRF header, body) to a bare route of the
same Flask app that does nothing (`/bench/bare`, added by bench_app() below):
they go through gunicorn, Flask's request handling with the session cookie
opened, and every app-wide hook (security headers, CSRF protection's
before-request check, from which it is exempt), so the ratio shows what the
save's own work costs. `--floor` also measures a plain WSGI
callable under the same gunicorn, the cost of the server alone.

Then the same clients send 500 saves a second (--rate) on a fixed schedule,
whatever the answers (as wrk2 does; Debian's wrk cannot, so this is the
bounded asyncio client below): p95 there is counted from when each save was
due, so a stall counts against every save queued behind it.

Targets: at least 500 saves/s, within 2.5x of the bare route, p95 under
100 ms at 50 clients, with the load generator on the same machine.

Each client owns its own (person, item) pairs, so no save is stale; every
answer must come back 200, and the database must hold one new revision per
save counted.

The load comes from wrk (Debian's `wrk`, driven by bench_saves.lua: one thread
per client, so each keeps its own cookie, token and revisions). It costs a
fraction of what a Python generator does, which on a 2-core machine would
otherwise take CPU from the server it measures; `--generator python` uses the
asyncio client below instead. Each line says how much CPU the generator used.

The server is stock gunicorn as `make run` starts it: two processes (one per
core) of its threaded worker (gthread) with four threads each.
`--gunicorn "..."` measures other worker options the same way.
Prints figures; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
PASSWORD = "peerreview-demo"
GUNICORN_ARGS = [
    "--worker-class",
    "gthread",
    "--workers",
    "2",
    "--threads",
    "4",
]
_CSRF = re.compile(r'data-csrf="([^"]+)"')
_FORM_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def bare(environ, start_response):
    """A WSGI callable that does nothing: the floor for any request through gunicorn."""
    body = b'{"saved": true}'
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def bench_app():
    """The real app plus a route that does nothing (gunicorn 'bench_saves:bench_app()')."""
    from flask import jsonify

    from peerreview import create_app
    from peerreview.extensions import csrf

    app = create_app()

    @app.post("/bench/bare")
    @csrf.exempt
    def bench_bare():
        return jsonify(saved=True)

    return app


# The database ------------------------------------------------------------------


def write_instrument(folder: pathlib.Path, items: int = 60) -> pathlib.Path:
    """Write an instrument of `items` items (agreement 1-5) in sections of ten."""
    import yaml

    data = yaml.safe_load((ROOT / "instruments" / "ascl-closing-gaps.yaml").read_text())
    data["id"] = f"bench-{items}"
    data["title"] = f"Benchmark instrument ({items} items)"
    data.pop("actions", None)
    # The source's coverage names the checklist's own items, which these replace.
    (data.get("source") or {}).pop("coverage", None)
    data["sections"] = [
        {
            "id": f"section-{s + 1}",
            "title": f"Section {s + 1} of the benchmark instrument",
            "description": "Statements generated for the benchmark.",
            "items": [
                {
                    "id": f"item-{n:03d}",
                    "statement": f"Statement {n}: leaders check that the school's "
                    "work for disadvantaged pupils is consistent across subjects.",
                    "guidance": "Look at what staff say and do, and what pupils report.",
                    "evidence_prompts": ["Work scrutiny", "Pupil voice"],
                }
                for n in range(s * 10 + 1, min(items, s * 10 + 10) + 1)
            ],
        }
        for s in range((items + 9) // 10)
    ]
    path = folder / f"bench-{items}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def build_database(path: pathlib.Path, items: int = 60) -> dict:
    """Demo organisations plus one open cycle; return its id, items and raters."""
    sys.path.insert(0, str(ROOT))
    from peerreview import demo
    from peerreview.cycles import service
    from peerreview.db import connect, migrate
    from peerreview.instruments import load_file

    db = connect(path)
    try:
        migrate(db)
        demo.load_organisations(db)
        people = db.execute(
            "SELECT u.id, u.email, r.role FROM roles r JOIN users u ON u.id = r.user_id "
            "WHERE r.scope_type = 'team' AND r.scope_id = 1 ORDER BY u.id"
        ).fetchall()
        lead = next(uid for uid, _, role in people if role == "team_lead")
        instrument = load_file(write_instrument(path.parent, items))
        cid = service.create_cycle(
            db,
            instrument=instrument,
            team_id=1,
            respondent_ids=[uid for uid, _, _ in people],
            closes_on=None,
            anonymous=True,
            actor_id=lead,
        )
        cycle = service.get_cycle(db, cid)
        service.transition(db, cycle, "open", actor_id=lead)
        return {
            "cycle_id": cid,
            "item_ids": list(cycle["snapshot"].item_ids),
            "emails": [email for _, email, _ in people],
        }
    finally:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()


# The server --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own process group on 127.0.0.1, killed as a whole."""

    def __init__(self, app: str, port: int, env: dict, args=GUNICORN_ARGS, log=None):
        self.port = port
        command = [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "gunicorn",
            *args,
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            f"{ROOT},{HERE}",
            "--log-level",
            "warning",
            app,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            start_new_session=True,
            stdout=log or subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/sign-in")
                response = conn.getresponse()
                response.read()
                if response.status in (200, 404, 405):
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def cpu_seconds(self) -> float:
        """Return the CPU time used so far by the master and its workers."""
        total = 0
        for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rpartition(")")[2].split()
                if int(fields[2]) == self.process.pid:  # process group
                    total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def app_env(database: pathlib.Path) -> dict:
    return {
        "PEERREVIEW_DATABASE": str(database),
        "PEERREVIEW_SECRET_KEY": "bench-secret-key-not-for-production",
    }


# A signed-in client ------------------------------------------------------------


class Session:
    """A browser-like HTTP session (one keep-alive connection, one cookie jar)."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = None
        self.token = None

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=self.timeout
            )
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except Exception:
            self.close()
            raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def sign_in(self, email: str, cycle_id: int) -> None:
        from urllib.parse import urlencode

        _, html = self.request("GET", "/sign-in")
        token = _FORM_CSRF.search(html.decode()).group(1)
        status, _ = self.request(
            "POST",
            "/sign-in",
            urlencode({"email": email, "password": PASSWORD, "csrf_token": token}),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 302, f"sign-in as {email} gave {status}"
        status, html = self.request("GET", f"/cycles/{cycle_id}/rate")
        assert status == 200, f"rating page gave {status}"
        self.token = _CSRF.search(html.decode()).group(1)

    def save(self, cycle_id, item_id, value, comment, revision):
        """Post one autosave as autosave.js does; return (status, json)."""
        body = json.dumps(
            {
                "item_id": item_id,
                "value": value,
                "comment": comment,
                "evidence": "",
                "revision": revision,
            }
        )
        status, data = self.request(
            "POST",
            f"/cycles/{cycle_id}/answers",
            body,
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": self.token,
            },
        )
        return status, json.loads(data or b"{}")


# The load ------------------------------------------------------------------------


async def _exchange(reader, writer, port, path, body, headers):
    """Send one POST on an open connection; return (status, body, closed)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode()
    writer.write(head + body)
    status_line = await reader.readline()
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    data = await reader.readexactly(length)
    return int(status_line.split()[1]), data, close


async def _client(
    port,
    path,
    make_body,
    headers,
    deadline,
    latencies,
    failures,
    pause=0.0,
    starts=None,
):
    """Post until the deadline; `pause` seconds between posts; `starts` gets each start."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    try:
        while time.perf_counter() < deadline:
            body = make_body(n).encode()
            n += 1
            started = time.perf_counter()
            status, data, close = await _exchange(
                reader, writer, port, path, body, headers
            )
            latencies.append(time.perf_counter() - started)
            if starts is not None:
                starts.append(started)
            if status != 200:
                failures.append((status, data[:200]))
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if pause:
                await asyncio.sleep(pause)
    finally:
        writer.close()


async def _fixed_rate(port, jobs, rate, seconds):
    """Send `rate` saves a second for `seconds`, on schedule, whatever the answers.

    Like wrk2: request i is due at start + i / rate and its latency is counted
    from then, so a slow answer also counts against the requests that had to
    wait behind it (no coordinated omission). Each client is one keep-alive
    connection with one request at a time (its revisions stay in order); a
    request goes to the first idle client, waiting for one if all are busy.
    The number of requests is fixed, so the run is bounded.
    """
    idle: asyncio.Queue = asyncio.Queue()
    writers = []
    for path, make_body, headers in jobs:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        idle.put_nowait({"io": (reader, writer), "job": (path, make_body, headers)})
    latencies, failures = [], []
    sent = [0] * len(jobs)

    async def one(due):
        client = await idle.get()
        path, make_body, headers = client["job"]
        k = jobs.index(client["job"])
        body = make_body(sent[k]).encode()
        sent[k] += 1
        reader, writer = client["io"]
        status, data, close = await _exchange(reader, writer, port, path, body, headers)
        latencies.append(time.perf_counter() - due)
        if status != 200:
            failures.append((status, data[:200]))
        if close:
            writer.close()
            client["io"] = await asyncio.open_connection("127.0.0.1", port)
            writers.append(client["io"][1])
        idle.put_nowait(client)

    started = time.perf_counter() + 0.01
    tasks = []
    try:
        for i in range(int(rate * seconds)):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
    finally:
        for writer in writers:
            writer.close()
    return latencies, failures, time.perf_counter() - started


def run_fixed_rate(port, jobs, rate, seconds) -> dict:
    """Run the fixed-rate load in this process and summarise it."""
    cpu = time.process_time()
    latencies, failures, elapsed = asyncio.run(_fixed_rate(port, jobs, rate, seconds))
    cpu = time.process_time() - cpu
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "failures": failures,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": percentile(ordered, 0.95) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "client_cpu": cpu / elapsed,
    }


async def _load(port, jobs, seconds, pause=0.0):
    latencies, failures, starts = [], [], []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client(
                port, path, body, headers, deadline, latencies, failures, pause, starts
            )
            for path, body, headers in jobs
        )
    )
    elapsed = time.perf_counter() - started
    return latencies, failures, elapsed, starts


def percentile(ordered, share) -> float:
    """The value below which `share` of the sorted values lie (nearest rank)."""
    return ordered[max(0, int(len(ordered) * share) - 1)]


def run_load(port, jobs, seconds, pause=0.0) -> dict:
    """Run the asyncio clients in this process; `samples` holds (start, latency)."""
    cpu = time.process_time()
    latencies, failures, elapsed, starts = asyncio.run(
        _load(port, jobs, seconds, pause)
    )
    cpu = time.process_time() - cpu
    ordered = sorted(latencies)
    return {
        "samples": list(zip(starts, latencies, strict=True)),
        "requests": len(latencies),
        "failures": failures,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": percentile(ordered, 0.95) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "client_cpu": cpu / elapsed,
    }


def wrk_missing() -> bool:
    """Tell whether wrk is missing, saying how to install it."""
    if shutil.which("wrk"):
        return False
    print(
        "wrk is not installed: `make bench` installs it (Debian package wrk), "
        "or run `apt-get install wrk`. Using the Python load generator, which "
        "takes CPU from the server on a small machine.",
        file=sys.stderr,
    )
    return True


def run_wrk(port, path, seconds, clients, folder, sessions, run="run", bare=False):
    """Run wrk with one thread (one client) per connection; see bench_saves.lua."""
    lines = pathlib.Path(folder) / f"clients-{run}.tsv"
    lines.write_text(
        "".join(
            f"{cookie}\t{token}\t"
            + ",".join(f"{item}={rev}" for item, rev in revisions.items())
            + "\n"
            for cookie, token, revisions in sessions
        )
    )
    env = {
        **os.environ,
        "BENCH_PATH": path,
        "BENCH_RUN": run,
        "BENCH_MODE": "bare" if bare else "save",
        "BENCH_CLIENTS": str(lines),
    }
    command = [
        "wrk",
        f"-t{clients}",
        f"-c{clients}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        str(HERE / "bench_saves.lua"),
        f"http://127.0.0.1:{port}{path}",
    ]
    before = os.times()
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    after = os.times()
    result = json.loads(
        next(line[6:] for line in out.stdout.splitlines() if line.startswith("BENCH "))
    )
    elapsed = result["duration_us"] / 1e6
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {
        "requests": result["requests"],
        "failures": [("errors", result["errors"])] if result["errors"] else [],
        "per_second": result["requests"] / elapsed,
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "client_cpu": cpu / elapsed,
    }


def stored_revisions(database) -> dict:
    """Return {(email, item id): revision} as the database holds them."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(database)) as conn:
        return {
            (email, item): revision
            for email, item, revision in conn.execute(
                "SELECT u.email, r.item_id, r.revision FROM responses r "
                "JOIN users u ON u.id = r.respondent_id"
            )
        }


def client_items(k, setup, clients):
    """Return the email and the item ids client k saves: its own pairs."""
    emails, items = setup["emails"], setup["item_ids"]
    per_person = clients // len(emails) or 1
    return emails[k % len(emails)], items[k // len(emails) :: per_person]


def save_jobs(sessions, setup, stored, run="run"):
    """One job per client: its own items, values cycling, revisions counted."""
    jobs = []
    codes = ["1", "2", "3", "4", "5"]
    for k, session in enumerate(sessions):
        email, mine = client_items(k, setup, len(sessions))
        revisions = {item: stored.get((email, item), 0) for item in mine}

        def body(n, mine=mine, revisions=revisions):
            item = mine[n % len(mine)]
            revisions[item] += 1
            return json.dumps(
                {
                    "item_id": item,
                    "value": codes[(n // len(mine)) % 5],
                    "comment": f"{run} save {n}",
                    "evidence": "",
                    "revision": revisions[item] - 1,
                }
            )

        jobs.append((save_path(setup), body, save_headers(session)))
    return jobs


def save_path(setup) -> str:
    return f"/cycles/{setup['cycle_id']}/answers"


def cookie_header(session) -> str:
    return "; ".join(f"{a}={b}" for a, b in session.cookies.items())


def save_headers(session) -> str:
    return (
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"X-CSRFToken: {session.token}\r\nCookie: {cookie_header(session)}\r\n"
    )


def wrk_clients(sessions, setup, stored):
    """Return (cookie, token, {item: revision}) for each client, for wrk."""
    clients = []
    for k, session in enumerate(sessions):
        email, mine = client_items(k, setup, len(sessions))
        revisions = {item: stored.get((email, item), 0) for item in mine}
        clients.append((cookie_header(session), session.token, revisions))
    return clients


def report(name, r):
    print(
        f"{name:<12} {r['requests']:>7} requests  {r['per_second']:>8.1f}/s  "
        f"p50 {r['p50_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  "
        f"p99 {r['p99_ms']:6.2f} ms  failures {len(r['failures'])}  "
        f"server CPU {r['server_ms']:.3f} ms/request  "
        f"load generator {r['client_cpu'] * 100:.0f}% of a CPU"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--gunicorn",
        default=" ".join(GUNICORN_ARGS),
        help="gunicorn worker options (default: %(default)s)",
    )
    parser.add_argument(
        "--rate", type=float, default=500.0, help="saves a second in the fixed-rate run"
    )
    parser.add_argument("--generator", choices=("wrk", "python"), default="wrk")
    parser.add_argument(
        "--floor", action="store_true", help="also measure a plain WSGI callable"
    )
    options = parser.parse_args()
    args = options.gunicorn.split()
    generator = options.generator
    if generator == "wrk" and wrk_missing():
        generator = "python"
    clients, seconds = options.clients, options.seconds
    with tempfile.TemporaryDirectory() as folder:
        database = pathlib.Path(folder) / "bench.db"
        setup = build_database(database)
        env = app_env(database)
        server = Server("bench_saves:bench_app()", free_port(), env, args)
        floor_server = None
        if options.floor:
            floor_server = Server("bench_saves:bare", free_port(), env, args)
        path = save_path(setup)
        try:
            sessions = []
            for k in range(clients):
                session = Session(server.port)
                session.sign_in(
                    setup["emails"][k % len(setup["emails"])], setup["cycle_id"]
                )
                session.close()
                sessions.append(session)
            print(
                f"{clients} clients, {seconds:g} s each, gunicorn {' '.join(args)}, "
                f"{os.cpu_count()} CPUs, load from {generator}"
            )

            def measured(load):
                """Add the server's CPU per request (steadier than rates on a busy machine)."""

                def run(server, *args):
                    cpu = server.cpu_seconds()
                    result = load(server.port, *args)
                    result["server_ms"] = (
                        (server.cpu_seconds() - cpu) / max(result["requests"], 1) * 1000
                    )
                    return result

                return run

            @measured
            def bare_load(port, seconds):
                # The very requests the saves send (cookie, token, body), to a
                # route that does nothing: only the route's own work differs.
                stored = stored_revisions(database)
                if generator == "wrk":
                    return run_wrk(
                        port,
                        "/bench/bare",
                        seconds,
                        clients,
                        folder,
                        wrk_clients(sessions, setup, stored),
                        "bare",
                        bare=True,
                    )
                jobs = save_jobs(sessions, setup, stored, "bare")
                return run_load(
                    port,
                    [("/bench/bare", body, headers) for _, body, headers in jobs],
                    seconds,
                )

            @measured
            def save_load(port, seconds, run):
                stored = stored_revisions(database)
                if generator == "wrk":
                    return run_wrk(
                        port,
                        path,
                        seconds,
                        clients,
                        folder,
                        wrk_clients(sessions, setup, stored),
                        run,
                    )
                return run_load(port, save_jobs(sessions, setup, stored, run), seconds)

            bare_load(server, 1)  # warm up
            save_load(server, 1, "warm-up")
            if floor_server:
                bare_load(floor_server, 1)
                floor_result = bare_load(floor_server, seconds)
            bare_result = bare_load(server, seconds)
            before = sum(stored_revisions(database).values())
            save_result = save_load(server, seconds, "run")
            stored = sum(stored_revisions(database).values()) - before

            @measured
            def rate_load(port, seconds):
                # Always the Python client: Debian's wrk has no fixed rate.
                time.sleep(1)  # saves wrk left in flight land first
                stored = stored_revisions(database)
                jobs = save_jobs(sessions, setup, stored, "rate")
                return run_fixed_rate(port, jobs, options.rate, seconds)

            rate_result = rate_load(server, seconds)
        finally:
            server.stop()
            if floor_server:
                floor_server.stop()
    if floor_server:
        report("wsgi floor", floor_result)
    report("bare route", bare_result)
    report("full save", save_result)
    report(f"{options.rate:g}/s saves", rate_result)
    # wrk stops with up to one save per client in flight: stored, not counted.
    ok = save_result["requests"] <= stored <= save_result["requests"] + clients
    print(
        f"database: {stored} new revisions for {save_result['requests']} saves "
        f"answered{'' if ok else '  MISMATCH'}"
    )
    ratio = bare_result["per_second"] / save_result["per_second"]
    print(
        f"throughput ratio bare/save: {ratio:.2f}x  "
        f"(server CPU per request: {save_result['server_ms'] / bare_result['server_ms']:.2f}x)"
    )
    met = {
        ">= 500 saves/s": save_result["per_second"] >= 500,
        "within 2.5x of the bare route": ratio <= 2.5,
        f"p95 < 100 ms at {clients} clients": save_result["p95_ms"] < 100,
    }
    print(
        "targets: "
        + "; ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in met.items())
    )
    print(
        f"at a fixed {options.rate:g} saves/s (latency from when each save was due): "
        f"p95 {rate_result['p95_ms']:.1f} ms, {len(rate_result['failures'])} failures"
    )
    for name, result in (("saves", save_result), ("fixed rate", rate_result)):
        if result["failures"]:
            print(f"first failures ({name}):", result["failures"][:3])


if __name__ == "__main__":
    main()
