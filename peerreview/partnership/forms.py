"""The comparison's choices (instrument, round, measure, school, distance),
read from the query string by the comparison page, its exports and the
partnership report."""

import logging

from flask import request
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, StringField
from wtforms.validators import Length, NumberRange, Optional

from .. import catalogue
from ..formtools import options
from ..organisations import postcodes
from . import comparison

log = logging.getLogger(__name__)


class FilterForm(FlaskForm):
    """The page's choices, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    # Radios, not drop-downs: a drop-down cannot wrap, and on a phone it cut
    # instrument titles and round names short.
    instrument = RadioField("Instrument", validate_choice=False)
    round = RadioField("Round", validate_choice=False)
    view = RadioField(
        "Show in the matrix",
        choices=options(comparison.MODES.items()),
        default="gap",
        validators=[Optional()],
    )
    # Typed, with the schools' names as suggestions (a datalist): a drop-down
    # of hundreds of schools could not be searched, nor read on a phone.
    school = StringField(
        "Who can help: which school?", validators=[Optional(), Length(max=200)]
    )
    miles = IntegerField(
        "Within (miles, as the crow flies)",
        default=postcodes.DEFAULT_MILES,
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=postcodes.MAX_MILES,
                message=f"Enter a distance from 1 to {postcodes.MAX_MILES} miles",
            ),
        ],
    )


def view_data(db, pid):
    """Read the choices, refuse bad ones with a message, return (form, data, ok)."""
    form = FilterForm(formdata=request.args or None)
    ok = form.validate() if request.args else True
    if not ok:
        log.warning("refused comparison choices for %s: %s", pid, form.errors)

    def as_int(text):
        return int(text) if text and str(text).isdigit() else None

    data = comparison.partnership_view(
        db,
        pid,
        instrument_id=form.instrument.data or None,
        round_id=as_int(form.round.data),
        mode=form.view.data or "gap",
        help_school=form.school.data,
        max_miles=form.miles.data
        if ok and form.miles.data
        else postcodes.DEFAULT_MILES,
    )
    titles = {i.id: i.title for i in catalogue.available(db, {pid})}
    data["instrument_titles"] = titles
    form.instrument.choices = options(
        (i, titles.get(i, i)) for i in data["instruments"]
    )
    form.instrument.data = data["instrument_id"]
    form.round.choices = options((str(r["id"]), r["title"]) for r in data["rounds"])
    form.round.data = str(data["round"]["id"]) if data["round"] else None
    form.view.data = data["mode"]
    if data["help_school_id"]:
        form.school.data = data["names"].get(data["help_school_id"])
    if data["school_unknown"] and not data["help_all"]:
        form.school.errors = [
            *form.school.errors,
            f"No school reviewed in this round has a name like “{data['school_text']}”",
        ]
        ok = False
    return form, data, ok
