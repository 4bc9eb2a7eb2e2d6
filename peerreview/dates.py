"""Dates as people read them: one style everywhere, "20 October 2026"."""

import datetime


def long_date(value) -> str:
    """Return a date (a date, a datetime, or ISO text) as "20 October 2026".

    Empty for nothing; text that is not a date is returned unchanged.
    """
    if value in (None, ""):
        return ""
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return f"{day.day} {day:%B %Y}"
