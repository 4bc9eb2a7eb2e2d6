"""The partnership comparison: figures, who can help whom, exports, isolation."""

import csv
import io

import openpyxl
import pytest
from support import CLUSTER_LEAD, TRUST_LEAD, tags

from peerreview.organisations import postcodes
from peerreview.partnership import comparison
from peerreview.peer import service as peer

# Who can help whom ----------------------------------------------------------------


def test_postcodes_are_looked_up_in_code_point_open():
    assert postcodes.normalise(" la1  2pe") == "LA1 2PE"
    assert postcodes.normalise("sw1a1aa") == "SW1A 1AA"
    assert postcodes.normalise("LA1") is None
    # Grid references as Code-Point Open gives them, in metres.
    assert postcodes.locate("la1 2pe") == (346988, 463363)
    assert postcodes.locate("TR18 2AA") == (147125, 30549)
    # Northern Ireland is not in Code-Point Open; ZZ is no postcode area.
    assert postcodes.locate("BT1 1AA") is None
    assert postcodes.locate("ZZ9 9ZZ") is None
    assert postcodes.locate("") is None
    # Lancaster to Kirkby Lonsdale: about 13 miles as the crow flies
    miles = postcodes.miles_between(
        postcodes.locate("LA1 2PE"), postcodes.locate("LA6 2AT")
    )
    assert 12.5 < miles < 13.5


def _at(easting, northing, name):
    return {"name": name, "easting": easting, "northing": northing}


# Grid references (metres) around Lancaster; 1609 m to the mile.
SCHOOLS = {
    1: _at(347000, 461600, "Asker"),
    2: _at(343500, 463000, "Bay"),  # about 2.3 miles
    3: _at(361200, 478700, "Crag"),  # about 13.8 miles
    4: _at(340000, 556000, "Dale"),  # about 59 miles
    5: _at(None, None, "Edge"),  # postcode not found
    6: _at(343500, 463000, "Fell"),  # the same place as Bay
}


def test_helpers_are_strong_schools_nearest_first_within_the_radius():
    priorities = [(1, "x", 2.0), (1, "y", 1.0), (2, "x", 3.0)]
    strengths = [
        (4, "x", 5.0),
        (3, "x", 4.0),
        (5, "x", 5.0),
        (2, "x", 4.0),
        (6, "x", 5.0),
        (1, "x", 5.0),  # a school never helps itself
    ]
    result = comparison.rank_helpers(priorities, strengths, SCHOOLS, 45)
    # School 1's priorities in order of weakness: y (1.0), then x (2.0)
    assert [e["item_id"] for e in result[1]] == ["y", "x"]
    assert result[1][0]["helpers"] == []
    names = [h["name"] for h in result[1][1]["helpers"]]
    # Bay and Fell are equally near: the higher score first; Dale is too far;
    # Edge's distance is unknown, so it comes last.
    assert names == ["Fell", "Bay", "Crag", "Edge"]
    assert result[1][1]["helpers"][-1]["miles"] is None
    assert [h["name"] for h in result[2][0]["helpers"]][:2] == ["Fell", "Asker"]
    wider = comparison.rank_helpers(priorities, strengths, SCHOOLS, 75)
    assert "Dale" in [h["name"] for h in wider[1][1]["helpers"]]


def test_thresholds_follow_the_scale():
    assert comparison.thresholds(1, 5) == (3, 4)  # ASCL: 3 or below; 4 or 5
    assert comparison.thresholds(1, 4) == (2.5, 3.25)  # maturity: 1-2; 4


# Figures from agreed scores ---------------------------------------------------------


def _by_hand(db, round_id):
    """Work the matrix out item by item in Python from the agreed scores."""
    figures = {}
    for review in db.query("SELECT * FROM peer_reviews WHERE round_id = ?", [round_id]):
        from peerreview.cycles import service as cycles

        cycle = cycles.get_cycle(db, review["cycle_id"])
        rows = peer.compare_items(
            cycle["snapshot"],
            cycles.agreed_scores(db, review["self_cycle_id"]),
            cycles.agreed_scores(db, cycle["id"]),
        )
        for r in rows:
            if r["gap"] is None:
                continue
            cell = figures.setdefault((review["school_id"], r["section_id"]), [])
            cell.append((r["self_value"], r["peer_value"], r["gap"]))
    return figures


def test_matrix_matches_the_item_by_item_figures(demo_full):
    db = demo_full
    data = comparison.partnership_view(db, 1, round_id=1)
    assert data["round"]["id"] == 1
    hand = _by_hand(db, 1)
    assert set(data["cells"]) == set(hand)
    for key, values in hand.items():
        cell = data["cells"][key]
        assert cell["n"] == len(values)
        for n, mode in enumerate(("self", "peer", "gap")):
            assert cell[mode] == pytest.approx(sum(v[n] for v in values) / len(values))
    assert len(data["schools"]) == 6
    assert len(data["spread"]) == 11
    assert all(len(data["trend"][s["id"]]) == 2 for s in data["schools"])


