"""Small helpers shared by the forms of every area, and by the views that
show them."""

import logging
from contextlib import contextmanager

from flask import render_template, request
from flask_login import current_user
from wtforms import SelectChoice

from . import catalogue

log = logging.getLogger(__name__)


def options(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def field_errors(form) -> list[tuple[str, str]]:
    """Every error of a validated form as (the field's id, the message)."""
    return [
        (form[name].id, message)
        for name, messages in form.errors.items()
        for message in messages
    ]


def refused_status(form) -> int:
    """The status of a form page shown again: 400 when its CSRF token was
    refused (a stale or forged post), else 200."""
    return 400 if form.is_submitted() and form.csrf_token.errors else 200


@contextmanager
def refusal_shown(form, errors, *, field=None, what="change"):
    """Run a service call whose refusal is shown on its form.

    Should the block raise one of `errors` (a domain refusal), the message
    goes under `field` (or above the form), the refusal is logged, and the
    view carries on past the block to show the form again.
    """
    try:
        yield
    except errors as e:
        log.warning(
            "refused %s at %s by user %s: %s", what, request.path, current_user.id, e
        )
        if field is None:
            form.form_errors.append(str(e))
        else:
            field.errors = [str(e)]


def edit_to_keep() -> list[tuple[str, str]]:
    """Return an edit refused as made from an older revision, as posted, for the
    conflict page to post again should the person keep it (less its CSRF token
    and revision: the page gives the current ones)."""
    return [
        (k, v)
        for k, v in request.form.items(multi=True)
        if k not in ("csrf_token", "revision")
    ]


def form_page(template: str, **context):
    """Render a form's page: 400 when a post comes back to it (refused), else 200."""
    return render_template(template, **context), (
        400 if request.method == "POST" else 200
    )


def offered_instrument(db, field, partnership_ids, *, team_kind, use, what):
    """Return the instrument chosen in `field` when the form offered it (one
    of the partnerships' instruments for a team of `team_kind`); else None,
    with why under the field, logged: the page never offers any other, so it
    was posted by hand. `use` says what it is refused for, `what` the refused
    thing in the log."""
    chosen = field.data
    instrument = catalogue.find(db, chosen, partnership_ids, team_kind=team_kind)
    if instrument is None:
        field.errors = [catalogue.why_not_offered(db, chosen, partnership_ids, use=use)]
        log.warning(
            "refused %s at %s by user %s: instrument %r is not offered",
            what,
            request.path,
            current_user.id,
            chosen,
        )
    return instrument
