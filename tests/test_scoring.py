"""Hand-worked examples for every figure the scoring module reports.

The arithmetic is written out in comments so that a reader can check each
expected value with pencil and paper (and against docs/scoring.md).
"""

import copy
import math

import pytest
from scoring_support import score_cycle

from peerreview.scoring import group_rows, score_counts, score_item
from peerreview.scoring.scale import reverse

AGREEMENT = {
    "kind": "agreement",
    "points": [
        {"code": "1", "value": 1.0, "label": "Strongly disagree"},
        {"code": "2", "value": 2.0, "label": "Disagree"},
        {"code": "3", "value": 3.0, "label": "Neither agree nor disagree"},
        {"code": "4", "value": 4.0, "label": "Agree"},
        {"code": "5", "value": 5.0, "label": "Strongly agree"},
    ],
    "not_applicable": True,
    "no_evidence": True,
}
YES_NO = {
    "kind": "yes_no",
    "points": [
        {"code": "no", "value": 0.0, "label": "No"},
        {"code": "part", "value": 1.0, "label": "In part"},
        {"code": "yes", "value": 2.0, "label": "Yes"},
    ],
}
MATURITY = {
    "kind": "maturity",
    "points": [
        {"code": "1", "value": 1.0, "label": "Beginning"},
        {"code": "2", "value": 2.0, "label": "Developing"},
        {"code": "3", "value": 3.0, "label": "Embedding"},
        {"code": "4", "value": 4.0, "label": "Leading"},
    ],
}
BANDS = [
    {"name": "Weak", "min": 1.0},
    {"name": "Developing", "min": 2.5},
    {"name": "Secure", "min": 3.5},
    {"name": "Strong", "min": 4.25},
]
SCORING = {
    "rollup": "weighted_mean",
    "bands": BANDS,
    "priority": {"at_or_below": 3},
    "min_answered_share": 0.5,
}


def item(item_id, weight=1.0, reverse=False, **extra):
    """Return an item definition with the defaults of the schema."""
    return {
        "id": item_id,
        "statement": f"Statement {item_id}",
        "guidance": "",
        "evidence_prompts": [],
        "weight": weight,
        "reverse": reverse,
        "tags": [],
        "descriptors": {},
        **extra,
    }


def snapshot(sections, scale=AGREEMENT, version="1.0.0", actions=()):
    """Return an instrument snapshot with the given {section_id: [items]}."""
    return {
        "id": "test-instrument",
        "version": version,
        "title": "Test instrument",
        "audience": "slt",
        "scale": scale,
        "tags": {},
        "sections": [
            {"id": sid, "title": f"Section {sid}", "description": "", "items": items}
            for sid, items in sections.items()
        ],
        "scoring": SCORING,
        "actions": list(actions),
    }


def answers(table):
    """Return answers from {item_id: [value of respondent 1, 2, ...]}."""
    return [
        {"respondent_id": r, "item_id": item_id, "value": v}
        for item_id, values in table.items()
        for r, v in enumerate(values, start=1)
    ]


def agreed(codes, **deferred):
    """Return agreed scores from {item_id: code}."""
    return {
        item_id: {"value": code, "rationale": f"why {item_id}", "deferred": False}
        for item_id, code in codes.items()
    } | {
        item_id: {"value": None, "rationale": "later", "deferred": True}
        for item_id in deferred
    }


def by_id(result):
    return {r["item_id"]: r for r in result["items"]}


# --- score_item --------------------------------------------------------------


