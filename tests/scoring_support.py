"""Scoring in the tests: the package called with raw answers, and the oracle.

``score_cycle`` feeds the package's ``score_counts`` the way the database
does (answers counted per item and value). ``reference_cycle`` is the slow,
straightforward computation of docs/scoring.md, written apart from the
package, that the property tests compare it with.
"""

import statistics
from collections import Counter

from peerreview.scoring import group_rows, score_counts

EPS = 1e-9


def score_cycle(snapshot, answers, agreed=None, previous=None, *, respondents=None):
    """Return the package's figures for one cycle from {respondent_id, item_id, value}."""
    answers = list(answers)
    counted = Counter((a["item_id"], a["value"]) for a in answers)
    answered = len({a["respondent_id"] for a in answers})
    asked = answered if respondents is None else max(respondents, answered)
    rows = group_rows((1, i, v, n) for (i, v), n in counted.items())
    return score_counts(
        snapshot, rows, {1: asked}, {1: agreed}, previous_by_cycle={1: previous}
    )[1]


def reverse(value, scale):
    """Return a value turned round on a scale: lowest + highest - value."""
    values = [p["value"] for p in scale["points"]]
    return None if value is None else min(values) + max(values) - value


def rwg(positions, points):
    """Return rwg for ratings at positions 1..points, the long way; None below 2."""
    if len(positions) < 2 or points < 2:
        return None
    variance = statistics.variance(positions)
    return max(0.0, 1.0 - variance / ((points * points - 1) / 12))


def item_figures(scale, values):
    """Return an item's rating figures from its answers, with ``statistics``."""
    codes = [p["code"] for p in scale["points"]]
    value_of = {p["code"]: p["value"] for p in scale["points"]}
    rated = [value_of[v] for v in values if v in value_of]
    positions = [codes.index(v) + 1 for v in values if v in value_of]
    out = {
        "n": len(rated),
        "na": values.count("na"),
        "ne": values.count("ne"),
        "unanswered": values.count(None),
        "distribution": [
            {"code": p["code"], "label": p["label"], "count": values.count(p["code"])}
            for p in scale["points"]
        ],
    }
    if not rated:
        return (
            out
            | dict.fromkeys(["median", "mean", "sd", "min", "max", "range", "rwg"])
            | {"split": False}
        )
    spread = max(positions) - min(positions)
    agreement = rwg(positions, len(codes))
    return out | {
        "median": statistics.median(rated),
        "mean": statistics.fmean(rated),
        "sd": statistics.pstdev(rated),
        "min": min(rated),
        "max": max(rated),
        "range": spread,
        "rwg": agreement,
        "split": len(rated) >= 2
        and (spread >= 2 or (agreement is not None and agreement < 0.7)),
    }


def _band(rules, score):
    if score is None:
        return None
    name = None
    for band in sorted(rules.get("bands") or [], key=lambda b: b["min"]):
        if score + EPS >= band["min"]:
            name = band["name"]
    return name


def _weighted(rules, entries):
    """(score shown or None, partial mean) of [(weight, effective or None)]."""
    scored = [(w, e) for w, e in entries if e is not None]
    total = sum(w for w, _ in scored)
    mean = sum(w * e for w, e in scored) / total if total > 0 else None
    share = len(scored) / len(entries) if entries else 0.0
    minimum = rules.get("min_answered_share") or 0.0
    shown = bool(entries) and mean is not None and share + EPS >= minimum
    return (mean if shown else None), mean


def reference_cycle(snapshot, answers, agreed=None, previous=None):
    """Return the figures of docs/scoring.md the long way, keyed plainly.

    {"items": {id: figures}, "sections": {id: (score, partial)},
    "overall": (score, partial), "bands": {id or "overall": band},
    "priorities": [(id, reasons)], "strengths": [id], "change": {...}}.
    """
    scale = snapshot["scale"]
    rules = snapshot.get("scoring") or {}
    threshold = (rules.get("priority") or {}).get("at_or_below")
    value_of = {p["code"]: p["value"] for p in scale["points"]}
    people = sorted({a["respondent_id"] for a in answers})
    provisional = not agreed
    agreed = agreed or {}
    items, order = {}, []
    for section in snapshot["sections"]:
        for item in section["items"]:
            given = {
                a["respondent_id"]: a["value"]
                for a in answers
                if a["item_id"] == item["id"]
            }
            figures = item_figures(scale, [given.get(p) for p in people])
            choice = agreed.get(item["id"]) or {}
            if provisional:
                score = figures["median"]
            elif choice.get("deferred"):
                score = None
            else:
                score = value_of.get(choice.get("value"))
            effective = reverse(score, scale) if item.get("reverse") else score
            figures.update(
                section_id=section["id"],
                weight=item.get("weight", 1.0) or 1.0,
                score=score,
                effective=effective,
                priority=effective is not None
                and threshold is not None
                and effective <= threshold + EPS,
            )
            items[item["id"]] = figures
            order.append(item["id"])
    sections = {
        s["id"]: _weighted(
            rules,
            [
                (items[i["id"]]["weight"], items[i["id"]]["effective"])
                for i in s["items"]
            ],
        )
        for s in snapshot["sections"]
    }
    overall = _weighted(rules, [(f["weight"], f["effective"]) for f in items.values()])
    bands = {sid: _band(rules, score) for sid, (score, _) in sections.items()}
    bands["overall"] = _band(rules, overall[0])

    def disagreement(item_id):
        f = items[item_id]
        return (
            -f["range"] if f["range"] is not None else 1,
            f["rwg"] if f["rwg"] is not None else 2.0,
            order.index(item_id),
        )

    low = sorted(
        (i for i in order if items[i]["priority"]),
        key=lambda i: (items[i]["effective"], *disagreement(i)),
    )
    split = sorted(
        (i for i in order if items[i]["split"] and not items[i]["priority"]),
        key=disagreement,
    )
    priorities = [
        (i, ("low score", "split") if items[i]["split"] else ("low score",))
        for i in low
    ] + [(i, ("split",)) for i in split]
    strengths = sorted(
        (
            i
            for i in order
            if items[i]["effective"] is not None and not items[i]["priority"]
        ),
        key=lambda i: (-items[i]["effective"], items[i]["range"] or 0, order.index(i)),
    )[:3]
    change = None
    if previous is not None:
        before = reference_cycle(previous["snapshot"], [], previous["agreed"])
        change = {
            "items": {
                i: None
                if i not in before["items"]
                or before["items"][i]["effective"] is None
                or items[i]["effective"] is None
                else items[i]["effective"] - before["items"][i]["effective"]
                for i in order
            },
            "overall": None
            if before["overall"][0] is None or overall[0] is None
            else overall[0] - before["overall"][0],
        }
    return {
        "items": items,
        "sections": sections,
        "overall": overall,
        "bands": bands,
        "priorities": priorities,
        "strengths": strengths,
        "change": change,
    }
