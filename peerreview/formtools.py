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
