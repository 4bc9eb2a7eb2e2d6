"""Importing schools from a GIAS extract: upload, preview, confirm."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import batches
from .. import permissions as perm
from ..db import get_db
from . import gias, service
from .forms import GiasConfirmForm, GiasUploadForm
from .views import load_partnership

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
    back = (
        url_for("orgs.partnership", pid=p["id"]) if p else url_for("orgs.admin_index")
    )
    return render_template("orgs/import_schools.html", form=form, p=p, back=back)


def _load_batch(db, token):
    """Return this person's pending batch and its partnership (or None), or 404."""
    batch = batches.load(db, token, "schools", actor_id=current_user.id)
    if batch is None:
        abort(404)
    p = None
    if batch["scope_type"] == "partnership":
        p = load_partnership(db, batch["scope_id"])
    return batch, p


@bp.route("/schools/import/<token>", methods=["GET", "POST"])
@login_required
def preview_schools(token):
    """Show what an import would do; on confirmation, do it."""
    db = get_db()
    batch, p = _load_batch(db, token)
    perm.require(perm.can_import_schools(current_user, p), hide=True)
    change_any = perm.can_change_any_school(current_user)
    plan = gias.plan(
        db, batch["payload"], partnership_id=p and p["id"], may_change_any=change_any
    )
    form = GiasConfirmForm()
    tick_each = plan["usable"] <= TICK_EACH_UP_TO
    if form.validate_on_submit():
        if p is None:
            add = []
        elif tick_each:
            add = form.add.data
        else:
            add = (
                [r["urn"] for r in batch["payload"]["rows"]]
                if form.add_all.data
                else []
            )
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
        if p:
            return redirect(url_for("orgs.partnership", pid=p["id"]))
        return redirect(url_for("orgs.admin_index"))
    return render_template(
        "orgs/import_schools_preview.html",
        plan=plan,
        form=form,
        p=p,
        batch=batch,
        tick_each=tick_each,
        phases=service.PHASES,
    )


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
