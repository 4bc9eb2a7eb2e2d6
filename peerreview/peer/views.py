"""Pages for peer review: the hub, planning a round, a round, self vs peer."""

import datetime
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import catalogue
from .. import permissions as perm
from ..cycles import service as cycles
from ..db import get_db
from ..evidence import service as evidence
from ..formtools import options
from ..loaders import load_cycle, load_partnership
from ..results import service as results_service
from . import findings, service
from .forms import (
    ChangeRoundForm,
    DecideForm,
    NominateForm,
    chosen_hosts,
    chosen_lead,
    findings_form,
    plan_form,
    reviewers_form,
)

bp = Blueprint("peer", __name__)
log = logging.getLogger(__name__)


@bp.route("/peer/")
@login_required
def hub():
    """What peer review means for me: reviews I do, reviews of my school, rounds I run."""
    db = get_db()
    user = current_user
    teams = user.scopes("team_lead", "team") | user.scopes("team_member", "team")
    led = sorted(user.scopes("partnership_lead", "partnership"))
    return render_template(
        "peer/hub.html",
        reviewing=[
            {**c, "leading": c["lead_id"] == user.id}  # the lead reviewer
            for c in service.reviewing(db, user.id)
        ],
        of_mine=service.reviews_of_teams(db, teams),
        on_a_team=bool(teams),
        led=[
            {
                "partnership": load_partnership(db, pid),
                "rounds": service.rounds_of(db, pid),
            }
            for pid in led
        ],
        labels=cycles.STATE_LABELS,
    )


def _hosts(db, pid):
    return [
        {"school": s, "reviewers": service.eligible_reviewers(db, pid, s["id"])}
        for s in service.partnership_schools(db, pid)
        if s["team_id"]
    ]


@bp.route("/partnerships/<int:pid>/peer-rounds/new", methods=["GET", "POST"])
@login_required
def plan(pid):
    """Plan a round: instrument, hosts, and each host's reviewing team."""
    db = get_db()
    partnership = load_partnership(db, pid, perm.can_plan_peer_round)
    hosts = _hosts(db, pid)
    instruments = catalogue.available(db, {pid})
    suggested = (
        service.suggest_assignments(db, pid) if request.method == "GET" else None
    )
    form = plan_form(
        instruments,
        hosts,
        formdata=request.form if request.method == "POST" else None,
        suggested=suggested,
    )
    if form.validate_on_submit():
        instrument = catalogue.find(db, form.instrument.data, {pid})
        if instrument is None:
            form.instrument.errors = ["Choose an instrument"]
        else:
            try:
                rid = service.plan_round(
                    db,
                    partnership_id=pid,
                    instrument=instrument,
                    title=form.title.data,
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                    hosts=chosen_hosts(form, hosts),
                    actor_id=current_user.id,
                )
            except service.PeerError as e:
                log.warning(
                    "refused peer round in %s by %s: %s", pid, current_user.id, e
                )
                form.form_errors.append(str(e))
            else:
                flash(
                    "The round is planned and each host's peer review is open to its "
                    "reviewers.",
                    "success",
                )
                return redirect(url_for("peer.round_page", rid=rid))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "peer/plan.html", form=form, partnership=partnership, hosts=hosts
    ), status


@bp.route("/peer-rounds/<int:rid>")
@login_required
def round_page(rid):
    """A round: its hosts, reviewers and how far each review has got."""
    db = get_db()
    peer_round = service.get_round(db, rid)
    if peer_round is None:
        abort(404)
    perm.require(perm.can_view_peer_round(current_user, peer_round), hide=True)
    return render_template(
        "peer/round.html",
        peer_round=peer_round,
        partnership=load_partnership(db, peer_round["partnership_id"]),
        reviews=service.round_reviews(db, rid),
        labels=cycles.STATE_LABELS,
    )


