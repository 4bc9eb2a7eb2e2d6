"""Properties every scoring result must keep, whatever the ratings."""

import statistics
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerreview.scoring import (
    effective_value,
    group_rows,
    rwg,
    score_counts,
    score_cycle,
    score_item,
    score_many,
)

FAST = settings(max_examples=150, deadline=None)
SPECIAL = ["na", "ne", None]


@st.composite
def scales(draw):
    """Draw a scale of 2 to 7 points with strictly increasing values."""
    size = draw(st.integers(min_value=2, max_value=7))
    values = sorted(
        draw(
            st.lists(
                st.integers(min_value=-20, max_value=40),
                min_size=size,
                max_size=size,
                unique=True,
            )
        )
    )
    step = draw(st.sampled_from([1.0, 0.5, 0.25]))
    return {
        "kind": "custom",
        "points": [
            {"code": f"p{i}", "value": v * step, "label": f"Point {i}"}
            for i, v in enumerate(values)
        ],
    }


def codes(scale):
    return [p["code"] for p in scale["points"]]


def answer_values(scale, min_size=0):
    return st.lists(
        st.sampled_from(codes(scale) + SPECIAL), min_size=min_size, max_size=12
    )


def bounds(scale):
    values = [p["value"] for p in scale["points"]]
    return min(values), max(values)


def inside(x, scale):
    lo, hi = bounds(scale)
    return x is None or lo - 1e-9 <= x <= hi + 1e-9


@st.composite
def scale_and_values(draw):
    scale = draw(scales())
    return scale, draw(answer_values(scale))


@st.composite
def cycles(draw):
    """Draw a snapshot, a team's answers and perhaps agreed scores."""
    scale = draw(scales())
    sections = []
    number = 0
    for s in range(draw(st.integers(min_value=1, max_value=3))):
        items = []
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            number += 1
            items.append(
                {
                    "id": f"i{number}",
                    "statement": "",
                    "weight": draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])),
                    "reverse": draw(st.booleans()),
                }
            )
        sections.append({"id": f"s{s}", "title": "", "items": items})
    snap = {
        "id": "prop",
        "version": "1.0.0",
        "scale": scale,
        "sections": sections,
        "scoring": {
            "bands": [{"name": "low", "min": bounds(scale)[0]}],
            "priority": {"at_or_below": scale["points"][1]["value"]},
            "min_answered_share": draw(st.sampled_from([0.0, 0.5, 1.0])),
        },
    }
    item_ids = [i["id"] for s in sections for i in s["items"]]
    raters = draw(st.integers(min_value=1, max_value=6))
    choices = codes(scale) + SPECIAL
    answers = [
        {"respondent_id": r, "item_id": i, "value": draw(st.sampled_from(choices))}
        for r in range(1, raters + 1)
        for i in item_ids
    ]
    agreed = None
    if draw(st.booleans()):
        agreed = {
            i: {
                "value": draw(st.sampled_from(choices)),
                "rationale": "",
                "deferred": draw(st.booleans()),
            }
            for i in item_ids
        }
    return snap, answers, agreed


@FAST
@given(scale_and_values())
def test_item_figures_stay_inside_the_scale(case):
    scale, values = case
    r = score_item({"id": "a"}, scale, values)
    for key in ("median", "mean", "min", "max", "score", "effective"):
        assert inside(r[key], scale), key
    assert r["n"] + r["na"] + r["ne"] + r["unanswered"] == len(values)
    if r["n"]:
        assert r["min"] <= r["median"] <= r["max"]
        assert r["min"] - 1e-9 <= r["mean"] <= r["max"] + 1e-9
        assert r["sd"] >= 0
        assert 0 <= r["range"] < len(scale["points"])


@FAST
@given(cycles())
def test_cycle_figures_stay_inside_the_scale(case):
    snap, answers, agreed = case
    result = score_cycle(snap, answers, agreed)
    scale = snap["scale"]
    for r in result["items"]:
        for key in ("median", "mean", "score", "effective", "agreed_value"):
            assert inside(r[key], scale), key
    for figure in [*result["sections"], result["overall"]]:
        assert inside(figure["score"], scale)
        assert inside(figure["partial_score"], scale)
        assert 0 <= figure["answered_share"] <= 1


@FAST
@given(cycles(), st.randoms(use_true_random=False))
def test_permuting_raters_changes_nothing(case, rng):
    snap, answers, agreed = case
    ids = sorted({a["respondent_id"] for a in answers})
    renamed = dict(zip(ids, rng.sample(ids, len(ids)), strict=True))
    shuffled = [
        {**a, "respondent_id": renamed[a["respondent_id"]] + 100} for a in answers
    ]
    rng.shuffle(shuffled)
    assert score_cycle(snap, shuffled, agreed) == score_cycle(snap, answers, agreed)


