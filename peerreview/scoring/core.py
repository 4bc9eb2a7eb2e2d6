"""Score a cycle: per item, per section, overall, priorities and change.

Plain functions that take data and return data; no Flask, no database. The
method is explained for school leaders in ``docs/scoring.md``: keep the two
in step.

Two scales of figure appear side by side:

* the *raw* scale is what people chose. Every per-item statistic (median,
  mean, sd, min, max, range, rwg) is on the raw scale.
* the *effective* value turns a reverse item round (``min + max - value``) so
  that a higher value is always better. Roll-ups, bands, priorities,
  strengths, maturity levels and change are on effective values.

"Not applicable" (``na``) and "No evidence yet" (``ne``) are counted apart
and never count as numbers; neither does a missing answer (``None``).
"""

import gc
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from itertools import groupby
from math import sqrt
from operator import itemgetter
from types import MappingProxyType

from .crosswalk import compare_versions, previous_value

NOT_APPLICABLE = "na"
NO_EVIDENCE = "ne"
SPECIAL_LABELS = {NOT_APPLICABLE: "Not applicable", NO_EVIDENCE: "No evidence yet"}

# An item is split when ratings span two or more scale steps or when the
# agreement index falls below this.
SPLIT_RWG = 0.7
REASON_LOW = "low score"
REASON_SPLIT = "split"
_ENTRY_FIGURES = (
    "score",
    "effective",
    "agreed_label",
    "median",
    "range",
    "rwg",
    "split",
)
_LOW = (REASON_LOW,)
_LOW_SPLIT = (REASON_LOW, REASON_SPLIT)
_SPLIT = (REASON_SPLIT,)
STRENGTHS_SHOWN = 3
# Guards comparisons of computed means against thresholds from the file.
_EPS = 1e-9


