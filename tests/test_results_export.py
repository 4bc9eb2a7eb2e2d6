"""CSV and XLSX exports carry the page's figures; ratings only as anonymity allows."""

import csv
import io
import re

import openpyxl
import pytest
from support import HEAD, Auth

from peerreview.anonymity import INSIDE
from peerreview.cycles import service as cycles
from peerreview.results import export, service


def _csv(response):
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _book(response):
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def _page_text(client, cid):
    html = client.get(f"/cycles/{cid}/results").get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_results_exports_match_the_page(demo_full, db, client, auth):
    auth.login(HEAD)
    r = service.cycle_results(db, cycles.get_cycle(db, 2))
    text = _page_text(client, 2)

    response = client.get("/cycles/2/results.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="northfield-primary-school-closing-gaps-in-'
        'attainment-autumn-2026-results.csv"'
    )
    rows = _csv(response)
    header = rows[0]
    items = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:12]}
    assert len(items) == 11
    for item in r["items"]:
        row = items[item["item_id"]]
        assert float(row["Score (reverse items turned round)"]) == pytest.approx(
            item["effective"]
        )
        assert row["Agreed answer"] == item["agreed_label"]
        assert f"{item['agreed_label']} ({item['score']:g})" in text
        assert float(row["Agreement (rWG)"]) == pytest.approx(item["rwg"], abs=0.005)
        assert f"{item['rwg']:.2f}" in text
        assert float(row["Change"]) == pytest.approx(item["change"]["delta"])
    overall = next(row for row in rows if row and row[0] == "overall")
    assert f"Overall score {float(overall[2]):.1f} out of 5" in text
    assert overall[3] == r["overall"]["band"]

    response = client.get("/cycles/2/results.xlsx")
    assert response.mimetype == export.XLSX_TYPE
    assert response.headers["Content-Disposition"].endswith('results.xlsx"')
    book = _book(response)
    assert book.sheetnames == ["Summary", "Sections", "Items"]
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert summary["Overall score"] == pytest.approx(r["overall"]["score"], abs=0.005)
    assert summary["Overall band"] == r["overall"]["band"]
    assert summary["Previous cycle"] == "Closing gaps in attainment, 2025"
    sections = list(book["Sections"].iter_rows(values_only=True))
    assert sections[0][:3] == ("Section id", "Section", "Score")
    assert sections[-1][:2] == ("overall", "Overall")
    for row, s in zip(sections[1:-1], r["sections"], strict=True):
        assert row[0] == s["id"]
        assert row[2] == pytest.approx(s["score"], abs=0.005)
        assert f"{s['score']:.1f} · {s['band']}" in text
    sheet = list(book["Items"].iter_rows(values_only=True))
    assert [row[1] for row in sheet[1:]] == [i["item_id"] for i in r["items"]]


def test_anonymous_ratings_export_carries_letters_not_names(
    demo_full, db, client, auth
):
    cycle = cycles.get_cycle(db, 2)
    assert cycle["anonymous"]
    names = [row[0] for row in db.execute("SELECT name FROM users").fetchall()]
    auth.login(HEAD)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/cycles/2/ratings.{fmt}")
        assert response.status_code == 200
        assert "individual-ratings" in response.headers["Content-Disposition"]
        if fmt == "csv":
            rows = _csv(response)
        else:
            rows = [
                ["" if v is None else str(v) for v in row]
                for row in _book(response)["Ratings"].iter_rows(values_only=True)
            ]
        assert rows[0][0] == "Respondent"
        lettered = {row[0] for row in rows[1:] if row[6]}
        assert lettered == set("ABCDE")
        # Comments stand apart, not beside a letter.
        assert all(row[0] == "Not attributed" for row in rows[1:] if row[7])
        flat = " ".join(" ".join(row) for row in rows)
        assert not [n for n in names if n in flat]


def test_named_ratings_export_carries_names(demo_full, db, client, auth):
    cycle = cycles.get_cycle(db, 3)
    assert not cycle["anonymous"]
    team = {
        row[0]
        for row in db.execute(
            "SELECT u.name FROM users u JOIN cycle_respondents c ON c.user_id = u.id "
            "WHERE c.cycle_id = 3"
        ).fetchall()
    }
    auth.login("headteacher@riversideinfant.example.org")
    rows = _csv(client.get("/cycles/3/ratings.csv"))
    assert {row[0] for row in rows[1:]} == team
    answers = db.execute(
        "SELECT count(*) FROM responses WHERE cycle_id = 3"
    ).fetchone()[0]
    assert len(rows) - 1 == answers


