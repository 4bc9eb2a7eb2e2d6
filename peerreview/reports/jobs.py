"""The render queue: Huey on SQLite, worked by a separate consumer process.

Web workers never render: a page enqueues ``render_job`` and polls the
cache for its state. Start the worker with
``huey_consumer peerreview.reports.jobs.huey`` (``make run`` does).
"""

import logging
import os
import pathlib
import threading
import time

from huey import SqliteHuey, crontab
from huey.constants import EmptyData

from .cache import ReportCache
from .render import preload, render_pdf

log = logging.getLogger(__name__)

NAME = "peerreview-reports"
ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# The same file create_app() names in HUEY_FILE by default, for the consumer.
DEFAULT_FILE = os.environ.get(
    "PEERREVIEW_HUEY_FILE", str(ROOT / "instance" / "jobs.db")
)

# A fresh checkout has no instance/ folder yet; the queue's file needs one.
os.makedirs(os.path.dirname(DEFAULT_FILE), exist_ok=True)


class ReportHuey(SqliteHuey):
    """The queue; its consumer readies the renderer before it forks workers."""

    def create_consumer(self, **options):
        # Only huey_consumer calls this, in its parent process, before the
        # process workers fork: each starts with WeasyPrint imported and the
        # print stylesheet parsed. The web app never pays for either.
        preload()
        return super().create_consumer(**options)


huey = ReportHuey(NAME, filename=DEFAULT_FILE, results=False)

# Each worker of the consumer writes the time into the queue's own file this
# often; a page that waits on a job says so when none has for a while.
HEARTBEAT_KEY = "peerreview-worker-heartbeat"
HEARTBEAT_SECONDS = 5
WORKER_SILENT_SECONDS = 30


def _identity(filename: str):
    """The file's (device, inode), or None when there is no such file."""
    try:
        st = os.stat(filename)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


# The queue file as this process found it when it opened it: a file deleted
# (or put back) since is a different file, which the other processes, holding
# the old one open, never see.
_opened = {DEFAULT_FILE: _identity(DEFAULT_FILE)}
_reported: set = set()


def queue_problem() -> str | None:
    """Say what is wrong with the queue file, logging it once; None if nothing."""
    if huey.immediate:
        return None
    filename = huey.storage_kwargs["filename"]
    now = _identity(filename)
    if _opened.get(filename) is None:
        # Not there when this process first named it: the queue makes it on
        # first use, so the file found now is the one in use.
        _opened[filename] = now
        return None
    if now == _opened[filename]:
        return None
    problem = (
        f"The report queue file {filename} was deleted"
        + (" and made again" if now else "")
        + " while the platform was running, so the report worker cannot see "
        "new PDFs to make. Restart the platform (the web server and the report "
        "worker) to make reports again."
    )
    if (filename, now) not in _reported:
        _reported.add((filename, now))
        log.error("%s", problem)
    return problem


def worker_problem() -> str | None:
    """Say when no report worker has read the queue lately; None if one has."""
    if huey.immediate:
        return None
    try:
        beat = huey.storage.peek_data(HEARTBEAT_KEY)
    except Exception:  # the file is gone or broken: queue_problem() says so
        return None
    last = 0.0 if beat is EmptyData else float(bytes(beat))
    if time.time() - last < WORKER_SILENT_SECONDS:
        return None
    return (
        "No report worker has read the queue in the last "
        f"{WORKER_SILENT_SECONDS} seconds: it may not be running "
        f"(it must read {huey.storage_kwargs['filename']})."
    )


def in_queue(key: str) -> bool:
    """Whether a render of this key waits in the queue."""
    try:
        return any(task.args[1] == key for task in huey.pending())
    except Exception:
        log.exception("could not read the report queue")
        return True  # unknown: do not queue it twice


# Each consumer worker's heartbeat stops when that worker shuts down.
_worker = threading.local()


@huey.on_startup()
def _start_heartbeat() -> None:
    """In each consumer worker: write a heartbeat while the queue file is ours."""
    filename = huey.storage_kwargs["filename"]
    _worker.stop = threading.Event()
    threading.Thread(
        target=_heartbeat,
        args=(filename, _identity(filename), _worker.stop),
        name="report-heartbeat",
        daemon=True,
    ).start()


