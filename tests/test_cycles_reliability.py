"""Every acknowledged save survives the server being killed with SIGKILL.

Runs the real server (gunicorn, wsgi:app, as `make run` does) on a free
loopback port against a temporary database, sends a few thousand autosaves
from concurrent signed-in clients, kills the whole server (master and workers)
with SIGKILL in the middle, restarts it and carries on; then checks that every
save the server acknowledged (200 with a revision) is in the database with at
least that revision, and with exactly that answer when nothing came after it.
"""

import http.client
import threading
import time

import pytest
from bench.bench_saves import Server, Session, app_env, build_database, free_port

from peerreview.db import connect

pytestmark = pytest.mark.slow

CLIENTS = 5  # one per member of the demo team, each with its own session
SAVES_PER_CLIENT = 600
CODES = ["1", "2", "3", "4", "5"]


def _client(session, cycle_id, items, acked, errors, stop):
    revisions = dict.fromkeys(items, 0)
    sent = 0
    while sent < SAVES_PER_CLIENT and not stop.is_set():
        item = items[sent % len(items)]
        value = CODES[(sent // len(items)) % len(CODES)]
        comment = f"save {sent}"
        try:
            status, body = session.save(cycle_id, item, value, comment, revisions[item])
        except (OSError, ValueError, http.client.HTTPException):
            # The server is down (or died mid-answer, leaving a short read):
            # unacknowledged; retry.
            time.sleep(0.05)
            continue
        if status == 200:
            revisions[item] = body["revision"]
            acked[item] = (body["revision"], value, comment)
            sent += 1
        elif status == 409:
            # A save the server committed but whose answer the kill swallowed.
            revisions[item] = body["current"]["revision"]
        else:
            errors.append((status, body))
            sent += 1


def test_acknowledged_saves_survive_sigkill(tmp_path):
    database = tmp_path / "reliability.db"
    setup = build_database(database, items=20)
    env = app_env(database)
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115
    server = Server("wsgi:app", port, env, log=log)
    started = time.monotonic()
    sessions = []
    try:
        for email in setup["emails"][:CLIENTS]:
            session = Session(port, timeout=5)
            session.sign_in(email, setup["cycle_id"])
            sessions.append(session)
        acked = [{} for _ in sessions]
        errors: list = []
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_client,
                args=(s, setup["cycle_id"], setup["item_ids"], acked[k], errors, stop),
            )
            for k, s in enumerate(sessions)
        ]
        for t in threads:
            t.start()
        # Kill the server once about a third of the saves are acknowledged.
        target = CLIENTS * SAVES_PER_CLIENT // 3
        while sum(len(a) for a in acked) < 20 or _count(database) < target:
            assert time.monotonic() - started < 120, "too slow before the kill"
            time.sleep(0.02)
        server.kill()
        killed_at = _count(database)
        server = Server("wsgi:app", port, env, log=log)
        for t in threads:
            t.join(timeout=max(1, 180 - (time.monotonic() - started)))
        stop.set()
        assert not any(t.is_alive() for t in threads), "clients did not finish"
    finally:
        for session in sessions:
            session.close()
        server.stop()
        log.close()
    assert not errors, errors[:5]

    db = connect(database)
    try:
        stored = {
            (r["email"], r["item_id"]): r
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
        for item, (revision, value, comment) in answers.items():
            row = stored.get((email, item))
            assert row is not None, f"acknowledged save lost: {email} {item}"
            assert row["revision"] >= revision
            if row["revision"] == revision:
                assert (row["value"], row["comment"]) == (value, comment)
            checked += 1
    total_revisions = sum(r["revision"] for r in stored.values())
    assert 0 < killed_at < CLIENTS * SAVES_PER_CLIENT <= total_revisions
    assert checked == CLIENTS * len(setup["item_ids"])
    print(
        f"\n{total_revisions} saves committed, {killed_at} before the SIGKILL; "
        f"{checked} latest acknowledged answers checked in "
        f"{time.monotonic() - started:.1f} s"
    )


def _count(database) -> int:
    """Saves committed so far: the sum of every answer's revision."""
    db = connect(database)
    try:
        return db.execute(
            "SELECT coalesce(sum(revision), 0) FROM responses"
        ).fetchone()[0]
    finally:
        db.conn.close()
