"""Pages for cycles: opening, rating with autosave, moderation."""

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from .. import anonymity, audit, catalogue, ical, reminders
from .. import permissions as perm
from ..db import get_db
from ..evidence import service as evidence
from ..formtools import field_errors, form_page, offered_instrument, options
from ..inputs import whole_number
from ..loaders import load_cycle, load_team
from ..organisations import service as orgs
from ..peer import service as peer
from . import moderation, service
from .forms import (
    AgreeForm,
    StateForm,
    answer_choices,
    open_cycle_form,
    section_answers,
    section_form,
    shows_descriptors,
)

bp = Blueprint("cycles", __name__)
log = logging.getLogger(__name__)
BAD_REVISION = service.BAD_REVISION
DRAFTED = "The cycle has been created as a draft. Open it when you are ready."


@bp.route("/teams/<int:tid>/cycles/new", methods=["GET", "POST"])
@login_required
def new(tid):
    """Create a self-evaluation cycle for a team (team lead)."""
    db = get_db()
    team = load_team(db, tid, perm.can_open_cycle)
    form = open_cycle_form(
        catalogue.for_team(db, team),
        orgs.members_of(db, "team", tid),
        fresh=request.method == "GET",
        team_kind=team["kind"],
    )
    if form.validate_on_submit():
        instrument = _chosen_instrument(db, team, form)
        if instrument is not None:
            cid = service.create_cycle(
                db,
                instrument=instrument,
                team_id=tid,
                actor_id=current_user.id,
                **form.cycle_fields(),
            )
            flash(DRAFTED, "success")
            return redirect(url_for("cycles.show", cid=cid))
    return form_page("cycles/new.html", form=form, team=team)


def _chosen_instrument(db, team, form):
    """The instrument chosen, when the team may run it on itself; else None."""
    return offered_instrument(
        db,
        form.instrument,
        team["partnership_ids"],
        team_kind=team["kind"],
        use=catalogue.SELF_EVALUATION_BY.get(team["kind"], "this team"),
        what="new cycle",
    )


@bp.route("/cycles/<int:cid>")
@login_required
def show(cid):
    """The cycle's page: completion for the lead, the way in for respondents."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_cycle)
    leading = perm.can_lead_cycle(current_user, cycle)
    return render_template(
        "cycles/show.html",
        cycle=cycle,
        leading=leading,
        can_rate_now=perm.can_rate(current_user, cycle) and cycle["state"] == "open",
        labels=service.STATE_LABELS,
        completion=service.completion(db, cycle) if leading else None,
        unresolved=len(service.unresolved_items(db, cycle))
        if cycle["state"] == "moderation"
        else None,
        log=audit.entries(db, "cycle", cid, limit=50) if leading else [],
        reminded=reminders.sent_for_cycle(db, cid) if leading else [],
        emailing=bool(current_app.config.get("MAIL_SERVER")),
        visit=ical.visit_event(db, cid, request.host_url),
        form=StateForm(),
        closes=service.closes_label(cycle["closes_on"]),
        **_cycle_links(db, cycle),
    )


def _cycle_links(db, cycle) -> dict:
    """The cycle page's links to its other pages, each None when not this person's."""
    cid = cycle["id"]
    return dict(
        rate_url=url_for("cycles.rate", cid=cid, _external=True),
        evidence_url=url_for(
            "evidence.index" if cycle["kind"] == "self" else "evidence.peer_page",
            cid=cid,
        )
        if perm.can_view_evidence(current_user, cycle)
        else None,
        # A reviewer sees the peer cycle's results only as its lead.
        results_url=url_for("results.show", cid=cid)
        if perm.can_view_results(current_user, cycle, load_team(db, cycle["team_id"]))
        or perm.can_view_provisional_results(current_user, cycle)
        else None,
        findings_url=url_for("peer.findings_page", cid=cid)
        if cycle["kind"] == "peer" and perm.can_open_findings(current_user, cycle)
        else None,
    )


@bp.route("/cycles/<int:cid>/visit.ics")
@login_required
def visit_ics(cid):
    """The peer-review visit as a calendar entry (an .ics file)."""
    db = get_db()
    load_cycle(db, cid, perm.can_view_cycle)
    event = ical.visit_event(db, cid, request.host_url)
    if event is None:
        abort(404)
    return Response(
        ical.ics([event], event["summary"]),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="visit-{cid}.ics"'},
    )


@bp.route("/cycles/<int:cid>/state", methods=["POST"])
@login_required
def change_state(cid):
    """Open, move to moderation, mark agreed, close or reopen (cycle lead)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_lead_cycle)
    form = StateForm()
    if form.validate_on_submit():
        try:
            service.transition(
                db,
                cycle,
                form.to.data,
                actor_id=current_user.id,
                reason=form.reason.data or "",
            )
            flash(
                f"The cycle is now: {service.STATE_LABELS[cycle['state']]}.", "success"
            )
        except service.CycleError as e:
            flash(str(e))
    return redirect(url_for("cycles.show", cid=cid))


