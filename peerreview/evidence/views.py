"""Pages for evidence: a cycle's list, adding a note, link or file, downloads."""

import logging
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename

from .. import permissions as perm
from ..db import get_db
from ..inputs import upload_limit
from ..loaders import load_cycle
from . import service
from .forms import evidence_form

bp = Blueprint("evidence", __name__)
log = logging.getLogger(__name__)
# Where "add evidence" returns to: names, never a URL taken from the request.
BACK = {"rate": "cycles.rate", "moderate": "cycles.moderate", "list": "evidence.index"}


@bp.route("/cycles/<int:cid>/evidence")
@login_required
def index(cid):
    """The evidence a self-evaluation keeps, item by item."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_evidence)
    if cycle["kind"] != "self":
        abort(404)
    pieces = service.for_cycle(db, cycle)
    return render_template(
        "evidence/index.html",
        cycle=cycle,
        pieces=pieces,
        linked=service.by_item(pieces),
        can_add=perm.can_add_evidence(current_user, cycle),
        removable={
            p["id"] for p in pieces if perm.can_remove_evidence(current_user, cycle, p)
        },
        kinds=service.KINDS,
    )


@bp.route("/cycles/<int:cid>/evidence/new/<kind>", methods=["GET", "POST"])
@login_required
@upload_limit("EVIDENCE_MAX_BYTES")
def add(cid, kind):
    """Add a note, a link or a file, linked to one or more items."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_add_evidence)
    if kind not in service.KINDS:
        abort(404)
    back = request.args.get("back") if request.args.get("back") in BACK else "list"
    form = evidence_form(kind, cycle["snapshot"], request.args.getlist("item"))
    if form.validate_on_submit():
        fields = dict(title=form.title.data, item_ids=form.items.data)
        try:
            if kind == "note":
                service.add_note(
                    db, cycle, note=form.note.data, actor_id=current_user.id, **fields
                )
            elif kind == "link":
                service.add_link(
                    db, cycle, url=form.url.data, actor_id=current_user.id, **fields
                )
            else:
                upload = form.file.data
                service.add_file(
                    db,
                    cycle,
                    stream=upload.stream if upload else None,
                    filename=upload.filename if upload else "",
                    actor_id=current_user.id,
                    max_bytes=current_app.config["EVIDENCE_MAX_BYTES"],
                    quota=current_app.config["EVIDENCE_QUOTA_BYTES"],
                    **fields,
                )
        except service.EvidenceError as e:
            form[e.field or "title"].errors = [*form[e.field or "title"].errors, str(e)]
            log.info("evidence refused on cycle %s: %s", cid, e)
        else:
            flash(f"Evidence added: “{form.title.data or 'the file'}”.", "success")
            target = url_for(BACK[back], cid=cid)
            items = form.items.data or []
            return redirect(
                target + (f"#item-{items[0]}" if items and back != "list" else "")
            )
    status = 400 if form.is_submitted() else 200
    return render_template(
        "evidence/add.html",
        cycle=cycle,
        form=form,
        kind=kind,
        kinds=service.KINDS,
        back=back,
        back_url=url_for(BACK[back], cid=cid),
        max_mb=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
        accepted=service.ACCEPTED,
    ), status


@bp.route("/cycles/<int:cid>/evidence/<int:eid>/download")
@login_required
def download(cid, eid):
    """Download a file as an attachment, never shown in the browser."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_evidence)
    piece = service.get_in_cycle(db, cycle, eid)
    if piece is None or piece["kind"] != "file":
        abort(404)
    response = Response(
        service.read_chunks(current_app.config["DATABASE"], piece["blob"]),
        mimetype=piece["media_type"],
    )
    response.headers["Content-Length"] = str(piece["size"])
    response.headers["Content-Disposition"] = attachment(piece["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def attachment(filename: str) -> str:
    """Return a Content-Disposition that makes the browser save the file."""
    plain = secure_filename(filename) or "evidence"
    header = f'attachment; filename="{plain}"'
    if plain != filename:
        header += f"; filename*=UTF-8''{quote(filename)}"
    return header


@bp.route("/cycles/<int:cid>/evidence/<int:eid>/remove", methods=["POST"])
@login_required
def remove(cid, eid):
    """Take evidence off a cycle (deleted when no other cycle uses it)."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_evidence)
    piece = service.get_in_cycle(db, cycle, eid)
    if piece is None:
        abort(404)
    perm.require(perm.can_remove_evidence(current_user, cycle, piece), hide=True)
    service.remove(db, cycle, eid, actor_id=current_user.id)
    flash(f"Evidence removed: “{piece['title']}”.", "success")
    return redirect(url_for("evidence.index", cid=cid))
