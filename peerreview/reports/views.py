"""Report pages: HTML previews, queueing a PDF, its progress, the download."""

import re

from flask import (
    Blueprint,
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
from .cache import report_key
from .content import KINDS, report_data
from .render import PRINT_STYLESHEET
from .responses import (
    CHART_CSS,
    PDF_STYLESHEET,
    pdf_response,
    preview_response,
    queue_render,
    report_cache,
    state_json,
)

bp = Blueprint("reports", __name__)
SVG_OPEN = re.compile(r"<svg\b[^>]*>")


@bp.app_template_filter("with_print_style")
def with_print_style(svg) -> Markup:
    """Put the print rules inside a chart: WeasyPrint styles SVG from within only."""
    return Markup(
        SVG_OPEN.sub(lambda m: f"{m.group(0)}<style>{CHART_CSS}</style>", str(svg), 1)
    )


@bp.record_once
def _print_stylesheet(state) -> None:
    """Tell the report layout which stylesheet the renderer applies itself."""
    state.app.jinja_env.globals["print_stylesheet"] = PRINT_STYLESHEET


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
