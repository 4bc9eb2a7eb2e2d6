"""Krippendorff's alpha (ordinal) per section and overall: by hand and on the pages."""

import re

import numpy as np
import pytest
from support import HEAD

from peerreview.scoring import agreement

SCALE = {
    "kind": "agreement",
    "points": [{"code": c, "value": float(v), "label": c} for v, c in enumerate("LMH")],
}


def snapshot(reverse_c=False):
    return {
        "id": "x",
        "version": "1.0.0",
        "scale": SCALE,
        "sections": [
            {"id": "s1", "items": [{"id": "a"}, {"id": "b"}]},
            {"id": "s2", "items": [{"id": "c", "reverse": reverse_c}]},
        ],
    }


def rows(table):
    return [
        (person, item, code)
        for person, codes in table.items()
        for item, code in zip("abc", codes, strict=True)
        if code != "-"
    ]


# Three people rate three items on a three-point scale (L < M < H):
#   a: L L M    b: M M H    c: H H H
# Coincidences o(c,k) (pairs within an item, each divided by the item's
# ratings less one): o(L,L)=1, o(L,M)=o(M,L)=1, o(M,M)=1, o(M,H)=o(H,M)=1,
# o(H,H)=3; totals n(L)=2, n(M)=3, n(H)=4, n=9. Ordinal distances
# d(c,k) = (n(c) + ... + n(k) - (n(c) + n(k)) / 2)^2: d(L,M)=2.5^2=6.25,
# d(M,H)=3.5^2=12.25, d(L,H)=6^2=36. Observed: 2 x 6.25 + 2 x 12.25 = 37.
# Expected: 2 x (2x3x6.25 + 3x4x12.25 + 2x4x36) = 945.
# alpha = 1 - (n - 1) x 37 / 945 = 1 - 296/945 = 0.6868.
HAND = {1: "LMH", 2: "LMH", 3: "MHH"}


def test_overall_alpha_worked_by_hand():
    got = agreement.alphas(snapshot(), rows(HAND))["overall"]
    assert got["alpha"] == pytest.approx(1 - 296 / 945)
    assert (got["raters"], got["items_compared"]) == (3, 3)
    assert got["caution"] is True  # fewer than 5 people
    assert got["withheld"] is False


def test_sections_are_worked_out_apart():
    got = agreement.alphas(snapshot(), rows(HAND))
    # Section 2 is item c alone, where everyone chose H: not defined.
    assert got["s2"]["alpha"] is None and got["s2"]["items_compared"] == 1
    # Section 1 is items a and b: a by hand as above gives
    # o(L,L)=1, o(L,M)=o(M,L)=1 from a; o(M,M)=1, o(M,H)=o(H,M)=1 from b:
    # n(L)=2, n(M)=3, n(H)=1, n=6; d(L,M)=2.5^2, d(M,H)=(4-2)^2=4,
    # d(L,H)=(6-1.5)^2=20.25; observed 2x6.25 + 2x4 = 20.5; expected
    # 2 x (6x6.25 + 3x4 + 2x20.25) = 180; alpha = 1 - 5 x 20.5 / 180.
    assert got["s1"]["alpha"] == pytest.approx(1 - 5 * 20.5 / 180)


def test_reverse_items_are_turned_round():
    # c reverse-worded: L counts as H. Rated L by all, it matches the table.
    turned = {1: "LML", 2: "LML", 3: "MHL"}
    got = agreement.alphas(snapshot(reverse_c=True), rows(turned))["overall"]
    assert got["alpha"] == pytest.approx(1 - 296 / 945)


def test_fewer_than_three_people_is_withheld_and_five_drop_the_caution():
    two = agreement.alphas(snapshot(), rows({1: "LMH", 2: "MMH"}))["overall"]
    assert two["alpha"] is None and two["withheld"] is True and two["raters"] == 2
    five = {**HAND, 4: "LMH", 5: "LHH"}
    got = agreement.alphas(snapshot(), rows(five))["overall"]
    assert got["alpha"] is not None and got["caution"] is False


def test_words_and_missing_answers_are_left_out():
    got = agreement.position_matrix(snapshot(), [(1, "a", "na"), (1, "b", "M")], "ab")
    assert got.shape == (1, 2) and np.isnan(got[0, 0]) and got[0, 1] == 2.0
    # A rater who gave only words is not counted.
    mixed = rows(HAND) + [(9, "a", "na"), (9, "b", "ne")]
    assert agreement.alphas(snapshot(), mixed)["overall"]["raters"] == 3


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_results_page_and_report_show_alpha_with_n(demo_full, auth, client):
    from peerreview.results import service

    db = demo_full
    auth.login(HEAD)
    text = _text(client.get("/cycles/2/results").get_data(as_text=True))
    assert "Agreement across the instrument" in text
    from peerreview.cycles import service as cycles

    overall = service.cycle_results(db, cycles.get_cycle(db, 2))["overall"]["alpha"]
    assert overall["raters"] == 5 and overall["alpha"] is not None
    assert f"Overall {overall['alpha']:.2f} 5 11" in text.replace("−", "-")


def test_two_reviewers_give_no_alpha(demo_full, auth, client):
    db = demo_full
    cid = db.execute(
        "SELECT cycle_id FROM peer_reviews WHERE school_id = 1 ORDER BY cycle_id"
    ).fetchone()[0]
    auth.login(HEAD)
    text = _text(client.get(f"/cycles/{cid}/results").get_data(as_text=True))
    assert "Not worked out: fewer than 3 people rated" in text
