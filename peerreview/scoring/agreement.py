"""Agreement across many items: Krippendorff's alpha (ordinal), per section and overall.

The agreement index (rwg) says how closely a team agreed on one item.
Krippendorff's alpha says how far the people rating agreed across a set of
items, beyond what chance would give: 1 is perfect agreement, 0 no better
than chance, below 0 systematic disagreement. It is worked out by the
maintained ``krippendorff`` package, treating the scale as ordinal (the
points are in order, but the steps between them need not be equal).

Each rating is the position of its point on the scale (1 for the lowest),
turned round for reverse items so that higher is always better; "Not
applicable", "No evidence yet" and no answer are missing. An item rated by
fewer than two people carries nothing to compare and is left out by the
package.

Below ``anonymity.MIN_GROUP`` people nothing is worked out: alpha from two
people tells each something of the other's ratings. Below
``CAUTION_BELOW`` people the figure is shown with a caution: alpha from a
handful of raters moves a lot with one person's ratings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import anonymity
from .scale import reverse

# numpy is imported where it is used: it is slow to import, and the app's
# start-up (every `flask` command) does not need it.
if TYPE_CHECKING:
    import numpy as np

CAUTION_BELOW = 5


def position_matrix(snapshot: dict, answers, item_ids) -> np.ndarray:
    """Return raters x items of scale positions (1 = lowest point), NaN if none.

    ``answers`` are (respondent_id, item_id, code) rows. Reverse items are
    turned round. A person with no position on any of ``item_ids`` is left
    out.
    """
    import numpy as np

    points = snapshot["scale"]["points"]
    position = {str(p["code"]): float(i) for i, p in enumerate(points, start=1)}
    reversed_ids = {
        i["id"]
        for s in snapshot.get("sections") or []
        for i in s["items"]
        if i.get("reverse")
    }
    column = {item_id: j for j, item_id in enumerate(item_ids)}
    rows: dict = {}
    for respondent_id, item_id, code in answers:
        j = column.get(item_id)
        value = position.get(code)
        if j is None or value is None:
            continue
        if item_id in reversed_ids:
            value = reverse(value, 1.0, float(len(points)))
        rows.setdefault(respondent_id, [np.nan] * len(item_ids))[j] = value
    if not rows:
        return np.empty((0, len(item_ids)))
    return np.array([rows[r] for r in sorted(rows)], dtype=float)


def ordinal_alpha(positions: np.ndarray, points: int) -> float | None:
    """Return Krippendorff's alpha (ordinal) of raters x items, or None.

    None when no item was rated by two people, or when every rating is the
    same point (alpha is then not defined: there is no disagreement to
    expect).
    """
    import krippendorff
    import numpy as np

    pairable = (~np.isnan(positions)).sum(axis=0) >= 2
    if positions.shape[0] < 2 or not pairable.any():
        return None
    rated = positions[:, pairable]
    values = rated[~np.isnan(rated)]
    if np.unique(values).size < 2:
        return None
    return float(
        krippendorff.alpha(
            reliability_data=rated,
            level_of_measurement="ordinal",
            value_domain=list(range(1, points + 1)),
        )
    )


def alpha_figure(positions: np.ndarray, points: int) -> dict:
    """Return {"alpha", "raters", "items_compared", "caution", "withheld"} for one set.

    ``raters`` is the number of people with at least one rating in the set,
    ``items_compared`` the number of items rated by at least two of them.
    """
    import numpy as np

    raters = int(positions.shape[0])
    items = int(((~np.isnan(positions)).sum(axis=0) >= 2).sum()) if raters else 0
    out = {
        "alpha": None,
        "raters": raters,
        "items_compared": items,
        "caution": False,
        "withheld": False,
    }
    if not anonymity.shows_spread(raters):
        out["withheld"] = raters > 0
        return out
    out["alpha"] = ordinal_alpha(positions, points)
    out["caution"] = raters < CAUTION_BELOW
    return out


def alphas(snapshot: dict, answers) -> dict:
    """Return alpha_figure for each section (by id) and "overall"."""
    answers = list(answers)
    points = len(snapshot["scale"]["points"])
    groups = {
        s["id"]: [i["id"] for i in s["items"]] for s in snapshot.get("sections") or []
    }
    groups["overall"] = [i for ids in list(groups.values()) for i in ids]
    return {
        key: alpha_figure(position_matrix(snapshot, answers, ids), points)
        for key, ids in groups.items()
    }
