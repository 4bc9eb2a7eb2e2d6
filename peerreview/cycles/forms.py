"""Forms for cycles. Rating forms are built at run time from the snapshot.

Each scale kind maps to an item type in ITEM_TYPES; a new kind of item is a
new entry there, never a hand-written form per instrument.
"""

import functools

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..anonymity import MIN_GROUP
from ..formtools import options
from ..inputs import whole_number
from .service import MAX_TEXT, SPECIAL

ITEM_TYPES = {}


def item_type(*kinds):
    """Register a builder of the answer field for scales of these kinds."""

    def register(builder):
        for kind in kinds:
            ITEM_TYPES[kind] = builder
        return builder

    return register


def answer_choices(scale: dict) -> list[tuple[str, str]]:
    """Return (code, label) for every answer a scale allows, in order."""
    pairs = [(p["code"], p["label"]) for p in scale["points"]]
    if scale.get("not_applicable"):
        pairs.append(("na", SPECIAL["na"]))
    if scale.get("no_evidence"):
        pairs.append(("ne", SPECIAL["ne"]))
    return pairs


def shows_descriptors(scale: dict, sections: list[dict]) -> bool:
    """Say whether answers are listed one per line with each level's descriptor.

    A rubric (maturity) always has them; any other scale shows them when its
    items describe their points, as the school-improvement scorecard
    describes every grade.
    """
    return scale["kind"] == "maturity" or any(
        item.get("descriptors") for section in sections for item in section["items"]
    )


@item_type("agreement", "letter", "yes_no", "custom")
def scale_choice(item: dict, scale: dict):
    """One choice on an ordered scale."""
    return RadioField(
        item["statement"],
        choices=options(answer_choices(scale)),
        validators=[Optional()],
        validate_choice=True,
    )


@item_type("maturity")
def rubric_choice(item: dict, scale: dict):
    """One level of a rubric, each level described for this item."""
    return RadioField(
        item["statement"],
        choices=options(answer_choices(scale)),
        validators=[Optional()],
        description=item.get("guidance") or "",
        render_kw={"descriptors": item.get("descriptors") or {}},
    )


def field_names(item_id: str) -> dict[str, str]:
    return {
        part: f"{item_id}__{part}"
        for part in ("value", "comment", "evidence", "revision")
    }


@functools.lru_cache(maxsize=512)
def _section_form_class(snapshot, section_id: str) -> type:
    """Build one section's form class once per snapshot (snapshots never change)."""
    scale = snapshot.scale
    section = next(s for s in snapshot.sections if s["id"] == section_id)

    class SectionForm(FlaskForm):
        pass

    for item in section["items"]:
        names = field_names(item["id"])
        builder = ITEM_TYPES.get(scale["kind"], scale_choice)
        setattr(SectionForm, names["value"], builder(item, scale))
        setattr(
            SectionForm,
            names["comment"],
            TextAreaField("Comment", validators=[Length(max=MAX_TEXT)]),
        )
        setattr(
            SectionForm,
            names["evidence"],
            TextAreaField("Evidence", validators=[Length(max=MAX_TEXT)]),
        )
        setattr(SectionForm, names["revision"], HiddenField())
    return SectionForm


def section_form(snapshot, section: dict, answers: dict, formdata=None) -> FlaskForm:
    """Build the form for one section, filled with the respondent's answers."""
    data = {}
    for item in section["items"]:
        names = field_names(item["id"])
        answer = answers.get(item["id"]) or {}
        data[names["value"]] = answer.get("value")
        data[names["comment"]] = answer.get("comment") or ""
        data[names["evidence"]] = answer.get("evidence") or ""
        data[names["revision"]] = str(answer.get("revision") or 0)
    return _section_form_class(snapshot, section["id"])(formdata=formdata, data=data)


def section_answers(form, section: dict) -> dict[str, dict]:
    """Read a validated section form as the cycles service's save_section takes it."""
    return {
        item["id"]: {
            "value": form[f"{item['id']}__value"].data or None,
            "comment": form[f"{item['id']}__comment"].data or "",
            "evidence": form[f"{item['id']}__evidence"].data or "",
            "revision": whole_number(form[f"{item['id']}__revision"].data, default=0),
        }
        for item in section["items"]
    }