def test_even_count_median_is_mean_of_two_middle_values():
    # Ratings 2, 4, 3, 5 sorted: 2 3 | 4 5 -> median (3 + 4) / 2 = 3.5.
    # mean = 14 / 4 = 3.5.
    # population sd: deviations -1.5 -0.5 0.5 1.5, squares 2.25 0.25 0.25
    #   2.25 sum 5.0; 5.0 / 4 = 1.25; sd = sqrt(1.25) = 1.1180.
    # range: positions 2 .. 5 -> 3 scale steps.
    # rwg on positions 2 3 4 5: sample variance 5.0 / 3 = 1.6667; a 5-point
    #   "no agreement" variance (25 - 1) / 12 = 2; rwg = 1 - 1.6667 / 2 = 0.1667.
    r = score_item(item("a"), AGREEMENT, ["2", "4", "3", "5"])
    assert r["n"] == 4
    assert r["median"] == 3.5
    assert r["mean"] == 3.5
    assert r["sd"] == pytest.approx(math.sqrt(1.25))
    assert (r["min"], r["max"], r["range"]) == (2.0, 5.0, 3)
    assert r["rwg"] == pytest.approx(1 - (5 / 3) / 2)
    assert r["split"] is True
    assert [d["count"] for d in r["distribution"]] == [0, 1, 1, 1, 1]
    assert r["distribution"][0] == {
        "code": "1",
        "label": "Strongly disagree",
        "count": 0,
    }


def test_odd_count_median_is_middle_value():
    # 1 1 4 5 5 -> the third value, 4.  mean = 16 / 5 = 3.2.
    r = score_item(item("a"), AGREEMENT, ["5", "1", "4", "1", "5"])
    assert r["median"] == 4.0
    assert r["mean"] == pytest.approx(3.2)


def test_all_equal_ratings_agree_fully():
    # Five fours: sd 0; variance 0 so rwg = 1 - 0 / 2 = 1; range 0; not split.
    r = score_item(item("a"), AGREEMENT, ["4"] * 5)
    assert (r["median"], r["mean"], r["sd"]) == (4.0, 4.0, 0.0)
    assert r["rwg"] == 1.0
    assert r["range"] == 0
    assert r["split"] is False


def test_single_rater_has_no_agreement_index_and_is_not_split():
    # One rating: the sample variance needs n - 1 >= 1, so rwg is None.
    r = score_item(item("a"), AGREEMENT, ["3"])
    assert r["n"] == 1
    assert (r["median"], r["mean"], r["sd"], r["range"]) == (3.0, 3.0, 0.0, 0)
    assert r["rwg"] is None
    assert r["split"] is False


def test_not_applicable_no_evidence_and_unanswered_never_count_as_numbers():
    # Numbers: 1 and 5 only -> n 2, mean 3, median (1 + 5) / 2 = 3,
    # range 4 steps; rwg: positions 1, 5, sample variance 8; 1 - 8 / 2 = -3,
    # floored at 0.
    r = score_item(item("a"), AGREEMENT, ["1", "na", "ne", None, "5"])
    assert (r["n"], r["na"], r["ne"], r["unanswered"]) == (2, 1, 1, 1)
    assert (r["mean"], r["median"], r["range"]) == (3.0, 3.0, 4)
    assert r["rwg"] == 0.0
    assert r["split"] is True
    assert sum(d["count"] for d in r["distribution"]) == 2


def test_all_not_applicable_has_no_figures():
    r = score_item(item("a"), AGREEMENT, ["na", "na", "na"])
    assert r["n"] == 0 and r["na"] == 3
    for key in ("median", "mean", "sd", "min", "max", "range", "rwg"):
        assert r[key] is None
    assert r["split"] is False
    assert r["score"] is None and r["priority"] is False


def test_adjacent_points_are_not_split_on_five_points():
    # 3 and 4: sample variance of positions 0.5; rwg = 1 - 0.5 / 2 = 0.75.
    r = score_item(item("a"), AGREEMENT, ["3", "4"])
    assert r["rwg"] == pytest.approx(0.75)
    assert r["split"] is False


def test_adjacent_points_are_split_on_three_points():
    # Yes / In part / No: "no agreement" variance (9 - 1) / 12 = 0.6667;
    # "part" and "yes": sample variance 0.5; rwg = 1 - 0.5 / 0.6667 = 0.25
    # < 0.7 -> split although the range is one step.
    r = score_item(item("a"), YES_NO, ["part", "yes"])
    assert r["range"] == 1
    assert r["rwg"] == pytest.approx(0.25)
    assert r["split"] is True


