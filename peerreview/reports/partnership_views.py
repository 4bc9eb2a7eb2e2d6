"""The partnership report: its page, HTML preview, queued PDF, progress and download.

The lead chooses the instrument, round, measure and distance as on the
comparison page (the same form reads the same query string), and every URL
here carries that choice along. The PDF goes through the same queue and
cache as the cycle reports.
"""

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from ..db import get_db
from ..loaders import load_comparison
from ..partnership import comparison
from ..partnership.forms import view_data
from ..partnership.heatmap import heatmap_svg
from ..plans.forms import EmptyForm
from .cache import report_key
from .content import PARTNERSHIP_TITLE, partnership_report_data
from .responses import (
    PDF_STYLESHEET,
    pdf_response,
    preview_response,
    queue_render,
    report_cache,
    state_json,
)

bp = Blueprint("partnership_reports", __name__)
KIND = "partnership"


def _load(pid):
    """Load the partnership (404, or its one check) and the choice in the query string."""
    db = get_db()
    partnership = load_comparison(db, pid)
    return db, partnership, *view_data(db, pid)


def _load_round(pid):
    """_load(), for the routes that need a round chosen: else back to the page."""
    loaded = _load(pid)
    if loaded[3]["round"] is None:
        abort(redirect(url_for(".index", pid=pid)))
    return loaded


def _query(data) -> dict:
    """Return the choice as query arguments, so every link keeps it."""
    if data["round"] is None:
        return {}
    query = {
        "instrument": data["instrument_id"],
        "round": data["round"]["id"],
        "view": data["mode"],
        "miles": data["max_miles"],
    }
    if data["help_school_id"] and not data["help_all"]:
        query["school"] = data["help_school_id"]
    return query


def build_html(db, partnership, data, *, stylesheet=PDF_STYLESHEET) -> str:
    """Return the report's HTML (for the PDF, or for the preview's stylesheet URL)."""
    snapshot = comparison.round_snapshot(db, data["round"]["id"])
    content = partnership_report_data(db, partnership, data, snapshot)
    charts = [
        heatmap_svg({**data, "grid": chunk}, f"heat-{n}")
        for n, chunk in enumerate(content["heat_chunks"], start=1)
    ]
    return render_template(
        "reports/partnership.html",
        stylesheet=stylesheet,
        heatmaps=charts,
        fmt=comparison.fmt,
        **content,
    )


def _job(db, partnership, data):
    html = build_html(db, partnership, data)
    title = f"{PARTNERSHIP_TITLE}: {partnership['name']}"
    return report_key(KIND, html), html, title, partnership["name"]


def _state(db, partnership, data) -> dict:
    if data["round"] is None:
        return {"state": "none", "message": "", "size": 0}
    key = _job(db, partnership, data)[0]
    return report_cache().state(key)


def _filename(partnership, data) -> str:
    name = "".join(c if c.isalnum() else "-" for c in partnership["name"])
    name = name.strip("-").lower()[:60]
    return (
        f"partnership-report-{partnership['id']}-round-{data['round']['id']}-{name}.pdf"
    )


@bp.route("/partnerships/<int:pid>/reports")
@login_required
def index(pid):
    """Choose the round and measure; preview the report or prepare its PDF."""
    db, partnership, form, data, ok = _load(pid)
    return render_template(
        "reports/partnership_index.html",
        partnership=partnership,
        form=form,
        d=data,
        q=_query(data),
        state=_state(db, partnership, data),
    ), (200 if ok else 400)


@bp.route("/partnerships/<int:pid>/reports/partnership.html")
@login_required
def preview(pid):
    """The report as HTML, with the print stylesheet (the PDF's exact source)."""
    db, partnership, _form, data, _ok = _load_round(pid)
    stylesheet = url_for("static", filename=PDF_STYLESHEET)
    return preview_response(build_html(db, partnership, data, stylesheet=stylesheet))


@bp.route("/partnerships/<int:pid>/reports/partnership.pdf", methods=["POST"])
@login_required
def prepare(pid):
    """Queue the PDF for the render worker; show its progress."""
    db, partnership, _form, data, _ok = _load_round(pid)
    if EmptyForm().validate_on_submit():
        queue_render(_job(db, partnership, data), f"partnership report for {pid}")
    return redirect(url_for(".status", pid=pid, **_query(data)))


@bp.route("/partnerships/<int:pid>/reports/partnership/status")
@login_required
def status(pid):
    """Where the PDF is: not prepared, queued, rendering, failed or ready."""
    db, partnership, _form, data, _ok = _load_round(pid)
    q = _query(data)
    state = _state(db, partnership, data)
    download = url_for(".download", pid=pid, **q)
    if request.args.get("format") == "json":
        return state_json(state, download)
    return render_template(
        "reports/status.html",
        kind=KIND,
        kind_title=PARTNERSHIP_TITLE,
        state=state,
        download=download,
        form=EmptyForm(),
        caption=f"{partnership['name']} — {data['round']['title']}",
        back_url=url_for(".index", pid=pid, **q),
        prepare_url=url_for(".prepare", pid=pid, **q),
        status_url=url_for(".status", pid=pid),
        status_query=q,
        json_url=url_for(".status", pid=pid, format="json", **q),
    )


@bp.route("/partnerships/<int:pid>/reports/partnership.pdf")
@login_required
def download(pid):
    """The rendered PDF for the data as it is now; else back to its status."""
    db, partnership, _form, data, _ok = _load_round(pid)
    key = _job(db, partnership, data)[0]
    pdf = report_cache().get(key)
    if pdf is None:
        return redirect(url_for(".status", pid=pid, **_query(data)))
    return pdf_response(pdf, _filename(partnership, data))
