"""Evidence coverage on the partnership comparison and in the governors' summary.

The whole demo keeps four pieces of evidence on Northfield Primary's agreed
self-evaluation (cycle 2), shown to and marked by its reviewers in the
November round (round 2). The comparison shows, per school and section, how
many items rest on evidence and how many on evidence this round's reviewers
confirmed: counts of items only, never a piece's title nor who added it.
"""

import csv
import io
import re
from html import unescape

from support import GOVERNOR, TRUST_LEAD

from peerreview.cycles import service as cycles
from peerreview.evidence import service as evidence

NORTHFIELD = "Northfield Primary School"


def _review(db, round_id, school_id=1):
    return db.execute(
        "SELECT cycle_id, self_cycle_id FROM peer_reviews WHERE round_id = ? "
        "AND school_id = ?",
        [round_id, school_id],
    ).fetchone()


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _row(page: str, name: str) -> str:
    table = page.split('id="evidence-coverage"', 1)[1].split("</table>", 1)[0]
    row = table.split(f">{name}</th>", 1)[1].split("</tr>", 1)[0]
    return _text(row)


def test_comparison_shows_coverage_per_school_and_section(demo_full, auth, client):
    db = demo_full
    auth.login(TRUST_LEAD)
    for round_id in (1, 2):
        peer_cid, self_cid = _review(db, round_id)
        expected = evidence.peer_coverage(
            db, cycles.get_cycle(db, peer_cid), cycles.get_cycle(db, self_cid)
        )
        page = client.get(f"/partnerships/1/comparison?round={round_id}").get_data(
            as_text=True
        )
        cells = [
            f"{c['evidenced']} of {c['items']} {c['confirmed']} confirmed"
            for c in expected
        ]
        total = evidence.totals(expected)
        cells.append(
            f"{total['evidenced']} of {total['items']} {total['confirmed']} confirmed"
        )
        assert _row(page, NORTHFIELD) == " ".join(cells), round_id
        if round_id == 2:
            assert total["evidenced"] and total["confirmed"]
        # Counts only: no piece's title, nor who added it.
        for piece in evidence.for_cycle(db, cycles.get_cycle(db, self_cid)):
            assert piece["title"] not in page
    # A school with no evidence shows noughts, not a gap in the table.
    assert _row(page, "Castle Hill Academy").startswith("0 of ")


def test_comparison_export_has_the_coverage(demo_full, auth, client):
    auth.login(TRUST_LEAD)
    raw = client.get("/partnerships/1/comparison.csv?round=2").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(raw)))
    at = rows.index(["Evidence coverage"])
    sheet = rows[at + 1 : rows.index(["Areas of excellence"]) - 1]
    assert sheet[0][:3] == ["School", "Section", "Items"]
    northfield = [r for r in sheet[1:] if r[0] == NORTHFIELD]
    assert northfield and sum(int(r[4]) for r in northfield) > 0


def test_governors_summary_has_one_line_of_coverage(demo_full, auth, client):
    cycle = cycles.get_cycle(demo_full, 2)
    total = evidence.totals(evidence.summary(demo_full, cycle)["coverage"])
    auth.login(GOVERNOR)
    response = client.get("/cycles/2/reports/governors.html")
    assert response.status_code == 200
    text = _text(response.get_data(as_text=True))
    line = (
        f"Evidence: {total['evidenced']} of {total['items']} items rest on evidence "
        f"the school keeps, {total['confirmed']} of them on evidence a peer reviewer "
        "saw and confirmed."
    )
    assert line in text
    assert text.count("Evidence:") == 1
    assert total["evidenced"] and total["confirmed"]
