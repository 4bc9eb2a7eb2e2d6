"""Pages for action plans: draft from the proposals, edit, merge, notes."""

import datetime
import logging

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required

from .. import audit
from .. import permissions as perm
from ..dates import long_date
from ..db import get_db
from ..formtools import edit_to_keep, options, refusal_shown
from ..loaders import load_action, load_cycle
from . import service
from .forms import ActionForm, EmptyForm, MergeForm, NoteForm, draft_form

bp = Blueprint("plans", __name__)
log = logging.getLogger(__name__)


def _refused(form, error) -> None:
    log.info("plan change refused for user %s: %s", current_user.id, error)
    form.form_errors.append(str(error))


def _action_form(db, cycle, action=None) -> ActionForm:
    form = ActionForm(data=_form_data(action) if action else None)
    snap = cycle["snapshot"]
    form.item_ids.choices = options(
        (i, f"{n}. {snap.items[i]['statement']}")
        for n, i in enumerate(snap.item_ids, start=1)
    )
    form.owner_id.choices = options(
        [("", "No owner yet")]
        + [(str(m["id"]), m["name"]) for m in service.owners(db, cycle)]
    )
    return form


def _form_data(action) -> dict:
    day = datetime.date.fromisoformat
    return {
        "title": action["title"],
        "item_ids": action["item_ids"],
        "owner_id": str(action["owner_id"]) if action["owner_id"] else "",
        "starts_on": day(action["starts_on"]) if action["starts_on"] else None,
        "due_on": day(action["due_on"]) if action["due_on"] else None,
        "resources": action["resources"],
        "success_criteria": action["success_criteria"],
        "impact_measure": action["impact_measure"],
        "status": action["status"],
    }


def _page(db, cycle, *, draft=None, merge=None, status=200):
    plan = service.get_plan(db, cycle)
    editing = perm.can_edit_plan(current_user, cycle)
    proposals, candidates = [], []
    if plan is None and editing:
        proposals = service.proposals_for(db, cycle)
        candidates = service.carry_candidates(db, cycle)
        draft = draft or draft_form(candidates)
        draft.keep.choices = options((p["item_id"], p["title"]) for p in proposals)
    elif editing:
        merge = merge or MergeForm()
        merge.actions.choices = options(
            (str(a["id"]), f"{a['number']}. {a['title']}") for a in plan["actions"]
        )
    return (
        render_template(
            "plans/show.html",
            cycle=cycle,
            plan=plan,
            proposals=proposals,
            candidates=candidates,
            carried=service.carry_record(db, cycle) if plan else [],
            editing=editing,
            plannable=cycle["state"] in service.PLANNABLE_STATES,
            draft=draft,
            merge=merge,
            statuses=service.STATUSES,
        ),
        status,
    )


@bp.route("/cycles/<int:cid>/plan")
@login_required
def show(cid):
    """The action plan (or, for the lead, the proposals to draft it from)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_plan)
    return _page(db, cycle)


@bp.route("/cycles/<int:cid>/plan", methods=["POST"])
@login_required
def create(cid):
    """Draft the plan from the kept proposals (cycle lead)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_edit_plan)
    form = draft_form(service.carry_candidates(db, cycle))
    form.keep.choices = options(
        (p["item_id"], p["title"]) for p in service.proposals_for(db, cycle)
    )
    if form.validate_on_submit():
        with refusal_shown(form, service.PlanError, what="plan change"):
            service.create_plan(
                db,
                cycle,
                form.keep.data,
                carry=form.carry(),
                actor_id=current_user.id,
            )
            flash("The action plan has been drafted.", "success")
            return redirect(url_for("plans.show", cid=cid))
    return _page(db, cycle, draft=form, status=400)


@bp.route("/cycles/<int:cid>/plan/actions/new", methods=["GET", "POST"])
@login_required
def new_action(cid):
    """Add the lead's own action."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_edit_plan)
    if service.get_plan(db, cycle) is None:
        abort(404)
    form = _action_form(db, cycle)
    if form.validate_on_submit():
        with refusal_shown(form, service.PlanError, what="plan change"):
            service.add_action(db, cycle, form.fields(), actor_id=current_user.id)
            flash("The action has been added.", "success")
            return redirect(url_for("plans.show", cid=cid))
    return render_template("plans/action.html", cycle=cycle, form=form, action=None)


@bp.route("/cycles/<int:cid>/plan/actions/<int:aid>", methods=["GET", "POST"])
@login_required
def edit_action(cid, aid):
    """Change an action, its status, and see and add its progress notes."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_edit_plan)
    action = load_action(db, cycle, aid)
    form = _action_form(db, cycle, action)
    if not form.is_submitted():
        # Only the page carries it: a save without one is not taken as current.
        form.revision.data = str(action["revision"])
    if form.validate_on_submit():
        try:
            fields, base = form.fields(), form.base_revision()
            service.update_action(
                db, cycle, aid, fields, actor_id=current_user.id, base_revision=base
            )
        except service.StaleAction:
            log.info("stale edit of action %s by user %s", aid, current_user.id)
            return _conflict(db, cycle, aid, form), 409
        except service.PlanError as e:
            _refused(form, e)
        else:
            flash("The action has been saved.", "success")
            return redirect(url_for("plans.show", cid=cid))
    note_form = NoteForm(data={"noted_on": datetime.date.today()})
    return _action_page(cycle, form, action, note_form)


