"""On a letter-grade scale the partnership pages show grades, not numbers.

A peer-review round on the school improvement scorecard (letter grades):
the comparison's heat map and table, its spread and trend tables, who can
help whom, the CSV export and the partnership report show a grade wherever
a value of the scale is shown (a mean as the nearest grade); a gap stays a
signed number of steps. The tests read the grades from the instrument file,
so they hold whatever grades the scale has.
"""

import csv
import io
import re
from html import unescape

import pytest
from cycle_support import ROOT, agree_all, make_cycle
from support import TRUST_LEAD, user_id

from peerreview.cycles import service as cycles
from peerreview.instruments import load_file
from peerreview.peer import service as peer

SCORECARD = ROOT / "instruments" / "school-improvement-scorecard.yaml"
INSTRUMENT = "school-improvement-scorecard"
CASTLE_HEAD_EMAIL = "headteacher@castlehillacademy.example.org"
RIVERSIDE_HEAD = "headteacher@riversideinfant.example.org"
HEYSHAM_HEAD = "headteacher@heyshamhigh.example.org"


def _grades():
    return [p.label for p in load_file(SCORECARD).scale.points]


def _self_agreed(db, team_id, code):
    cycle = make_cycle(db, team_id, state="agreed", path=SCORECARD, agreed=code)
    return cycle["id"]


def _peer_agreed(db, cycle, code):
    lead = cycle["lead_id"]
    if cycle["state"] == "draft":
        cycles.transition(db, cycle, "open", actor_id=lead)
        cycle = cycles.get_cycle(db, cycle["id"])
    cycles.transition(db, cycle, "moderation", actor_id=lead)
    agree_all(db, cycle, lead, value=code)
    cycles.transition(db, cycle, "agreed", actor_id=lead)


