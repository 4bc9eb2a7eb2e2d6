"""The one place that opens SQLite connections, and the database CLI."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import itertools
import logging
import os
import pathlib
import sqlite3
import sys
import threading
import weakref
from typing import TYPE_CHECKING

import click
from flask import current_app, g
from flask.cli import AppGroup

if TYPE_CHECKING:
    from sqlite_utils import Database

log = logging.getLogger(__name__)

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _migrations():
    """Return the project's Migrations set (migrations/ sits beside the package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from migrations.migrations import migrations

    return migrations


def connect(path) -> Database:
    """Open a database with the project's pragmas set."""
    # isolation_level=None: no implicit BEGIN from the sqlite3 module, so every
    # transaction is one we opened on purpose (atomic() or immediate()).
    conn = sqlite3.connect(
        str(path), timeout=5.0, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # immediate() checkpoints after it lets go of the write lock; SQLite's
    # own checkpoint, run inside the COMMIT that crosses this many pages,
    # is only the safety net for writes that do not go through it.
    conn.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_CHECKPOINT_PAGES}")
    # Imported on first use: sqlite-utils brings numpy, which a command such
    # as `flask instruments check` never needs.
    from sqlite_utils import Database

    db = Database(conn)
    db.write_lock = _WriteLock(path)
    # Taken for a whole run of large writes (an evidence file's chunks, or
    # their deletion), so that one such run at a time competes with saves
    # for the write lock, never two taking it in turns.
    db.bulk_lock = _WriteLock(path, "-bulklock")
    return db


