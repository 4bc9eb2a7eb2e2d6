"""Reports heal: a job whose worker died is queued again, a lost queue file is shown."""

import json
import os
import subprocess
import sys
import time

import pytest
from huey import SqliteHuey
from huey.constants import EmptyData
from support import HEAD

from peerreview import create_app
from peerreview.reports import jobs
from peerreview.reports.cache import ReportCache

STATUS = "/cycles/2/reports/team/status"


def _prepare(auth):
    response = auth.post("/cycles/2/reports/team.pdf", page="/cycles/2/reports")
    assert response.status_code == 302
    return response


@pytest.fixture
def queued_app(app, tmp_path):
    """The app with the real queue (a file of its own), as `make run` has it."""
    keep = ("DATABASE", "SECRET_KEY", "SERVER_NAME")
    queued = create_app(
        {
            **{k: app.config[k] for k in keep},
            "TESTING": True,
            "HUEY_FILE": str(tmp_path / "jobs.db"),
            "HUEY_IMMEDIATE": False,
        }
    )
    yield queued
    jobs.huey.immediate = True


@pytest.fixture
def queued_client(queued_app):
    return queued_app.test_client()


@pytest.fixture
def queued_auth(queued_client):
    from support import Auth

    auth = Auth(queued_client)
    auth.login(HEAD)
    return auth


def _key(app) -> str:
    """The one report key marked or rendered in the app's cache."""
    folder = jobs.cache_folder(app)
    names = {p.stem for p in ReportCache(folder).folder.glob("*.state")}
    names |= {p.stem for p in ReportCache(folder).folder.glob("*.pdf")}
    assert len(names) == 1, names
    return names.pop()


def _dead_worker() -> str:
    """A worker identity whose process has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{process.pid}:1"


def test_a_render_whose_worker_died_can_be_tried_again(demo_full, app, client, auth):
    auth.login(HEAD)
    _prepare(auth)
    key = _key(app)
    cache = ReportCache(jobs.cache_folder(app))
    cache.pdf_path(key).unlink()
    # The worker took the job, marked it and was killed mid-render.
    state_file = cache.folder / f"{key}.state"
    state_file.write_text(
        json.dumps({"state": "rendering", "message": "", "worker": _dead_worker()})
    )
    assert client.get(STATUS + "?format=json").get_json()["state"] == "lost"
    page = client.get(STATUS).get_data(as_text=True)
    assert "stopped before it finished" in page and "Try again" in page
    # Trying again queues it afresh (here the queue renders at once).
    _prepare(auth)
    assert client.get(STATUS + "?format=json").get_json()["state"] == "ready"


def test_a_live_worker_keeps_its_job(demo_full, app, client, auth):
    auth.login(HEAD)
    _prepare(auth)
    key = _key(app)
    cache = ReportCache(jobs.cache_folder(app))
    cache.pdf_path(key).unlink()
    cache.mark(key, "rendering")  # this very process: alive
    assert client.get(STATUS + "?format=json").get_json()["state"] == "rendering"


def test_a_queued_job_that_left_the_queue_is_queued_again(
    demo_full, queued_app, queued_client, queued_auth
):
    _prepare(queued_auth)
    assert jobs.huey.pending_count() == 1
    # A worker takes the job and dies before it starts rendering.
    assert jobs.huey.dequeue() is not None
    assert queued_client.get(STATUS + "?format=json").get_json()["state"] == "queued"
    state_file = ReportCache(jobs.cache_folder(queued_app)).folder / (
        _key(queued_app) + ".state"
    )
    old = time.time() - 60
    os.utime(state_file, (old, old))
    assert queued_client.get(STATUS + "?format=json").get_json()["state"] == "lost"
    assert "Try again" in queued_client.get(STATUS).get_data(as_text=True)
    _prepare(queued_auth)
    assert jobs.huey.pending_count() == 1
    assert queued_client.get(STATUS + "?format=json").get_json()["state"] == "queued"


def test_a_silent_worker_is_shown_on_a_waiting_report(
    demo_full, queued_client, queued_auth
):
    _prepare(queued_auth)
    page = queued_client.get(STATUS).get_data(as_text=True)
    assert "No report worker has read the queue" in page
    jobs.huey.storage.put_data(jobs.HEARTBEAT_KEY, str(time.time()).encode())
    page = queued_client.get(STATUS).get_data(as_text=True)
    assert "Waiting for the render worker" in page
    assert "No report worker has read the queue" not in page


def test_a_deleted_queue_file_is_logged_and_shown(
    demo_full, queued_app, queued_client, queued_auth, caplog
):
    filename = queued_app.config["HUEY_FILE"]
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(filename + suffix):
            os.unlink(filename + suffix)
    page = queued_client.get("/cycles/2/reports").get_data(as_text=True)
    assert "PDFs cannot be made at the moment" in page
    assert f"The report queue file {filename} was deleted" in page
    assert any(
        r.levelname == "ERROR" and "was deleted" in r.getMessage()
        for r in caplog.records
    )
    # Nothing is queued into a file no worker reads; the report page says why.
    _prepare(queued_auth)
    page = queued_client.get(STATUS).get_data(as_text=True)
    assert "PDFs cannot be made at the moment" in page
    assert "has not been prepared" in page


@pytest.mark.slow
def test_the_worker_beats_and_notices_its_queue_file_go(tmp_path):
    filename = tmp_path / "jobs.db"
    env = {**os.environ, "PEERREVIEW_HUEY_FILE": str(filename)}
    consumer = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "huey_consumer"),
            "peerreview.reports.jobs.huey",
            "--workers",
            "1",
            "--worker-type",
            "process",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        reader = SqliteHuey("peerreview-reports", filename=str(filename))
        while reader.storage.peek_data(jobs.HEARTBEAT_KEY) is EmptyData:
            assert time.monotonic() < deadline, "no heartbeat from the worker"
            time.sleep(0.5)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{filename}{suffix}"):
                os.unlink(f"{filename}{suffix}")
        time.sleep(jobs.HEARTBEAT_SECONDS * 2 + 1)
    finally:
        os.killpg(consumer.pid, 15)
        _, errors = consumer.communicate(timeout=30)
    assert "was deleted while this worker ran" in errors
