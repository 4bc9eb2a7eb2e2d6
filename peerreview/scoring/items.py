"""Figures for one item: what the ratings say, and the item's score.

Every statistic here is on the raw scale, as people rated (docs/scoring.md,
"Figures for each item"); only ``effective`` is turned round for a reverse
item. "Not applicable", "No evidence yet" and no answer are counted apart
and never count as numbers.
"""

from math import sqrt
from types import MappingProxyType

from .scale import EPS, Scale, reverse

# An item is split when ratings span two or more scale steps or when the
# agreement index falls below this.
SPLIT_RWG = 0.7


def count_answers(scale: Scale, values, item_id=None) -> tuple:
    """Return counts per slot (points, then na, ne, unanswered) of some answers."""
    counts = scale.empty_counts()
    for value in values:
        counts[scale.check(value, item_id)] += 1
    return tuple(counts)


def rating_figures(scale: Scale, counts: tuple) -> dict:
    """Return the statistics of an item's answers counted per slot.

    n, na, ne, unanswered, counts (how many chose each point, lowest
    first), median, mean, sd (population), min, max, range (steps between
    lowest and highest), rwg and split.
    """
    a = scale.points
    rated = [(i, c) for i, c in enumerate(counts[:a]) if c]
    n = sum(c for _, c in rated)
    stats = {
        "n": n,
        "na": counts[a],
        "ne": counts[a + 1],
        "unanswered": counts[a + 2],
        "counts": tuple(counts[:a]),
        "median": None,
        "mean": None,
        "sd": None,
        "min": None,
        "max": None,
        "range": None,
        "rwg": None,
        "split": False,
    }
    if not n:
        return stats
    values = scale.values
    mean = sum(c * values[i] for i, c in rated) / n
    spread = rated[-1][0] - rated[0][0]
    agreement = rwg(scale, rated, n)
    stats.update(
        median=median(values, rated, n),
        mean=mean,
        sd=sqrt(sum(c * (values[i] - mean) ** 2 for i, c in rated) / n),
        min=values[rated[0][0]],
        max=values[rated[-1][0]],
        range=spread,
        rwg=agreement,
        split=n >= 2
        and (spread >= 2 or (agreement is not None and agreement < SPLIT_RWG)),
    )
    return stats


def distribution(scale: Scale, counts) -> tuple:
    """Return how many chose each point, as read-only {code, label, count}.

    For the pages, exports and reports of a cycle; ``counts`` is an item's
    "counts", or None where they are withheld.
    """
    if counts is None:
        counts = (None,) * scale.points
    return tuple(
        MappingProxyType({"code": code, "label": label, "count": count})
        for code, label, count in zip(scale.codes, scale.labels, counts, strict=True)
    )


def median(values, rated, n):
    """Return the middle rating, or the mean of the two middle ones for an even n."""
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    seen = 0
    lo_value = None
    for i, c in rated:
        seen += c
        if lo_value is None and seen > lo_rank:
            lo_value = values[i]
        if seen > hi_rank:
            return (lo_value + values[i]) / 2.0
    raise AssertionError("unreachable: n counts but no median")


def rwg(scale: Scale, rated, n):
    """Return the agreement index rwg, or None with fewer than two ratings.

    rwg = 1 - s² / ((A² - 1) / 12): s² is the sample variance (n - 1
    denominator, James, Demaree and Wolf, 1984) of the ratings' positions
    on the scale, (A² - 1) / 12 that of ratings spread evenly over its A
    points. Floored at 0.
    """
    expected = (scale.points**2 - 1) / 12.0
    if n < 2 or expected <= 0:
        return None
    # Positions are whole numbers: the sums are exact, and ratings spread
    # alike give exactly the same index wherever they sit on the scale.
    total = sum(c * i for i, c in rated)
    squares = sum(c * i * i for i, c in rated)
    variance = (n * squares - total * total) / (n * (n - 1))
    return max(0.0, 1.0 - variance / expected)


class Judge:
    """Scores items of one scale, keeping what repeats.

    Rating patterns repeat a great deal across items and teams, so the
    figures of each pattern of answers, agreed code and reverse flag are
    worked out once per Judge (one Judge scores one snapshot's cycles).
    """

    def __init__(self, scale: Scale, at_or_below=None):
        self.scale = scale
        self.at_or_below = at_or_below
        self._judged: dict = {}

    def item(self, item, counts, respondents, agreed, provisional) -> dict:
        """Return one item's figures and score.

        ``item`` carries item_id, section_id, statement, weight, reverse and
        tags (``item_head``); ``counts`` the answers given, per slot.
        ``respondents`` is the number of people asked: those without an
        answer count as unanswered. ``agreed`` is {"value", "rationale",
        "deferred"} or None. While ``provisional``, the median stands in for
        the agreed score.
        """
        if agreed:
            code, deferred = agreed.get("value"), bool(agreed.get("deferred"))
            rationale = agreed.get("rationale") or ""
        else:
            code, deferred, rationale = None, False, ""
        key = (counts, respondents, code, deferred, item["reverse"], provisional)
        judged = self._judged.get(key)
        if judged is None:
            judged = self._judged[key] = self._judge(item["item_id"], *key)
        return {**item, **judged, "rationale": rationale}

    def _judge(self, item_id, given, respondents, code, deferred, turned, provisional):
        # Everything that follows from the answers and the agreed code.
        missing = respondents - sum(given)
        counts = (*given[:-1], given[-1] + missing) if missing > 0 else given
        stats = rating_figures(self.scale, counts)
        value, label = self.scale.agreed(item_id, code)
        if provisional:
            score = stats["median"]
        else:
            # A deferred item has no agreed score yet, whatever was typed.
            score = None if deferred else value
        effective = score
        if turned:
            effective = reverse(score, self.scale.lo, self.scale.hi)
        return {
            **stats,
            "agreed_value": value,
            "agreed_code": code,
            "agreed_label": label,
            "deferred": deferred,
            "score": score,
            "effective": effective,
            "priority": effective is not None
            and self.at_or_below is not None
            and effective <= self.at_or_below + EPS,
        }


def item_head(item: dict, section_id=None) -> dict:
    """Return what an item's figures repeat of its definition."""
    weight = item.get("weight", 1.0)
    return {
        "item_id": item["id"],
        "section_id": section_id,
        "statement": item.get("statement", ""),
        "weight": 1.0 if weight is None else float(weight),
        "reverse": bool(item.get("reverse", False)),
        "tags": tuple(item.get("tags") or ()),
    }


def score_item(item, scale, values, agreed=None, *, scoring=None, provisional=None):
    """Return the figures for one item from its ratings and agreed score.

    ``values`` holds one answer per respondent: a point code, "na", "ne" or
    None. ``scoring`` is the snapshot's "scoring" block (for the priority
    rule). ``provisional`` defaults to "no agreed score given".
    """
    s = scale if isinstance(scale, Scale) else Scale(scale)
    if provisional is None:
        provisional = agreed is None
    at_or_below = ((scoring or {}).get("priority") or {}).get("at_or_below")
    counts = count_answers(s, values, item["id"])
    out = Judge(s, at_or_below).item(
        item_head(item), counts, len(values), agreed, provisional
    )
    out["distribution"] = distribution(s, out["counts"])
    return out