def _action_page(cycle, form, action, note_form, status=200):
    """An action's page: its form, its progress notes and the form to add one."""
    return render_template(
        "plans/action.html",
        cycle=cycle,
        form=form,
        action=action,
        note_form=note_form,
    ), status


def _conflict(db, cycle, aid, form):
    """The page for an edit made from an older revision: both versions, a choice."""
    theirs = load_action(db, cycle, aid)
    items = {c.value: c.label for c in form.item_ids.choices}
    owners = {c.value: c.label for c in form.owner_id.choices}
    mine = form.fields()
    rows = [
        ("title", theirs["title"], mine["title"]),
        (
            "item_ids",
            "\n".join(items.get(i, i) for i in theirs["item_ids"]),
            "\n".join(items.get(i, i) for i in mine["item_ids"]),
        ),
        (
            "owner_id",
            theirs["owner_name"] or owners[""],
            owners.get(mine["owner_id"] or "", ""),
        ),
        ("starts_on", long_date(theirs["starts_on"]), long_date(mine["starts_on"])),
        ("due_on", long_date(theirs["due_on"]), long_date(mine["due_on"])),
        *(
            (name, theirs[name] or "", (mine[name] or "").strip())
            for name in service.TEXT_FIELDS
        ),
        ("status", theirs["status_label"], service.STATUSES.get(mine["status"], "")),
    ]
    last = audit.entries(db, "plan_action", aid, limit=1)
    return render_template(
        "plans/conflict.html",
        cycle=cycle,
        action=theirs,
        rows=[
            {"label": form[name].label.text, "theirs": a, "mine": b, "differs": a != b}
            for name, a, b in rows
        ],
        changed_by=last[0]["actor_name"] if last else None,
        by_me=bool(last) and last[0]["actor_id"] == current_user.id,
        mine=edit_to_keep(),
    )


@bp.route("/cycles/<int:cid>/plan/actions/<int:aid>/notes", methods=["POST"])
@login_required
def add_note(cid, aid):
    """Add a dated progress note to an action."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_edit_plan)
    action = load_action(db, cycle, aid)
    note_form = NoteForm()
    if note_form.validate_on_submit():
        with refusal_shown(note_form, service.PlanError, what="plan change"):
            note = (note_form.noted_on.data, note_form.note.data)
            service.add_note(db, cycle, aid, *note, actor_id=current_user.id)
            flash("The progress note has been added.", "success")
            return redirect(url_for("plans.edit_action", cid=cid, aid=aid))
    form = _action_form(db, cycle, action)
    form.revision.data = str(action["revision"])  # the action as shown again
    return _action_page(cycle, form, action, note_form, status=400)


@bp.route("/cycles/<int:cid>/plan/actions/<int:aid>/drop", methods=["POST"])
@login_required
def drop_action(cid, aid):
    """Remove an action from the plan."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_edit_plan)
    load_action(db, cycle, aid)
    if EmptyForm().validate_on_submit():
        service.drop_action(db, cycle, aid, actor_id=current_user.id)
        flash("The action has been removed from the plan.", "success")
    return redirect(url_for("plans.show", cid=cid))


@bp.route("/cycles/<int:cid>/plan/merge", methods=["POST"])
@login_required
def merge(cid):
    """Merge two or more actions into one."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_edit_plan)
    plan = service.get_plan(db, cycle)
    if plan is None:
        abort(404)
    form = MergeForm()
    form.actions.choices = options(
        (str(a["id"]), f"{a['number']}. {a['title']}") for a in plan["actions"]
    )
    if form.validate_on_submit():
        with refusal_shown(form, service.PlanError, what="plan change"):
            service.merge_actions(
                db, cycle, form.actions.data, actor_id=current_user.id
            )
            flash("The actions have been merged.", "success")
            return redirect(url_for("plans.show", cid=cid))
    return _page(db, cycle, merge=form, status=400)