@huey.on_shutdown()
def _stop_heartbeat() -> None:
    stop = getattr(_worker, "stop", None)
    if stop is not None:
        stop.set()


def _heartbeat(filename, identity, stop: threading.Event) -> None:
    warned = False
    while True:
        if _identity(filename) != identity:
            if not warned:
                log.error(
                    "the report queue file %s was deleted while this worker ran: "
                    "it no longer sees new jobs; restart the report worker",
                    filename,
                )
                warned = True
        elif huey.storage_kwargs["filename"] == filename:
            try:
                huey.storage.put_data(HEARTBEAT_KEY, str(time.time()).encode())
            except Exception:
                log.exception("could not write the report worker's heartbeat")
        if stop.wait(HEARTBEAT_SECONDS):
            return


def init_app(app) -> None:
    """Point the queue at the app's HUEY_FILE; tests run jobs immediately."""
    filename = app.config["HUEY_FILE"]
    os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
    if huey.storage_kwargs.get("filename") != filename:
        huey.storage_kwargs["filename"] = filename
        if not huey.immediate:
            huey.storage = huey.create_storage()
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE", app.testing))
    _opened.setdefault(filename, _identity(filename))
    app.add_template_global(queue_problem, "report_queue_problem")
    app.add_template_global(worker_problem, "report_worker_problem")


def cache_folder(app) -> str:
    """Rendered reports sit beside the database they were made from."""
    return app.config.get("REPORTS_CACHE") or os.path.join(
        os.path.dirname(os.path.abspath(app.config["DATABASE"])), "reports-cache"
    )


@huey.task()
def render_job(cache_dir: str, key: str, html: str, title: str, author: str):
    """Render one report into the cache (in the consumer process)."""
    cache = ReportCache(cache_dir)
    if cache.pdf_path(key).exists():
        return
    cache.mark(key, "rendering")
    try:
        pdf = render_pdf(html, title=title, author=author)
    except Exception as e:  # the page shows the failure; the log keeps the trace
        log.exception("report %s failed", key[:12])
        cache.mark(key, "failed", f"{type(e).__name__}: {e}"[:500])
        return
    cache.put(key, pdf)
    log.info("report %s rendered: %s bytes", key[:12], len(pdf))


@huey.periodic_task(crontab(minute="0", hour="7"))
def send_reminders() -> None:
    """Every morning at 7: email the reminders due (peerreview.reminders)."""
    import datetime

    from .. import create_app, reminders

    app = create_app()
    sent = reminders.run(app.config, datetime.date.today())
    log.info("%s reminders sent", sent)


@huey.periodic_task(crontab(minute="23"))
def sweep_evidence() -> dict:
    """Every hour: delete the chunks of evidence uploads that never finished."""
    from .. import create_app
    from ..db import connect
    from ..evidence import service as evidence

    app = create_app()
    db = connect(app.config["DATABASE"])
    try:
        return evidence.sweep_orphans(
            db, min_age=app.config["EVIDENCE_ORPHAN_AGE_SECONDS"]
        )
    finally:
        db.conn.close()


def report_cache(cache_dir: str) -> ReportCache:
    """The cache, able to tell a queued job that left the queue unrendered."""
    return ReportCache(cache_dir, in_queue=None if huey.immediate else in_queue)


def request_render(cache_dir: str, key: str, html: str, title: str, author: str):
    """Queue a render unless it is cached or on its way; return its state.

    A job whose worker died (state "lost") is queued again. Nothing is queued
    while the queue file is broken: the page shows queue_problem() instead.
    """
    cache = report_cache(cache_dir)
    state = cache.state(key)
    if state["state"] in ("ready", "queued", "rendering"):
        return state
    if queue_problem():
        return state
    if state["state"] == "lost":
        log.warning("report %s lost by its worker: queued again", key[:12])
    cache.mark(key, "queued")
    render_job(cache_dir, key, html, title, author)
    return cache.state(key)
