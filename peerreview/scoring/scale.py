"""The scale of an instrument, and the one rule for reverse items."""

NOT_APPLICABLE = "na"
NO_EVIDENCE = "ne"
SPECIAL_LABELS = {NOT_APPLICABLE: "Not applicable", NO_EVIDENCE: "No evidence yet"}
# Guards comparisons of computed means against thresholds from the file.
EPS = 1e-9


def reverse(value, lo, hi):
    """Return a value seen from the other end of the scale: lo + hi - value.

    A reverse item is worded so that agreeing is a bad sign; turned round,
    a higher value is always better. Turning round twice gives the value
    back; None stays None.
    """
    if value is None:
        return None
    return lo + hi - value


class Scale:
    """A scale's points in order, checked, with the look-ups scoring needs.

    Answers are counted in slots: one per point, lowest first, then "Not
    applicable", "No evidence yet" and unanswered (``None``).
    """

    def __init__(self, scale: dict):
        points = scale.get("points") or []
        if not points:
            raise ValueError("scale has no points")
        self.kind = scale.get("kind")
        self.codes = [str(p["code"]) for p in points]
        self.values = [float(p["value"]) for p in points]
        self.labels = [p.get("label", str(p["code"])) for p in points]
        if len(set(self.codes)) != len(self.codes):
            raise ValueError("scale point codes are not unique")
        if any(code in SPECIAL_LABELS for code in self.codes):
            raise ValueError("'na' and 'ne' cannot be scale point codes")
        if any(b <= a for a, b in zip(self.values, self.values[1:], strict=False)):
            raise ValueError("scale points must be ordered low to high by value")
        self.points = len(points)
        self.lo = self.values[0]
        self.hi = self.values[-1]
        self.slot = {code: i for i, code in enumerate(self.codes)}
        self.slot[NOT_APPLICABLE] = self.points
        self.slot[NO_EVIDENCE] = self.points + 1
        self.slot[None] = self.points + 2
        self.value_of = dict(zip(self.codes, self.values, strict=True))
        self.label_of = dict(zip(self.codes, self.labels, strict=True))
        self.label_of.update(SPECIAL_LABELS)

    def empty_counts(self) -> list[int]:
        """Return zero counts, one per slot."""
        return [0] * (self.points + 3)

    def check(self, value, item_id) -> int:
        """Return the slot of an answer, refusing one that is not on the scale."""
        slot = self.slot.get(value)
        if slot is None:
            raise ValueError(
                f"answer {value!r} to item {item_id!r} is not on the scale"
            )
        return slot

    def agreed(self, item_id, code):
        """Return (value, label) of an agreed code; (None, None) for none."""
        if code is None:
            return None, None
        label = self.label_of.get(code)
        if label is None:
            raise ValueError(
                f"agreed value {code!r} for item {item_id!r} is not on the scale"
            )
        return self.value_of.get(code), label

    def floor_point(self, value):
        """Return the index of the highest point at or below ``value``, or None."""
        found = None
        for i, v in enumerate(self.values):
            if v <= value + EPS:
                found = i
        return found


# Scales whose points are words or grades, not numbers a reader would use.
WORDED_KINDS = ("letter", "yes_no")


class ScaleText:
    """Write figures of one scale as its readers read them.

    On a letter-grade or yes / no scale a point is its grade or word and a
    mean is the nearest one, a half rounded up ("B+" for 5.5), as on the
    results pages; on other scales the number. A gap or a spread is a
    distance along the scale, not a value of it, so it stays a number (on a
    worded scale, in steps between neighbouring points).
    """

    def __init__(self, points, kind=None):
        self.points = [
            (float(p["value"]), str(p.get("label", p["code"]))) for p in points
        ]
        self.points.sort()
        self.worded = kind in WORDED_KINDS

    def point(self, value) -> str:
        """Return a value that is a point of the scale: its label, or the number."""
        if value is None:
            return "–"
        if self.worded:
            for v, label in self.points:
                if abs(v - value) < EPS:
                    return label
        return f"{value:g}"

    def mean(self, value) -> str:
        """Return a mean on the scale: the nearest point's label, or one decimal place."""
        if value is None:
            return "–"
        if not self.worded:
            return f"{value:.1f}"
        return min(self.points, key=lambda p: (abs(p[0] - value), -p[0]))[1]

    def at_most(self, value) -> str:
        """Return a threshold "at or below": the highest point within it."""
        if not self.worded:
            return f"{value:g}"
        within = [label for v, label in self.points if v <= value + EPS]
        return within[-1] if within else f"{value:g}"

    def at_least(self, value) -> str:
        """Return a threshold "at or above": the lowest point within it."""
        if not self.worded:
            return f"{value:g}"
        within = [label for v, label in self.points if v >= value - EPS]
        return within[0] if within else f"{value:g}"
