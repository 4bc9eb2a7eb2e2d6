"""Section and overall scores, priorities, strengths, maturity and change.

Plain functions that take data and return data; no Flask, no database. The
method is explained for school leaders in ``docs/scoring.md``: keep the two
in step. Roll-ups use each item's *effective* score (turned round for a
reverse item, ``scale.reverse``), so that higher is always better.
"""

from bisect import bisect_right
from itertools import groupby

from .crosswalk import compare_versions, previous_value
from .items import Judge, item_head
from .scale import EPS, Scale

REASON_LOW = "low score"
REASON_SPLIT = "split"
LOW = (REASON_LOW,)
LOW_AND_SPLIT = (REASON_LOW, REASON_SPLIT)
SPLIT = (REASON_SPLIT,)
STRENGTHS_SHOWN = 3


class Instrument:
    """What scoring needs of a snapshot: its scale, items, sections and rules."""

    def __init__(self, snapshot: dict):
        self.snapshot = snapshot
        self.scale = Scale(snapshot["scale"])
        rules = snapshot.get("scoring") or {}
        self.min_share = rules.get("min_answered_share") or 0.0
        self.bands = sorted(rules.get("bands") or [], key=lambda b: b["min"])
        at_or_below = (rules.get("priority") or {}).get("at_or_below")
        self.judge = Judge(self.scale, at_or_below)
        band_names = [b["name"] for b in self.bands]
        self.maturity = self.scale.kind == "maturity"
        self.bands_are_levels = (
            self.maturity
            and bool(band_names)
            and all(name in self.scale.labels for name in band_names)
        )
        self.actions: dict[str, tuple] = {}
        for action in snapshot.get("actions") or []:
            for item_id in action.get("items") or []:
                self.actions[item_id] = (*self.actions.get(item_id, ()), action["text"])
        self.items: list[dict] = []  # item_head of every item, in order
        self.sections: list[dict] = []  # {"id", "title", "start", "end"}
        self.position: dict[str, int] = {}  # item id -> its place in ``items``
        for section in snapshot.get("sections") or []:
            start = len(self.items)
            for item in section.get("items") or []:
                if item["id"] in self.position:
                    raise ValueError(f"item id {item['id']!r} appears twice")
                self.position[item["id"]] = len(self.items)
                self.items.append(item_head(item, section["id"]))
            self.sections.append(
                {
                    "id": section["id"],
                    "title": section.get("title"),
                    "start": start,
                    "end": len(self.items),
                }
            )

    def band(self, score):
        """Return the name of the highest band whose minimum the score reaches."""
        if score is None:
            return None
        i = bisect_right([b["min"] for b in self.bands], score + EPS)
        return self.bands[i - 1]["name"] if i else None

    def level(self, score):
        """Return (code, label) of the maturity level of a score.

        Where the instrument's bands are its levels (every band is named
        after a level, as in the partnership maturity model), the level is
        the score's band: one rule for both, so a row never shows band
        "Embedding" beside level "Developing". Otherwise, the highest level
        at or below the score.
        """
        if not self.maturity or score is None:
            return None, None
        labels = self.scale.labels
        if self.bands_are_levels:
            i = labels.index(self.band(score) or labels[0])
        else:
            i = self.scale.floor_point(score)
        if i is None:
            return None, None
        return self.scale.codes[i], labels[i]


def counts_by_item(instrument: Instrument, counted) -> list[tuple]:
    """Return each item's answers counted per slot, in instrument order.

    ``counted`` holds (cycle_id, item_id, value, count) rows. Answers to
    items outside the snapshot are checked against the scale, then left out.
    """
    scale = instrument.scale
    width = scale.points + 3
    slot_of = scale.slot
    where = instrument.position
    # One flat row of counters: item n's slots start at n * width.
    flat = [0] * (width * len(instrument.items))
    for _, item_id, value, count in counted:
        slot = slot_of.get(value)
        if slot is None:
            scale.check(value, item_id)  # says which answer is not on the scale
        n = where.get(item_id)
        if n is not None:
            flat[n * width + slot] += count
    return [tuple(flat[start : start + width]) for start in range(0, len(flat), width)]


