"""The scale of an instrument, and the one rule for reverse items."""


def reverse(value, lo, hi):
    """Return a value seen from the other end of the scale: lo + hi - value.

    A reverse item is worded so that agreeing is a bad sign; turned round,
    a higher value is always better. Turning round twice gives the value
    back; None stays None.
    """
    if value is None:
        return None
    return lo + hi - value
