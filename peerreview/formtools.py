"""Small helpers shared by the forms of every area."""

from wtforms import SelectChoice


def options(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]