# Pages and exports ----------------------------------------------------------------


def test_comparison_page_shows_heat_map_table_and_help(demo_full, auth, client):
    auth.login(TRUST_LEAD)
    page = client.get("/partnerships/1/comparison?view=gap&round=1").get_data(
        as_text=True
    )
    assert tags(page, "svg", class_="pr-chart pr-heat", role="img")
    assert "The matrix as a table" in page
    assert "Spread of agreed peer scores by item" in page
    assert "Trend across rounds" in page
    assert "Who can help whom" in page
    assert "Northfield Primary School" in page
    # the lead sees agreed scores only: no individual reviewer's evidence note
    assert "Learning walk" not in page
    # The screen-reader description says what the cells show, on a 1-5 scale.
    assert "the gap, self minus peer, in points of the scale" in page
    peer_view = client.get("/partnerships/1/comparison?view=peer&round=1")
    assert (
        "Each cell shows the mean agreed peer score to one decimal place, on the "
        "scale from 1 to 5" in peer_view.get_data(as_text=True)
    )


def test_comparison_page_shows_statements_and_names_whole(demo_full, auth, client):
    auth.login(TRUST_LEAD)
    page = client.get("/partnerships/1/comparison").get_data(as_text=True)
    data = comparison.partnership_view(demo_full, 1)
    # Statements, school names and section titles are never cut to "…".
    assert "…" not in page
    for info in data["item_info"].values():
        assert info["statement"].replace("'", "&#39;") in page
    heat = page.split('<svg class="pr-chart pr-heat"', 1)[1].split("</svg>", 1)[0]
    for school in data["schools"]:
        assert f">{school['name']}</text>" in heat
    # Distances read as words: "1 mile", not "1 miles".
    assert " 1 miles" not in page and "(peer 5, 1 mile)" in page
    # The choices are radios, which wrap, not drop-downs, which cut.
    for name in ("instrument", "round", "view"):
        assert f'name="{name}" type="radio"' in page
    assert "<select" not in page


def test_bad_choices_are_refused_with_a_message(demo_full, auth, client):
    auth.login(TRUST_LEAD)
    response = client.get("/partnerships/1/comparison?miles=500")
    assert response.status_code == 400
    assert "Enter a distance from 1 to 75 miles" in response.get_data(as_text=True)
    response = client.get("/partnerships/1/comparison.csv?miles=abc")
    assert response.status_code == 400


def test_csv_and_xlsx_hold_everything_on_the_page(demo_full, auth, client):
    auth.login(TRUST_LEAD)
    response = client.get("/partnerships/1/comparison.csv?round=1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    titles = [r[0] for r in rows if len(r) == 1]
    assert titles == [
        "Matrix",
        "Item spread",
        "Trend",
        "Who can help whom",
        "Evidence coverage",
        "Areas of excellence",
    ]
    northfield_gap = next(
        r
        for r in rows
        if r[:2] == ["Northfield Primary School", "Gap (self minus peer)"]
    )
    data = comparison.partnership_view(demo_full, 1, round_id=1)
    assert float(northfield_gap[-1]) == round(data["school_totals"][1]["gap"], 2)
    response = client.get("/partnerships/1/comparison.xlsx?round=1")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "Matrix",
        "Item spread",
        "Trend",
        "Who can help whom",
        "Evidence coverage",
        "Areas of excellence",
    ]
    assert book["Matrix"]["A1"].value == "School"
    assert book["Matrix"].max_row == 1 + 6 * 3
    assert book["Item spread"].max_row == 1 + 11


def test_a_lead_sees_nothing_of_another_partnership(demo_full, auth, client):
    auth.login(CLUSTER_LEAD)
    for url in (
        "/partnerships/1/comparison",
        "/partnerships/1/comparison.csv",
        "/partnerships/1/comparison.xlsx",
        "/peer-rounds/1",
        "/peer-rounds/2",
        "/partnerships/1/peer-rounds/new",
        "/cycles/21/self-vs-peer",
    ):
        assert client.get(url).status_code == 404, url
    # Their own partnership has no round: nothing of the trust's leaks in.
    page = client.get("/partnerships/2/comparison").get_data(as_text=True)
    assert "No peer-review round" in page
    export = client.get("/partnerships/2/comparison.csv").get_data(as_text=True)
    for name in ("Northfield", "Castle Hill", "Moorside", "Trust peer review"):
        assert name not in export and name not in page
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/partnerships/2/comparison.xlsx").data)
    )
    cells = [c.value for ws in book for row in ws.iter_rows() for c in row]
    assert not any("Northfield" in str(v) for v in cells)


