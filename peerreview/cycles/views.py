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
from ..formtools import options
from ..inputs import whole_number
from ..loaders import load_cycle, load_team
from ..organisations import service as orgs
from ..peer import service as peer
from . import moderation, service
from .forms import AgreeForm, OpenCycleForm, StateForm, answer_choices, section_form

bp = Blueprint("cycles", __name__)
log = logging.getLogger(__name__)
BAD_REVISION = service.BAD_REVISION


@bp.route("/teams/<int:tid>/cycles/new", methods=["GET", "POST"])
@login_required
def new(tid):
    """Create a self-evaluation cycle for a team (team lead)."""
    db = get_db()
    team = load_team(db, tid, perm.can_open_cycle)
    instruments = catalogue.available(db, team["partnership_ids"])
    members = orgs.members_of(db, "team", tid)
    form = OpenCycleForm()
    form.instrument.choices = options(
        [("", "Choose an instrument")]
        + [(i.id, f"{i.title} ({i.item_count} items)") for i in instruments]
    )
    form.respondents.choices = options((m["id"], m["name"]) for m in members)
    if request.method == "GET":
        form.respondents.data = [m["id"] for m in members]
    if form.validate_on_submit():
        instrument = catalogue.find(db, form.instrument.data, team["partnership_ids"])
        if instrument is None:
            form.instrument.errors = ["Choose an instrument"]
        else:
            cid = service.create_cycle(
                db,
                instrument=instrument,
                team_id=tid,
                respondent_ids=form.respondents.data,
                closes_on=form.closes_on.data.isoformat()
                if form.closes_on.data
                else None,
                anonymous=form.anonymous.data == "anonymous",
                actor_id=current_user.id,
                title=(form.title.data or "").strip() or None,
            )
            flash(
                "The cycle has been created as a draft. Open it when you are ready.",
                "success",
            )
            return redirect(url_for("cycles.show", cid=cid))
    return render_template("cycles/new.html", form=form, team=team)


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
        rate_url=url_for("cycles.rate", cid=cid, _external=True),
        closes=service.closes_label(cycle["closes_on"]),
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
        descriptors=snap.scale["kind"] == "maturity",
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
    snap = cycle["snapshot"]
    section = next((s for s in snap.sections if s["id"] == section_id), None)
    if section is None:
        abort(404)
    answers = service.my_answers(db, cid, current_user.id)
    form = section_form(snap, section, answers, formdata=request.form)
    errors = []
    if not form.validate():
        errors = [
            (form[name].id, message)
            for name, messages in form.errors.items()
            for message in messages
        ]
    else:
        submitted = {
            item["id"]: {
                "value": form[f"{item['id']}__value"].data or None,
                "comment": form[f"{item['id']}__comment"].data or "",
                "evidence": form[f"{item['id']}__evidence"].data or "",
                "revision": whole_number(
                    form[f"{item['id']}__revision"].data, default=0
                ),
            }
            for item in section["items"]
        }
        refused = service.save_section(db, cycle, current_user.id, submitted)
        errors = [
            (form[f"{item_id}__value"].id + "-0", message)
            for item_id, message in refused.items()
        ]
    if errors:
        log.warning("refused section save on cycle %s by %s", cid, current_user.id)
        answers = service.my_answers(db, cid, current_user.id)
        fresh = section_form(snap, section, answers)
        context = _rating_context(db, cycle, answers, {section_id: fresh}, errors)
        return render_template("cycles/rate.html", **context), 400
    flash(f"Your answers to “{section['title']}” are saved.", "success")
    return redirect(url_for("cycles.rate", cid=cid) + f"#section-{section_id}")


@bp.route("/cycles/<int:cid>/answers", methods=["POST"])
@login_required
def save_answer(cid):
    """Save one answer in the background (JSON); refuse stale or invalid saves."""
    db = get_db()
    cycle = service.get_cycle(db, cid)
    if cycle is None or not perm.can_rate(current_user, cycle):
        log.warning("refused answer for cycle %s by user %s", cid, current_user.id)
        return jsonify(error="This cycle was not found."), 404
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("item_id"), str):
        return jsonify(error="The answer could not be read."), 400
    base = whole_number(body.get("revision"), default=0)
    if base is None:
        return jsonify(error=BAD_REVISION), 400
    try:
        saved = service.save_answer(
            db,
            cycle,
            current_user.id,
            body["item_id"],
            value=_text(body.get("value")),
            comment=_text(body.get("comment")),
            evidence=_text(body.get("evidence")),
            base_revision=base,
        )
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
    leading = perm.can_lead_cycle(current_user, cycle)
    choices = answer_choices(cycle["snapshot"].scale)
    linked = None
    if cycle["kind"] == "self" and perm.can_view_evidence(current_user, cycle):
        linked = evidence.by_item(evidence.for_cycle(db, cycle))
    return render_template(
        "cycles/moderate.html",
        evidence=linked,
        unsupported=evidence.unsupported(
            cycle["snapshot"], service.agreed_scores(db, cid), linked or {}
        )
        if linked is not None
        else set(),
        can_add_evidence=perm.can_add_evidence(current_user, cycle),
        cycle=cycle,
        items=moderation.moderation_items(
            db, cycle, anonymity.viewer_of(current_user, cycle)
        ),
        min_group=anonymity.MIN_GROUP,
        leading=leading and cycle["state"] == "moderation",
        choices=choices,
        scale=cycle["snapshot"].scale,
        labels=service.STATE_LABELS,
    )


@bp.route("/cycles/<int:cid>/agree/<item_id>", methods=["POST"])
@login_required
def agree(cid, item_id):
    """Record the team's agreed score for one item, or defer it (cycle lead)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_lead_cycle)
    form = AgreeForm()
    form.value.choices = options(answer_choices(cycle["snapshot"].scale))
    if not form.validate_on_submit():
        flash(
            "The agreed score could not be read. Choose a score and try again.",
            f"error:agree-{item_id}-0",
        )
    elif (base := whole_number(form.revision.data, default=0)) is None:
        flash(
            "The agreed score could not be read: reload the page and try again.",
            f"error:agree-{item_id}-0",
        )
    else:
        try:
            service.record_agreed(
                db,
                cycle,
                item_id,
                value=form.value.data or None,
                rationale=form.rationale.data or "",
                deferred=form.defer.data,
                actor_id=current_user.id,
                base_revision=base,
            )
        except service.StaleAgreed:
            log.info("stale agreed score %s/%s by %s", cid, item_id, current_user.id)
            return _agree_conflict(db, cycle, item_id, form), 409
        except service.CycleError as e:
            if e.field == "rationale":
                anchor = f"rationale-{item_id}"
            else:
                anchor = f"agree-{item_id}-0"
            item = cycle["snapshot"].items.get(item_id)
            where = f"“{item['statement'][:60]}”: " if item else ""
            flash(f"{where}{e}", f"error:{anchor}")
        else:
            # Shown inside the item and focused there (the page opens at it),
            # where the person is looking, not in a banner at the top.
            label = cycle["snapshot"].label(form.value.data) if form.value.data else ""
            flash(
                "Deferred: come back to this item."
                if form.defer.data
                else f"Agreed score saved: {label}.",
                f"saved:{item_id}",
            )
            return redirect(url_for("cycles.moderate", cid=cid) + f"#saved-{item_id}")
    return redirect(url_for("cycles.moderate", cid=cid) + f"#item-{item_id}")


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
