"""flask db backup and flask db restore: consistent copies, checked restores."""

import sqlite3
import threading

from peerreview.db import connect


def _count(path, table="audit_log") -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_backup_is_consistent_while_writes_go_on(demo, app, runner, tmp_path):
    live = app.config["DATABASE"]
    stop = threading.Event()
    written = []

    def writer():
        db = connect(live)
        while not stop.is_set():
            db.execute(
                "INSERT INTO audit_log (at, action, object_type) "
                "VALUES ('2026-01-01', 'load.test', 'x')"
            )
            written.append(1)
        db.conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 200:
            pass
        before = _count(live)
        result = runner.invoke(args=["db", "backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    copy = tmp_path / "copy.db"
    assert _count(copy) >= before  # every write committed before it began
    assert sqlite3.connect(copy).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # It never overwrites a file.
    again = runner.invoke(args=["db", "backup", str(copy)])
    assert again.exit_code != 0 and "exists already" in again.output


def test_restore_checks_then_replaces_and_keeps_the_old_file(
    demo, app, runner, tmp_path
):
    live = app.config["DATABASE"]
    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["db", "backup", str(backup)]).exit_code == 0
    users = _count(live, "users")
    db = connect(live)
    db.execute("DELETE FROM roles")
    db.conn.close()

    refused = runner.invoke(args=["db", "restore", str(backup)])
    assert refused.exit_code != 0 and "--replace" in refused.output
    assert _count(live, "roles") == 0

    done = runner.invoke(args=["db", "restore", str(backup), "--replace"])
    assert done.exit_code == 0, done.output
    assert _count(live, "roles") > 0 and _count(live, "users") == users
    kept = list(tmp_path.glob("test.db.before-restore-*"))
    assert len(kept) == 1 and _count(kept[0], "roles") == 0
    assert "kept at" in done.output


def test_restore_refuses_what_is_not_a_good_peerreview_database(
    demo, app, runner, tmp_path
):
    live = app.config["DATABASE"]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.commit()
    for path, reason in ((junk, "not an SQLite database"), (other, "not a peerreview")):
        result = runner.invoke(args=["db", "restore", str(path), "--replace"])
        assert result.exit_code != 0
        assert reason in result.output
    newer = tmp_path / "newer.db"
    assert runner.invoke(args=["db", "backup", str(newer)]).exit_code == 0
    conn = sqlite3.connect(newer)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('peerreview', 'm999_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    result = runner.invoke(args=["db", "restore", str(newer), "--replace"])
    assert result.exit_code != 0 and "m999_from_the_future" in result.output
    assert _count(live, "users") > 0


def test_restore_into_a_fresh_place_migrates_an_older_backup(app, runner, tmp_path):
    from peerreview.db import _migrations

    old = tmp_path / "old.db"
    db = connect(old)
    names = [m.name for m in _migrations()._migrations]
    _migrations().apply(db, stop_before=names[-1])
    db.conn.close()
    target = tmp_path / "fresh" / "new.db"
    app.config["DATABASE"] = str(target)
    result = runner.invoke(args=["db", "restore", str(old)])
    assert result.exit_code == 0, result.output
    assert names[-1] in result.output
    assert not list((tmp_path / "fresh").glob("*.before-restore-*"))
    assert _count(target, "users") == 0
