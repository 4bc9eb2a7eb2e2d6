"""Forms for partnerships, schools and teams."""

import re

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..formtools import options
from .service import PARTNERSHIP_KINDS, PHASES

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