def _rating_context(db, cycle, answers, forms=None, errors=None):
    snap = cycle["snapshot"]
    forms = forms or {}
    sections = []
    for section in snap.sections:
        form = forms.get(section["id"]) or section_form(snap, section, answers)
        sections.append({"section": section, "form": form})
    answered = sum(1 for a in answers.values() if a.get("value"))
    return dict(
        evidence=_evidence_by_item(db, cycle),
        can_add_evidence=perm.can_add_evidence(current_user, cycle),
        cycle=cycle,
        sections=sections,
        answered=answered,
        total=len(snap.item_ids),
        descriptors=shows_descriptors(snap.scale, snap.sections),
        choices=answer_choices(snap.scale),
        closes=service.closes_label(cycle["closes_on"]),
        submitted=_submitted_at(db, cycle, current_user.id),
        errors=errors or [],
        editable=cycle["state"] == "open",
    )


def _evidence_by_item(db, cycle):
    """The evidence to show under each item: the school's own, or what the
    host shows its reviewers; None when the viewer may see none."""
    if not perm.can_view_evidence(current_user, cycle):
        return None
    if cycle["kind"] == "self":
        return evidence.by_item(evidence.for_cycle(db, cycle))
    review = peer.review_of_cycle(db, cycle["id"])
    if review is None:
        return None
    return evidence.by_item(
        evidence.shown_to_reviewers(db, cycle, review["self_cycle_id"])
    )


def _submitted_at(db, cycle, user_id):
    row = db.execute(
        "SELECT submitted_at FROM cycle_respondents WHERE cycle_id = ? AND user_id = ?",
        [cycle["id"], user_id],
    ).fetchone()
    return row[0] if row else None


@bp.route("/cycles/<int:cid>/rate")
@login_required
def rate(cid):
    """The rating page: every item, section by section, with the respondent's answers."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_rate)
    answers = service.my_answers(db, cid, current_user.id)
    return render_template("cycles/rate.html", **_rating_context(db, cycle, answers))


@bp.route("/cycles/<int:cid>/rate/<section_id>", methods=["POST"])
@login_required
def save_section(cid, section_id):
    """Save one section's answers without JavaScript."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_rate)
    section = _section(cycle, section_id)
    answers = service.my_answers(db, cid, current_user.id)
    form = section_form(cycle["snapshot"], section, answers, formdata=request.form)
    errors = field_errors(form) if not form.validate() else []
    if not errors:
        submitted = section_answers(form, section)
        refused = service.save_section(db, cycle, current_user.id, submitted)
        errors = [
            (form[f"{item_id}__value"].id + "-0", message)
            for item_id, message in refused.items()
        ]
    if errors:
        log.warning("refused section save on cycle %s by %s", cid, current_user.id)
        return _rate_again(db, cycle, section, errors), 400
    flash(f"Your answers to “{section['title']}” are saved.", "success")
    return redirect(url_for("cycles.rate", cid=cid) + f"#section-{section_id}")


