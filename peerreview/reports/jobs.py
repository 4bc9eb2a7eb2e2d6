"""The render queue: Huey on SQLite, worked by a separate consumer process.

Web workers never render: a page enqueues ``render_job`` and polls the
cache for its state. Start the worker with
``huey_consumer peerreview.reports.jobs.huey`` (``make run`` does).
"""

import logging
import os
import pathlib

from huey import SqliteHuey

from .cache import ReportCache
from .render import render_pdf

log = logging.getLogger(__name__)

NAME = "peerreview-reports"
ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# The same file create_app() names in HUEY_FILE by default, for the consumer.
DEFAULT_FILE = os.environ.get(
    "PEERREVIEW_HUEY_FILE", str(ROOT / "instance" / "jobs.db")
)

# A fresh checkout has no instance/ folder yet; the queue's file needs one.
os.makedirs(os.path.dirname(DEFAULT_FILE), exist_ok=True)
huey = SqliteHuey(NAME, filename=DEFAULT_FILE, results=False)


def init_app(app) -> None:
    """Point the queue at the app's HUEY_FILE; tests run jobs immediately."""
    filename = app.config["HUEY_FILE"]
    os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
    if huey.storage_kwargs.get("filename") != filename:
        huey.storage_kwargs["filename"] = filename
        if not huey.immediate:
            huey.storage = huey.create_storage()
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE", app.testing))


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


def request_render(cache_dir: str, key: str, html: str, title: str, author: str):
    """Queue a render unless it is cached or already queued; return its state."""
    cache = ReportCache(cache_dir)
    state = cache.state(key)
    if state["state"] in ("ready", "queued", "rendering"):
        return state
    cache.mark(key, "queued")
    render_job(cache_dir, key, html, title, author)
    return cache.state(key)