def test_agreed_score_and_priority():
    # Agreed "3": 3 <= at_or_below 3 -> priority.
    r = score_item(
        item("a"),
        AGREEMENT,
        ["2", "3"],
        {"value": "3", "rationale": "we agreed", "deferred": False},
        scoring=SCORING,
    )
    assert (r["agreed_value"], r["agreed_code"], r["agreed_label"]) == (
        3.0,
        "3",
        "Neither agree nor disagree",
    )
    assert r["rationale"] == "we agreed"
    assert r["priority"] is True


def test_reverse_item_statistics_raw_priority_effective():
    # Reverse item on 1-5, agreed "2": effective = 1 + 5 - 2 = 4 > 3, so no
    # priority; the statistics stay on what people chose (median 2).
    agreed_two = {"value": "2", "rationale": "", "deferred": False}
    r = score_item(
        item("a", reverse=True), AGREEMENT, ["2", "2"], agreed_two, scoring=SCORING
    )
    assert r["median"] == 2.0 and r["agreed_value"] == 2.0
    assert r["score"] == 2.0 and r["effective"] == 4.0
    assert r["priority"] is False
    plain = score_item(item("a"), AGREEMENT, ["2", "2"], agreed_two, scoring=SCORING)
    assert plain["effective"] == 2.0 and plain["priority"] is True


def test_agreed_not_applicable_is_reported_but_not_a_number():
    r = score_item(
        item("a"),
        AGREEMENT,
        ["1"],
        {"value": "na", "rationale": "", "deferred": False},
        scoring=SCORING,
    )
    assert r["agreed_code"] == "na" and r["agreed_label"] == "Not applicable"
    assert r["agreed_value"] is None and r["score"] is None
    assert r["priority"] is False


def test_deferred_item_has_no_score():
    r = score_item(
        item("a"),
        AGREEMENT,
        ["1", "1"],
        {"value": "1", "rationale": "", "deferred": True},
        scoring=SCORING,
    )
    assert r["deferred"] is True
    assert r["agreed_code"] == "1" and r["score"] is None and not r["priority"]


def test_provisional_item_uses_median():
    r = score_item(item("a"), AGREEMENT, ["1", "3", "2"], scoring=SCORING)
    assert r["score"] == 2.0 and r["priority"] is True
    assert r["agreed_value"] is None


def test_unknown_code_is_refused():
    with pytest.raises(ValueError, match="'7'.*'a'"):
        score_item(item("a"), AGREEMENT, ["7"])
    with pytest.raises(ValueError, match="not on the scale"):
        score_item(
            item("a"), AGREEMENT, [], {"value": "x", "rationale": "", "deferred": 0}
        )


def test_reverse():
    # On 1-5, an agreed 2 counts as 1 + 5 - 2 = 4.
    assert reverse(2.0, 1.0, 5.0) == 4.0
    assert reverse(None, 1.0, 5.0) is None
    # Yes(2) / No(0): No on a reverse item counts as Yes.
    assert reverse(0.0, 0.0, 2.0) == 2.0


# --- rwg ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indices", "points", "expected"),
    [
        ([3, 3, 3], 5, 1.0),  # no variance
        ([3], 5, None),  # one rater
        ([], 5, None),
        ([1, 5], 5, 0.0),  # variance 8 > 2, floored
        ([3, 4], 5, 0.75),  # variance 0.5: 1 - 0.5 / 2
        ([1, 2, 3, 4], 4, 1 - (5 / 3) / 1.25),  # (16 - 1) / 12 = 1.25 -> 0
        ([2, 2, 3, 3], 4, 1 - (1 / 3) / 1.25),  # variance 1/3 -> 0.7333
        ([1, 1], 1, None),  # a one-point scale has no spread to compare
    ],
)
def test_rwg(indices, points, expected):
    scale = {
        "kind": "custom",
        "points": [
            {"code": str(i), "value": float(i), "label": str(i)}
            for i in range(1, points + 1)
        ],
    }
    got = score_item(item("a"), scale, [str(i) for i in indices])["rwg"]
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(max(0.0, expected))


