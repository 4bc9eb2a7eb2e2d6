"""Forms for planning a peer-review round; the per-host fields are built at run time."""

import datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..formtools import options

# What the planning page's instrument list holds, and why.
INSTRUMENTS_LISTED = (
    "Listed: instruments for a school's senior leadership team, and for the "
    "partnership the school works in, the ones a host school rates itself on: "
    "peer scores are compared with the host's own agreed self-evaluation. "
    "Instruments for a trust board are not."
)


class _RoundForm(FlaskForm):
    title = StringField(
        "Title of the round",
        validators=[
            DataRequired("Enter a title for the round"),
            Length(max=200, message="The title is 200 characters at most"),
        ],
    )
    instrument = SelectField(
        "Instrument", validators=[DataRequired("Choose an instrument")]
    )
    starts_on = DateField("Visits start", validators=[Optional()])
    ends_on = DateField(
        "Ratings close",
        validators=[Optional()],
        description="The lead reviewer moves the cycle to moderation when ready.",
    )


class ChangeRoundForm(FlaskForm):
    """A round's title and dates, changed after planning."""

    title = _RoundForm.title
    starts_on = _RoundForm.starts_on
    ends_on = _RoundForm.ends_on


def change_round_form(peer_round: dict, *, fresh: bool) -> ChangeRoundForm:
    """The form to change a round; a fresh one shows the round as it is."""
    if not fresh:
        return ChangeRoundForm(data=None)
    day = datetime.date.fromisoformat
    return ChangeRoundForm(
        data={
            "title": peer_round["title"],
            "starts_on": day(peer_round["starts_on"])
            if peer_round["starts_on"]
            else None,
            "ends_on": day(peer_round["ends_on"]) if peer_round["ends_on"] else None,
        }
    )


def round_fields(form) -> dict:
    """A round's title and dates from its form, as the peer service takes them."""
    return {
        "title": form.title.data,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
    }


def reviewers_form(school_name, people, current_ids, lead_id, formdata=None):
    """The reviewing team of one host: who reviews, and who leads."""

    class ReviewersForm(FlaskForm):
        reviewers = SelectMultipleField(
            f"Reviewers of {school_name}",
            coerce=int,
            choices=options(people),
            validate_choice=False,
        )
        lead = SelectField(
            f"Lead reviewer of {school_name}",
            choices=options([("", "Choose the lead reviewer")] + people),
            validate_choice=False,
        )

    return ReviewersForm(
        formdata=formdata,
        data={"reviewers": list(current_ids), "lead": str(lead_id or "")},
    )


def plan_form(instruments, hosts, formdata=None, suggested=None):
    """Build the plan form: the round, then per host school its reviewing team.

    hosts: [{"school": {...}, "reviewers": [{id, name, school_name}]}].
    suggested: {school_id: (reviewer_ids, lead_id)} ticked on first view.
    """

    class PlanRoundForm(_RoundForm):
        pass

    data = {}
    for host in hosts:
        sid = host["school"]["id"]
        people = [
            (p["id"], f"{p['name']} ({p['school_name']})") for p in host["reviewers"]
        ]
        setattr(
            PlanRoundForm,
            f"host_{sid}",
            BooleanField(f"Include {host['school']['name']} as a host"),
        )
        setattr(
            PlanRoundForm,
            f"reviewers_{sid}",
            SelectMultipleField(
                f"Reviewers of {host['school']['name']}",
                coerce=int,
                choices=options(people),
                validate_choice=False,
            ),
        )
        setattr(
            PlanRoundForm,
            f"lead_{sid}",
            SelectField(
                f"Lead reviewer of {host['school']['name']}",
                choices=options([("", "Choose the lead reviewer")] + people),
                validate_choice=False,
            ),
        )
        if suggested and sid in suggested:
            data[f"host_{sid}"] = True
            data[f"reviewers_{sid}"] = suggested[sid][0]
            data[f"lead_{sid}"] = str(suggested[sid][1])
    form = PlanRoundForm(formdata=formdata, data=data)
    form.instrument.choices = options(
        [("", "Choose an instrument")] + [(i.id, i.title) for i in instruments]
    )
    # An instrument not listed is refused by the view, with the reason.
    form.instrument.validate_choice = False
    form.instrument.description = INSTRUMENTS_LISTED
    return form


def chosen_lead(value) -> int | None:
    """Return the lead reviewer chosen in a select, or None when none was."""
    return int(value) if value and str(value).isdigit() else None


def chosen_hosts(form, hosts) -> list[dict]:
    """Return the hosts ticked on a submitted plan form, in the domain's shape."""
    chosen = []
    for host in hosts:
        sid = host["school"]["id"]
        if not form[f"host_{sid}"].data:
            continue
        chosen.append(
            {
                "school_id": sid,
                "reviewer_ids": list(form[f"reviewers_{sid}"].data or []),
                "lead_id": chosen_lead(form[f"lead_{sid}"].data),
            }
        )
    return chosen


def findings_form(sections, current: dict):
    """The reviewers' findings: "What went well" and "Even better if" per section."""

    class FindingsForm(FlaskForm):
        pass

    for s in sections:
        found = current.get(s["id"]) or {}
        setattr(
            FindingsForm,
            f"{s['id']}__well",
            TextAreaField(
                "What went well",
                default=found.get("went_well", ""),
                validators=[Length(max=4000, message="4000 characters at most")],
                render_kw={"rows": 3},
            ),
        )
        setattr(
            FindingsForm,
            f"{s['id']}__better",
            TextAreaField(
                "Even better if",
                default=found.get("even_better_if", ""),
                validators=[Length(max=4000, message="4000 characters at most")],
                render_kw={"rows": 3},
            ),
        )
    return FindingsForm()


class NominateForm(FlaskForm):
    """The host nominates a section as an area of excellence."""

    section = SelectField(
        "Area of excellence", validators=[DataRequired("Choose a section")]
    )
    case = TextAreaField(
        "Why it is an area of excellence",
        validators=[
            DataRequired("Say why this is an area of excellence"),
            Length(max=4000, message="The case is 4000 characters at most"),
        ],
        render_kw={"rows": 3},
    )


class DecideForm(FlaskForm):
    """The reviewers confirm a nominated area of excellence, or not."""

    verdict = RadioField(
        "Do you confirm it?",
        choices=options(
            [("confirmed", "Confirmed"), ("not_confirmed", "Not confirmed")]
        ),
        validators=[DataRequired("Choose whether you confirm it")],
    )
    reason = TextAreaField(
        "Reason (optional)",
        validators=[Length(max=4000, message="The reason is 4000 characters at most")],
        render_kw={"rows": 2},
    )


def findings_answers(form, sections) -> dict[str, tuple[str, str]]:
    """Read a findings form as the findings service's save_findings takes it."""
    return {
        s["id"]: (form[f"{s['id']}__well"].data, form[f"{s['id']}__better"].data)
        for s in sections
    }