def test_typed_text_is_never_a_formula(demo_full, db, client, auth):
    db.execute(
        "UPDATE responses SET comment = '=HYPERLINK(\"http://x\")' WHERE cycle_id = 2"
    )
    auth.login(HEAD)
    rows = _csv(client.get("/cycles/2/ratings.csv"))
    assert {row[7] for row in rows[1:] if row[7]} == {'\'=HYPERLINK("http://x")'}
    book = _book(client.get("/cycles/2/ratings.xlsx"))
    cells = [c for c in book["Ratings"]["H"] if c.value and c.row > 1]
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)


def test_withheld_ratings_are_blank_in_exports(demo_full, db):
    cycle = cycles.get_cycle(db, 2)
    db.execute(
        "DELETE FROM responses WHERE cycle_id = 2 AND item_id = 'ascl-01' "
        "AND respondent_id != (SELECT min(respondent_id) FROM responses "
        "WHERE cycle_id = 2)"
    )
    r = service.cycle_results(db, cycle)
    header = export.item_header(r)
    row = dict(zip(header, export.item_rows(r)[0], strict=True))
    assert row["Ratings"] == 1
    assert row["Median (as rated)"] is None and row["Agreement (rWG)"] is None
    assert row["Rated Agree"] is None
    assert row["Ratings withheld (anonymity)"] == "yes"


def _priorities_on_page(client, cid) -> set[str]:
    html = client.get(f"/cycles/{cid}/results").get_data(as_text=True)
    rows = re.findall(
        r'<tr class="govuk-table__row" id="item-([^"]+)">(.*?)</tr>', html, re.S
    )
    return {item_id for item_id, row in rows if 'govuk-tag--red">Priority' in row}


def test_export_priority_column_is_the_page_priority_list_for_every_demo_cycle(
    demo_full, db, app
):
    checked = 0
    for (cid,) in db.execute(
        "SELECT id FROM cycles WHERE state IN ('agreed', 'closed') ORDER BY id"
    ).fetchall():
        cycle = cycles.get_cycle(db, cid)
        lead = db.execute("SELECT email FROM users WHERE id = ?", [cycle["lead_id"]])
        client = app.test_client()
        Auth(client).login(lead.fetchone()[0])
        page = _priorities_on_page(client, cid)
        r = service.cycle_results(db, cycle, INSIDE)
        listed = {p["item_id"] for p in r["priorities"]}
        rows = _csv(client.get(f"/cycles/{cid}/results.csv"))
        header = rows[0]
        n = len(cycle["snapshot"].item_ids)
        csv_yes = {
            row[1]
            for row in rows[1 : n + 1]
            if dict(zip(header, row, strict=True))["Priority"] == "yes"
        }
        sheet = list(
            _book(client.get(f"/cycles/{cid}/results.xlsx"))["Items"].iter_rows(
                values_only=True
            )
        )
        at = sheet[0].index("Priority")
        xlsx_yes = {row[1] for row in sheet[1:] if row[at] == "yes"}
        assert page == csv_yes == xlsx_yes == listed, cid
        checked += 1
    assert checked >= 8


def test_overall_change_is_filled_where_a_previous_cycle_exists(
    demo_full, db, client, auth
):
    auth.login(HEAD)
    r = service.cycle_results(db, cycles.get_cycle(db, 2))
    assert r["previous_cycle"]
    change = r["overall"]["change"]
    assert change["previous"] is not None and change["delta"] is not None
    rows = _csv(client.get("/cycles/2/results.csv"))
    overall = next(row for row in rows if row and row[0] == "overall")
    header = next(row for row in rows if row and row[0] == "Section id")
    row = dict(zip(header, overall, strict=True))
    assert float(row["Previous score"]) == pytest.approx(change["previous"], abs=0.005)
    assert float(row["Change"]) == pytest.approx(change["delta"], abs=0.005)
    summary = dict(
        _book(client.get("/cycles/2/results.xlsx"))["Summary"].iter_rows(
            values_only=True
        )
    )
    assert summary["Overall change"] == pytest.approx(change["delta"], abs=0.005)
    text = _page_text(client, 2)
    assert (
        f"Last time (Closing gaps in attainment, 2025) {change['previous']:.1f}" in text
    )
