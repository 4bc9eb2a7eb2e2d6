"""What the report pages and the instrument pages share: a preview under the
site's headers, queueing a PDF's render, its state, and the download.

Not a view module: the pages of reports/, of the partnership report and of
the instrument library call these.
"""

import base64
import hashlib
import logging

from flask import Response, current_app, jsonify, make_response

from ..security import set_security_headers
from . import jobs
from .cache import ReportCache
from .render import PRINT_STYLESHEET, STATIC

log = logging.getLogger(__name__)
PDF_STYLESHEET = PRINT_STYLESHEET
CHART_CSS = (STATIC / "print" / "chart.css").read_text()

# The charts carry their print rules in a <style> (WeasyPrint styles SVG from
# within only); a preview allows exactly that style block by its hash, so the
# page stays under the site's policy without 'unsafe-inline'.
CHART_STYLE_HASH = (
    "'sha256-"
    + base64.b64encode(hashlib.sha256(CHART_CSS.encode()).digest()).decode()
    + "'"
)


def preview_response(html: str):
    """A report preview under the site's headers, its chart styles allowed."""
    response = set_security_headers(make_response(html))
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace(
        "style-src 'self'", f"style-src 'self' {CHART_STYLE_HASH}"
    )
    return response


def queue_render(job, what: str) -> None:
    """Queue a job of _job()'s shape, (key, html, title, author), for the worker."""
    key, html, title, author = job
    state = jobs.request_render(
        jobs.cache_folder(current_app), key, html, title, author
    )
    log.info("%s: %s", what, state["state"])


def report_cache() -> ReportCache:
    """The app's cache of rendered reports and their render states."""
    return jobs.report_cache(jobs.cache_folder(current_app))


def state_json(state: dict, download: str):
    """A render's state for the status page's script."""
    return jsonify(
        state=state["state"],
        message=state["message"],
        size=state["size"],
        download=download if state["state"] == "ready" else None,
    )


def pdf_response(pdf: bytes, filename: str) -> Response:
    """A rendered PDF as a private download."""
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
