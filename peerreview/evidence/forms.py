"""Forms for adding evidence: a note, a link or a file, each linked to items."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from ..formtools import options
from ..inputs import whole_number
from . import service


class _EvidenceForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            Length(max=service.MAX_TITLE, message="The title is 200 characters at most")
        ],
        description="What a reader will see in lists, for example “Pupil premium review, spring term”.",
    )
    items = SelectMultipleField("Which items does it support?", validate_choice=False)


class NoteForm(_EvidenceForm):
    note = TextAreaField(
        "Note",
        validators=[
            Length(max=service.MAX_NOTE, message="The note is 4000 characters at most")
        ],
        render_kw={"rows": 5},
    )


class LinkForm(_EvidenceForm):
    url = StringField(
        "Web address",
        description="Starting with https:// or http://, for example a shared folder or a published report.",
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )


class FileForm(_EvidenceForm):
    file = FileField(
        "File",
        validators=[Optional()],
    )


FORMS = {"note": NoteForm, "link": LinkForm, "file": FileForm}


def evidence_form(kind: str, snapshot, chosen=None):
    """Build the form for one kind of evidence, its items those of the instrument."""
    return _build(FORMS[kind], snapshot, chosen)


def _build(form_class, snapshot, chosen=None):
    form = form_class()
    form.items.choices = options(
        (item_id, f"{n}. {snapshot.items[item_id]['statement']}")
        for n, item_id in enumerate(snapshot.item_ids, 1)
    )
    if chosen and not form.is_submitted():
        form.items.data = [i for i in chosen if i in snapshot.items]
    return form


def edit_form(piece: dict, snapshot):
    """The form to change a piece, filled from it; revision is the one loaded."""

    class EditForm(FORMS[piece["kind"]]):
        # A save from an older revision is shown beside the newer piece
        # instead of overwriting it.
        revision = HiddenField()

    form = _build(EditForm, snapshot, piece["item_ids"])
    if not form.is_submitted():
        form.title.data = piece["title"]
        form.revision.data = str(piece["revision"])
        if piece["kind"] == "note":
            form.note.data = piece["note"]
        elif piece["kind"] == "link":
            form.url.data = piece["url"]
    return form


def add_fields(form, kind: str) -> dict:
    """What a form for a piece gives, as the service's add takes it: no file
    chosen is no stream and no name."""
    fields = {"title": form.title.data, "item_ids": form.items.data}
    if kind == "note":
        fields["note"] = form.note.data
    elif kind == "link":
        fields["url"] = form.url.data
    else:
        upload = form.file.data
        fields["stream"] = upload.stream if upload else None
        fields["filename"] = upload.filename if upload else ""
    return fields


def edit_fields(form, kind: str) -> dict:
    """What an edit form asks to change, as the service takes it."""
    return {
        **add_fields(form, kind),
        # No revision (an old page) is older than any saved one.
        "base_revision": whole_number(form.revision.data, default=0) or 0,
    }


class ShareForm(FlaskForm):
    """Which of the school's evidence the reviewers see."""

    shown = SelectMultipleField(
        "Evidence the reviewers see", coerce=int, validate_choice=False
    )


def share_form(pieces, shown_ids):
    """Build the form: one box per piece of the school's, those shown ticked."""
    form = ShareForm()
    form.shown.choices = options(
        (p["id"], f"{p['title']} ({p['kind_label']})") for p in pieces
    )
    if not form.is_submitted():
        form.shown.data = shown_ids
    return form


def checks_form(pieces, current: dict):
    """One reviewer's marks: a choice per shown piece, named e<id>."""

    class ChecksForm(FlaskForm):
        def verdicts(self) -> dict[int, str]:
            """Each shown piece's id -> the verdict chosen for it."""
            return {piece["id"]: self[f"e{piece['id']}"].data for piece in pieces}

    for piece in pieces:
        setattr(
            ChecksForm,
            f"e{piece['id']}",
            RadioField(
                piece["title"],
                choices=options(service.VERDICTS.items()),
                validate_choice=False,
                default=current.get(piece["id"]),
            ),
        )
    return ChecksForm()


class ReuseForm(FlaskForm):
    """Which pieces of earlier cycles to bring into this one."""

    pieces = SelectMultipleField(
        "Evidence to bring in", coerce=int, validate_choice=False
    )


def reuse_form(groups):
    """Build the form: one box per piece that can be brought in."""
    form = ReuseForm()
    form.pieces.choices = options(
        (p["id"], p["id"]) for g in groups for p in g["pieces"] if p["reason"] is None
    )
    return form
