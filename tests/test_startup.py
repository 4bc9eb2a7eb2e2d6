"""The app refuses to serve a database that lacks migrations, and says which."""

import os
import subprocess

import pytest
from bench.bench_saves import ROOT, Server, app_env, free_port

from peerreview import create_app
from peerreview.db import MigrationsMissing, _migrations, connect, missing_migrations

NAMES = [m.name for m in _migrations()._migrations]


@pytest.fixture
def behind(tmp_path):
    """A database migrated up to, not including, the last two migrations."""
    path = tmp_path / "behind.db"
    db = connect(path)
    _migrations().apply(db, stop_before=NAMES[-2])
    db.conn.close()
    return path


def test_the_app_names_the_missing_migrations(behind):
    assert missing_migrations(behind) == NAMES[-2:]
    with pytest.raises(MigrationsMissing) as refused:
        create_app({"DATABASE": str(behind), "SECRET_KEY": "k"})
    message = str(refused.value)
    assert all(name in message for name in NAMES[-2:])
    assert "flask db migrate" in message


def test_a_database_that_does_not_exist_is_refused_and_not_created(tmp_path):
    path = tmp_path / "nowhere.db"
    with pytest.raises(MigrationsMissing, match=NAMES[0]):
        create_app({"DATABASE": str(path), "SECRET_KEY": "k"})
    assert not path.exists()


def test_the_server_will_not_start_and_says_why(behind, tmp_path):
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log, pytest.raises(RuntimeError, match="exited"):
        Server("wsgi:app", port, app_env(behind), log=log).stop()
    text = log_path.read_text()
    assert "will not serve the database" in text
    assert all(name in text for name in NAMES[-2:])


def test_migrating_then_serving_works(behind, tmp_path):
    # `flask db migrate` itself must run against the database it will fix.
    env = {**os.environ, **app_env(behind), "FLASK_APP": "wsgi"}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "db", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert missing_migrations(behind) == []
    app = create_app({"DATABASE": str(behind), "SECRET_KEY": "k", "TESTING": True})
    assert app.test_client().get("/sign-in").status_code == 200
