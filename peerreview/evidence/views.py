"""Pages for evidence: a cycle's list, adding a note, link or file, downloads."""

import logging
from contextlib import contextmanager
from functools import partial
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
from ..cycles import service as cycles
from ..db import get_db
from ..formtools import edit_to_keep, form_page
from ..inputs import upload_limit
from ..loaders import load_cycle, load_review
from ..peer.links import back_to_review
from . import service
from .forms import (
    add_fields,
    checks_form,
    edit_fields,
    edit_form,
    evidence_form,
    reuse_form,
    share_form,
)

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
        with _refusal_shown(form):
            fields = add_fields(form, kind)
            service.add(db, cycle, kind, fields, actor_id=current_user.id, **_limits())
            flash(f"Evidence added: “{form.title.data or 'the file'}”.", "success")
            return redirect(_back_url(back, cid, form.items.data))
    return _add_page(cycle, form, kind, back)


def _add_page(cycle, form, kind: str, back: str):
    """The form for adding a piece of one kind, with the rules for files."""
    return form_page(
        "evidence/add.html",
        cycle=cycle,
        form=form,
        kind=kind,
        kinds=service.KINDS,
        back=back,
        back_url=url_for(BACK[back], cid=cycle["id"]),
        max_mb=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
        accepted=service.ACCEPTED,
    )


def _back_url(back: str, cid: int, item_ids) -> str:
    """Where an added piece leads: the page it was added from, at its first
    item (the list of evidence stays at its top)."""
    target = url_for(BACK[back], cid=cid)
    if item_ids and back != "list":
        target += f"#item-{item_ids[0]}"
    return target


@bp.route("/cycles/<int:cid>/evidence/reuse", methods=["GET", "POST"])
@login_required
def reuse(cid):
    """Bring pieces of evidence from the team's earlier cycles into this one."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_add_evidence)
    may_view = partial(perm.can_view_evidence, current_user)
    groups = service.reusable(db, cycle, may_view)
    form = reuse_form(groups)
    if form.validate_on_submit():
        try:
            n = service.reuse(
                db, cycle, form.pieces.data, actor_id=current_user.id, may_view=may_view
            )
        except service.EvidenceError as e:
            form.pieces.errors = [*form.pieces.errors, str(e)]
        else:
            flash(f"{_pieces(n)} brought in.", "success")
            return redirect(url_for("evidence.index", cid=cid))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "evidence/reuse.html", cycle=cycle, groups=groups, form=form
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


@bp.route("/cycles/<int:cid>/evidence/<int:eid>/edit", methods=["GET", "POST"])
@login_required
@upload_limit("EVIDENCE_MAX_BYTES")
def edit(cid, eid):
    """Change a piece's title, note or link, its items, or replace its file."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_evidence)
    piece = service.for_edit(db, cycle, eid) or abort(404)
    perm.require(perm.can_edit_evidence(current_user, cycle, piece), hide=True)
    form = edit_form(piece, cycle["snapshot"])
    if form.validate_on_submit():
        fields = edit_fields(form, piece["kind"])
        try:
            service.edit(db, cycle, eid, fields, actor_id=current_user.id, **_limits())
        except service.StaleEvidence as e:
            return _stale(cycle, e.current, fields), 409
        except service.EvidenceError as e:
            _refuse(form, e)
        else:
            flash(f"Evidence saved: “{form.title.data}”.", "success")
            return redirect(url_for("evidence.index", cid=cid))
    return render_template(
        "evidence/edit.html", cycle=cycle, piece=piece, form=form, **_limits()
    ), (400 if form.is_submitted() else 200)


def _refuse(form, e) -> None:
    """Show the service's refusal on the field it names (else the title)."""
    field = form[e.field or "title"]
    field.errors = [*field.errors, str(e)]
    log.info("evidence refused: %s", e)


@contextmanager
def _refusal_shown(form):
    """Run a service call; should it refuse, show why on the form (_refuse)
    and carry on past the block to show the form again."""
    try:
        yield
    except service.EvidenceError as e:
        _refuse(form, e)


