"""Pages and downloads of a cycle's results."""

from flask import Blueprint, Response, render_template, url_for
from flask_login import current_user, login_required

from .. import anonymity
from .. import permissions as perm
from ..cycles import moderation
from ..cycles import service as cycles
from ..db import get_db
from ..evidence import service as evidence
from ..loaders import load_cycle, load_results_cycle
from ..plans import service as plans
from . import export, service

bp = Blueprint("results", __name__)
bp.add_app_template_global(service.on_scale, "on_scale")
bp.add_app_template_global(
    lambda r: r.get("scale_kind") in service.WORDED_SCALES, "worded"
)

_FORMATS = {
    "csv": (export.CSV_TYPE, export.results_csv, export.ratings_csv),
    "xlsx": (export.XLSX_TYPE, export.results_xlsx, export.ratings_xlsx),
}


def _results_for(db, cid):
    """The cycle (through its loader and check), its team and the figures this person may see."""
    cycle, team = load_results_cycle(db, cid)
    results = service.cycle_results(db, cycle, anonymity.viewer_of(current_user, cycle))
    return cycle, team, results


def _download(data: bytes, mimetype: str, name: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/cycles/<int:cid>/results")
@login_required
def show(cid):
    """A cycle's results: headline, section chart, items, strengths, priorities."""
    db = get_db()
    cycle, team, results = _results_for(db, cid)
    return render_template(
        "results/show.html",
        cycle=cycle,
        team=team,
        r=results,
        can_export_ratings=perm.can_export_ratings(current_user, cycle),
        can_see_moderation=perm.can_view_moderation(current_user, cycle),
        evidence=evidence.summary(db, cycle, cycles.agreed_scores(db, cid))
        if cycle["kind"] == "self" and not results["provisional"]
        else None,
        **_back(cycle, team),
        evidence_url=url_for("evidence.index", cid=cid)
        if perm.can_view_evidence(current_user, cycle)
        else None,
        carry=_carry(db, cycle, results),
    )


def _back(cycle, team) -> dict:
    """Where the results page leads back to: the team's page for those who may
    see it; a lead reviewer reads a peer cycle's results but not the host's team."""
    if perm.can_view_team(current_user, team):
        return {
            "back_url": url_for("orgs.team", tid=team["id"]),
            "back_text": team["name"],
        }
    return {
        "back_url": url_for("cycles.show", cid=cycle["id"]),
        "back_text": "Back to the cycle",
    }


def _carry(db, cycle, results) -> dict | None:
    """Last cycle's actions beside the change they addressed, for those who may
    see the plan."""
    if not perm.can_view_plan(current_user, cycle):
        return None
    return {
        "carried": plans.actions_for_results(db, cycle, results),
        "plannable": cycle["state"] in plans.PLANNABLE_STATES,
    }


@bp.route("/cycles/<int:cid>/results.<any(csv, xlsx):fmt>")
@login_required
def export_results(cid, fmt):
    """Download agreed (or, for the lead, provisional) scores as CSV or XLSX."""
    db = get_db()
    _cycle, _team, results = _results_for(db, cid)
    mimetype, build, _ = _FORMATS[fmt]
    what = "provisional-results" if results["provisional"] else "results"
    return _download(build(results), mimetype, export.filename(results, what, fmt))


@bp.route("/cycles/<int:cid>/ratings.<any(csv, xlsx):fmt>")
@login_required
def export_ratings(cid, fmt):
    """Download every individual rating (cycle lead; letters when anonymous)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_export_ratings)
    mimetype, _, build = _FORMATS[fmt]
    rows = moderation.individual_ratings(
        db, cycle, anonymity.viewer_of(current_user, cycle)
    )
    return _download(
        build(rows), mimetype, export.filename(cycle, "individual-ratings", fmt)
    )