@pytest.fixture
def graded_round(demo_full):
    """Northfield (school 1) and Riverside (school 2) reviewed on the scorecard:
    Northfield rates itself near the middle and its reviewers grade it the
    lowest grade but one; Riverside is graded the top grade by its reviewers."""
    db = demo_full
    codes = [p.code for p in load_file(SCORECARD).scale.points]
    _self_agreed(db, 1, codes[len(codes) // 2])
    _self_agreed(db, 2, codes[-2])
    hosts = [
        {
            "school_id": 1,
            "reviewer_ids": [
                user_id(db, RIVERSIDE_HEAD),
                user_id(db, CASTLE_HEAD_EMAIL),
            ],
            "lead_id": user_id(db, RIVERSIDE_HEAD),
        },
        {
            "school_id": 2,
            "reviewer_ids": [user_id(db, HEYSHAM_HEAD), user_id(db, CASTLE_HEAD_EMAIL)],
            "lead_id": user_id(db, HEYSHAM_HEAD),
        },
    ]
    round_id = peer.plan_round(
        db,
        partnership_id=1,
        instrument=load_file(SCORECARD),
        title="Scorecard visits",
        starts_on="2027-02-01",
        ends_on="2027-02-28",
        hosts=hosts,
        actor_id=user_id(db, TRUST_LEAD),
    )
    reviews = {
        r["school_id"]: r["cycle_id"]
        for r in db.query("SELECT * FROM peer_reviews WHERE round_id = ?", [round_id])
    }
    _peer_agreed(db, cycles.get_cycle(db, reviews[1]), codes[1])
    _peer_agreed(db, cycles.get_cycle(db, reviews[2]), codes[-1])
    return round_id


def _text(html: str) -> str:
    html = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _grade_re():
    return "(?:" + "|".join(re.escape(g) for g in _grades()) + ")"


GAP = re.compile(r"^[+−]?\d+\.\d$")


def _page(client, round_id, view):
    response = client.get(
        f"/partnerships/1/comparison?instrument={INSTRUMENT}&round={round_id}&view={view}"
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _heat_description(html: str) -> str:
    return unescape(re.search(r'<desc id="heat-d">([^<]*)</desc>', html).group(1))


def test_the_heat_maps_description_says_cells_show_grades(graded_round, auth, client):
    grades = _grades()
    auth.login(TRUST_LEAD)
    peer_desc = _heat_description(_page(client, graded_round, "peer"))
    assert "shows its number" not in peer_desc
    assert "Each cell shows the mean agreed peer score as the nearest grade" in (
        peer_desc
    )
    # From the lowest grade to the highest, whichever order the file lists them.
    assert re.search(
        rf"on the scale from ({re.escape(grades[0])}|{re.escape(grades[-1])}) to ",
        peer_desc,
    )
    gap_desc = _heat_description(_page(client, graded_round, "gap"))
    assert "the gap, self minus peer, in steps along the scale" in gap_desc


def test_comparison_shows_grades_for_scores_and_numbers_for_gaps(
    graded_round, auth, client
):
    grades = _grades()
    auth.login(TRUST_LEAD)
    for view in ("self", "peer"):
        html = _page(client, graded_round, view)
        heat = html.split('<svg class="pr-chart pr-heat"', 1)[1].split("</svg>", 1)[0]
        values = re.findall(r'class="pr-heat__value">([^<]*)<', heat)
        assert values and all(v in grades for v in values), values
        table = html.split('class="govuk-table pr-matrix"', 1)[1].split("</table>")[0]
        cells = re.findall(r"cell--numeric\">([^<]*)<", table)
        assert cells and all(c in grades for c in cells), cells
    html = _page(client, graded_round, "gap")
    heat = html.split('<svg class="pr-chart pr-heat"', 1)[1].split("</svg>", 1)[0]
    values = re.findall(r'class="pr-heat__value">([^<]*)<', heat)
    assert values and all(GAP.match(v) for v in values), values
    text = _text(html)
    g = _grade_re()
    # Spread: lowest-highest are grades, the means the nearest grade.
    spread = text.split("Spread of agreed peer scores by item", 1)[1]
    spread = spread.split("Trend across rounds", 1)[0]
    assert re.search(rf" 2 {g}–{g} {g} \(\d+\.\d\) {g} [+−]?\d+\.\d", spread), spread
    assert not re.search(r"\d–\d", spread)
    # Trend: the peer mean is a grade.
    trend = text.split("Trend across rounds", 1)[1].split("Who can help whom", 1)[0]
    assert re.search(rf"peer {g}, gap [+−]?\d+\.\d", trend), trend
    # Who can help whom: thresholds, priorities and helpers are grades.
    help_text = text.split("Who can help whom", 1)[1]
    assert re.search(rf"agreed peer score of {g} or below", help_text)
    assert re.search(rf"on the same item is {g} or above", help_text)
    assert f"(peer {grades[1]}): Riverside Infant School (peer {grades[-1]}," in (
        help_text
    )
    assert not re.search(r"\(peer \d", help_text)


def test_comparison_export_shows_grades(graded_round, auth, client):
    grades = _grades()
    auth.login(TRUST_LEAD)
    raw = client.get(
        f"/partnerships/1/comparison.csv?instrument={INSTRUMENT}&round={graded_round}"
    ).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    matrix = [
        r
        for r in rows
        if len(r) > 2 and r[1] in ("Agreed self score", "Agreed peer score")
    ]
    assert len(matrix) == 4
    assert all(c in grades for r in matrix for c in r[2:] if c), matrix
    gaps = [r for r in rows if len(r) > 2 and r[1] == "Gap (self minus peer)"]
    assert all(float(c) == float(c) for r in gaps for c in r[2:] if c)
    spread_at = rows.index(["Item spread"]) + 2
    spread = rows[spread_at : rows.index(["Trend"]) - 1]
    for r in spread:
        assert {r[3], r[4], r[5], r[7], r[8], r[9]} <= set(grades), r
        float(r[6]), float(r[10])
    helping = rows[
        rows.index(["Who can help whom"]) + 2 : rows.index(["Evidence coverage"]) - 1
    ]
    assert helping and all(r[3] in grades for r in helping)
    assert all(r[5] in grades for r in helping if r[4])


def test_partnership_report_shows_grades(graded_round, auth, client):
    grades = _grades()
    auth.login(TRUST_LEAD)
    response = client.get(
        f"/partnerships/1/reports/partnership.html?instrument={INSTRUMENT}"
        f"&round={graded_round}&view=peer"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html.split('class="figures matrix"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="num">([^<]*)<', table)
    assert cells and all(c in grades for c in cells), cells
    text = _text(html)
    g = _grade_re()
    assert f"in fifths of the scale from {grades[0]} to {grades[-1]}" in text
    assert re.search(rf"self {g}, peer {g}", text)
    assert re.search(r"steps? (higher|lower) than their reviewers'", text)
    assert f"({grades[1]}): " in text
    assert not re.search(r"self \d\.\d, peer \d\.\d", text)
