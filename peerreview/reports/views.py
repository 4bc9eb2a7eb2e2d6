"""Report pages: HTML previews, queueing a PDF, its progress, the download."""

import base64
import hashlib
import logging
import re

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import anonymity
from .. import permissions as perm
from ..db import get_db
from ..loaders import load_cycle
from ..plans.forms import EmptyForm
from ..security import set_security_headers
from . import jobs
from .cache import ReportCache, report_key
from .content import KINDS, report_data
from .render import STATIC

bp = Blueprint("reports", __name__)
log = logging.getLogger(__name__)
PDF_STYLESHEET = "print/report.css"
CHART_CSS = (STATIC / "print" / "chart.css").read_text()
SVG_OPEN = re.compile(r"<svg\b[^>]*>")


@bp.app_template_filter("with_print_style")
def with_print_style(svg) -> Markup:
    """Put the print rules inside a chart: WeasyPrint styles SVG from within only."""
    return Markup(
        SVG_OPEN.sub(lambda m: f"{m.group(0)}<style>{CHART_CSS}</style>", str(svg), 1)
    )


def _load(cid):
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_reports)
    return db, cycle


def build_html(
    db, cycle, kind, *, stylesheet=PDF_STYLESHEET, viewer=anonymity.OUTSIDE
) -> str:
    """Return a report's HTML (for the PDF, or for the preview's stylesheet URL).

    ``viewer``: who reads it, for what ``anonymity`` lets them see.
    """
    data = report_data(db, cycle, kind, viewer=viewer)
    return render_template(f"reports/{kind}.html", stylesheet=stylesheet, **data)


def _job(db, cycle, kind):
    html = build_html(db, cycle, kind, viewer=anonymity.viewer_of(current_user, cycle))
    title = f"{KINDS[kind]}: {cycle['school_name'] or cycle['team_name']}"
    author = cycle["school_name"] or cycle["team_name"]
    return report_key(kind, html), html, title, author


def _filename(cycle, kind) -> str:
    name = "".join(c if c.isalnum() else "-" for c in (cycle["title"] or "cycle"))
    return f"{kind}-report-{cycle['id']}-{name.strip('-').lower()[:60]}.pdf"


@bp.route("/cycles/<int:cid>/reports")
@login_required
def index(cid):
    """The reports of a cycle, each with its preview and PDF."""
    db, cycle = _load(cid)
    cache = report_cache()
    states = {kind: cache.state(_job(db, cycle, kind)[0]) for kind in KINDS}
    return render_template(
        "reports/index.html", cycle=cycle, kinds=KINDS, states=states, form=EmptyForm()
    )


@bp.route("/cycles/<int:cid>/reports/<any(team, governors):kind>.html")
@login_required
def preview(cid, kind):
    """The report as HTML, with the print stylesheet (the PDF's exact source)."""
    db, cycle = _load(cid)
    stylesheet = url_for("static", filename=PDF_STYLESHEET)
    return preview_response(
        build_html(
            db,
            cycle,
            kind,
            stylesheet=stylesheet,
            viewer=anonymity.viewer_of(current_user, cycle),
        )
    )


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


# What the cycle reports and the partnership report share: queueing a
# render, reading its state, and handing out the PDF.


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


@bp.route("/cycles/<int:cid>/reports/<any(team, governors):kind>.pdf", methods=["POST"])
@login_required
def prepare(cid, kind):
    """Queue the PDF for the render worker; show its progress."""
    db, cycle = _load(cid)
    if EmptyForm().validate_on_submit():
        queue_render(_job(db, cycle, kind), f"report {kind} for cycle {cid}")
    return redirect(url_for("reports.status", cid=cid, kind=kind))


@bp.route("/cycles/<int:cid>/reports/<any(team, governors):kind>/status")
@login_required
def status(cid, kind):
    """Where the PDF is: not prepared, queued, rendering, failed or ready."""
    db, cycle = _load(cid)
    key = _job(db, cycle, kind)[0]
    state = report_cache().state(key)
    download = url_for("reports.download", cid=cid, kind=kind)
    if request.args.get("format") == "json":
        return state_json(state, download)
    return render_template(
        "reports/status.html",
        cycle=cycle,
        kind=kind,
        kind_title=KINDS[kind],
        state=state,
        download=download,
        form=EmptyForm(),
    )


@bp.route("/cycles/<int:cid>/reports/<any(team, governors):kind>.pdf")
@login_required
def download(cid, kind):
    """The rendered PDF for the data as it is now; else back to its status."""
    db, cycle = _load(cid)
    key = _job(db, cycle, kind)[0]
    pdf = report_cache().get(key)
    if pdf is None:
        return redirect(url_for("reports.status", cid=cid, kind=kind))
    return pdf_response(pdf, _filename(cycle, kind))
