"""Forms for action plans."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..formtools import options
from ..inputs import whole_number
from .service import (
    CARRY_DECISIONS,
    MAX_REASON,
    MAX_TEXT,
    MAX_TITLE,
    STATUSES,
    PlanError,
)


class DraftForm(FlaskForm):
    """Keep some of the proposed priorities as the plan's first actions.

    Built by draft_form() with, for each unfinished action of the previous
    plan, a choice ``carry_<id>`` (carry or close) and a reason ``why_<id>``.
    """

    keep = SelectMultipleField("Proposed actions to keep", choices=[])
    carried_ids: tuple = ()

    def carry_fields(self):
        """Yield (action id, choice field, reason field) for each unfinished action."""
        for aid in self.carried_ids:
            yield aid, self[f"carry_{aid}"], self[f"why_{aid}"]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for _, choice, why in self.carry_fields():
            if choice.data == "close" and not (why.data or "").strip():
                why.errors = [*why.errors, "Say why the action is closed"]
                ok = False
        return ok

    def carry(self) -> dict:
        """Return {action id: (decision, reason)} for create_plan."""
        return {
            aid: (choice.data, why.data or "")
            for aid, choice, why in self.carry_fields()
        }


def draft_form(candidates, **kwargs) -> DraftForm:
    """Return the draft form with a carry-or-close choice per unfinished action."""

    class Form(DraftForm):
        carried_ids = tuple(c["id"] for c in candidates)

    for n, c in enumerate(candidates, start=1):
        setattr(
            Form,
            f"carry_{c['id']}",
            RadioField(
                f"Unfinished action {n}: carry it or close it?",
                choices=options(CARRY_DECISIONS.items()),
                default="carry",
                validators=[DataRequired("Choose whether to carry or close it")],
            ),
        )
        setattr(
            Form,
            f"why_{c['id']}",
            TextAreaField(
                f"Why (unfinished action {n})",
                description="Governors read this. Needed when you close it.",
                validators=[Length(max=MAX_REASON)],
                render_kw={"rows": 2},
            ),
        )
    return Form(**kwargs)


class ActionForm(FlaskForm):
    title = TextAreaField(
        "What will be done",
        validators=[DataRequired("Say what will be done"), Length(max=MAX_TITLE)],
        render_kw={"rows": 3},
    )
    item_ids = SelectMultipleField(
        "Items the action addresses",
        choices=[],
        validators=[DataRequired("Choose at least one item the action addresses")],
    )
    owner_id = SelectField("Owner", choices=[], validators=[Optional()])
    starts_on = DateField("Start date", validators=[Optional()])
    due_on = DateField("Due date", validators=[Optional()])
    resources = TextAreaField(
        "Resources or cost", validators=[Length(max=MAX_TEXT)], render_kw={"rows": 2}
    )
    success_criteria = TextAreaField(
        "Success criteria", validators=[Length(max=MAX_TEXT)], render_kw={"rows": 3}
    )
    impact_measure = TextAreaField(
        "How impact will be measured",
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    status = SelectField(
        "Status",
        choices=options(STATUSES.items()),
        validators=[DataRequired("Choose a status")],
    )
    # The revision the form was loaded from: a save from an older one is
    # shown beside the newer action instead of overwriting it.
    revision = HiddenField()

    def validate_due_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("The due date must be on or after the start date")

    def fields(self) -> dict:
        return {
            "title": self.title.data,
            "item_ids": self.item_ids.data,
            "owner_id": self.owner_id.data or None,
            "starts_on": self.starts_on.data,
            "due_on": self.due_on.data,
            "resources": self.resources.data,
            "success_criteria": self.success_criteria.data,
            "impact_measure": self.impact_measure.data,
            "status": self.status.data,
        }

    def base_revision(self) -> int:
        """The revision the form was loaded from; an old page without one
        counts as older than any saved revision."""
        base = whole_number(self.revision.data, default=0)
        if base is None:
            raise PlanError(
                "The form could not be read: reload the page and try again."
            )
        return base


class NoteForm(FlaskForm):
    noted_on = DateField(
        "Date", validators=[DataRequired("Enter the date of the note as a real date")]
    )
    note = TextAreaField(
        "Progress note",
        validators=[DataRequired("Write the progress note"), Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )


class MergeForm(FlaskForm):
    actions = SelectMultipleField("Actions to merge", choices=[])

    def validate_actions(self, field):
        if len(field.data or []) < 2:
            raise ValidationError("Choose two or more actions to merge")


class EmptyForm(FlaskForm):
    """A POST with CSRF and nothing else (drop an action)."""
