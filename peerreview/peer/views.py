"""Pages for peer review: the hub, planning a round, a round, self vs peer."""

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import catalogue
from .. import permissions as perm
from ..cycles import service as cycles
from ..db import get_db
from ..evidence import service as evidence
from ..formtools import form_page, offered_instrument, options, refusal_shown
from ..loaders import (
    load_cycle,
    load_partnership,
    load_review,
    load_round,
    load_round_to_change,
)
from ..results import service as results_service
from . import findings, service
from .forms import (
    DecideForm,
    NominateForm,
    change_round_form,
    chosen_hosts,
    chosen_lead,
    findings_answers,
    findings_form,
    plan_form,
    reviewers_form,
    round_fields,
)
from .links import back_to_review

bp = Blueprint("peer", __name__)
log = logging.getLogger(__name__)
PEER_REVIEW_OF_A_SCHOOL = "a peer review of a school"
PLANNED = "The round is planned and each host's peer review is open to its reviewers."


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
    form = _plan_form(db, pid, hosts)
    if form.validate_on_submit():
        instrument = _chosen_instrument(db, pid, form)
        if instrument is not None:
            with refusal_shown(form, service.PeerError, what="peer round"):
                rid = service.plan_round(
                    db,
                    partnership_id=pid,
                    instrument=instrument,
                    hosts=chosen_hosts(form, hosts),
                    actor_id=current_user.id,
                    **round_fields(form),
                )
                flash(PLANNED, "success")
                return redirect(url_for("peer.round_page", rid=rid))
    return form_page("peer/plan.html", form=form, partnership=partnership, hosts=hosts)


def _chosen_instrument(db, pid, form):
    """The instrument chosen, when a peer review of a school may use it; else None."""
    return offered_instrument(
        db,
        form.instrument,
        {pid},
        team_kind=service.HOST_TEAM_KIND,
        use=PEER_REVIEW_OF_A_SCHOOL,
        what="peer round",
    )


def _plan_form(db, pid, hosts):
    """The form to plan a round; a fresh one has the suggested reviewers ticked."""
    fresh = request.method == "GET"
    return plan_form(
        catalogue.available(db, {pid}, team_kind=service.HOST_TEAM_KIND),
        hosts,
        formdata=None if fresh else request.form,
        suggested=service.suggest_assignments(db, pid) if fresh else None,
    )


@bp.route("/peer-rounds/<int:rid>")
@login_required
def round_page(rid):
    """A round: its hosts, reviewers and how far each review has got."""
    db = get_db()
    peer_round = load_round(db, rid, perm.can_view_peer_round)
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
    peer_round, partnership = load_round_to_change(db, rid)
    form = change_round_form(peer_round, fresh=request.method != "POST")
    if form.validate_on_submit():
        with refusal_shown(form, service.PeerError, what="change to round"):
            service.change_round(
                db, peer_round, actor_id=current_user.id, **round_fields(form)
            )
            flash("The round is changed.", "success")
            return redirect(url_for("peer.round_page", rid=rid))
    return form_page(
        "peer/change.html", form=form, peer_round=peer_round, partnership=partnership
    )


@bp.route("/peer-rounds/<int:rid>/reviews/<int:cid>/reviewers", methods=["GET", "POST"])
@login_required
def change_reviewers(rid, cid):
    """Add or withdraw a host's reviewers while its review is open (the leads)."""
    db = get_db()
    peer_round, partnership = load_round_to_change(db, rid)
    review = next(iter(service.round_reviews(db, rid, cid)), None)
    if review is None:
        abort(404)
    form = _reviewers_form(db, partnership, review)
    if form.validate_on_submit():
        with refusal_shown(form, service.PeerError, what="reviewers"):
            reviewer_ids = list(form.reviewers.data or [])
            lead_id = chosen_lead(form.lead.data)
            service.change_reviewers(
                db, peer_round, cid, reviewer_ids, lead_id, actor_id=current_user.id
            )
            flash(f"The reviewers of {review['school_name']} are changed.", "success")
            return redirect(url_for("peer.round_page", rid=rid))
    return form_page(
        "peer/reviewers.html",
        form=form,
        peer_round=peer_round,
        partnership=partnership,
        review=review,
    )


def _reviewers_form(db, partnership, review):
    """The form of a host's reviewers: whom the partnership's rules allow."""
    people = [
        (p["id"], f"{p['name']} ({p['school_name']})")
        for p in service.eligible_reviewers(db, partnership["id"], review["school_id"])
    ]
    return reviewers_form(
        review["school_name"],
        people,
        [p["id"] for p in review["reviewers"]],
        review["lead_id"],
        formdata=request.form if request.method == "POST" else None,
    )


@bp.route("/cycles/<int:cid>/self-vs-peer")
@login_required
def self_vs_peer(cid):
    """Agreed self and peer scores side by side, once the reviewers have agreed."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_self_vs_peer)
    review = load_review(db, cid)
    return render_template(
        "peer/self_vs_peer.html",
        cycle=cycle,
        review=review,
        **_comparison(db, cycle, review),
        findings_url=url_for("peer.findings_page", cid=cid)
        if perm.can_open_findings(current_user, cycle)
        else None,
        evidence_url=url_for("evidence.peer_page", cid=cid)
        if perm.can_view_evidence(current_user, cycle)
        else None,
        labels=cycles.STATE_LABELS,
        # On a letter-grade or yes / no scale a score is its grade alone.
        worded=cycle["snapshot"].scale.get("kind") in results_service.WORDED_SCALES,
    )


def _comparison(db, cycle, review) -> dict:
    """Self vs peer, the evidence seen and the school's calibration over time,
    once the comparison may be shown; nothing before."""
    if not service.is_visible(cycle):
        return {"comparison": None, "coverage": None, "history": []}
    comparison = service.self_vs_peer(db, cycle, review)
    return {
        "comparison": comparison,
        "coverage": evidence.peer_coverage(db, cycle, comparison["self_cycle"]),
        "history": service.calibration_history(
            db, review["school_id"], review["instrument_id"], review["partnership_id"]
        ),
    }


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


@bp.route("/cycles/<int:cid>/findings")
@login_required
def findings_page(cid):
    """A peer review's findings per section and its areas of excellence."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_open_findings)
    return _findings_page(db, cycle, load_review(db, cid))


@bp.route("/cycles/<int:cid>/findings", methods=["POST"])
@login_required
def save_findings(cid):
    """Keep the reviewers' "What went well" and "Even better if" per section."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_write_findings)
    review = load_review(db, cid)
    sections = cycle["snapshot"].sections
    form = findings_form(sections, {})
    if form.validate_on_submit():
        try:
            answers = findings_answers(form, sections)
            findings.save_findings(db, cycle, answers, actor_id=current_user.id)
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
    review = load_review(db, cid)
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