class _Scale:
    """Lookups for one scale, built once per snapshot."""

    def __init__(self, scale):
        points = scale.get("points") or []
        if not points:
            raise ValueError("scale has no points")
        self.kind = scale.get("kind")
        self.codes = [str(p["code"]) for p in points]
        self.values = [float(p["value"]) for p in points]
        self.labels = [p.get("label", str(p["code"])) for p in points]
        if len(set(self.codes)) != len(self.codes):
            raise ValueError("scale point codes are not unique")
        if any(c in SPECIAL_LABELS for c in self.codes):
            raise ValueError("'na' and 'ne' cannot be scale point codes")
        if any(b <= a for a, b in zip(self.values, self.values[1:], strict=False)):
            raise ValueError("scale points must be ordered low to high by value")
        a = self.points = len(points)
        # Counting slots: points 0..A-1, then na, ne, unanswered.
        self.slot = {code: i for i, code in enumerate(self.codes)}
        self.slot[NOT_APPLICABLE] = a
        self.slot[NO_EVIDENCE] = a + 1
        self.slot[None] = a + 2
        self.value_of = dict(zip(self.codes, self.values, strict=True))
        self.label_of = dict(zip(self.codes, self.labels, strict=True))
        self.label_of.update(SPECIAL_LABELS)
        self.lo = self.values[0]
        self.hi = self.values[-1]
        self.rwg_expected = (a * a - 1) / 12.0
        # Rating patterns repeat a great deal across items and teams (8 raters
        # on 5 points make ~1,300 patterns), so statistics are memoised per
        # pattern of counts.
        self.cache = {}
        self.judged = {}

    def count(self, values, item_id=None, missing=0):
        """Return counts per slot (points, then na, ne, unanswered)."""
        counts = [0] * (self.points + 3)
        slot = self.slot
        try:
            for v in values:
                counts[slot[v]] += 1
        except KeyError:
            bad = next(v for v in values if v not in slot)
            raise ValueError(
                f"answer {bad!r} to item {item_id!r} is not on the scale"
            ) from None
        if missing > 0:
            counts[-1] += missing
        return tuple(counts)

    def stats(self, counts):
        """Return (statistics, distribution) for a pattern of counts.

        Memoised; both are shared, so callers copy before handing them out.
        """
        found = self.cache.get(counts)
        if found is None:
            found = self.cache[counts] = self._stats(counts)
        return found

    def _stats(self, counts):
        a = self.points
        values = self.values
        n = 0
        total = 0.0
        total_i = 0
        first = last = None
        for i in range(a):
            c = counts[i]
            if c:
                n += c
                total += c * values[i]
                total_i += c * i
                if first is None:
                    first = i
                last = i
        distribution = tuple(
            MappingProxyType(
                {"code": self.codes[i], "label": self.labels[i], "count": counts[i]}
            )
            for i in range(a)
        )
        out = {
            "n": n,
            "na": counts[a],
            "ne": counts[a + 1],
            "unanswered": counts[a + 2],
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
            return out, distribution
        mean = total / n
        mean_i = total_i / n
        ss = ss_i = 0.0
        for i in range(first, last + 1):
            c = counts[i]
            if c:
                d = values[i] - mean
                ss += c * d * d
                di = i - mean_i
                ss_i += c * di * di
        spread = last - first
        agreement = None
        if n >= 2:
            agreement = _rwg_from_variance(ss_i / (n - 1), self.rwg_expected)
        out.update(
            median=_median_from_counts(counts, values, n),
            mean=mean,
            sd=sqrt(ss / n),
            min=values[first],
            max=values[last],
            range=spread,
            rwg=agreement,
            split=n >= 2 and (spread >= 2 or agreement < SPLIT_RWG),
        )
        return out, distribution

    def reverse(self, value):
        """Return the value seen from the other end of the scale."""
        return self.lo + self.hi - value

    def floor_point(self, value):
        """Return the index of the highest point at or below ``value``."""
        found = None
        for i, v in enumerate(self.values):
            if v <= value + _EPS:
                found = i
        return found


def _median_from_counts(counts, values, n):
    # The middle rating, or the mean of the two middle ratings for an even n.
    lo_rank = (n - 1) // 2
    hi_rank = n // 2
    seen = 0
    lo_value = None
    for i, v in enumerate(values):
        seen += counts[i]
        if lo_value is None and seen > lo_rank:
            lo_value = v
        if seen > hi_rank:
            return (lo_value + v) / 2.0
    raise AssertionError("unreachable: n counts but no median")


def _rwg_from_variance(variance, expected):
    if expected <= 0:
        return None
    return max(0.0, 1.0 - variance / expected)


def rwg(indices, points):
    """Return the agreement index rwg for ratings at point positions 1..points.

    rwg = 1 - s² / ((A² - 1) / 12), where s² is the sample variance (n - 1
    denominator, as in James, Demaree and Wolf, 1984) of the positions and
    (A² - 1) / 12 the variance of a uniform "no agreement" spread over A
    points. Floored at 0. None with fewer than two ratings or fewer than two
    points.
    """
    n = len(indices)
    if n < 2 or points < 2:
        return None
    mean = sum(indices) / n
    variance = sum((i - mean) ** 2 for i in indices) / (n - 1)
    return _rwg_from_variance(variance, (points * points - 1) / 12.0)


class _Plan:
    """Everything about a snapshot that does not depend on a team's answers."""

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.scale = _Scale(snapshot["scale"])
        rules = snapshot.get("scoring") or {}
        priority = rules.get("priority") or {}
        self.at_or_below = priority.get("at_or_below")
        self.min_share = rules.get("min_answered_share") or 0.0
        self.bands = sorted(rules.get("bands") or [], key=lambda b: b["min"])
        self.band_mins = [b["min"] for b in self.bands]
        self.band_names = [b["name"] for b in self.bands]
        self.maturity = self.scale.kind == "maturity"
        self.bands_are_levels = (
            self.maturity
            and bool(self.band_names)
            and all(name in self.scale.labels for name in self.band_names)
        )
        actions = {}
        for action in snapshot.get("actions") or []:
            for item_id in action.get("items") or []:
                actions.setdefault(item_id, []).append(action["text"])
        self.sections = []
        self.items = []
        seen = set()
        for number, section in enumerate(snapshot.get("sections") or []):
            first = len(self.items)
            for item in section.get("items") or []:
                if item["id"] in seen:
                    raise ValueError(f"item id {item['id']!r} appears twice")
                seen.add(item["id"])
                self.items.append(
                    _ItemPlan(item, section["id"], number, actions.get(item["id"]))
                )
            self.sections.append((section, first, len(self.items)))
        self.by_id = {p.id: p for p in self.items}
        self.section_heads = [
            {"id": section["id"], "title": section.get("title")}
            for section, _, _ in self.sections
        ]
        # Every (item id, answer) pair, in instrument order, one per slot:
        # a team's answers are tallied against these in one pass.
        slots = self.slots = self.scale.points + 3
        by_slot = sorted(self.scale.slot.items(), key=itemgetter(1))
        pairs = [(p.id, code) for p in self.items for code, _ in by_slot]
        # {item id: {answer: position of its counter}}
        self.slot_at = {}
        for i, (item_id, code) in enumerate(pairs):
            self.slot_at.setdefault(item_id, {})[code] = i
        self.zeros = [0] * len(pairs)
        self.no_counts = [(0,) * slots] * len(self.items)
        # Figures memoised per (counts, agreed code, deferred, reverse,
        # provisional); item-independent, so shared by every team.
        self.memo = {}

    def band(self, score):
        """Return the name of the last band whose min is at or below score."""
        if score is None:
            return None
        i = bisect_right(self.band_mins, score + _EPS)
        return self.band_names[i - 1] if i else None

    def level(self, score):
        """Return (code, label) of the maturity level of a score.

        Where the instrument's bands are its levels (every band is named after
        a level, as in the partnership maturity model), the level is the
        score's band: one rule for both, so a row never shows band
        "Embedding" beside level "Developing". Otherwise, the highest level
        at or below the score.
        """
        if not self.maturity or score is None:
            return None, None
        if self.bands_are_levels:
            i = self.scale.labels.index(self.band(score) or self.scale.labels[0])
        else:
            i = self.scale.floor_point(score)
        if i is None:
            return None, None
        return self.scale.codes[i], self.scale.labels[i]


class _ItemPlan:
    __slots__ = (
        "actions",
        "head",
        "id",
        "reverse",
        "section",
        "section_id",
        "static",
        "statement",
        "tags",
        "weight",
    )

    def __init__(self, item, section_id, section, actions):
        self.id = item["id"]
        self.section_id = section_id
        self.section = section
        self.statement = item.get("statement", "")
        weight = item.get("weight", 1.0)
        self.weight = 1.0 if weight is None else float(weight)
        self.reverse = bool(item.get("reverse", False))
        self.tags = tuple(item.get("tags") or ())
        self.actions = tuple(actions or ())
        self.static = {
            "item_id": self.id,
            "section_id": section_id,
            "statement": self.statement,
            "weight": self.weight,
            "reverse": self.reverse,
            "tags": self.tags,
        }
        self.head = {
            "item_id": self.id,
            "section_id": section_id,
            "statement": self.statement,
        }


def prepare(snapshot):
    """Return the per-snapshot lookups; pass the result to the scoring calls."""
    return snapshot if isinstance(snapshot, _Plan) else _Plan(snapshot)


def effective_value(value, scale, reverse):
    """Return ``value`` turned round for a reverse item (min + max - value)."""
    if value is None or not reverse:
        return value
    s = scale if isinstance(scale, _Scale) else _Scale(scale)
    return s.reverse(value)


def _resolve_agreed(scale, item_id, code):
    # (agreed_value, agreed_label) for a recorded code.
    if code is None:
        return None, None
    label = scale.label_of.get(code)
    if label is None:
        raise ValueError(
            f"agreed value {code!r} for item {item_id!r} is not on the scale"
        )
    return scale.value_of.get(code), label


def _judged(scale, item_id, counts, code, deferred, reverse, provisional, at_or_below):
    # Statistics plus everything that follows from the agreed code; depends
    # on no other property of the item, so it is memoised per combination.
    key = (counts, code, deferred, reverse, provisional, at_or_below)
    found = scale.judged.get(key)
    if found is not None:
        return found
    stats, distribution = scale.stats(counts)
    value, label = _resolve_agreed(scale, item_id, code)
    if provisional:
        score = stats["median"]
    else:
        # A deferred item has no agreed score yet, whatever was typed.
        score = None if deferred else value
    effective = score
    if score is not None and reverse:
        effective = scale.lo + scale.hi - score
    out = dict(stats)
    out.update(
        agreed_value=value,
        agreed_code=code,
        agreed_label=label,
        deferred=deferred,
        score=score,
        effective=effective,
        priority=effective is not None
        and at_or_below is not None
        and effective <= at_or_below + _EPS,
    )
    found = scale.judged[key] = (out, distribution)
    return found


def _agreed_parts(a):
    # (code, deferred, rationale) of one agreed-score mapping, or of None.
    if not a:
        return None, False, ""
    return a.get("value"), bool(a.get("deferred")), a.get("rationale") or ""


def _item_result(p, scale, counts, agreed, provisional, at_or_below):
    # One item's result dict: its memoised template, filled in for the item.
    code, deferred, rationale = _agreed_parts(agreed)
    key = (counts, sum(counts), code, deferred, p.reverse, provisional)
    out = _template(scale, p.id, key, at_or_below)[0] | p.static
    out["rationale"] = rationale
    return out


def score_item(item, scale, values, agreed=None, *, scoring=None, provisional=None):
    """Return the figures for one item from its ratings and agreed score.

    ``values`` holds one answer per respondent: a point code, "na", "ne" or
    None. ``agreed`` is {"value", "rationale", "deferred"} or None.
    ``scoring`` is the snapshot's "scoring" block (for the priority rule).
    ``provisional`` defaults to "no agreed score given": the median then
    stands in for the agreed value in ``score``, ``effective`` and
    ``priority``.
    """
    s = scale if isinstance(scale, _Scale) else _Scale(scale)
    if provisional is None:
        provisional = agreed is None
    at_or_below = ((scoring or {}).get("priority") or {}).get("at_or_below")
    plan_item = _ItemPlan(item, None, None, None)
    counts = s.count(values, item["id"])
    return _item_result(plan_item, s, counts, agreed, provisional, at_or_below)


_BY_KEY = (
    itemgetter("respondent_id"),
    itemgetter("item_id", "value"),
)
_CYCLE = _FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_BY_POSITION = {
    3: (itemgetter(0), itemgetter(1, 2)),
    4: (itemgetter(1), itemgetter(2, 3)),
}


def _tally(plan, answers):
    """Return (a tuple of counts per slot for each item, number of respondents).

    Accepts mappings, (respondent_id, item_id, value) rows, or the rows of
    SELECT cycle_id, respondent_id, item_id, value. Answers to items outside
    the snapshot are checked against the scale, then left out.
    """
    if not answers:
        return plan.no_counts, 0
    first = answers[0]
    if isinstance(first, dict):
        who, pair = _BY_KEY
    else:
        who, pair = _BY_POSITION[len(first)]
    # Counter and itemgetter do the per-answer work in C; Python then walks
    # only the distinct (item, value) pairs, about 100 per team.
    respondents = len(set(map(who, answers)))
    counted = Counter(map(pair, answers))
    pairs = counted.keys()
    triples = zip(
        map(_FIRST, pairs), map(_SECOND, pairs), counted.values(), strict=True
    )
    return _per_item(plan, triples), respondents


def _per_item(plan, counted):
    """Return a tuple of counts per slot for each item, in instrument order.

    ``counted`` gives (item_id, value, count) triples, each (item, value)
    once. Answers to items outside the snapshot are checked against the
    scale, then left out.
    """
    flat = plan.zeros[:]
    slot_at = plan.slot_at
    for item_id, value, n in counted:
        i = slot_at.get(item_id, _NO_SLOTS).get(value)
        if i is None:
            if value not in plan.scale.slot:
                raise ValueError(
                    f"answer {value!r} to item {item_id!r} is not on the scale"
                )
            continue
        flat[i] += n
    return list(zip(*[iter(flat)] * plan.slots, strict=True))


_NO_SLOTS = {}
_COUNTED = itemgetter(1, 2, 3)


def _template(scale, item_id, key, at_or_below):
    # The whole result dict for one memo key, with the per-item and per-team
    # entries left as placeholders in their final order, plus the figures
    # the roll-ups and priorities read.
    given, respondents, code, deferred, reverse, provisional = key
    # Respondents with no row at all for the item have not answered it.
    counts = list(given)
    missing = respondents - sum(given)
    if missing > 0:
        counts[-1] += missing
    counts = tuple(counts)
    judged, distribution = _judged(
        scale, item_id, counts, code, deferred, reverse, provisional, at_or_below
    )
    template = {
        "item_id": None,
        "section_id": None,
        "statement": None,
        "weight": None,
        "reverse": reverse,
        **judged,
        "rationale": None,
        "tags": None,
        "distribution": distribution,
    }
    rng = judged["range"]
    agreement = judged["rwg"]
    order_key = (
        -1 if rng is None else -rng,
        2.0 if agreement is None else agreement,
    )
    # What a priority or strength entry repeats of the item's figures.
    figures = {key: judged[key] for key in _ENTRY_FIGURES}
    return (
        template,
        judged["effective"],
        judged["priority"],
        judged["split"],
        order_key,
        0 if rng is None else rng,
        figures,
    )


def _score_items(plan, per_item, respondents, agreed, provisional):
    """Return (items, sections, overall, priorities, strengths).

    The hot loop of score_many: one pass over the items in instrument order
    fills each result from a memoised template and gathers what the
    roll-ups, priorities and strengths need.
    """
    scale = plan.scale
    at_or_below = plan.at_or_below
    memo = plan.memo
    get_agreed = agreed.get
    k = len(plan.sections)
    total = [0.0] * k
    weights = [0.0] * k
    scored = [0] * k
    low = []
    split = []
    ranked = []
    results = []
    append = results.append
    chosen = []
    keep = chosen.append
    for order, (p, given) in enumerate(zip(plan.items, per_item, strict=True)):
        # _agreed_parts, written out: this loop runs once per item per team.
        a = get_agreed(p.id)
        if a:
            code = a.get("value")
            deferred = bool(a.get("deferred"))
            rationale = a.get("rationale") or ""
        else:
            code, deferred, rationale = None, False, ""
        key = (given, respondents, code, deferred, p.reverse, provisional)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _template(scale, p.id, key, at_or_below)
        keep(found)
        template, e, priority, is_split, order_key, rng, _ = found
        out = template | p.static
        out["rationale"] = rationale
        append(out)
        if e is not None:
            i = p.section
            scored[i] += 1
            total[i] += p.weight * e
            weights[i] += p.weight
            if priority:
                low.append((e, *order_key, order))
            else:
                ranked.append((-e, rng, order))
        if is_split and not priority:
            split.append((*order_key, order))
    sections = [
        _figure(
            plan,
            total[i],
            weights[i],
            scored[i],
            end - start,
            head,
        )
        for i, (head, (_, start, end)) in enumerate(
            zip(plan.section_heads, plan.sections, strict=True)
        )
    ]
    overall = _figure(plan, sum(total), sum(weights), sum(scored), len(plan.items), {})
    low.sort()
    split.sort()
    ranked.sort()
    items = plan.items
    priorities = []
    add = priorities.append
    for rank, t in enumerate(low, 1):
        order = t[-1]
        reasons = _LOW_SPLIT if chosen[order][3] else _LOW
        add(_entry(items[order], chosen[order][-1], rank, reasons))
    for rank, t in enumerate(split, len(priorities) + 1):
        order = t[-1]
        add(_entry(items[order], chosen[order][-1], rank, _SPLIT))
    strengths = [
        _entry(items[t[-1]], chosen[t[-1]][-1], i + 1, ())
        for i, t in enumerate(ranked[:STRENGTHS_SHOWN])
    ]
    return results, sections, overall, priorities, strengths


def _figure(plan, total, weights, scored, count, head):
    # A weighted mean, shown only when enough items carry a value; returned
    # after the entries of ``head``.
    mean = total / weights if weights > 0 else None
    share = scored / count if count else 0.0
    shown = count > 0 and mean is not None and share + _EPS >= plan.min_share
    score = mean if shown else None
    code, label = plan.level(score)
    return {
        **head,
        "score": score,
        "band": plan.band(score),
        "shown": shown,
        "answered_share": share,
        "item_count": count,
        "scored_count": scored,
        "partial_score": mean,
        "level": label,
        "level_code": code,
    }


def _entry(p, figures, rank, reasons):
    # A ranked priority or strength: the item, its figures, why it is listed.
    return {
        "rank": rank,
        **p.head,
        **figures,
        "reasons": reasons,
        "actions": p.actions,
    }


def _maturity(plan, results, sections):
    if not plan.maturity:
        return None
    strands = {}
    for p, r in zip(plan.items, results, strict=True):
        strands[p.id] = plan.level(r["effective"])[0]
    dimensions = {
        s["id"]: {
            "score": s["score"],
            "level": s["level"],
            "level_code": s["level_code"],
        }
        for s in sections
    }
    return {"strands": strands, "dimensions": dimensions}


def _delta(was, now):
    return None if was is None or now is None else now - was


def _change(plan, results, sections, overall, previous):
    if previous is None:
        return None
    prev_plan = prepare(previous["snapshot"])
    prev_snap = prev_plan.snapshot
    # Which items compare, and with what: one place (scoring/crosswalk.py).
    links = compare_versions(prev_snap, plan.snapshot)
    crosswalk = links["kind"] == "crosswalk"
    out = {
        "previous_version": prev_snap.get("version"),
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
    prev_results, prev_sections, prev_overall, *_ = _score_items(
        prev_plan, prev_plan.no_counts, 0, previous.get("agreed") or {}, False
    )
    prev_effective = {
        p.id: r["effective"] for p, r in zip(prev_plan.items, prev_results, strict=True)
    }
    changed = set(links["descriptors_changed"])
    for p, r in zip(plan.items, results, strict=True):
        now = r["effective"]
        link = links["items"].get(p.id)
        was = previous_value(link, prev_effective)
        entry = out["items"][p.id] = {
            "previous": was,
            "current": now,
            "delta": _delta(was, now),
            "new": not crosswalk and link is None,
        }
        if crosswalk:
            entry.update(
                comparable=link is not None,
                how=link["how"] if link else None,
                **{"from": link["from"] if link else []},
            )
        if p.id in changed:
            entry["descriptors_changed"] = True
    replaced = {
        s["id"] for link in links["items"].values() if link for s in link["from"]
    }
    out["removed_items"] = [p.id for p in prev_plan.items if p.id not in replaced]
    if crosswalk:
        # Sections and the overall score are made of different items after a
        # restructure: only items carried by the crosswalk compare.
        return out
    out["overall"] = {
        "previous": prev_overall["score"],
        "current": overall["score"],
        "delta": _delta(prev_overall["score"], overall["score"]),
        "new": False,
    }
    prev_by_id = {s["id"]: s for s in prev_sections}
    for s in sections:
        before = prev_by_id.get(s["id"])
        was = before["score"] if before else None
        out["sections"][s["id"]] = {
            "previous": was,
            "current": s["score"],
            "delta": _delta(was, s["score"]),
            "new": before is None,
        }
    return out


def _score(plan, per_item, respondents, agreed, previous):
    provisional = not agreed
    results, sections, overall, priorities, strengths = _score_items(
        plan, per_item, respondents, agreed or {}, provisional
    )
    return {
        "provisional": provisional,
        "instrument_id": plan.snapshot.get("id"),
        "version": plan.snapshot.get("version"),
        "respondents": respondents,
        "items": results,
        "sections": sections,
        "overall": overall,
        "priorities": priorities,
        "strengths": strengths,
        "maturity": _maturity(plan, results, sections),
        "change": _change(plan, results, sections, overall, previous),
    }


def score_cycle(snapshot, answers, agreed=None, previous=None, *, respondents=None):
    """Return every figure for one cycle.

    ``answers`` is a list of {"respondent_id", "item_id", "value"};
    ``agreed`` maps item id to {"value", "rationale", "deferred"}. With no
    agreed scores (None or empty) the result is provisional: item medians
    stand in for agreed values. ``previous`` is {"snapshot", "agreed"} of
    the team's previous agreed cycle of the same instrument. ``respondents``
    is the number invited; by default, the number who gave any answer.
    """
    plan = prepare(snapshot)
    per_item, answered_by = _tally(plan, list(answers))
    count = answered_by if respondents is None else max(respondents, answered_by)
    return _score(plan, per_item, count, agreed, previous)


@contextmanager
def _collector_paused():
    # Scoring builds hundreds of thousands of small dicts and lists, none in
    # a reference cycle; the cyclic collector would rescan them again and
    # again (it doubled the time of a 500-team run). Reference counting
    # still frees everything; the previous state is restored.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def score_many(
    snapshot,
    answers_by_cycle,
    agreed_by_cycle,
    *,
    previous_by_cycle=None,
    respondents_by_cycle=None,
):
    """Return {cycle_id: score_cycle(...)} for many cycles of one snapshot.

    An answer may be a mapping with "respondent_id", "item_id" and "value",
    a (respondent_id, item_id, value) row, or a row of ``SELECT cycle_id,
    respondent_id, item_id, value`` as ``group_rows`` leaves it.
    ``respondents_by_cycle`` gives the number invited, where known.
    """
    plan = prepare(snapshot)
    invited = respondents_by_cycle or {}

    def tally(cycle_id):
        per_item, count = _tally(plan, answers_by_cycle.get(cycle_id) or [])
        return per_item, max(count, invited.get(cycle_id) or 0)

    return _score_all(plan, answers_by_cycle, tally, agreed_by_cycle, previous_by_cycle)


def score_counts(
    snapshot,
    counts_by_cycle,
    respondents_by_cycle,
    agreed_by_cycle,
    *,
    previous_by_cycle=None,
):
    """Return {cycle_id: score_cycle(...)} from answers already counted.

    The same figures as ``score_many``, from what a database can count
    instead of every answer: ``counts_by_cycle`` maps a cycle to its rows
    of SELECT cycle_id, item_id, value, COUNT(*) ... GROUP BY cycle_id,
    item_id, value, as ``group_rows`` leaves them; ``respondents_by_cycle``
    maps a cycle to the number of people who answered anything (or were
    invited, if more).
    """
    plan = prepare(snapshot)

    def tally(cycle_id):
        counted = counts_by_cycle.get(cycle_id)
        per_item = (
            _per_item(plan, map(_COUNTED, counted)) if counted else plan.no_counts
        )
        return per_item, respondents_by_cycle.get(cycle_id) or 0

    return _score_all(plan, counts_by_cycle, tally, agreed_by_cycle, previous_by_cycle)


def _score_all(plan, given_by_cycle, tally, agreed_by_cycle, previous_by_cycle):
    # Every cycle with answers or agreed scores, each tallied by tally(id).
    previous_by_cycle = previous_by_cycle or {}
    cycle_ids = list(given_by_cycle)
    cycle_ids.extend(c for c in agreed_by_cycle if c not in given_by_cycle)
    out = {}
    with _collector_paused():
        for cycle_id in cycle_ids:
            per_item, respondents = tally(cycle_id)
            out[cycle_id] = _score(
                plan,
                per_item,
                respondents,
                agreed_by_cycle.get(cycle_id),
                previous_by_cycle.get(cycle_id),
            )
    return out


def group_rows(rows):
    """Group rows whose first column is the cycle id, by cycle.

    The rows of SELECT cycle_id, respondent_id, item_id, value are then
    ready for ``score_many``, and those of SELECT cycle_id, item_id, value,
    COUNT(*) ... GROUP BY for ``score_counts``. The rows themselves are kept
    (no copy). Rows need not be sorted, but runs of one cycle (as an index
    scan returns them) are moved in one step.
    """
    out = {}
    get = out.get
    for cycle_id, run in groupby(rows, _CYCLE):
        bucket = get(cycle_id)
        if bucket is None:
            out[cycle_id] = list(run)
        else:
            bucket.extend(run)
    return out
