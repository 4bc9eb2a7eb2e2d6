"""Whether a change since the previous cycle is larger than chance would give.

A section's change is one team's agreed score this time minus last time. The
people who rated could have been a slightly different handful, or rated on
a slightly different day: this module asks how much the figure would move
from that alone, by resampling the raters (a bootstrap, Efron 1979).

For each cycle, the raters' ratings of the section's items (turned round for
reverse items) are drawn again with replacement, as many people as rated,
``RESAMPLES`` times, and the section's average rating is worked out as the
section score is (items averaged over the people drawn, then the weighted
average of the items). The change in that average between the two draws,
less the change in the average of everybody's actual ratings, is how far
chance alone moves the figure. Its middle 95% laid around the change shown
is the interval; when it includes 0 the change is "no clear change".

The random draws start from a fixed seed, so a page shows the same interval
each time it is opened. Below ``anonymity.MIN_GROUP`` raters in either cycle
nothing is worked out ("too few ratings to tell"): the draws of two people
would show each person's own average.

Plain functions over plain data; numpy does the sums.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import anonymity
from .scale import reverse

# numpy is imported where it is used: it is slow to import, and the app's
# start-up (every `flask` command) does not need it.
if TYPE_CHECKING:
    import numpy as np

RESAMPLES = 2000
SEED = 20261203
LEVEL = 0.95

CLEAR_RISE = "clear rise"
CLEAR_FALL = "clear fall"
NO_CLEAR_CHANGE = "no clear change"
TOO_FEW = "too few ratings to tell"


def rating_matrix(snapshot: dict, answers, item_ids) -> np.ndarray:
    """Return raters x items of ratings as numbers, turned round for reverse items.

    ``answers`` are (respondent_id, item_id, code) rows; "Not applicable",
    "No evidence yet" and no answer are NaN. A person with no number on any
    of ``item_ids`` is left out.
    """
    import numpy as np

    points = snapshot["scale"]["points"]
    value_of = {str(p["code"]): float(p["value"]) for p in points}
    lo, hi = float(points[0]["value"]), float(points[-1]["value"])
    items = _items_by_id(snapshot)
    column = {item_id: i for i, item_id in enumerate(item_ids)}
    rows: dict = {}
    for respondent_id, item_id, code in answers:
        j = column.get(item_id)
        value = value_of.get(code)
        if j is None or value is None:
            continue
        if items[item_id].get("reverse"):
            value = reverse(value, lo, hi)
        row = rows.setdefault(respondent_id, [np.nan] * len(item_ids))
        row[j] = value
    if not rows:
        return np.empty((0, len(item_ids)))
    return np.array([rows[r] for r in sorted(rows)], dtype=float)


def _items_by_id(snapshot: dict) -> dict:
    return {i["id"]: i for s in snapshot.get("sections") or [] for i in s["items"]}


def _weighted_average(ratings: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average each item over raters, then items by weight, along the last axes.

    ``ratings`` is (..., raters, items); items nobody rated are left out.
    """
    import numpy as np

    rated = ~np.isnan(ratings)
    counts = rated.sum(axis=-2)
    sums = np.where(rated, ratings, 0.0).sum(axis=-2)
    has = counts > 0
    means = np.where(has, sums / np.maximum(counts, 1), 0.0)
    used = np.where(has, weights, 0.0)
    total = used.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (means * used).sum(axis=-1) / total, np.nan)


def _draws(ratings: np.ndarray, weights: np.ndarray, rng) -> np.ndarray:
    n = ratings.shape[0]
    picks = rng.integers(0, n, size=(RESAMPLES, n))
    return _weighted_average(ratings[picks], weights)


def change_interval(
    shown: float | None,
    now: np.ndarray,
    then: np.ndarray,
    weights,
) -> dict:
    """Return whether a change is clear, from the raters of both cycles.

    ``shown`` is the change as shown (this score minus last score); ``now``
    and ``then`` are raters x items (``rating_matrix``) over the same items,
    in the same order as ``weights``. Returns {"verdict", "low", "high",
    "raters_now", "raters_then", "resamples"}; "low" and "high" bound the
    95% interval (None when there is nothing to tell).
    """
    import numpy as np

    out = {
        "verdict": None,
        "low": None,
        "high": None,
        "raters_now": int(now.shape[0]),
        "raters_then": int(then.shape[0]),
        "resamples": RESAMPLES,
    }
    if shown is None:
        return out
    if not (
        anonymity.shows_spread(out["raters_now"])
        and anonymity.shows_spread(out["raters_then"])
    ):
        out["verdict"] = TOO_FEW
        return out
    w = np.asarray(weights, dtype=float)
    observed = _weighted_average(now, w) - _weighted_average(then, w)
    if np.isnan(observed):
        out["verdict"] = TOO_FEW
        return out
    rng = np.random.default_rng(SEED)
    moved = _draws(now, w, rng) - _draws(then, w, rng) - observed
    moved = moved[~np.isnan(moved)]
    tail = (1.0 - LEVEL) / 2.0
    low = shown + float(np.quantile(moved, tail))
    high = shown + float(np.quantile(moved, 1.0 - tail))
    verdict = NO_CLEAR_CHANGE
    if low > 0:
        verdict = CLEAR_RISE
    elif high < 0:
        verdict = CLEAR_FALL
    out.update(verdict=verdict, low=low, high=high)
    return out


def change_intervals(
    snapshot: dict,
    previous_snapshot: dict,
    answers_now,
    answers_then,
    shown: dict,
) -> dict:
    """Return change_interval for each section and overall.

    ``shown`` maps a section id, and "overall", to the change shown (or
    None). Only items in both versions are drawn on; sections are matched
    by id, as change since the previous cycle is.
    """
    before = _items_by_id(previous_snapshot)
    groups = {}
    everything = []
    for section in snapshot.get("sections") or []:
        kept = [i for i in section["items"] if i["id"] in before]
        groups[section["id"]] = kept
        everything.extend(kept)
    groups["overall"] = everything
    answers_now = list(answers_now)
    answers_then = list(answers_then)
    out = {}
    for key, items in groups.items():
        if key not in shown:
            continue
        ids = [i["id"] for i in items]
        weights = [1.0 if i.get("weight") is None else i["weight"] for i in items]
        out[key] = change_interval(
            shown[key],
            rating_matrix(snapshot, answers_now, ids),
            rating_matrix(previous_snapshot, answers_then, ids),
            weights,
        )
    return out
