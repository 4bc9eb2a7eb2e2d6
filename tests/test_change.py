"""Whether a change is clear: the bootstrap over raters, by hand and on the pages."""

import csv
import io

import numpy as np
import pytest
from support import HEAD

from peerreview.scoring import change

SCALE = {
    "kind": "agreement",
    "points": [
        {"code": str(v), "value": float(v), "label": str(v)} for v in range(1, 6)
    ],
}


def snapshot(reverse=False):
    return {
        "id": "x",
        "version": "1.0.0",
        "scale": SCALE,
        "sections": [
            {
                "id": "s",
                "items": [
                    {"id": "a", "weight": 1.0},
                    {"id": "b", "weight": 1.0, "reverse": reverse},
                ],
            }
        ],
    }


def rows(table):
    """{person: (rating of a, rating of b)} -> answer rows."""
    return [
        (person, item, code)
        for person, codes in table.items()
        for item, code in zip("ab", codes, strict=True)
    ]


def test_identical_raters_leave_nothing_to_chance():
    # Everyone rated 4 now and 3 last time: every draw gives the same
    # averages, so the interval is the change itself, a clear rise.
    snap = snapshot()
    now = rows({1: "44", 2: "44", 3: "44"})
    then = rows({7: "33", 8: "33", 9: "33", 10: "33"})
    got = change.change_intervals(snap, snap, now, then, {"s": 1.0, "overall": 1.0})
    for key in ("s", "overall"):
        assert got[key]["verdict"] == change.CLEAR_RISE
        assert got[key]["low"] == pytest.approx(1.0)
        assert got[key]["high"] == pytest.approx(1.0)
        assert (got[key]["raters_now"], got[key]["raters_then"]) == (3, 4)


def test_interval_worked_by_hand():
    # Now: three people whose averages over a and b are 2, 4 and 4; last
    # time three people at 3. Drawing three from (2, 4, 4), the number of
    # 2s drawn is binomial(3, 1/3): mean 4 (8/27 of draws), 3.33 (12/27),
    # 2.67 (6/27) or 2 (1/27, 3.7%, more than the 2.5% tail). Everybody's
    # average is 3.33, so chance moves the change by +0.67, 0, -0.67 or
    # -1.33: the middle 95% runs from -1.33 to +0.67. Around a change
    # shown of +0.5 the interval is -0.83 to +1.17: no clear change.
    snap = snapshot()
    now = rows({1: "22", 2: "44", 3: "44"})
    then = rows({7: "33", 8: "33", 9: "33"})
    got = change.change_intervals(snap, snap, now, then, {"s": 0.5})["s"]
    assert got["verdict"] == change.NO_CLEAR_CHANGE
    assert got["low"] == pytest.approx(0.5 - 4 / 3)
    assert got["high"] == pytest.approx(0.5 + 2 / 3)
    # The same again: the draws start from a fixed seed.
    assert change.change_intervals(snap, snap, now, then, {"s": 0.5})["s"] == got
    # A change of -1.5 lies wholly below 0: a clear fall.
    fall = change.change_intervals(snap, snap, now, then, {"s": -1.5})["s"]
    assert fall["verdict"] == change.CLEAR_FALL
    assert fall["high"] == pytest.approx(-1.5 + 2 / 3)


def test_reverse_items_are_turned_round():
    # b is reverse-worded: a 2 on it counts as 4, so these raters agree.
    snap = snapshot(reverse=True)
    now = rows({1: "42", 2: "42", 3: "42"})
    then = rows({7: "33", 8: "33", 9: "33"})
    got = change.change_intervals(snap, snap, now, then, {"s": 1.0})["s"]
    assert (got["low"], got["high"]) == (pytest.approx(1.0), pytest.approx(1.0))


def test_fewer_than_three_raters_is_too_few_to_tell():
    snap = snapshot()
    three = rows({1: "22", 2: "44", 3: "55"})
    two = rows({7: "33", 8: "14", 9: "na"})  # the third gave no number
    for now, then in ((three, two), (two, three)):
        got = change.change_intervals(snap, snap, now, then, {"s": 0.5})["s"]
        assert got["verdict"] == change.TOO_FEW
        assert got["low"] is None and got["high"] is None