def figure(instrument: Instrument, items: list[dict], head: dict) -> dict:
    """Return the weighted mean of some items' effective scores, and its band.

    Shown only when the share of items with a score reaches the
    instrument's minimum; ``partial_score`` keeps the mean either way.
    """
    total = weights = 0.0
    scored = 0
    for item in items:
        if item["effective"] is not None:
            scored += 1
            weights += item["weight"]
            total += item["weight"] * item["effective"]
    mean = total / weights if weights > 0 else None
    share = scored / len(items) if items else 0.0
    shown = bool(items) and mean is not None and share + EPS >= instrument.min_share
    score = mean if shown else None
    code, label = instrument.level(score)
    return {
        **head,
        "score": score,
        "band": instrument.band(score),
        "shown": shown,
        "answered_share": share,
        "item_count": len(items),
        "scored_count": scored,
        "partial_score": mean,
        "level": label,
        "level_code": code,
    }


def _disagreement(item: dict) -> tuple:
    # Wider ranges first, then lower agreement; items whose ratings are not
    # known (none, or withheld) after those whose ratings are.
    spread = -item["range"] if item["range"] is not None else 1
    agreement = item["rwg"] if item["rwg"] is not None else 2.0
    return spread, agreement


def _entry(item: dict, rank: int, reasons: tuple, actions: tuple) -> dict:
    # A ranked priority or strength: the item, the figures a list repeats,
    # why it is listed and the instrument's suggested actions.
    return {
        "rank": rank,
        "item_id": item["item_id"],
        "section_id": item["section_id"],
        "statement": item["statement"],
        "score": item["score"],
        "effective": item["effective"],
        "agreed_label": item["agreed_label"],
        "median": item["median"],
        "range": item["range"],
        "rwg": item["rwg"],
        "split": item["split"],
        "reasons": reasons,
        "actions": actions,
    }


def priorities(items: list[dict], actions: dict) -> list[dict]:
    """Return the priorities: low-scoring items, lowest first, then split ones.

    Low-scoring items with the same score go by disagreement, then
    instrument order; split items that are not low-scoring follow, widest
    disagreement first. ``actions`` maps an item id to suggested actions.
    """
    low, split = [], []
    for n, item in enumerate(items):
        if item["priority"]:
            low.append((item["effective"], *_disagreement(item), n, item))
        elif item["split"]:
            split.append((*_disagreement(item), n, item))
    low.sort()
    split.sort()
    out = []
    for *_, item in low:
        reasons = LOW_AND_SPLIT if item["split"] else LOW
        out.append(
            _entry(item, len(out) + 1, reasons, actions.get(item["item_id"], ()))
        )
    for *_, item in split:
        out.append(_entry(item, len(out) + 1, SPLIT, actions.get(item["item_id"], ())))
    return out


def strengths(items: list[dict]) -> list[dict]:
    """Return up to three highest-scoring items above the priority threshold.

    Ties go to the item the team agreed on more closely, then to instrument
    order.
    """
    ranked = sorted(
        (-item["effective"], item["range"] or 0, n, item)
        for n, item in enumerate(items)
        if item["effective"] is not None and not item["priority"]
    )
    return [
        _entry(item, rank, (), ())
        for rank, (*_, item) in enumerate(ranked[:STRENGTHS_SHOWN], 1)
    ]


def _maturity(instrument: Instrument, items: list[dict], sections: list[dict]):
    if not instrument.maturity:
        return None
    return {
        "strands": {i["item_id"]: instrument.level(i["effective"])[0] for i in items},
        "dimensions": {
            s["id"]: {
                "score": s["score"],
                "level": s["level"],
                "level_code": s["level_code"],
            }
            for s in sections
        },
    }


def _delta(was, now):
    return None if was is None or now is None else now - was