def _section(cycle, section_id) -> dict:
    """One section of the cycle's instrument, or 404."""
    for section in cycle["snapshot"].sections:
        if section["id"] == section_id:
            return section
    abort(404)


def _rate_again(db, cycle, section, errors):
    """The rating page again with the errors, the section as it is now stored."""
    answers = service.my_answers(db, cycle["id"], current_user.id)
    fresh = section_form(cycle["snapshot"], section, answers)
    context = _rating_context(db, cycle, answers, {section["id"]: fresh}, errors)
    return render_template("cycles/rate.html", **context)


@bp.route("/cycles/<int:cid>/answers", methods=["POST"])
@login_required
def save_answer(cid):
    """Save one answer in the background (JSON); refuse stale or invalid saves."""
    db = get_db()
    cycle = service.get_cycle(db, cid)
    if cycle is None or not perm.can_rate(current_user, cycle):
        log.warning("refused answer for cycle %s by user %s", cid, current_user.id)
        return jsonify(error="This cycle was not found."), 404
    try:
        answer = _answer_in(request.get_json(silent=True))
        saved = service.save_answer(db, cycle, current_user.id, **answer)
    except _Unreadable as e:
        return jsonify(error=str(e)), 400
    except service.StaleAnswer as e:
        return jsonify(error=str(e), current=e.current), 409
    except (service.CycleError, ValueError, TypeError) as e:
        log.warning(
            "refused answer for cycle %s by user %s: %s", cid, current_user.id, e
        )
        return jsonify(error=str(e)), 422
    return jsonify(
        saved=True, revision=saved["revision"], updated_at=saved["updated_at"]
    )