@contextmanager
def _refusal_flashed():
    """Run a service call; should it refuse, flash why and carry on past the block."""
    try:
        yield
    except service.EvidenceError as e:
        flash(str(e))


def _pieces(n: int) -> str:
    """Return "1 piece of evidence", "2 pieces of evidence"."""
    return f"{n} piece{'s' if n != 1 else ''} of evidence"


def _limits() -> dict:
    """How files are checked and written, from the app's settings."""
    config = current_app.config
    return {
        "max_bytes": config["EVIDENCE_MAX_BYTES"],
        "quota": config["EVIDENCE_QUOTA_BYTES"],
        "chunk_bytes": config["EVIDENCE_CHUNK_BYTES"],
        "one_at_a_time": config["EVIDENCE_UPLOADS_ONE_AT_A_TIME"],
    }


def _stale(cycle, current, fields):
    """The page for an edit made from an older revision: both versions, a choice."""
    log.info("stale edit of evidence %s by user %s", current["id"], current_user.id)
    return render_template(
        "evidence/conflict.html",
        cycle=cycle,
        piece=current,
        rows=service.edit_rows(current, fields, cycle["snapshot"]),
        mine=edit_to_keep(),
    )


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


@bp.route("/cycles/<int:cid>/evidence/peer", methods=["GET", "POST"])
@login_required
def peer_page(cid):
    """A peer review's evidence: what the host shows, and each reviewer's marks."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_view_evidence)
    review = load_review(db, cid)
    pieces = service.shown_to_reviewers(db, cycle, review["self_cycle_id"])
    checking = perm.can_check_evidence(current_user, cycle)
    if request.method == "POST":
        perm.require(checking, hide=True)
    mine = service.my_checks(db, cycle, current_user.id) if checking else None
    form = checks_form(pieces, mine) if checking else None
    if form is not None and form.validate_on_submit():
        with _refusal_flashed():
            n = service.record_checks(db, cycle, current_user.id, form.verdicts())
            flash(f"Your marks on {_pieces(n)} are saved.", "success")
        return redirect(url_for("evidence.peer_page", cid=cid))
    return render_template(
        "evidence/peer.html",
        cycle=cycle,
        review=review,
        pieces=pieces,
        form=form,
        **_peer_page_shows(db, cycle),
    )


def _peer_page_shows(db, cycle) -> dict:
    """What the peer evidence page shows besides the pieces, by who is looking."""
    sees_counts = perm.can_see_evidence_checks(current_user, cycle)
    return {
        "back_url": back_to_review(current_user, cycle),
        "verdicts": service.VERDICTS,
        "counts": service.check_counts(db, cycle) if sees_counts else None,
        "can_share": perm.can_show_evidence(current_user, cycle)
        and cycle["state"] != "closed",
    }


@bp.route("/cycles/<int:cid>/evidence/share", methods=["GET", "POST"])
@login_required
def share(cid):
    """The host chooses which of its evidence the reviewers see."""
    db = get_db()
    cycle = load_cycle(db, cid, perm.can_show_evidence)
    review = load_review(db, cid)
    self_cycle = cycles.get_cycle(db, review["self_cycle_id"])
    pieces = service.for_cycle(db, self_cycle)
    shown = service.shown_to_reviewers(db, cycle, self_cycle["id"])
    form = share_form(pieces, [p["id"] for p in shown])
    if form.validate_on_submit():
        with _refusal_flashed():
            n = service.share(
                db, cycle, self_cycle, form.shown.data, actor_id=current_user.id
            )
            flash(f"The reviewers see {_pieces(n)}.", "success")
            return redirect(url_for("evidence.peer_page", cid=cid))
    return render_template(
        "evidence/share.html",
        cycle=cycle,
        review=review,
        form=form,
        pieces=pieces,
        self_cycle=self_cycle,
    )
