"""Restore drill: saves under load with Litestream on, restored into a fresh database.

Runs the real server (gunicorn, as `make run`) and `flask db replicate`
(Litestream from npm) against a temporary database, sends autosaves from
concurrent signed-in clients, then stops, restores the replica into a fresh
file with `flask db replica-restore` and `flask db restore`, starts the app
on it, and checks that every acknowledged answer is there exactly.
"""

import os
import signal
import subprocess
import threading
import time

import pytest
from bench.bench_saves import ROOT, Server, Session, app_env, build_database, free_port

from peerreview import replication
from peerreview.db import connect

pytestmark = pytest.mark.slow

CLIENTS = 5
SAVES_PER_CLIENT = 150
CODES = ["1", "2", "3", "4", "5"]
FLASK = str(ROOT / ".venv" / "bin" / "flask")


def _client(session, cycle_id, items, acked, errors):
    revisions = dict.fromkeys(items, 0)
    for sent in range(SAVES_PER_CLIENT):
        item = items[sent % len(items)]
        value = CODES[(sent // len(items)) % len(CODES)]
        comment = f"drill save {sent}"
        status, body = session.save(cycle_id, item, value, comment, revisions[item])
        if status != 200:
            errors.append((status, body))
            return
        revisions[item] = body["revision"]
        acked[item] = (body["revision"], value, comment)


def _flask(env, *args):
    done = subprocess.run(
        [FLASK, *args],
        cwd=ROOT,
        env={**os.environ, **env, "FLASK_APP": "wsgi"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_restore_drill(tmp_path):
    replication.litestream_binary()  # installed by `npm ci` (make test)
    database = tmp_path / "live.db"
    setup = build_database(database, items=20)
    env = {**app_env(database), "PEERREVIEW_REPLICA": str(tmp_path / "replica")}
    log = open(tmp_path / "litestream.log", "w")  # noqa: SIM115
    replicator = subprocess.Popen(
        [FLASK, "db", "replicate"],
        cwd=ROOT,
        env={**os.environ, **env, "FLASK_APP": "wsgi"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server("wsgi:app", free_port(), env)
    sessions, acked, errors = [], [{} for _ in range(CLIENTS)], []
    try:
        for email in setup["emails"][:CLIENTS]:
            session = Session(server.port, timeout=10)
            session.sign_in(email, setup["cycle_id"])
            sessions.append(session)
        threads = [
            threading.Thread(
                target=_client,
                args=(s, setup["cycle_id"], setup["item_ids"], acked[k], errors),
            )
            for k, s in enumerate(sessions)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors[:3]
        time.sleep(3)  # Litestream ships the WAL every second
    finally:
        for session in sessions:
            session.close()
        server.stop()
        os.killpg(replicator.pid, signal.SIGTERM)
        replicator.wait(timeout=30)
        log.close()
    assert sum(len(a) for a in acked) == CLIENTS * len(setup["item_ids"])

    # Restore into a fresh place, as after losing the machine.
    fetched = tmp_path / "fetched.db"
    _flask(env, "db", "replica-restore", str(fetched))
    fresh = tmp_path / "new-machine" / "peerreview.db"
    fresh_env = {**app_env(fresh), "PEERREVIEW_REPLICA": env["PEERREVIEW_REPLICA"]}
    assert "Restored" in _flask(fresh_env, "db", "restore", str(fetched))

    server = Server("wsgi:app", free_port(), fresh_env)
    try:
        session = Session(server.port)
        session.sign_in(setup["emails"][0], setup["cycle_id"])
        session.close()
    finally:
        server.stop()

    db = connect(fresh)
    try:
        stored = {
            (r["email"], r["item_id"]): (r["revision"], r["value"], r["comment"])
            for r in db.query(
                "SELECT u.email, r.item_id, r.value, r.comment, r.revision "
                "FROM responses r JOIN users u ON u.id = r.respondent_id "
                "WHERE r.cycle_id = ?",
                [setup["cycle_id"]],
            )
        }
    finally:
        db.conn.close()
    checked = 0
    for email, answers in zip(setup["emails"], acked, strict=False):
        for item, answer in answers.items():
            assert stored.get((email, item)) == answer, (email, item)
            checked += 1
    assert checked == CLIENTS * len(setup["item_ids"])