# --- score_cycle -------------------------------------------------------------


def test_weighted_section_and_overall_with_bands():
    # Section s1: a (weight 2) agreed 4, b (weight 1) agreed 1:
    #   (2 * 4 + 1 * 1) / 3 = 3.0 -> band Developing (2.5 <= 3.0 < 3.5).
    # Section s2: c agreed 5, d reverse agreed 2 -> effective 1 + 5 - 2 = 4:
    #   (5 + 4) / 2 = 4.5 -> Strong.
    # Overall over all items: (8 + 1 + 5 + 4) / (2 + 1 + 1 + 1) = 18 / 5 = 3.6
    #   -> Secure.
    snap = snapshot(
        {
            "s1": [item("a", weight=2.0), item("b")],
            "s2": [item("c"), item("d", reverse=True)],
        }
    )
    table = {"a": ["4", "4"], "b": ["1", "2"], "c": ["5", "5"], "d": ["2", "2"]}
    result = score_cycle(snap, answers(table), agreed(dict(a="4", b="1", c="5", d="2")))
    assert result["provisional"] is False
    s1, s2 = result["sections"]
    assert s1["id"] == "s1" and s1["title"] == "Section s1"
    assert s1["score"] == pytest.approx(3.0) and s1["band"] == "Developing"
    assert s2["score"] == pytest.approx(4.5) and s2["band"] == "Strong"
    assert (s1["answered_share"], s1["shown"]) == (1.0, True)
    assert result["overall"]["score"] == pytest.approx(3.6)
    assert result["overall"]["band"] == "Secure"
    d = by_id(result)["d"]
    assert d["median"] == 2.0 and d["effective"] == 4.0
    assert result["maturity"] is None and result["change"] is None


def test_band_boundary_is_inclusive():
    # Two items agreed 3 and 4: mean 3.5, exactly the Secure minimum.
    snap = snapshot({"s": [item("a"), item("b")]})
    result = score_cycle(snap, [], agreed(dict(a="3", b="4")))
    assert result["overall"]["score"] == 3.5
    assert result["overall"]["band"] == "Secure"


def test_not_applicable_items_leave_the_rollup_and_can_hide_a_section():
    # s1: a agreed 4, b and c agreed "na": 1 of 3 items numeric, share 0.33
    #   < 0.5 -> not shown (score None) but partial_score 4.0 is kept.
    # s2: d agreed 2, e "na": share 0.5 -> shown, score 2.0.
    # Overall: 2 of 5 items numeric, share 0.4 -> not shown.
    snap = snapshot(
        {"s1": [item("a"), item("b"), item("c")], "s2": [item("d"), item("e")]}
    )
    table = {"a": ["4"], "b": ["na"], "c": ["na"], "d": ["2"], "e": ["na"]}
    result = score_cycle(
        snap, answers(table), agreed(dict(a="4", b="na", c="na", d="2", e="na"))
    )
    s1, s2 = result["sections"]
    assert s1["answered_share"] == pytest.approx(1 / 3)
    assert (s1["shown"], s1["score"], s1["band"]) == (False, None, None)
    assert s1["partial_score"] == 4.0
    assert (s1["item_count"], s1["scored_count"]) == (3, 1)
    assert (s2["shown"], s2["score"], s2["band"]) == (True, 2.0, "Weak")
    overall = result["overall"]
    assert overall["answered_share"] == pytest.approx(0.4)
    assert overall["shown"] is False and overall["score"] is None
    assert by_id(result)["b"]["n"] == 0 and by_id(result)["b"]["mean"] is None