class _WriteLock:
    """An flock on a file beside the database, taken before BEGIN IMMEDIATE.

    Every writer, whatever its process or thread, then waits in the kernel
    and goes as soon as the lock is free. Left to SQLite's busy handler, a
    waiter polls with sleeps of 1, 2, 5, 10... ms and keeps losing to the
    process that has just committed: under load some saves waited 100 ms and
    more. Each connection opens the file itself, so the threads of one
    process queue here as well.
    """

    def __init__(self, path, suffix="-writelock"):
        path = str(path)
        self.fd = None
        if path and path != ":memory:" and not path.startswith("file:"):
            self.fd = os.open(path + suffix, os.O_RDWR | os.O_CREAT, 0o600)
            weakref.finalize(self, os.close, self.fd)

    def __enter__(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # releases the GIL while it waits

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


_NO_LOCK = contextlib.nullcontext()

# SQLite's automatic checkpoint runs inside the COMMIT that crosses 1000
# pages of WAL, with two fsyncs, while that writer still holds the write
# lock: every other save queued behind it, and on a busy disk that took up
# to 160 ms. immediate() instead runs a passive checkpoint (it never waits
# for, nor blocks, readers and writers) after every CHECKPOINT_EVERY
# commits of this process, once the write lock is released.
CHECKPOINT_EVERY = 256
SAFETY_CHECKPOINT_PAGES = 8000
_commits = itertools.count(1)


@contextlib.contextmanager
def immediate(db: Database):
    """Run a read-then-write transaction that takes the write lock up front.

    A plain BEGIN (what sqlite-utils' atomic() issues) upgrades its read lock
    when it first writes and fails with "database is locked" under
    concurrent writers; BEGIN IMMEDIATE waits for the lock instead. Nested
    use becomes a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with getattr(db, "write_lock", _NO_LOCK):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")
    _committed(db)


def write_one(db: Database, sql: str, params) -> list:
    """Run one writing statement as a transaction of its own; return its rows.

    For a write that needs no read first (an upsert with RETURNING): it
    takes the same write lock as immediate() but holds it for one statement
    instead of four (BEGIN, read, write, COMMIT), each of which hands the
    GIL to another thread and must wait to take it back while every other
    writer waits for the lock. Inside a transaction it simply runs there.
    """
    if db.conn.in_transaction:
        return db.conn.execute(sql, params).fetchall()
    with getattr(db, "write_lock", _NO_LOCK):
        rows = db.conn.execute(sql, params).fetchall()
    _committed(db)
    return rows


def checkpoint(db: Database) -> None:
    """Run a passive WAL checkpoint now, outside any transaction.

    For a long run of large writes (an evidence file's chunks): checkpointing
    as it goes keeps the WAL under SAFETY_CHECKPOINT_PAGES, so SQLite's own
    checkpoint never runs inside some answer save's COMMIT while every other
    writer waits behind it. A passive checkpoint waits for nobody and blocks
    nobody.
    """
    if db.conn.in_transaction:
        return
    try:
        db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.OperationalError as e:
        log.debug("WAL checkpoint skipped: %s", e)


def _committed(db: Database) -> None:
    # Checkpoint every CHECKPOINT_EVERY commits of this process, with the
    # write lock already released.
    if next(_commits) % CHECKPOINT_EVERY == 0:
        try:
            db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as e:
            # The transaction is committed; the next checkpoint will do. This
            # happens when a statement on this connection is still open
            # ("database table is locked"), which is harmless.
            log.debug("WAL checkpoint skipped: %s", e)


# One connection per thread, kept across requests: opening one costs more
# than a whole answer save, and closing the last one checkpoints and deletes
# the WAL file, which the next request then has to create again.
_local = threading.local()


def get_db() -> Database:
    """Return this thread's connection to the app's database."""
    if "db" not in g:
        path = current_app.config["DATABASE"]
        db = getattr(_local, "db", None)
        if db is None or _local.path != path:
            if db is not None:
                db.conn.close()
            _local.db, _local.path = db, path = connect(path), path
        g.db = db
    return g.db


def close_db(exc=None):
    """End the request: never leave a transaction open on the kept connection."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    migrations = _migrations()
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


class MigrationsMissing(RuntimeError):
    """The database lacks migrations this code needs: the app will not serve it."""


def missing_migrations(path) -> list[str]:
    """Return the migrations not applied to the database at path, without writing.

    A database that does not exist yet lacks them all (and is not created).
    """
    names = [m.name for m in _migrations()._migrations]
    if str(path) == ":memory:" or not os.path.exists(path):
        return names
    from sqlite_utils import Database

    conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    try:
        return [m.name for m in _migrations().pending(Database(conn))]
    finally:
        conn.close()


def check_migrations(path) -> None:
    """Refuse (MigrationsMissing) a database that lacks any of the migrations."""
    missing = missing_migrations(path)
    if missing:
        message = (
            f"peerreview will not serve the database {path}: "
            f"{len(missing)} migration(s) missing: {', '.join(missing)}. "
            "Apply them first with `flask db migrate` (`make run` does)."
        )
        log.error("%s", message)
        raise MigrationsMissing(message)


def now() -> str:
    """Return the current UTC time as an ISO string (second precision)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def iso_date(value) -> str | None:
    """Return a date (a date, or ISO text) as the ISO text stored; None for none.

    Raises ValueError when the text is not a real date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return datetime.date.fromisoformat(str(value)).isoformat()


db_cli = AppGroup("db", help="Manage the database.")


@db_cli.command("migrate")
def migrate_command():
    """Apply pending migrations to the configured database."""
    db = connect(current_app.config["DATABASE"])
    applied = migrate(db)
    if applied:
        click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        click.echo("The database is up to date: no migration to apply.")


def backup(source, target) -> None:
    """Copy the live database at source into a new file at target, consistently.

    SQLite's online backup API copies a snapshot of the database as one read
    transaction: writers carry on meanwhile, and every transaction committed
    before it began is in the copy (a plain `cp` of a database in WAL mode
    misses what is still in the -wal file).
    """
    target = pathlib.Path(target)
    if target.exists():
        raise click.ClickException(f"{target} exists already: choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{os.path.abspath(source)}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)


def check_backup(path) -> list[str]:
    """Return what is wrong with a file as a peerreview database to restore."""
    path = pathlib.Path(path)
    if not path.is_file():
        return [f"{path} is not a file"]
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        return [f"{path} cannot be opened: {e}"]
    try:
        try:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as e:
            return [f"{path} is not an SQLite database: {e}"]
        if result != ["ok"]:
            return [f"integrity check failed: {'; '.join(result[:5])}"]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if not {"_sqlite_migrations", "users", "cycles", "responses"} <= tables:
            return [f"{path} is not a peerreview database (its tables are not ours)"]
        applied = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                [_migrations().name],
            )
        }
    finally:
        conn.close()
    known = [m.name for m in _migrations()._migrations]
    problems = []
    unknown = sorted(applied - set(known))
    if unknown:
        problems.append(
            "it was made by a newer peerreview (migrations this code does not "
            f"have: {', '.join(unknown)})"
        )
    return problems


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path):
    """Copy the live database to PATH (a new file), consistently, while it serves."""
    backup(current_app.config["DATABASE"], path)
    size = os.path.getsize(path)
    click.echo(f"Backed up {current_app.config['DATABASE']} to {path} ({size} bytes)")
    from .accounts import second_factor_key

    click.echo(
        "Two-step sign-in secrets in it are sealed with the key in "
        f"{second_factor_key.where(current_app.instance_path)}: the backup "
        "alone does not give them, and a restore needs that key too. Keep a "
        "copy of the key, apart from the backups."
    )