def test_choosing_another_partnerships_round_shows_nothing_of_it(
    demo_full, auth, client
):
    """A round id from another partnership in the query string is ignored."""
    db = demo_full
    db.execute(
        "INSERT INTO peer_rounds (partnership_id, instrument_id, title) "
        "VALUES (2, 'ascl-closing-gaps', 'Cluster round')"
    )
    auth.login(CLUSTER_LEAD)
    page = client.get("/partnerships/2/comparison?round=1").get_data(as_text=True)
    assert "Trust peer review" not in page and "Northfield" not in page


def test_the_cache_follows_reopening_and_agreeing_again(demo_full):
    from peerreview.cycles import service as cycles

    db = demo_full
    cycle = cycles.get_cycle(db, 21)  # Northfield's first peer review
    before = comparison.partnership_view(db, 1, round_id=1)
    assert 1 in before["school_totals"]
    cycles.transition(
        db, cycle, "moderation", actor_id=cycle["lead_id"], reason="Recheck"
    )
    reopened = comparison.partnership_view(db, 1, round_id=1)
    assert 1 not in reopened["school_totals"]  # not agreed: not shown
    for item_id in cycle["snapshot"].item_ids:
        cycles.record_agreed(
            db,
            cycle,
            item_id,
            value="5",
            rationale="",
            deferred=False,
            actor_id=cycle["lead_id"],
        )
    cycles.transition(db, cycle, "agreed", actor_id=cycle["lead_id"])
    after = comparison.partnership_view(db, 1, round_id=1)
    assert after["school_totals"][1]["peer"] == 5
    assert after["school_totals"][1]["gap"] < before["school_totals"][1]["gap"]


def test_a_partnership_lead_starts_from_home(demo, auth, client):
    auth.login(TRUST_LEAD)
    home = client.get("/").get_data(as_text=True)
    led = home.split("Partnerships you lead", 1)[1]
    for href in (
        "/partnerships/1/comparison",
        "/partnerships/1/peer-rounds/new",
        "/partnerships/1/reports",
    ):
        assert f'href="{href}"' in led
        page = client.get(href, follow_redirects=True)
        assert page.status_code == 200
        assert page.request.path.startswith("/partnerships/1/")
    assert "/partnerships/2/" not in led


# Choosing a school in a big partnership -------------------------------------------


@pytest.fixture
def big(demo_full):
    from many_schools import add_reviewed_schools

    return add_reviewed_schools(demo_full)


def _help_for(page: str) -> list[str]:
    """The schools the page lists help for (the headings under "Who can help whom")."""
    import re

    part = page.split('id="who-can-help"', 1)[1] if 'id="who-can-help"' in page else ""
    return re.findall(r'<h3 class="govuk-heading-s">([^<]*)</h3>', part)


def test_a_big_partnership_chooses_a_school_by_typing(big, auth, client):
    auth.login(TRUST_LEAD)
    page = client.get("/partnerships/1/comparison?round=2").get_data(as_text=True)
    # A labelled text box with every reviewed school's name as a suggestion.
    assert tags(page, "label", for_="school")
    assert tags(page, "input", id="school", type="text", list="school-names")
    names = page.split('<datalist id="school-names">', 1)[1].split("</datalist>")[0]
    assert names.count("<option") == 24
    assert "<select" not in page
    assert _help_for(page) == []
    # A whole name in any case, or a part only one school's name fits.
    for typed in ("castle hill academy", "Castle", "heysham"):
        page = client.get(
            "/partnerships/1/comparison", query_string={"round": 2, "school": typed}
        ).get_data(as_text=True)
        assert len(_help_for(page)) == 1, typed
        assert typed.casefold() in _help_for(page)[0].casefold()
    # The chosen school's name stays in the box, and its id works as well.
    assert 'value="Heysham High School"' in page
    page = client.get("/partnerships/1/comparison?round=2&school=3").get_data(True)
    assert _help_for(page) == ["Castle Hill Academy"]