def test_provisional_rollup_uses_medians():
    # No agreed scores: a median (2 + 4) / 2 = 3, b median 5 -> section 4.0.
    snap = snapshot({"s": [item("a"), item("b")]})
    result = score_cycle(snap, answers({"a": ["2", "4"], "b": ["5", "5"]}))
    assert result["provisional"] is True
    assert result["sections"][0]["score"] == 4.0
    assert by_id(result)["a"]["score"] == 3.0
    # An empty agreed mapping is also provisional.
    assert score_cycle(snap, [], {})["provisional"] is True


def test_respondents_without_a_row_count_as_unanswered():
    rows = [
        {"respondent_id": 1, "item_id": "a", "value": "3"},
        {"respondent_id": 1, "item_id": "b", "value": "3"},
        {"respondent_id": 2, "item_id": "a", "value": "4"},
    ]
    snap = snapshot({"s": [item("a"), item("b")]})
    result = score_cycle(snap, rows)
    assert by_id(result)["b"]["unanswered"] == 1
    assert result["respondents"] == 2
    # Invited but silent respondents count too.
    result = score_cycle(snap, rows, respondents=4)
    assert by_id(result)["a"]["unanswered"] == 2
    assert by_id(result)["b"]["unanswered"] == 3


def test_priorities_ranked_by_score_then_spread_then_split_only():
    # agreed a 1 (all agree), b 2 (ratings 1..4, range 3: split),
    # c 2 (ratings 2, 3: range 1), d 5 (ratings 3..5, range 2: split),
    # e 4, f reverse agreed 5 -> effective 1.
    # Low scores by effective value: a 1 and f 1 (tie: a has range 0, f
    # range 0, instrument order), then b and c at 2 -> b first (range 3
    # wider than 1). Then split only: d. Strengths above 3: d (5), e (4).
    snap = snapshot(
        {
            "s1": [item("a"), item("b"), item("c")],
            "s2": [item("d"), item("e"), item("f", reverse=True)],
        },
        actions=[{"items": ["b", "c"], "text": "Visit a partner school"}],
    )
    table = {
        "a": ["1", "1", "1", "1"],
        "b": ["1", "2", "3", "4"],
        "c": ["2", "3", "2", "3"],
        "d": ["3", "5", "5", "4"],
        "e": ["4", "4", "4", "4"],
        "f": ["5", "5", "5", "5"],
    }
    result = score_cycle(
        snap, answers(table), agreed(dict(a="1", b="2", c="2", d="5", e="4", f="5"))
    )
    ranked = [
        (p["rank"], p["item_id"], list(p["reasons"])) for p in result["priorities"]
    ]
    assert ranked == [
        (1, "a", ["low score"]),
        (2, "f", ["low score"]),
        (3, "b", ["low score", "split"]),
        (4, "c", ["low score"]),
        (5, "d", ["split"]),
    ]
    b = result["priorities"][2]
    assert list(b["actions"]) == ["Visit a partner school"]
    assert b["section_id"] == "s1" and b["statement"] == "Statement b"
    assert (b["score"], b["effective"], b["range"]) == (2.0, 2.0, 3)
    assert [s["item_id"] for s in result["strengths"]] == ["d", "e"]
    assert result["strengths"][0]["rank"] == 1


def test_strengths_are_capped_at_three():
    snap = snapshot({"s": [item(x) for x in "abcde"]})
    result = score_cycle(snap, [], agreed(dict(a="4", b="5", c="4", d="5", e="4")))
    # 5, 5 then the first 4 in instrument order.
    assert [s["item_id"] for s in result["strengths"]] == ["b", "d", "a"]