def test_no_change_shown_has_no_verdict():
    snap = snapshot()
    three = rows({1: "22", 2: "44", 3: "55"})
    got = change.change_intervals(snap, snap, three, three, {"s": None})["s"]
    assert got["verdict"] is None


def test_only_items_in_both_cycles_are_drawn_on():
    snap = snapshot()
    before = {**snapshot(), "sections": [{"id": "s", "items": [{"id": "a"}]}]}
    # b is new: its ratings (all over the place) do not enter the draws.
    now = rows({1: "41", 2: "45", 3: "42"})
    then = [(7, "a", "3"), (8, "a", "3"), (9, "a", "3")]
    got = change.change_intervals(snap, before, now, then, {"s": 1.0})["s"]
    assert (got["low"], got["high"]) == (pytest.approx(1.0), pytest.approx(1.0))


def test_rating_matrix_leaves_out_words():
    got = change.rating_matrix(snapshot(), rows({1: "4n", 2: "na"}), ["a", "b"])
    assert got.shape == (1, 2)
    assert got[0, 0] == 4.0 and np.isnan(got[0, 1])


# On the pages ----------------------------------------------------------------


def _northfield_autumn(db):
    return db.execute(
        "SELECT id FROM cycles WHERE team_id = 1 AND kind = 'self' "
        "AND title LIKE '%autumn 2026'"
    ).fetchone()[0]


def test_results_page_export_and_report_say_whether_change_is_clear(
    demo_full, auth, client
):
    db = demo_full
    cid = _northfield_autumn(db)
    auth.login(HEAD)
    page = client.get(f"/cycles/{cid}/results").get_data(as_text=True)
    assert "Clear change?" in page
    verdicts = [
        v for v in (change.CLEAR_RISE, change.CLEAR_FALL) if v.capitalize() in page
    ]
    assert verdicts or change.NO_CLEAR_CHANGE.capitalize() in page
    assert "95% interval" in page
    text = client.get(f"/cycles/{cid}/results.csv").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(text)))
    header = next(r for r in table if "Clear change?" in r)
    at = header.index("Clear change?")
    overall = next(r for r in table if r and r[0] == "overall")
    assert overall[at] in (change.CLEAR_RISE, change.CLEAR_FALL, change.NO_CLEAR_CHANGE)
    low, high = float(overall[at + 1]), float(overall[at + 2])
    assert low <= high


def test_a_peer_review_by_two_reviewers_is_too_few_to_tell(demo_full, auth, client):
    db = demo_full
    cid = db.execute(
        "SELECT pr.cycle_id FROM peer_reviews pr JOIN peer_rounds r "
        "ON r.id = pr.round_id WHERE r.title LIKE '%November%' AND pr.school_id = 1"
    ).fetchone()[0]
    auth.login(HEAD)
    page = client.get(f"/cycles/{cid}/results").get_data(as_text=True)
    assert "Too few ratings to tell" in page
    assert "95% interval" not in page


def test_team_report_and_governors_summary_say_whether_change_is_clear(
    demo_full, auth, client
):
    from pypdf import PdfReader
    from support import ready_pdf

    from peerreview.cycles import service as cycles
    from peerreview.results import service

    db = demo_full
    results = service.cycle_results(db, cycles.get_cycle(db, 2))
    overall = results["overall"]["change"]["interval"]
    alpha = results["overall"]["alpha"]["alpha"]
    auth.login(HEAD)
    texts = {}
    for kind in ("team", "governors"):
        auth.post(f"/cycles/2/reports/{kind}.pdf", page="/cycles/2/reports")
        pdf = ready_pdf(client, f"/cycles/2/reports/{kind}/status?format=json")
        pages = PdfReader(io.BytesIO(pdf)).pages
        texts[kind] = " ".join(" ".join(p.extract_text() for p in pages).split())
    for text in texts.values():
        assert "Clear change?" in text
        assert overall["verdict"] in text.lower()
    team = texts["team"]
    assert "Is a change clear?" in team and "2,000 times" in team  # method note
    assert "Krippendorff" in team and f"{alpha:.2f}" in team