@bp.route("/peer-rounds/<int:rid>/change", methods=["GET", "POST"])
@login_required
def change_round(rid):
    """Rename a round or move its dates (the partnership's leads)."""
    db = get_db()
    peer_round = service.get_round(db, rid)
    if peer_round is None:
        abort(404)
    partnership = load_partnership(db, peer_round["partnership_id"])
    perm.require(perm.can_plan_peer_round(current_user, partnership), hide=True)
    form = ChangeRoundForm(
        data=None
        if request.method == "POST"
        else {
            "title": peer_round["title"],
            "starts_on": _as_date(peer_round["starts_on"]),
            "ends_on": _as_date(peer_round["ends_on"]),
        }
    )
    if form.validate_on_submit():
        try:
            service.change_round(
                db,
                peer_round,
                title=form.title.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                actor_id=current_user.id,
            )
        except service.PeerError as e:
            log.warning("refused change to round %s by %s: %s", rid, current_user.id, e)
            form.form_errors.append(str(e))
        else:
            flash("The round is changed.", "success")
            return redirect(url_for("peer.round_page", rid=rid))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "peer/change.html", form=form, peer_round=peer_round, partnership=partnership
    ), status


@bp.route("/peer-rounds/<int:rid>/reviews/<int:cid>/reviewers", methods=["GET", "POST"])
@login_required
def change_reviewers(rid, cid):
    """Add or withdraw a host's reviewers while its review is open (the leads)."""
    db = get_db()
    peer_round = service.get_round(db, rid)
    if peer_round is None:
        abort(404)
    partnership = load_partnership(db, peer_round["partnership_id"])
    perm.require(perm.can_plan_peer_round(current_user, partnership), hide=True)
    review = next(iter(service.round_reviews(db, rid, cid)), None)
    if review is None:
        abort(404)
    people = [
        (p["id"], f"{p['name']} ({p['school_name']})")
        for p in service.eligible_reviewers(db, partnership["id"], review["school_id"])
    ]
    form = reviewers_form(
        review["school_name"],
        people,
        [p["id"] for p in review["reviewers"]],
        review["lead_id"],
        formdata=request.form if request.method == "POST" else None,
    )
    if form.validate_on_submit():
        try:
            service.change_reviewers(
                db,
                peer_round,
                cid,
                list(form.reviewers.data or []),
                chosen_lead(form.lead.data),
                actor_id=current_user.id,
            )
        except service.PeerError as e:
            log.warning(
                "refused reviewers of cycle %s by %s: %s", cid, current_user.id, e
            )
            form.form_errors.append(str(e))
        else:
            flash(f"The reviewers of {review['school_name']} are changed.", "success")
            return redirect(url_for("peer.round_page", rid=rid))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "peer/reviewers.html",
        form=form,
        peer_round=peer_round,
        partnership=partnership,
        review=review,
    ), status


def _as_date(text):
    return datetime.date.fromisoformat(text) if text else None