def test_maturity_levels():
    # Dimension d1: strands agreed Developing (2) and Embedding (3): mean 2.5
    #   -> level at or below: Developing.
    # Dimension d2: Leading (4) and Leading (4): 4.0 -> Leading.
    # Overall: (2 + 3 + 4 + 4) / 4 = 3.25 -> Embedding.
    snap = snapshot(
        {"d1": [item("jpd"), item("talent")], "d2": [item("fit"), item("social")]},
        scale=MATURITY,
    )
    result = score_cycle(
        snap, [], agreed(dict(jpd="2", talent="3", fit="4", social="4"))
    )
    m = result["maturity"]
    assert m["strands"] == {"jpd": "2", "talent": "3", "fit": "4", "social": "4"}
    assert m["dimensions"]["d1"] == {
        "score": 2.5,
        "level": "Developing",
        "level_code": "2",
    }
    assert m["dimensions"]["d2"]["level"] == "Leading"
    assert result["sections"][0]["level"] == "Developing"
    assert result["overall"]["score"] == 3.25
    assert result["overall"]["level"] == "Embedding"


def test_maturity_provisional_strand_takes_level_at_or_below_median():
    # Ratings 2 and 3: median 2.5 -> Developing ("2").
    snap = snapshot({"d": [item("jpd")]}, scale=MATURITY)
    result = score_cycle(snap, answers({"jpd": ["2", "3"]}))
    assert result["maturity"]["strands"] == {"jpd": "2"}


def test_change_since_previous_cycle_with_a_new_item():
    # Previous (1.0.0): x agreed 2, y agreed 4, gone agreed 3.
    # Current (1.1.0): x 4 (+2), y 3 (-1), z 5 (new, no delta).
    # Section s: previous (2 + 4 + 3) / 3 = 3.0; current (4 + 3 + 5) / 3 = 4.0
    #   -> +1.0. Section t is new.
    previous = snapshot({"s": [item("x"), item("y"), item("gone")]})
    current = snapshot(
        {"s": [item("x"), item("y"), item("z")], "t": [item("w")]}, version="1.1.0"
    )
    result = score_cycle(
        current,
        [],
        agreed(dict(x="4", y="3", z="5", w="3")),
        previous={"snapshot": previous, "agreed": agreed(dict(x="2", y="4", gone="3"))},
    )
    change = result["change"]
    assert change["comparable"] is True
    assert change["previous_version"] == "1.0.0"
    assert change["items"]["x"] == {
        "previous": 2.0,
        "current": 4.0,
        "delta": 2.0,
        "new": False,
    }
    assert change["items"]["y"]["delta"] == -1.0
    assert change["items"]["z"] == {
        "previous": None,
        "current": 5.0,
        "delta": None,
        "new": True,
    }
    assert change["removed_items"] == ["gone"]
    assert change["sections"]["s"]["delta"] == pytest.approx(1.0)
    assert change["sections"]["t"]["new"] is True
    assert change["sections"]["t"]["delta"] is None


def test_change_uses_effective_values_and_missing_scores():
    # Reverse item r: previous agreed 4 (effective 2), now 2 (effective 4):
    # +2. Item m: previous deferred -> no delta.
    previous = snapshot({"s": [item("r", reverse=True), item("m")]})
    current = snapshot({"s": [item("r", reverse=True), item("m")]}, version="1.0.1")
    result = score_cycle(
        current,
        [],
        agreed(dict(r="2", m="3")),
        previous={"snapshot": previous, "agreed": agreed(dict(r="4"), m=True)},
    )
    assert result["change"]["items"]["r"]["delta"] == 2.0
    assert result["change"]["items"]["m"]["delta"] is None


def test_change_across_a_major_version_is_not_compared():
    previous = snapshot({"s": [item("x")]})
    current = snapshot({"s": [item("x")]}, version="2.0.0")
    result = score_cycle(
        current,
        [],
        agreed(dict(x="4")),
        previous={"snapshot": previous, "agreed": agreed(dict(x="2"))},
    )
    assert result["change"]["comparable"] is False
    assert result["change"]["items"] == {}