@db_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the configured database, which exists (it is kept aside).",
)
def restore_command(path, replace):
    """Check the backup at PATH and put it in place of the configured database.

    Stop the web server and the report worker first. The backup must pass
    SQLite's integrity check and be a peerreview database this code knows
    (older ones are fine: migrations missing are applied). An existing
    database is replaced only with --replace, and is kept beside it as
    <name>.before-restore-<time>.
    """
    problems = check_backup(path)
    if problems:
        raise click.ClickException(f"Not restored: {path}: " + "; ".join(problems))
    live = pathlib.Path(current_app.config["DATABASE"])
    if live.exists() and not replace:
        raise click.ClickException(
            f"Not restored: {live} exists. Stop the platform, then run again "
            "with --replace (the current database is kept aside)."
        )
    live.parent.mkdir(parents=True, exist_ok=True)
    incoming = live.with_name(live.name + ".restoring")
    incoming.unlink(missing_ok=True)
    backup(path, incoming)
    kept = None
    if live.exists():
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = live.with_name(f"{live.name}.before-restore-{stamp}")
        backup(live, kept)
        for suffix in ("-wal", "-shm"):
            pathlib.Path(f"{live}{suffix}").unlink(missing_ok=True)
    os.replace(incoming, live)
    db = connect(live)
    try:
        applied = migrate(db)
    finally:
        db.conn.close()
    click.echo(f"Restored {path} to {live}")
    if kept:
        click.echo(f"The database it replaced is kept at {kept}")
    if applied:
        click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    click.echo(
        "Check that the two-step sign-in key fits it: flask second-factor check-key"
    )


def _replication_config(path=None):
    """Write Litestream's configuration for the app's database; return its path."""
    from . import replication

    replica = current_app.config.get("REPLICA")
    if not replica:
        raise click.ClickException(
            "Set PEERREVIEW_REPLICA to a directory or an S3-compatible URL first"
        )
    database = current_app.config["DATABASE"]
    path = path or pathlib.Path(current_app.instance_path) / "litestream.yml"
    pathlib.Path(path).write_text(
        replication.config(
            database, replica, current_app.config.get("REPLICA_ENDPOINT")
        )
    )
    return str(path)


@db_cli.command("replicate")
def replicate_command():
    """Replicate the database continuously to PEERREVIEW_REPLICA (runs Litestream)."""
    from . import replication

    try:
        binary = replication.litestream_binary()
    except replication.ReplicationError as e:
        raise click.ClickException(str(e)) from e
    config = _replication_config()
    click.echo(
        f"Replicating {current_app.config['DATABASE']} to "
        f"{replication.replica_url(current_app.config['REPLICA'])} (Litestream)"
    )
    sys.stdout.flush()
    os.execv(binary, [binary, "replicate", "-config", config])


@db_cli.command("replica-restore")
@click.argument("path", type=click.Path(dir_okay=False))
def replica_restore_command(path):
    """Fetch the latest copy from PEERREVIEW_REPLICA into PATH (a new file).

    Then check it and put it in place with `flask db restore PATH --replace`.
    """
    import subprocess

    from . import replication

    try:
        binary = replication.litestream_binary()
    except replication.ReplicationError as e:
        raise click.ClickException(str(e)) from e
    if os.path.exists(path):
        raise click.ClickException(f"{path} exists already: choose a new file")
    config = _replication_config()
    done = subprocess.run(
        [
            binary,
            "restore",
            "-config",
            config,
            "-o",
            path,
            os.path.abspath(current_app.config["DATABASE"]),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise click.ClickException(f"Litestream could not restore: {done.stderr}")
    click.echo(
        f"Restored the replica into {path}; check it and put it in place with "
        f"`flask db restore {path} --replace`"
    )


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(db_cli)
