"""The one rule on who may see what of individual ratings.

Every page, export and report that shows anything drawn from individual
ratings asks this module first; nothing else decides. The rule:

* The *group* of an item is the number of people whose rating of it counts
  (a point on the scale). Below ``MIN_GROUP`` (3, never lower) nothing is
  shown that would let a person's rating be worked out: no distribution,
  lowest, highest, median, mean, spread or agreement index, no count of
  "not applicable", no letter beside a rating, no comment, no provisional
  score and no maturity level worked out from ratings, and the item is not
  ranked among priorities or strengths by anything its ratings say.
* The people *inside* a cycle (its respondents and its lead) of a *named*
  cycle see every rating with its name: that is what a named cycle means.
  In an anonymous cycle they see ratings beside letters only where the group
  is at least ``MIN_GROUP``; letters are shuffled once per cycle and stored.
  Comments of an anonymous cycle are never shown beside a letter: they are
  listed apart, in no fixed order, where at least ``MIN_GROUP`` people
  answered the item.
* Everyone else (governors, the host school of a peer review, partnership
  leads, team members who were not asked to rate) sees ratings figures only
  where the group is at least ``MIN_GROUP``, never a name or letter, and
  comments or evidence notes only apart and only where at least
  ``MIN_GROUP`` people answered the item, whether the cycle is anonymous or
  not. Agreed scores and their rationales
  are the team's, not a person's, and are always shown.

``ENFORCED`` exists for one purpose: the proof test turns it off to show
that the same test finds the leaks the rule prevents. Nothing else may
change it.
"""

import random
from dataclasses import dataclass

from .scoring import rollups

MIN_GROUP = 3
ENFORCED = True

WITHHELD_REASON = (
    f"Fewer than {MIN_GROUP} people rated this item, so its ratings are not shown: "
    "a small group could identify a person."
)

# Figures of an item worked out from its individual ratings.
RATING_FIGURES = (
    "median",
    "mean",
    "sd",
    "min",
    "max",
    "range",
    "rwg",
    "na",
    "ne",
    "counts",
)
_shuffle = random.SystemRandom().shuffle


@dataclass(frozen=True)
class Viewer:
    """Who is looking: whether they are inside the cycle (respondent or lead)."""

    inside: bool


INSIDE = Viewer(inside=True)
OUTSIDE = Viewer(inside=False)


def viewer_of(user, cycle: dict) -> Viewer:
    """Return the viewer a signed-in person is for a cycle."""
    from . import permissions as perm

    inside = perm.is_respondent(user, cycle) or perm.can_lead_cycle(user, cycle)
    return INSIDE if inside else OUTSIDE


def evidence_author(cycle: dict, person: str | None, school: str) -> str:
    """Who added a piece of evidence, as shown: the school in an anonymous cycle."""
    if cycle.get("anonymous") or not person:
        return school
    return person


def names_shown(cycle: dict, viewer: Viewer) -> bool:
    """Whether ratings are shown with people's names (inside a named cycle)."""
    return viewer.inside and not cycle["anonymous"]


def shows_ratings(cycle: dict, viewer: Viewer, group: int) -> bool:
    """Whether figures drawn from an item's individual ratings may be shown."""
    if not ENFORCED:
        return True
    return names_shown(cycle, viewer) or group >= MIN_GROUP


def shows_spread(raters: int) -> bool:
    """Whether a figure drawn from how a group's ratings spread may be shown.

    The interval around a change and the agreement coefficient (alpha) of a
    section or the whole instrument: below ``MIN_GROUP`` people they would
    show what each person rated, so nobody sees them, whoever they are.
    """
    if not ENFORCED:
        return raters > 0
    return raters >= MIN_GROUP


def shows_individuals(cycle: dict, viewer: Viewer, group: int) -> bool:
    """Whether each rating may be listed beside a name or a letter."""
    if not ENFORCED:
        return viewer.inside
    return viewer.inside and shows_ratings(cycle, viewer, group)


def comments_shown(cycle: dict, viewer: Viewer, answered: int) -> str | None:
    """How an item's comments may be shown: "named", "apart" or None.

    "named": beside each rating (inside a named cycle). "apart": in a list
    of their own, without a letter, in no fixed order. ``answered`` is the
    number of people who answered the item at all.
    """
    if not ENFORCED:
        return "named"
    if not viewer.inside:
        return "apart" if answered >= MIN_GROUP else None
    if not cycle["anonymous"]:
        return "named"
    return "apart" if answered >= MIN_GROUP else None


def shuffled(rows: list) -> list:
    """Return rows in a fresh random order (comments shown apart)."""
    out = list(rows)
    _shuffle(out)
    return out


def redact_results(results: dict, cycle: dict, viewer: Viewer) -> dict:
    """Withhold, in place, every figure of ``cycle_results`` the viewer may not see.

    Items whose ratings are withheld get ``hidden``; their rating figures
    and distribution counts become None. While scores are provisional (the
    median stands in for the agreed score), a withheld item has no score,
    and a section, the overall figure or a maturity level that would be
    worked out from it is withheld too (``withheld``). Priorities and
    strengths are rebuilt so that a withheld item is neither listed nor
    ordered by anything its ratings say.
    """
    provisional = results["provisional"]
    hidden = set()
    for item in results["items"]:
        item["hidden"] = not shows_ratings(cycle, viewer, item["n"])
        if not item["hidden"]:
            continue
        hidden.add(item["item_id"])
        for key in RATING_FIGURES:
            item[key] = None
        item["split"] = False
        item["distribution"] = tuple({**d, "count": None} for d in item["distribution"])
        if provisional:
            item["score"] = item["effective"] = None
            item["priority"] = False
            change = item.get("change")
            if change:
                change["current"] = change["delta"] = None
    results["hidden_reason"] = WITHHELD_REASON
    results["min_group"] = MIN_GROUP
    results["withheld_items"] = sorted(hidden)
    if not hidden:
        return results
    if provisional:
        section_of = {i["item_id"]: i["section_id"] for i in results["items"]}
        touched = {section_of[i] for i in hidden}
        for section in results["sections"]:
            if section["id"] in touched:
                _withhold_figure(section)
        _withhold_figure(results["overall"])
        maturity = results.get("maturity")
        if maturity:
            for item_id in hidden:
                maturity["strands"][item_id] = None
            for sid in touched:
                maturity["dimensions"][sid] = {
                    "score": None,
                    "level": None,
                    "level_code": None,
                }
    _rerank(results)
    return results


def _withhold_figure(figure: dict) -> None:
    change = figure.get("change")
    if change:
        change["current"] = change["delta"] = None
    figure.update(
        score=None,
        partial_score=None,
        band=None,
        level=None,
        level_code=None,
        shown=False,
        withheld=True,
    )


def _rerank(results: dict) -> None:
    """Rebuild priorities and strengths from the figures left to show.

    A withheld item's spread and split are already gone from its figures,
    and while provisional its score too, so the one ranking of
    ``scoring.rollups`` lists and orders it by nothing its ratings say.
    """
    actions = {p["item_id"]: p["actions"] for p in results["priorities"]}
    results["priorities"] = rollups.priorities(results["items"], actions)
    results["strengths"] = rollups.strengths(results["items"])