def test_a_part_name_that_fits_several_schools_lists_them(big, auth, client):
    auth.login(TRUST_LEAD)
    response = client.get(
        "/partnerships/1/comparison", query_string={"round": 2, "school": "st mary"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 schools have a name like “st mary”: choose one." in page
    assert ">St Mary&#39;s Catholic Primary School</a>" in page
    assert _help_for(page) == []
    # Each is a link that keeps the other choices and names the school.
    import re

    links = re.findall(r'<li><a class="govuk-link" href="([^"]*school=\d+[^"]*)"', page)
    assert len(links) == 2 and all("round=2" in u for u in links)
    chosen = client.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert len(_help_for(chosen)) == 1


def test_a_name_no_school_has_is_refused_with_a_message(big, auth, client):
    auth.login(TRUST_LEAD)
    response = client.get(
        "/partnerships/1/comparison", query_string={"round": 2, "school": "Hogwarts"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "No school reviewed in this round has a name like “Hogwarts”" in page
    assert 'aria-describedby="school-hint school-error"' in page


def test_the_report_page_chooses_a_school_the_same_way(big, auth, client):
    auth.login(TRUST_LEAD)
    page = client.get(
        "/partnerships/1/reports", query_string={"round": 2, "school": "castle"}
    ).get_data(as_text=True)
    assert 'value="Castle Hill Academy"' in page
    assert "school=3" in page  # the preview and the PDF carry the choice


# Confirmed areas of excellence -------------------------------------------------------


def test_an_area_of_excellence_makes_a_school_a_helper():
    priorities = [(1, "x", 2.0), (1, "y", 1.0)]
    strengths = [(2, "x", 5.0)]
    # Crag's reviewers confirmed the section holding x and y: it helps with
    # both, its score on x unknown (not applicable), on y known.
    excellent = [(3, "x", None), (3, "y", 4.0)]
    result = comparison.rank_helpers(priorities, strengths, SCHOOLS, 45, excellent)
    y, x = result[1]
    assert [(h["name"], h["value"], h["excellence"]) for h in y["helpers"]] == [
        ("Crag", 4.0, True)
    ]
    assert [(h["name"], h["excellence"]) for h in x["helpers"]] == [
        ("Bay", False),
        ("Crag", True),
    ]


def _confirmed(db, round_id):
    return {
        (r["name"], r["section_id"])
        for r in db.query(
            """
            SELECT s.name, n.section_id, n.verdict FROM excellence_nominations n
            JOIN peer_reviews pr ON pr.cycle_id = n.cycle_id
            JOIN schools s ON s.id = pr.school_id
            WHERE pr.round_id = ? AND n.verdict = 'confirmed'
            """,
            [round_id],
        )
    }


def test_confirmed_areas_of_excellence_feed_who_can_help(demo_full, auth, client):
    db = demo_full
    data = comparison.partnership_view(db, 1, round_id=2)
    confirmed = _confirmed(db, 2)
    assert confirmed and {(x["name"], x["section_id"]) for x in data["excellence"]} == (
        confirmed
    )
    # A nomination the reviewers did not confirm feeds nothing.
    assert db.execute(
        "SELECT count(*) FROM excellence_nominations n JOIN peer_reviews pr "
        "ON pr.cycle_id = n.cycle_id WHERE pr.round_id = 2 AND n.verdict != 'confirmed'"
    ).fetchone()[0]
    excellent = {
        (x["school_id"], item_id)
        for x in data["excellence"]
        for item_id, info in data["item_info"].items()
        if info["section_id"] == x["section_id"]
    }
    marked = [
        (sid, e, h)
        for sid, entries in data["help"].items()
        for e in entries
        for h in e["helpers"]
        if h["excellence"]
    ]
    assert marked
    assert all((h["school_id"], e["item_id"]) in excellent for _s, e, h in marked)

    auth.login(TRUST_LEAD)
    page = client.get("/partnerships/1/comparison?round=2").get_data(as_text=True)
    listed = page.split('id="excellence"', 1)[1].split("</ul>", 1)[0]
    for x in data["excellence"]:
        assert f"<li>{x['name']}: {x['title']}</li>" in listed
    assert "a confirmed area of excellence, " in page
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/partnerships/1/comparison.csv?round=2").get_data(True)
            )
        )
    )
    areas = rows[rows.index(["Areas of excellence"]) + 1 :]
    assert areas[0] == [
        "School",
        "Section",
        "The school's case",
        "The reviewers' reason",
    ]
    assert len([r for r in areas[1:] if r]) == len(confirmed)
    helping = rows[rows.index(["Who can help whom"]) + 1 :]
    assert "yes" in [r[6] for r in helping if len(r) > 6]


def test_the_partnership_report_lists_confirmed_areas_of_excellence(
    demo_full, auth, client
):
    data = comparison.partnership_view(demo_full, 1, round_id=2)
    auth.login(TRUST_LEAD)
    html = client.get("/partnerships/1/reports/partnership.html?round=2").get_data(
        as_text=True
    )
    table = html.split('class="figures excellence"', 1)[1].split("</table>", 1)[0]
    for x in data["excellence"]:
        assert f'<th scope="row">{x["name"]}</th><td>{x["title"]}</td>' in table
    assert table.count("<tr>") == 1 + len(data["excellence"])
    assert "area of excellence, " in html.split("Who can help whom", 1)[1]
