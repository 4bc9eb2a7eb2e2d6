"""Small helpers shared by the forms of every area."""

from wtforms import SelectChoice


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
