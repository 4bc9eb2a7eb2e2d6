"""Properties every scoring result must keep, whatever the ratings."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_support import item_figures, reference_cycle, reverse, score_cycle

from peerreview.scoring import group_rows, score_counts, score_item

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
    once = reverse(value, scale)
    assert inside(once, scale)
    assert reverse(once, scale) == pytest.approx(value)


@FAST
@given(
    st.integers(min_value=2, max_value=9),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=2, max_value=20),
)
def test_rwg_is_one_when_all_agree(points, position, raters):
    position = min(position, points)
    scale = {
        "points": [{"code": f"p{i}", "value": i, "label": ""} for i in range(points)]
    }
    values = [f"p{position - 1}"] * raters
    assert score_item({"id": "a"}, scale, values)["rwg"] == 1.0


@FAST
@given(scale_and_values())
def test_item_figures_match_the_long_way(case):
    # Every figure of one item against the straightforward computation with
    # ``statistics`` (tests/scoring_support.py), the oracle.
    scale, values = case
    got = score_item({"id": "a"}, scale, values)
    for key, expected in item_figures(scale, values).items():
        found = got[key]
        if key == "distribution":
            found = [dict(d) for d in found]
            assert got["counts"] == tuple(d["count"] for d in expected)
        if isinstance(expected, float):
            assert found == pytest.approx(expected, abs=1e-9), key
        else:
            assert found == expected, key
    if got["rwg"] is not None:
        assert 0.0 <= got["rwg"] <= 1.0


def _close(got, expected):
    if isinstance(expected, float) and got is not None:
        return got == pytest.approx(expected, abs=1e-9)
    return got == expected


@FAST
@given(cycles())
def test_cycle_matches_the_reference_implementation(case):
    # Sections, overall, bands, priorities (with their reasons and order),
    # strengths and every item's figures, against the slow reference.
    snap, answers, agreed = case
    got = score_cycle(snap, answers, agreed)
    want = reference_cycle(snap, answers, agreed)
    for item in got["items"]:
        expected = want["items"][item["item_id"]]
        for key in ("n", "na", "ne", "unanswered", "median", "mean", "sd", "min"):
            assert _close(item[key], expected[key]), key
        for key in ("max", "range", "rwg", "split", "score", "effective", "priority"):
            assert _close(item[key], expected[key]), key
    for section in got["sections"]:
        score, partial = want["sections"][section["id"]]
        assert _close(section["score"], score)
        assert _close(section["partial_score"], partial)
        assert section["band"] == want["bands"][section["id"]]
    assert _close(got["overall"]["score"], want["overall"][0])
    assert got["overall"]["band"] == want["bands"]["overall"]
    assert [(p["item_id"], p["reasons"]) for p in got["priorities"]] == want[
        "priorities"
    ]
    assert [s["item_id"] for s in got["strengths"]] == want["strengths"]


@FAST
@given(cycles(), cycles())
def test_change_matches_the_reference_implementation(now, then):
    snap, answers, agreed = now
    before, _, before_agreed = then
    # The same instrument, agreed last time (the agreed scores refer to
    # the other draw's items: those not in this version are "new").
    previous = {"snapshot": {**before, "id": snap["id"]}, "agreed": before_agreed or {}}
    got = score_cycle(snap, answers, agreed, previous)
    want = reference_cycle(snap, answers, agreed, previous)
    for item_id, entry in got["change"]["items"].items():
        assert _close(entry["delta"], want["change"]["items"][item_id]), item_id
    assert _close(got["change"]["overall"]["delta"], want["change"]["overall"])


@FAST
@given(cycles(), st.integers(min_value=1, max_value=4), st.data())
def test_many_cycles_in_one_call_match_each_alone(case, teams, data):
    # score_counts shares the figures of repeated rating patterns across
    # the cycles of one call; every cycle must still get exactly what it
    # gets alone, and what the reference gives it.
    snap, _, _ = case
    choices = codes(snap["scale"]) + SPECIAL
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
    counted = Counter((c, i, v) for c, _, i, v in rows)
    answered = Counter(c for c, _ in {(c, r) for c, r, _, _ in rows})
    got = score_counts(
        snap,
        group_rows((c, i, v, n) for (c, i, v), n in counted.items()),
        answered,
        agreed_by_cycle,
    )
    for cycle_id, result in got.items():
        mine = [
            {"respondent_id": r, "item_id": i, "value": v}
            for c, r, i, v in rows
            if c == cycle_id
        ]
        assert result == score_cycle(snap, mine, agreed_by_cycle.get(cycle_id))
        want = reference_cycle(snap, mine, agreed_by_cycle.get(cycle_id))
        assert [p["item_id"] for p in result["priorities"]] == [
            i for i, _ in want["priorities"]
        ]
        assert _close(result["overall"]["score"], want["overall"][0])