def _text(value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise service.CycleError("The answer could not be read.")
    return value


class _Unreadable(Exception):
    """A background save whose body cannot be read (answered 400)."""


def _answer_in(body) -> dict:
    """The answer in a background save's JSON body, as save_answer takes it."""
    if not isinstance(body, dict) or not isinstance(body.get("item_id"), str):
        raise _Unreadable("The answer could not be read.")
    base = whole_number(body.get("revision"), default=0)
    if base is None:
        raise _Unreadable(BAD_REVISION)
    return dict(
        item_id=body["item_id"],
        value=_text(body.get("value")),
        comment=_text(body.get("comment")),
        evidence=_text(body.get("evidence")),
        base_revision=base,
    )


@bp.route("/csrf-token")
@login_required
def csrf_token():
    """Give the autosave script a fresh CSRF token for a long session."""
    return jsonify(token=generate_csrf())


@bp.route("/cycles/<int:cid>/submit", methods=["POST"])
@login_required
def submit(cid):
    """Submit one's ratings once every item is answered."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_rate)
    try:
        service.submit(db, cycle, current_user.id)
    except service.CycleError as e:
        answers = service.my_answers(db, cid, current_user.id)
        context = _rating_context(db, cycle, answers, errors=[("submit", str(e))])
        return render_template("cycles/rate.html", **context), 400
    flash(
        "Your ratings are submitted. You can still change them until moderation starts.",
        "success",
    )
    return redirect(url_for("main.home"))


@bp.route("/cycles/<int:cid>/moderate")
@login_required
def moderate(cid):
    """The moderation meeting: items by disagreement, recording agreed scores."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_moderation)
    linked, unsupported = _moderation_evidence(db, cycle)
    return render_template(
        "cycles/moderate.html",
        evidence=linked,
        unsupported=unsupported,
        can_add_evidence=perm.can_add_evidence(current_user, cycle),
        cycle=cycle,
        items=moderation.moderation_items(
            db, cycle, anonymity.viewer_of(current_user, cycle)
        ),
        min_group=anonymity.MIN_GROUP,
        leading=perm.can_lead_cycle(current_user, cycle)
        and cycle["state"] == "moderation",
        choices=answer_choices(cycle["snapshot"].scale),
        scale=cycle["snapshot"].scale,
        labels=service.STATE_LABELS,
    )


def _moderation_evidence(db, cycle):
    """A self-evaluation's evidence by item, for those who may see it, and the
    items whose agreed score it does not yet support: (None, set()) otherwise."""
    if cycle["kind"] != "self" or not perm.can_view_evidence(current_user, cycle):
        return None, set()
    linked = evidence.by_item(evidence.for_cycle(db, cycle))
    agreed = service.agreed_scores(db, cycle["id"])
    return linked, evidence.unsupported(cycle["snapshot"], agreed, linked)


@bp.route("/cycles/<int:cid>/agree/<item_id>", methods=["POST"])
@login_required
def agree(cid, item_id):
    """Record the team's agreed score for one item, or defer it (cycle lead)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_lead_cycle)
    form = AgreeForm()
    form.value.choices = options(answer_choices(cycle["snapshot"].scale))
    back = url_for("cycles.moderate", cid=cid)
    if problem := form.unreadable():
        flash(problem, f"error:agree-{item_id}-0")
        return redirect(back + f"#item-{item_id}")
    try:
        service.record_agreed(
            db, cycle, item_id, **form.agreed(), actor_id=current_user.id
        )
    except service.StaleAgreed:
        log.info("stale agreed score %s/%s by %s", cid, item_id, current_user.id)
        return _agree_conflict(db, cycle, item_id, form), 409
    except service.CycleError as e:
        flash(*_agree_refused(cycle, item_id, e))
        return redirect(back + f"#item-{item_id}")
    # Shown inside the item and focused there (the page opens at it),
    # where the person is looking, not in a banner at the top.
    flash(_agree_saved(cycle, form), f"saved:{item_id}")
    return redirect(back + f"#saved-{item_id}")


def _agree_saved(cycle, form) -> str:
    if form.defer.data:
        return "Deferred: come back to this item."
    label = cycle["snapshot"].label(form.value.data) if form.value.data else ""
    return f"Agreed score saved: {label}."


def _agree_refused(cycle, item_id, error) -> tuple[str, str]:
    """The message for a refused agreed score, and the field it is shown at."""
    if error.field == "rationale":
        anchor = f"rationale-{item_id}"
    else:
        anchor = f"agree-{item_id}-0"
    item = cycle["snapshot"].items.get(item_id)
    where = f"“{item['statement'][:60]}”: " if item else ""
    return f"{where}{error}", f"error:{anchor}"


def _agree_conflict(db, cycle, item_id, form):
    """The page for an agreed score recorded from an older revision: both, a choice."""
    snap = cycle["snapshot"]
    theirs = service.agreed_scores(db, cycle["id"]).get(item_id) or {
        "value": None,
        "deferred": False,
        "rationale": "",
        "revision": 0,
        "recorded_by_name": None,
        "recorded_at": None,
    }

    def score(value, deferred):
        return "Deferred" if deferred else snap.label(value) if value else ""

    rows = [
        (
            "Agreed score",
            score(theirs["value"], theirs["deferred"]),
            score(form.value.data, form.defer.data),
        ),
        ("Rationale", theirs["rationale"] or "", (form.rationale.data or "").strip()),
    ]
    return render_template(
        "cycles/agree_conflict.html",
        cycle=cycle,
        item=snap.items[item_id],
        number=snap.item_ids.index(item_id) + 1,
        theirs=theirs,
        by_me=theirs.get("recorded_by") == current_user.id,
        rows=[
            {"label": label, "theirs": a, "mine": b, "differs": a != b}
            for label, a, b in rows
        ],
        mine={
            "value": form.value.data or "",
            "rationale": form.rationale.data or "",
            "defer": "y" if form.defer.data else "",
        },
    )
