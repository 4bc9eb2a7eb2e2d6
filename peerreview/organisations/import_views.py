"""Imports: schools from a GIAS extract, people from a list; upload, preview, confirm."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required

from .. import batches
from .. import permissions as perm
from ..accounts import mail, people
from ..accounts import service as accounts
from ..db import get_db
from ..loaders import (
    load_batch,
    load_partnership,
    load_people_scope,
    load_schools_batch,
)
from . import gias, service
from .forms import ConfirmForm, GiasConfirmForm, GiasUploadForm, PeopleUploadForm

bp = Blueprint("imports", __name__)

# Up to this many schools, the preview has a box to tick for each one;
# beyond it, one box adds every school in the file.
TICK_EACH_UP_TO = 300


@bp.route("/admin/schools/import", methods=["GET", "POST"])
@bp.route("/partnerships/<int:pid>/schools/import", methods=["GET", "POST"])
@login_required
def upload_schools(pid=None):
    """Upload a GIAS extract; it is checked and shown as a preview, not yet written."""
    db = get_db()
    p = load_partnership(db, pid) if pid is not None else None
    perm.require(perm.can_import_schools(current_user, p), hide=p is not None)
    form = GiasUploadForm()
    if form.validate_on_submit():
        token = batches.store(
            db,
            "schools",
            form.payload,
            actor_id=current_user.id,
            scope_type="partnership" if p else "platform",
            scope_id=p["id"] if p else None,
            filename=form.file.data.filename or "",
        )
        return redirect(url_for("imports.preview_schools", token=token))
    return render_template(
        "orgs/import_schools.html", form=form, p=p, back=_back_from_schools(p)
    )


def _back_from_schools(p) -> str:
    """The page a schools import goes back to: its partnership's, or the admin's."""
    if p is not None:
        return url_for("orgs.partnership", pid=p["id"])
    return url_for("orgs.admin_index")


@bp.route("/schools/import/<token>", methods=["GET", "POST"])
@login_required
def preview_schools(token):
    """Show what an import would do; on confirmation, do it."""
    db = get_db()
    batch, p = load_schools_batch(db, token)
    change_any = perm.can_change_any_school(current_user)
    plan = gias.plan(
        db, batch["payload"], partnership_id=p and p["id"], may_change_any=change_any
    )
    form = GiasConfirmForm()
    tick_each = plan["usable"] <= TICK_EACH_UP_TO
    if form.validate_on_submit():
        add = form.chosen_urns(batch, p, tick_each)
        _confirm_schools(db, batch, p, add, change_any)
        return redirect(_back_from_schools(p))
    return render_template(
        "orgs/import_schools_preview.html",
        plan=plan,
        form=form,
        p=p,
        batch=batch,
        tick_each=tick_each,
        phases=service.PHASES,
    )


def _confirm_schools(db, batch, p, add, change_any) -> None:
    """Write a confirmed import, and say what it did (or why it could not)."""
    try:
        counts = gias.confirm(
            db,
            batch,
            partnership_id=p and p["id"],
            add_urns=add,
            may_change_any=change_any,
            actor_id=current_user.id,
        )
    except gias.GiasRefused as refused:
        flash(str(refused))
    else:
        flash(_summary(counts, p), "success")


def _summary(counts: dict, p) -> str:
    def n(count, word):
        return f"{count} {word}{'' if count == 1 else 's'}"

    text = (
        f"{n(counts['created'], 'school')} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged"
    )
    if counts["held"]:
        text += f", {counts['held']} left as they were (not in the partnership)"
    if p is not None:
        text += f"; {n(counts['added'], 'school')} added to {p['name']}"
    return text + "."


# People from a list --------------------------------------------------------------


def _people_context(db, scope_type, scope_id):
    """Return (context, the organisation, back URL) for a list's organisation,
    for one who may invite a list into it; else 404."""
    org = load_people_scope(db, scope_type, scope_id)
    endpoint, arg = {"partnership": ("orgs.partnership", "pid")}.get(
        scope_type, ("orgs.team", "tid")
    )
    return {scope_type: org}, org, url_for(endpoint, **{arg: org["id"]})


def _may_invite(role, scope_type, scope):
    return perm.can_invite(current_user, role, scope_type, scope)


@bp.route("/partnerships/<int:pid>/people/import", methods=["GET", "POST"])
@login_required
def people_for_partnership(pid):
    """Upload a list of people to invite into a partnership and its schools' teams."""
    return _upload_people("partnership", pid)


@bp.route("/teams/<int:tid>/people/import", methods=["GET", "POST"])
@login_required
def people_for_team(tid):
    """Upload a list of people to invite into a team (and its school)."""
    return _upload_people("team", tid)


def _upload_people(scope_type, scope_id):
    """Upload a list of people to invite; it is checked and shown, not yet sent."""
    db = get_db()
    _, org, back = _people_context(db, scope_type, scope_id)
    form = PeopleUploadForm()
    if form.validate_on_submit():
        token = batches.store(
            db,
            "people",
            form.payload,
            actor_id=current_user.id,
            scope_type=scope_type,
            scope_id=scope_id,
            filename=form.file.data.filename or "",
        )
        return redirect(url_for("imports.preview_people", token=token))
    return render_template(
        "orgs/import_people.html",
        form=form,
        org=org,
        back=back,
        roles=accounts.ROLES,
        scope_type=scope_type,
    )


@bp.route("/people/import/<token>", methods=["GET", "POST"])
@login_required
def preview_people(token):
    """Show whom a list would invite; on confirmation, invite them all."""
    db = get_db()
    batch = load_batch(db, token, "people")
    context, org, back = _people_context(db, batch["scope_type"], batch["scope_id"])
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            invited = people.send(
                db, batch, context, _may_invite, actor_id=current_user.id
            )
        except people.ListRefused as refused:
            flash(str(refused))
            return redirect(back)
        return _invited(invited, org, back)
    return render_template(
        "orgs/import_people_preview.html",
        plan=people.plan(db, batch["payload"], context, _may_invite),
        form=form,
        org=org,
        batch=batch,
        back=back,
    )


def _invited(invited, org, back):
    """Send each invitation made from a list; show their links and who got mail."""
    for entry in invited:
        entry["link"] = url_for("auth.accept", token=entry["token"], _external=True)
        entry["sent"] = _send_invitation(entry)
    return render_template(
        "orgs/people_invited.html",
        invited=invited,
        org=org,
        back=back,
        lifetime_days=accounts.INVITE_DAYS,
    )


def _send_invitation(entry) -> bool:
    return mail.send_invitation(
        current_app.config,
        entry["email"],
        inviter=current_user.name,
        where=entry["scope_name"],
        role=entry["role_name"],
        days=accounts.INVITE_DAYS,
        link=entry["link"],
    )
