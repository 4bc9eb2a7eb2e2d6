"""Forms for partnerships, schools and teams."""

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..accounts import people
from ..formtools import options
from . import gias
from .service import PARTNERSHIP_KINDS, PHASES

MAX_GIAS_BYTES = 1_900_000  # within the app's request limit (2 MiB)

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def _name(label, what):
    return StringField(
        label,
        validators=[
            DataRequired(f"Enter the {what}"),
            Length(max=120, message=f"The {what} must be 120 characters or fewer"),
        ],
    )


class PartnershipForm(FlaskForm):
    name = _name("Name of the partnership", "name of the partnership")
    kind = SelectField(
        "Kind of partnership",
        choices=options([("", "Choose a kind"), *PARTNERSHIP_KINDS.items()]),
        validators=[DataRequired("Choose a kind of partnership")],
    )


class SchoolForm(FlaskForm):
    name = _name("School name", "school name")
    urn = StringField(
        "URN (unique reference number)",
        description="The six-digit number from Get Information about Schools.",
        validators=[DataRequired("Enter the school's URN")],
        render_kw={"class": "govuk-input--width-10", "inputmode": "numeric"},
    )
    phase = SelectField(
        "Phase",
        choices=options([("", "Choose a phase"), *PHASES.items()]),
        validators=[DataRequired("Choose a phase")],
    )
    pupils = IntegerField(
        "Number of pupils",
        validators=[
            Optional(),
            NumberRange(0, 10000, "Enter a number of pupils between 0 and 10,000"),
        ],
        render_kw={"class": "govuk-input--width-5"},
    )
    postcode = StringField(
        "Postcode",
        validators=[DataRequired("Enter the school's postcode")],
        render_kw={"class": "govuk-input--width-10", "autocomplete": "postal-code"},
    )

    def school(self) -> tuple:
        """The school as the organisations service's create_school takes it."""
        return (
            self.name.data,
            self.urn.data,
            self.phase.data,
            self.pupils.data,
            self.postcode.data,
        )

    def validate_urn(self, field):
        field.data = (field.data or "").strip()
        if not re.fullmatch(r"\d{6,7}", field.data):
            raise ValidationError("Enter a URN of six or seven digits, like 123456")

    def validate_postcode(self, field):
        field.data = (field.data or "").strip().upper()
        if not POSTCODE.match(field.data):
            raise ValidationError("Enter a full UK postcode, like LA1 4YW")


class TeamForm(FlaskForm):
    name = _name("Team name", "team name")


class AddSchoolForm(FlaskForm):
    school = SelectField(
        "School", coerce=int, validators=[DataRequired("Choose a school")]
    )


class GiasUploadForm(FlaskForm):
    """Upload a CSV extract from Get Information about Schools."""

    file = FileField(
        "GIAS extract (CSV)",
        description=(
            "A CSV file downloaded from Get Information about Schools, of "
            "1.9 MB or less, with GIAS's own column names."
        ),
        validators=[FileRequired("Choose a GIAS extract to upload")],
        render_kw={"accept": ".csv,text/csv"},
    )

    def validate_file(self, field):
        """Read and check the extract; keep what was read in self.payload."""
        raw = field.data.read(MAX_GIAS_BYTES + 1)
        if len(raw) > MAX_GIAS_BYTES:
            raise ValidationError(
                "The file is larger than 1.9 MB: import it with the command "
                "`flask schools import`, or download a smaller extract"
            )
        try:
            self.payload = gias.read(gias.decode(raw))
        except gias.GiasRefused as refused:
            raise ValidationError(str(refused)) from None


class GiasConfirmForm(FlaskForm):
    """Confirm a previewed import and choose the schools to add to the partnership."""

    add = SelectMultipleField(
        "Add to the partnership", choices=[], validate_choice=False
    )
    add_all = BooleanField("Add every school in the file to the partnership")

    def chosen_urns(self, batch, partnership, tick_each: bool) -> list:
        """The URNs to add to the partnership: those ticked, or with one box
        for a long file, every school in it (none for a platform import)."""
        if partnership is None:
            return []
        if tick_each:
            return self.add.data
        rows = batch["payload"]["rows"]
        return [r["urn"] for r in rows] if self.add_all.data else []


class PeopleUploadForm(FlaskForm):
    """Upload a list of people to invite."""

    file = FileField(
        "List of people (CSV)",
        description=(
            "A CSV file with the columns email, name, urn, team and role "
            "(names in the first line), of 1.9 MB or less."
        ),
        validators=[FileRequired("Choose a list of people to upload")],
        render_kw={"accept": ".csv,text/csv"},
    )

    def validate_file(self, field):
        """Read and check the list; keep what was read in self.payload."""
        raw = field.data.read(MAX_GIAS_BYTES + 1)
        if len(raw) > MAX_GIAS_BYTES:
            raise ValidationError("The file is larger than 1.9 MB: split the list")
        try:
            self.payload = people.read(gias.decode(raw))
        except people.ListRefused as refused:
            raise ValidationError(str(refused)) from None


class ConfirmForm(FlaskForm):
    """An empty form, so the confirming POST carries its CSRF token."""
