"""A letter-grade scale shows grades, never the numbers behind them.

The school improvement scorecard is graded C- to A (values 1 to 8). Its
results page, the CSV and XLSX exports and the team report show a grade
wherever a value of the scale is shown: agreed answers, section and overall
scores and means (the nearest grade), medians (a grade, or "between B and
B+" when one falls halfway), last time's score, and the chart's figures,
bands and axis.
"""

import csv
import io
import re
from html import unescape

import openpyxl
import pytest
from cycle_support import ROOT, make_cycle, team_people
from support import HEAD

from peerreview.cycles import service
from peerreview.instruments import load_file

SCORECARD = ROOT / "instruments" / "school-improvement-scorecard.yaml"
GRADES = ["C-", "C", "C+", "B-", "B", "B+", "A-", "A"]
# Every member's grade per item, and the grade the team agreed (by position).
RATED = ["B", "B+", "A-", "C+", "B", "B-", "A", "C", "B+", "B"]


@pytest.fixture
def scorecard(demo_full):
    """An agreed self-evaluation of Northfield Primary on the scorecard."""
    db = demo_full
    lead, members = team_people(db, 1)
    cycle = make_cycle(db, 1, path=SCORECARD)
    cid = cycle["id"]
    for n, uid in enumerate([lead, *members]):
        for item_id, grade in zip(cycle["snapshot"].item_ids, RATED, strict=True):
            # Half a grade apart: medians fall on or between grades.
            value = GRADES[min(GRADES.index(grade) + n % 2, 7)]
            service.save_answer(
                db,
                cycle,
                uid,
                item_id,
                value=value,
                comment="",
                evidence="",
                base_revision=0,
            )
        service.submit(db, cycle, uid)
    service.transition(db, cycle, "moderation", actor_id=lead)
    for item_id, grade in zip(cycle["snapshot"].item_ids, RATED, strict=True):
        service.record_agreed(
            db,
            cycle,
            item_id,
            value=grade,
            rationale="",
            deferred=False,
            actor_id=lead,
        )
    service.transition(db, cycle, "agreed", actor_id=lead)
    return cid


def _text(html: str) -> str:
    html = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


GRADE = r"(?:[ABC][+-]?)"
SHOWN = re.compile(rf"^(?:{GRADE}|between {GRADE} and {GRADE})$")


def test_results_page_shows_grades(scorecard, client, auth):
    auth.login(HEAD)
    html = client.get(f"/cycles/{scorecard}/results").get_data(as_text=True)
    text = _text(html)
    # The overall score and every section score are grades.
    overall = re.search(r"Overall score (.+?) on the scale C- to A[.:]", text)
    assert overall and SHOWN.match(overall.group(1)), text[:600]
    # An agreed answer is not followed by the number behind it.
    assert not re.search(rf"\b{GRADE} \(\d", text)
    # The chart's values and axis are grades too.
    chart = html.split('class="pr-chart pr-sections"', 1)[1].split("</svg>", 1)[0]
    for value in re.findall(r'class="pr-chart__value">([^<]*)<', chart):
        assert SHOWN.match(value.split(" · ")[0]), value
    ticks = re.findall(r'text-anchor="middle" class="pr-chart__label">([^<]*)<', chart)
    assert ticks == GRADES


def test_exports_show_grades(scorecard, client, auth):
    auth.login(HEAD)
    raw = client.get(f"/cycles/{scorecard}/results.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    header = rows[0]
    items = [dict(zip(header, r, strict=True)) for r in rows[1:11]]
    for item, agreed in zip(items, RATED, strict=True):
        assert item["Agreed answer"] == agreed
        assert item["Score (reverse items turned round)"] == agreed
        assert SHOWN.match(item["Median (as rated)"])
        assert SHOWN.match(item["Mean (as rated)"])
    sections = rows[rows.index([]) + 1 :]
    named = [dict(zip(sections[0], r, strict=True)) for r in sections[1:]]
    assert all(SHOWN.match(s["Score"]) for s in named), named

    response = client.get(f"/cycles/{scorecard}/results.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert SHOWN.match(summary["Overall score"])
    scores = [r[2] for r in book["Sections"].iter_rows(min_row=2, values_only=True)]
    assert all(SHOWN.match(s) for s in scores), scores


def test_team_report_shows_grades(scorecard, client, auth):
    auth.login(HEAD)
    html = client.get(f"/cycles/{scorecard}/reports/team.html")
    assert html.status_code == 200
    text = _text(html.get_data(as_text=True))
    overall = re.search(r"Overall score (.+?) on the scale C- to A[.:]", text)
    assert overall and SHOWN.match(overall.group(1)), text[:600]
    assert not re.search(r"(?<![\d.])\d\.\d(?![\d.])", text.split("Item by item", 1)[0])


def test_self_vs_peer_shows_grades_alone(scorecard, demo_full, client, auth):
    from support import TRUST_LEAD, user_id
    from test_peer import CASTLE_HEAD, RIVERSIDE_HEAD, _complete, _peer_cycle

    from peerreview.peer import service as peer

    db = demo_full
    reviewers = [user_id(db, RIVERSIDE_HEAD), user_id(db, CASTLE_HEAD)]
    round_id = peer.plan_round(
        db,
        partnership_id=1,
        instrument=load_file(SCORECARD),
        title="Scorecard visits",
        starts_on="2027-02-01",
        ends_on="2027-02-28",
        hosts=[{"school_id": 1, "reviewer_ids": reviewers, "lead_id": reviewers[0]}],
        actor_id=user_id(db, TRUST_LEAD),
    )
    cycle = _peer_cycle(db, round_id)
    _complete(db, cycle, value="B-", rationale="Seen in the plans")
    auth.login(HEAD)
    page = _text(client.get(f"/cycles/{cycle['id']}/self-vs-peer").get_data(True))
    assert "Agreed peer score B-" in page
    assert re.search(r"Agreed (self|peer) score [A-C][+-]? \(\d", page) is None
