"""CSV and XLSX exports carry the page's figures; ratings only as anonymity allows."""

import csv
import io
import re

import openpyxl
import pytest
from support import HEAD

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
        assert float(row["Score"]) == pytest.approx(item["score"])
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
    for row, s in zip(sections[1:], r["sections"], strict=True):
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
        assert {row[0] for row in rows[1:]} == set("ABCDE")
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
    assert {row[7] for row in rows[1:]} == {'\'=HYPERLINK("http://x")'}
    book = _book(client.get("/cycles/2/ratings.xlsx"))
    cell = book["Ratings"]["H2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")


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
    assert row["Median"] is None and row["Agreement (rWG)"] is None
    assert row["Rated Agree"] is None
    assert row["Ratings withheld (anonymity)"] == "yes"