class OpenCycleForm(FlaskForm):
    instrument = SelectField(
        "Instrument", validators=[DataRequired("Choose an instrument")]
    )
    title = StringField(
        "Title (optional)",
        validators=[Optional(), Length(max=200)],
        description="For example “Closing gaps in attainment, spring 2027”. "
        "Left empty, the cycle takes the instrument's title.",
    )
    respondents = SelectMultipleField(
        "Who will rate",
        coerce=int,
        description="Each person rates every item alone before the team meets.",
    )
    closes_on = DateField(
        "Closing date",
        validators=[Optional()],
        description="Ratings stay open until the lead moves the cycle to moderation.",
    )
    anonymous = RadioField(
        "At moderation, show individual ratings",
        choices=options(
            [("named", "With names"), ("anonymous", "Anonymously, as letters")]
        ),
        default="anonymous",
        description=(
            f"An anonymous cycle needs at least {MIN_GROUP} people to rate. "
            "Everyone asked sees which kind it is before they rate."
        ),
        validators=[DataRequired("Choose how individual ratings are shown")],
    )

    def validate_respondents(self, field):
        if not field.data:
            raise ValidationError("Choose at least one person to rate")
        if self.anonymous.data == "anonymous" and len(field.data) < MIN_GROUP:
            raise ValidationError(
                f"Choose at least {MIN_GROUP} people to rate an anonymous cycle "
                "(with fewer, each could work out the others' ratings), or make "
                "it a named cycle"
            )

    def cycle_fields(self) -> dict:
        """The cycle as the cycles service's create_cycle takes it."""
        return {
            "respondent_ids": self.respondents.data,
            "closes_on": self.closes_on.data.isoformat()
            if self.closes_on.data
            else None,
            "anonymous": self.anonymous.data == "anonymous",
            "title": (self.title.data or "").strip() or None,
        }


# What the instrument list holds, said to the lead of each kind of team.
FOR_TEAM = {
    "slt": (
        "Listed: instruments for a school's senior leadership team, and for the "
        "partnership the school works in. Instruments for a trust board are not."
    ),
    "board": (
        "Listed: instruments for a trust board. Instruments for a school's "
        "leadership team or a partnership are not."
    ),
}


def open_cycle_form(
    instruments, members, *, fresh: bool, team_kind: str | None = None
) -> OpenCycleForm:
    """The form to open a cycle for a team; a fresh one has every member ticked."""
    form = OpenCycleForm()
    form.instrument.choices = options(
        [("", "Choose an instrument")]
        + [(i.id, f"{i.title} ({i.item_count} items)") for i in instruments]
    )
    # An instrument not listed is refused by the view, with the reason.
    form.instrument.validate_choice = False
    form.instrument.description = FOR_TEAM.get(team_kind, "")
    form.respondents.choices = options((m["id"], m["name"]) for m in members)
    if fresh:
        form.respondents.data = [m["id"] for m in members]
    return form


class StateForm(FlaskForm):
    to = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(
        "Reason for reopening",
        validators=[Length(max=1000, message="The reason is 1,000 characters at most")],
    )


class AgreeForm(FlaskForm):
    value = RadioField("Agreed score", validators=[Optional()])
    rationale = TextAreaField(
        "Rationale",
        description="Why the team agreed this score: the evidence it weighed.",
        validators=[Length(max=MAX_TEXT)],
    )
    defer = BooleanField("Defer this item (say why in the rationale)")
    # The agreed score's revision when the page was loaded (0: none yet).
    revision = HiddenField()

    def unreadable(self) -> str | None:
        """Why a sent agreed score cannot be taken, or None when it can."""
        if not self.validate_on_submit():
            return "The agreed score could not be read. Choose a score and try again."
        if whole_number(self.revision.data, default=0) is None:
            return "The agreed score could not be read: reload the page and try again."
        return None

    def agreed(self) -> dict:
        """The agreed score as the cycles service's record_agreed takes it."""
        return {
            "value": self.value.data or None,
            "rationale": self.rationale.data or "",
            "deferred": self.defer.data,
            "base_revision": whole_number(self.revision.data, default=0),
        }