def test_results_do_not_share_mutable_parts():
    # Items with the same ratings share their counts and tags, so those are
    # read-only (tuples); each item's own dict is its own.
    snap = snapshot({"s": [item("a"), item("b")]})
    result = score_cycle(snap, answers({"a": ["3", "3"], "b": ["3", "3"]}))
    a, b = result["items"]
    assert a["counts"] == (0, 0, 2, 0, 0)
    with pytest.raises(TypeError):
        a["counts"][2] = 99
    with pytest.raises((TypeError, AttributeError)):
        a["tags"].append("x")
    a["rationale"] = "changed"
    a["hidden"] = True
    assert b["rationale"] == "" and "hidden" not in b
    assert b["counts"][2] == 2
    # The pages' distribution of an item is read-only too.
    with pytest.raises(TypeError):
        score_item(item("a"), AGREEMENT, ["3"])["distribution"][2]["count"] = 9
    again = score_cycle(snap, answers({"a": ["3", "3"], "b": ["3", "3"]}))
    assert again["items"][0]["rationale"] == "" and "hidden" not in again["items"][0]


def test_score_cycle_does_not_change_its_inputs():
    snap = snapshot({"s": [item("a", reverse=True)]})
    rows = answers({"a": ["1", "2"]})
    codes = agreed(dict(a="2"))
    before = copy.deepcopy((snap, rows, codes))
    score_cycle(snap, rows, codes)
    assert (snap, rows, codes) == before


def test_score_counts_scores_each_cycle_as_if_alone():
    # Many cycles in one call share the figures of repeated rating patterns;
    # each must still get exactly what it gets alone.
    snap = snapshot({"s1": [item("a"), item("b", reverse=True)], "s2": [item("c")]})
    team1 = answers({"a": ["1", "2", "na"], "b": ["4", "5", "5"], "c": ["3", None]})
    team2 = answers({"a": ["5", "5"], "b": ["ne", "1"], "c": ["2", "2"]})
    agreed_by_cycle = {1: agreed(dict(a="2", b="5", c="3")), 2: {}}
    expected = {
        1: score_cycle(snap, team1, agreed_by_cycle[1]),
        2: score_cycle(snap, team2, agreed_by_cycle[2]),
    }
    counted = {}
    for cycle_id, team in ((1, team1), (2, team2)):
        for a in team:
            key = (cycle_id, a["item_id"], a["value"])
            counted[key] = counted.get(key, 0) + 1
    rows = group_rows((*key, n) for key, n in sorted(counted.items(), key=str))
    got = score_counts(snap, rows, {1: 3, 2: 2}, agreed_by_cycle)
    assert got == expected


def test_score_counts_scores_cycles_with_agreed_scores_but_no_answers():
    snap = snapshot({"s": [item("a")]})
    result = score_counts(snap, {}, {}, {7: agreed(dict(a="4"))})
    assert result[7]["overall"]["score"] == 4.0


def test_scale_must_be_ordered():
    bad = {
        "kind": "custom",
        "points": [{"code": "b", "value": 2}, {"code": "a", "value": 1}],
    }
    with pytest.raises(ValueError, match="low to high"):
        score_item(item("a"), bad, [])


def test_maturity_band_and_level_come_from_one_rule():
    # The partnership maturity model's bands are its levels: 2.5 is Embedding
    # as a band and as a level, never Embedding beside Developing.
    bands = [
        {"name": "Beginning", "min": 1.0},
        {"name": "Developing", "min": 1.5},
        {"name": "Embedding", "min": 2.5},
        {"name": "Leading", "min": 3.5},
    ]
    snap = snapshot(
        {"d1": [item("jpd"), item("talent")]},
        scale=MATURITY,
    )
    snap["scoring"] = {**SCORING, "bands": bands}
    result = score_cycle(snap, [], agreed(dict(jpd="2", talent="3")))
    d1 = result["sections"][0]
    assert d1["score"] == 2.5
    assert (d1["band"], d1["level"], d1["level_code"]) == (
        "Embedding",
        "Embedding",
        "3",
    )
    assert result["maturity"]["strands"] == {"jpd": "2", "talent": "3"}
