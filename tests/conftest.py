"""Shared fixtures: an app on a fresh database, a client, sign-in helpers."""

import os
import shutil

import pytest
from support import Auth

from peerreview import create_app
from peerreview.db import connect, migrate

# The key that seals second-factor secrets, the same for every test and for
# the servers they start (it is read from the environment): never the
# worktree's instance/second_factor_key.
TEST_SECOND_FACTOR_KEY = "dGVzdHMtc2Vjb25kLWZhY3Rvci1rZXktMzItYnl0ZXM="
os.environ["PEERREVIEW_SECOND_FACTOR_KEY"] = TEST_SECOND_FACTOR_KEY


def _build(path, loader=None):
    db = connect(path)
    migrate(db)
    if loader:
        loader(db)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture(scope="session")
def _templates(tmp_path_factory):
    """Build each starting database once per run; tests get a copy."""
    from peerreview import demo as demo_data

    folder = tmp_path_factory.mktemp("templates")
    return {
        "blank": _build(folder / "blank.db"),
        "demo": _build(folder / "demo.db", demo_data.load_organisations),
        "demo_full": _build(folder / "demo_full.db", demo_data.load),
    }


@pytest.fixture
def _start(request):
    """Which template the app starts from: "blank" unless a demo fixture asks."""
    names = request.fixturenames
    return (
        "demo_full" if "demo_full" in names else "demo" if "demo" in names else "blank"
    )


@pytest.fixture
def app(tmp_path, _templates, _start):
    path = tmp_path / "test.db"
    shutil.copy(_templates[_start], path)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(path),
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": "localhost",
        }
    )
    yield app


@pytest.fixture
def db(app):
    database = connect(app.config["DATABASE"])
    yield database
    database.conn.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app, db):
    """The demo organisations and people (no cycles) are in the database."""
    return db


@pytest.fixture
def demo_full(app, db):
    """The whole demo (organisations, people and cycles) is in the database."""
    return db


@pytest.fixture
def auth(client):
    return Auth(client)
