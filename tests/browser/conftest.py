"""Browser-test harness: a live server on a demo database, and headless Chromium.

Fixtures:
  live_server  the app served on 127.0.0.1 on a free port, on a fresh copy of a
               demo database; has .url (no trailing slash), .app and .db_path
  module_live_server  the same, shared by the tests of one module (the steps
               of one journey, run in order)
  browser      one headless Chromium for the session
  page         a new browser context and page per test, 1280x900

Helpers (sign_in, sign_out, check_a11y, check_page, screenshot) are in
tests/support_browser.py. Every test under tests/browser is marked `browser`.
"""

import asyncio
import dataclasses
import pathlib
import sqlite3
import threading
from contextlib import closing, contextmanager

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from support_browser import DATABASES
from werkzeug.serving import make_server

from peerreview import create_app
from peerreview import demo as demo_data
from peerreview.db import connect, migrate

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Fail within seconds rather than Playwright's default 30.
TIMEOUT_MS = 10_000
_LOOP = pytest.StashKey[asyncio.AbstractEventLoop]()
HERE = pathlib.Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@dataclasses.dataclass
class LiveServer:
    url: str
    app: Flask
    db_path: pathlib.Path


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> pathlib.Path:
    """Build the migrated demo database once; each live server gets a copy."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    db = connect(path)
    try:
        migrate(db)
        demo_data.load(db)
    finally:
        db.conn.close()
    return path


@contextmanager
def _serve(demo_database, folder: pathlib.Path):
    """Serve the app on a free port in a background thread, on its own database."""
    path = folder / "live.db"
    with (
        closing(sqlite3.connect(demo_database)) as source,
        closing(sqlite3.connect(path)) as target,
    ):
        source.backup(target)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(path),
            "SECRET_KEY": "test-secret-key",
            "HUEY_FILE": str(folder / "jobs.db"),
            # Links are shown on screen to copy, whatever the environment says.
            "MAIL_SERVER": None,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, name="live-server", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    DATABASES[url] = path
    try:
        yield LiveServer(url, app, path)
    finally:
        DATABASES.pop(url, None)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live_server(demo_database, tmp_path):
    """The app on a fresh copy of the demo database, for one test."""
    with _serve(demo_database, tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def module_live_server(demo_database, tmp_path_factory):
    """One server for a module whose tests are the steps of one journey."""
    with _serve(demo_database, tmp_path_factory.mktemp("journey")) as server:
        yield server


@pytest.fixture(scope="session")
def browser(request):
    """Launch headless Chromium once; skip the browser tests when it is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        request.config.stash[_LOOP] = asyncio.get_running_loop()
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        _lend_loop(request.config)
        chromium.close()
    del request.config.stash[_LOOP]


# Between two sync calls Playwright leaves its event loop marked as the
# thread's running loop, and with one browser for the session that mark would
# outlive the browser tests: asyncio.run() and anything else that looks for a
# running loop would fail in every later test. So the loop is lent to a test
# that uses the browser (its fixtures included) and taken back after its
# teardown.
def _uses_browser(item) -> bool:
    return "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if _uses_browser(item):
        _lend_loop(item.config)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if _uses_browser(item):
        _lend_loop(item.config)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    if not _uses_browser(item):
        return (yield)
    _lend_loop(item.config)
    try:
        return (yield)
    finally:
        asyncio._set_running_loop(None)


def _lend_loop(config) -> None:
    loop = config.stash.get(_LOOP, None)
    if loop is not None:
        asyncio._set_running_loop(loop)


@pytest.fixture
def page(browser):
    """Open a fresh context and page; fail on uncaught script errors."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert not errors, "script errors in the browser:\n" + "\n".join(errors)