@FAST
@given(scale_and_values(), st.randoms(use_true_random=False))
def test_permuting_values_changes_nothing_for_an_item(case, rng):
    scale, values = case
    shuffled = list(values)
    rng.shuffle(shuffled)
    assert score_item({"id": "a"}, scale, shuffled) == score_item(
        {"id": "a"}, scale, values
    )


@FAST
@given(scales(), st.data())
def test_reversing_twice_is_identity(scale, data):
    value = data.draw(st.sampled_from([p["value"] for p in scale["points"]]))
    once = effective_value(value, scale, reverse=True)
    assert inside(once, scale)
    assert effective_value(once, scale, reverse=True) == pytest.approx(value)


@FAST
@given(
    st.integers(min_value=2, max_value=9),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=2, max_value=20),
)
def test_rwg_is_one_when_all_agree(points, position, raters):
    position = min(position, points)
    assert rwg([position] * raters, points) == 1.0


@FAST
@given(st.integers(min_value=2, max_value=9), st.data())
def test_rwg_within_zero_and_one(points, data):
    indices = data.draw(
        st.lists(st.integers(min_value=1, max_value=points), min_size=2, max_size=30)
    )
    value = rwg(indices, points)
    assert 0.0 <= value <= 1.0


@FAST
@given(scale_and_values())
def test_item_rwg_matches_rwg_on_positions(case):
    scale, values = case
    position = {p["code"]: i for i, p in enumerate(scale["points"], start=1)}
    indices = [position[v] for v in values if v in position]
    got = score_item({"id": "a"}, scale, values)["rwg"]
    expected = rwg(indices, len(scale["points"]))
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-9)


def plain_item_figures(scale, values):
    """Return an item's rating figures the long way, with ``statistics``."""
    codes_ = [p["code"] for p in scale["points"]]
    value_of = {p["code"]: p["value"] for p in scale["points"]}
    rated = [value_of[v] for v in values if v in value_of]
    positions = [codes_.index(v) + 1 for v in values if v in value_of]
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
        return out | dict.fromkeys(["median", "mean", "sd", "min", "max", "range"])
    spread = max(positions) - min(positions)
    agreement = rwg(positions, len(codes_))
    return out | {
        "median": statistics.median(rated),
        "mean": statistics.fmean(rated),
        "sd": statistics.pstdev(rated),
        "min": min(rated),
        "max": max(rated),
        "range": spread,
        "rwg": agreement,
        "split": len(rated) >= 2 and (spread >= 2 or agreement < 0.7),
    }


@FAST
@given(cycles(), st.integers(min_value=1, max_value=4), st.data())
def test_score_many_matches_plain_figures_for_many_teams(case, teams, data):
    # score_many memoises figures across teams and tallies answers through
    # lookups built once per snapshot; every team must still get exactly
    # what score_cycle gives it alone, and every item's figures must match
    # the straightforward computation.
    snap, _, _ = case
    scale = snap["scale"]
    choices = codes(scale) + SPECIAL
    item_ids = [i["id"] for s in snap["sections"] for i in s["items"]]
    rows, agreed_by_cycle = [], {}
    for cycle_id in range(1, teams + 1):
        raters = data.draw(st.integers(min_value=0, max_value=6))
        for r in range(raters):
            for i in item_ids:
                if data.draw(st.booleans()) or r == 0:
                    value = data.draw(st.sampled_from(choices))
                    rows.append((cycle_id, cycle_id * 100 + r, i, value))
        if data.draw(st.booleans()):
            agreed_by_cycle[cycle_id] = {
                i: {
                    "value": data.draw(st.sampled_from(choices)),
                    "rationale": "",
                    "deferred": data.draw(st.booleans()),
                }
                for i in item_ids
            }
    rows = data.draw(st.permutations(rows))
    got = score_many(snap, group_rows(rows), agreed_by_cycle)
    # Counting first, as the database does for the results page, changes
    # nothing.
    counted = Counter((c, i, v) for c, _, i, v in rows)
    answered = Counter(c for c, _ in {(c, r) for c, r, _, _ in rows})
    from_counts = score_counts(
        snap,
        group_rows((c, i, v, n) for (c, i, v), n in counted.items()),
        answered,
        agreed_by_cycle,
    )
    assert from_counts == got
    for cycle_id, result in got.items():
        mine = [
            {"respondent_id": r, "item_id": i, "value": v}
            for c, r, i, v in rows
            if c == cycle_id
        ]
        assert result == score_cycle(snap, mine, agreed_by_cycle.get(cycle_id))
        respondents = {a["respondent_id"] for a in mine}
        for figures in result["items"]:
            given_values = [
                a["value"] for a in mine if a["item_id"] == figures["item_id"]
            ]
            missing = len(respondents) - len(given_values)
            plain = plain_item_figures(scale, given_values + [None] * missing)
            for key, expected in plain.items():
                got = figures[key]
                if key == "distribution":
                    got = [dict(d) for d in got]
                if isinstance(expected, float):
                    assert got == pytest.approx(expected, abs=1e-9), key
                else:
                    assert got == expected, key