def _change(instrument: Instrument, scored: dict, previous):
    """Return change since the previous cycle, or None without one.

    Which items compare, and with what, is decided in one place
    (``crosswalk.compare_versions``): by id within a major version, through
    the crosswalk across one. After a restructure only items compare.
    """
    if previous is None:
        return None
    before = Instrument(previous["snapshot"])
    links = compare_versions(before.snapshot, instrument.snapshot)
    crosswalk = links["kind"] == "crosswalk"
    out = {
        "previous_version": before.snapshot.get("version"),
        "comparable": links["kind"] is not None,
        "crosswalk": crosswalk,
        "mapped": links["mapped"],
        "not_comparable": links["not_comparable"],
        "descriptors_changed": links["descriptors_changed"],
        "items": {},
        "sections": {},
        "overall": None,
        "removed_items": [],
    }
    if links["kind"] is None:
        return out
    nothing = counts_by_item(before, ())
    then = _rolled_up(before, nothing, 0, previous.get("agreed") or {}, False)
    was_by_id = {i["item_id"]: i["effective"] for i in then["items"]}
    changed = set(links["descriptors_changed"])
    for item in scored["items"]:
        link = links["items"].get(item["item_id"])
        was = previous_value(link, was_by_id)
        entry = out["items"][item["item_id"]] = {
            "previous": was,
            "current": item["effective"],
            "delta": _delta(was, item["effective"]),
            "new": not crosswalk and link is None,
        }
        if crosswalk:
            entry.update(
                comparable=link is not None,
                how=link["how"] if link else None,
                **{"from": link["from"] if link else []},
            )
        if item["item_id"] in changed:
            entry["descriptors_changed"] = True
    replaced = {
        source["id"]
        for link in links["items"].values()
        if link
        for source in link["from"]
    }
    out["removed_items"] = [
        i["item_id"] for i in before.items if i["item_id"] not in replaced
    ]
    if crosswalk:
        # Sections and the overall score are made of different items after a
        # restructure: only items carried by the crosswalk compare.
        return out
    out["overall"] = {
        "previous": then["overall"]["score"],
        "current": scored["overall"]["score"],
        "delta": _delta(then["overall"]["score"], scored["overall"]["score"]),
        "new": False,
    }
    then_sections = {s["id"]: s for s in then["sections"]}
    for s in scored["sections"]:
        old = then_sections.get(s["id"])
        score_then = old["score"] if old else None
        out["sections"][s["id"]] = {
            "previous": score_then,
            "current": s["score"],
            "delta": _delta(score_then, s["score"]),
            "new": old is None,
        }
    return out


def _rolled_up(instrument, counts, respondents, agreed, provisional) -> dict:
    # Items, sections and overall of one cycle; ``counts`` per item, in order.
    judge = instrument.judge
    items = [
        judge.item(head, given, respondents, agreed.get(head["item_id"]), provisional)
        for head, given in zip(instrument.items, counts, strict=True)
    ]
    sections = [
        figure(
            instrument,
            items[s["start"] : s["end"]],
            {"id": s["id"], "title": s["title"]},
        )
        for s in instrument.sections
    ]
    return {
        "items": items,
        "sections": sections,
        "overall": figure(instrument, items, {}),
    }


def score_cycle_counts(instrument, counts, respondents, agreed, previous) -> dict:
    """Return every figure of one cycle from its answers counted per item."""
    provisional = not agreed
    scored = _rolled_up(instrument, counts, respondents, agreed or {}, provisional)
    items = scored["items"]
    return {
        "provisional": provisional,
        "instrument_id": instrument.snapshot.get("id"),
        "version": instrument.snapshot.get("version"),
        "respondents": respondents,
        **scored,
        "priorities": priorities(items, instrument.actions),
        "strengths": strengths(items),
        "maturity": _maturity(instrument, items, scored["sections"]),
        "change": _change(instrument, scored, previous),
    }


def score_counts(
    snapshot,
    counts_by_cycle,
    respondents_by_cycle,
    agreed_by_cycle,
    *,
    previous_by_cycle=None,
):
    """Return {cycle_id: every figure of the cycle} from answers already counted.

    ``counts_by_cycle`` maps a cycle to its rows of SELECT cycle_id,
    item_id, value, COUNT(*) ... GROUP BY cycle_id, item_id, value, as
    ``group_rows`` leaves them; ``respondents_by_cycle`` maps a cycle to the
    number of people asked to rate (or who answered, if more);
    ``agreed_by_cycle`` to {item id: {"value", "rationale", "deferred"}}
    (none or empty: provisional, item medians stand in for agreed scores);
    ``previous_by_cycle`` to {"snapshot", "agreed"} of the team's previous
    agreed cycle. Every cycle with answers or agreed scores is scored.
    """
    instrument = Instrument(snapshot)
    previous_by_cycle = previous_by_cycle or {}
    cycle_ids = list(counts_by_cycle)
    cycle_ids += [c for c in agreed_by_cycle if c not in counts_by_cycle]
    out = {}
    for cycle_id in cycle_ids:
        respondents = respondents_by_cycle.get(cycle_id) or 0
        out[cycle_id] = score_cycle_counts(
            instrument,
            counts_by_item(instrument, counts_by_cycle.get(cycle_id) or ()),
            respondents,
            agreed_by_cycle.get(cycle_id),
            previous_by_cycle.get(cycle_id),
        )
    return out


def group_rows(rows) -> dict:
    """Group rows whose first column is the cycle id, by cycle.

    The rows of SELECT cycle_id, item_id, value, COUNT(*) ... GROUP BY are
    then ready for ``score_counts``. Rows need not be sorted.
    """
    out: dict = {}
    for cycle_id, run in groupby(rows, lambda row: row[0]):
        out.setdefault(cycle_id, []).extend(run)
    return out
