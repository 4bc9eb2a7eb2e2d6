"""Migrations, pragmas and concurrent writers."""

import multiprocessing

from peerreview.db import connect, immediate, migrate


def test_migrate_blank_database_creates_tables_and_columns(tmp_path):
    db = connect(tmp_path / "blank.db")
    applied = migrate(db)
    assert applied[0] == "m001_accounts_and_organisations"
    assert set(db.table_names()) >= {
        "users",
        "partnerships",
        "schools",
        "partnership_schools",
        "teams",
        "roles",
        "invitations",
        "login_attempts",
        "audit_log",
        "instrument_versions",
        "cycles",
        "cycle_respondents",
        "responses",
        "agreed_scores",
    }
    assert set(db["users"].columns_dict) == {
        "id",
        "email",
        "name",
        "password_hash",
        "is_admin",
        "active",
        "session_version",
        "created_at",
        "totp_secret",
        "totp_enrolled_at",
        "totp_last_step",
        "totp_pending",
        "reminders_off",
        "calendar_token_hash",
    }
    assert set(db["reminders"].columns_dict) == {
        "id",
        "kind",
        "ref",
        "user_id",
        "cycle_id",
        "sent_at",
    }
    assert set(db["recovery_codes"].columns_dict) == {
        "id",
        "user_id",
        "code_hash",
        "created_at",
        "used_at",
    }
    assert set(db["sign_in_challenges"].columns_dict) >= {
        "token_hash",
        "user_id",
        "password_ok",
        "guesses",
    }
    assert "kind" in db["login_attempts"].columns_dict
    assert set(db["schools"].columns_dict) >= {
        "name",
        "urn",
        "phase",
        "pupils",
        "postcode",
    }
    assert set(db["responses"].columns_dict) >= {
        "cycle_id",
        "respondent_id",
        "item_id",
        "value",
        "comment",
        "evidence",
        "revision",
        "updated_at",
    }
    # Applying again is a no-op.
    schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrate(db) == []
    assert (
        db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    )


def test_pragmas(tmp_path):
    db = connect(tmp_path / "p.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_immediate_rolls_back_on_error(tmp_path):
    db = connect(tmp_path / "r.db")
    migrate(db)
    try:
        with immediate(db):
            db["partnerships"].insert({"name": "Gone", "kind": "cluster"})
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert db["partnerships"].count == 0
    assert not db.conn.in_transaction


def _writer(path, worker, rounds, errors):
    db = connect(path)
    for n in range(rounds):
        try:
            with immediate(db):
                # Read, then write what was read: the pattern that a plain
                # BEGIN turns into "database is locked".
                count = db.execute("SELECT count(*) FROM login_attempts").fetchone()[0]
                db["login_attempts"].insert(
                    {"email": f"w{worker}", "ip": str(count), "at": n, "success": 0}
                )
        except Exception as e:  # noqa: BLE001 - counted, reported below
            errors.put(repr(e))


def test_concurrent_read_then_write_transactions_never_lock(tmp_path):
    path = str(tmp_path / "c.db")
    migrate(connect(path))
    errors = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_writer, args=(path, w, 150, errors)) for w in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    assert connect(path)["login_attempts"].count == 600


def test_writers_queue_on_the_write_lock_not_in_sqlite(tmp_path):
    """A second writer waits on the lock file, then runs at once: never BUSY."""
    import threading
    import time

    path = tmp_path / "q.db"
    first, second = connect(path), connect(path)
    migrate(first)
    second.conn.execute("PRAGMA busy_timeout = 0")  # SQLite would fail at once
    entered = threading.Event()
    order = []

    def write_second():
        with immediate(second):
            order.append("second")
        entered.set()

    with immediate(first):
        order.append("first")
        thread = threading.Thread(target=write_second)
        thread.start()
        time.sleep(0.2)
        assert not entered.is_set()
    assert entered.wait(5)
    thread.join()
    assert order == ["first", "second"]
    assert (tmp_path / "q.db-writelock").exists()


def test_immediate_checkpoints_after_releasing_the_write_lock(tmp_path, monkeypatch):
    """SQLite's own checkpoint is pushed back; immediate() runs one instead."""
    from peerreview import db as database

    path = tmp_path / "k.db"
    db = connect(path)
    migrate(db)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 8000
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    monkeypatch.setattr(database, "CHECKPOINT_EVERY", 10**9)
    with immediate(db):
        db["login_attempts"].insert(
            {"email": "y" * 200_000, "ip": "-", "at": 0, "success": 0}
        )
    assert path.stat().st_size < size + 200_000  # still in the WAL
    monkeypatch.setattr(database, "CHECKPOINT_EVERY", 1)
    with immediate(db):
        db["login_attempts"].insert(
            {"email": "x" * 200_000, "ip": "-", "at": 0, "success": 0}
        )
    assert path.stat().st_size > size + 200_000  # copied from the WAL


def test_migrations_are_defined_and_applied_in_number_order():
    from migrations.migrations import migrations

    numbers = [int(m.name[1:4]) for m in migrations._migrations]
    assert numbers == sorted(numbers), [m.name for m in migrations._migrations]