@bp.route("/cycles/<int:cid>/self-vs-peer")
@login_required
def self_vs_peer(cid):
    """Agreed self and peer scores side by side, once the reviewers have agreed."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_self_vs_peer)
    review = service.review_of_cycle(db, cid)
    if review is None:
        abort(404)
    comparison = None
    coverage = None
    history = []
    if service.is_visible(cycle):
        comparison = service.self_vs_peer(db, cycle, review)
        coverage = evidence.peer_coverage(db, cycle, comparison["self_cycle"])
        history = service.calibration_history(
            db, review["school_id"], review["instrument_id"], review["partnership_id"]
        )
    return render_template(
        "peer/self_vs_peer.html",
        cycle=cycle,
        review=review,
        comparison=comparison,
        coverage=coverage,
        findings_url=url_for("peer.findings_page", cid=cid)
        if perm.can_open_findings(current_user, cycle)
        else None,
        evidence_url=url_for("evidence.peer_page", cid=cid)
        if perm.can_view_evidence(current_user, cycle)
        else None,
        history=history,
        labels=cycles.STATE_LABELS,
        # On a letter-grade or yes / no scale a score is its grade alone.
        worded=cycle["snapshot"].scale.get("kind") in results_service.WORDED_SCALES,
    )


def back_to_review(user, cycle: dict) -> str:
    """Where a page of a peer review leads back to: the cycle for its own
    people, the self vs peer page for the host and partnership leads."""
    if perm.can_view_cycle(user, cycle):
        return url_for("cycles.show", cid=cycle["id"])
    return url_for("peer.self_vs_peer", cid=cycle["id"])


def _findings_page(db, cycle, review, form=None, nominate_form=None, status=200):
    sections = cycle["snapshot"].sections
    writing = perm.can_write_findings(current_user, cycle)
    nominating = perm.can_nominate_excellence(current_user, cycle)
    if writing and form is None:
        form = findings_form(sections, findings.findings(db, cycle["id"]))
    if nominating and nominate_form is None:
        nominate_form = NominateForm()
    if nominate_form is not None:
        nominate_form.section.choices = options(
            [("", "Choose a section")] + [(s["id"], s["title"]) for s in sections]
        )
    return render_template(
        "peer/findings.html",
        cycle=cycle,
        back_url=back_to_review(current_user, cycle),
        review=review,
        sections=findings.for_readers(db, cycle),
        shows_findings=perm.can_view_findings(current_user, cycle),
        form=form if writing else None,
        nominate_form=nominate_form if nominating else None,
        decide_form=DecideForm() if writing else None,
        verdicts=findings.VERDICTS,
        labels=cycles.STATE_LABELS,
    ), status


def _review_of(db, cid):
    review = service.review_of_cycle(db, cid)
    if review is None:
        abort(404)
    return review


@bp.route("/cycles/<int:cid>/findings")
@login_required
def findings_page(cid):
    """A peer review's findings per section and its areas of excellence."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_open_findings)
    return _findings_page(db, cycle, _review_of(db, cid))


@bp.route("/cycles/<int:cid>/findings", methods=["POST"])
@login_required
def save_findings(cid):
    """Keep the reviewers' "What went well" and "Even better if" per section."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_write_findings)
    review = _review_of(db, cid)
    sections = cycle["snapshot"].sections
    form = findings_form(sections, {})
    if form.validate_on_submit():
        try:
            findings.save_findings(
                db,
                cycle,
                {
                    s["id"]: (
                        form[f"{s['id']}__well"].data,
                        form[f"{s['id']}__better"].data,
                    )
                    for s in sections
                },
                actor_id=current_user.id,
            )
        except findings.FindingsError as e:
            flash(str(e))
        else:
            flash("The findings are saved.", "success")
            return redirect(url_for("peer.findings_page", cid=cid))
    return _findings_page(db, cycle, review, form=form, status=400)


@bp.route("/cycles/<int:cid>/excellence", methods=["POST"])
@login_required
def nominate(cid):
    """The host nominates an area of excellence for the reviewers to confirm."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_nominate_excellence)
    review = _review_of(db, cid)
    form = NominateForm()
    form.section.choices = options(
        [("", "Choose a section")]
        + [(s["id"], s["title"]) for s in cycle["snapshot"].sections]
    )
    if form.validate_on_submit():
        try:
            findings.nominate(
                db, cycle, form.section.data, form.case.data, actor_id=current_user.id
            )
        except findings.FindingsError as e:
            form.section.errors = [*form.section.errors, str(e)]
        else:
            flash("The area of excellence is nominated.", "success")
            return redirect(url_for("peer.findings_page", cid=cid))
    return _findings_page(db, cycle, review, nominate_form=form, status=400)


@bp.route("/cycles/<int:cid>/excellence/<section_id>", methods=["POST"])
@login_required
def decide(cid, section_id):
    """The reviewers confirm a nominated area of excellence, or not."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_write_findings)
    form = DecideForm()
    if not form.validate_on_submit():
        flash("Choose whether you confirm the area of excellence.")
    else:
        try:
            findings.decide(
                db,
                cycle,
                section_id,
                form.verdict.data,
                form.reason.data or "",
                actor_id=current_user.id,
            )
        except findings.FindingsError as e:
            flash(str(e))
        else:
            flash("Your decision is saved.", "success")
    return redirect(url_for("peer.findings_page", cid=cid) + f"#section-{section_id}")
