"""Schools from a GIAS extract: preview, confirm, repeat, partnership, distances.

tests/data/gias_extract.csv is a GIAS-shaped file made for these tests: real
GIAS column names, invented schools at real postcodes, Windows-1252 encoded
as GIAS's own downloads are.
"""

import io
import json
import math
import pathlib
import re

from support import ADMIN, CLUSTER_LEAD, csrf_token

from peerreview.organisations import postcodes
from peerreview.partnership import comparison

EXTRACT = pathlib.Path(__file__).parent / "data" / "gias_extract.csv"


def upload(client, url, raw: bytes, name="extract.csv"):
    """Upload an extract; return the preview page's URL and text."""
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(raw), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    preview = response.headers["Location"]
    return preview, client.get(preview).get_data(as_text=True)


def confirm(client, preview, **data):
    token = csrf_token(client, preview)
    return client.post(preview, data={"csrf_token": token, **data})


def count(db, sql, params=()):
    return db.execute(sql, params).fetchone()[0]


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_preview_lists_what_would_happen_and_writes_nothing(app, db, client, auth):
    db["users"].insert({"email": ADMIN, "name": "Admin", "is_admin": 1})
    _admin_password(db)
    auth.login(ADMIN)
    preview, html = upload(client, "/admin/schools/import", EXTRACT.read_bytes())
    page = text_of(html)
    assert "6 new schools to create" in page
    assert "5 lines that cannot be used" in page
    # Windows-1252 read as such: the curly apostrophe and the é survive.
    assert "St Aidan’s Church of England Primary School" in page
    for line, reason in [
        (8, "“12AB” is not a URN (six or seven digits)"),
        (9, "It has no phase of education: it is a “Further education”"),
        (10, "It has no postcode"),
        (11, "URN 900002 is also on line 3"),
        (12, "“LANCASTER” is not a full UK postcode"),
    ]:
        assert re.search(rf"{line} \S* ?{re.escape(reason)}", page), reason
    assert "1 postcode was not found" in page
    assert "Lost Valley Free School, ZZ9 9ZZ" in page
    assert count(db, "SELECT count(*) FROM schools") == 0


def _admin_password(db):
    from peerreview.security import hash_password

    db["users"].update(1, {"password_hash": hash_password("peerreview-demo")})


def test_confirm_imports_and_a_repeat_changes_nothing(demo, db, client, auth):
    auth.login(ADMIN)
    before = count(db, "SELECT count(*) FROM schools")
    preview, _ = upload(client, "/admin/schools/import", EXTRACT.read_bytes())
    response = confirm(client, preview)
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "6 schools created, 0 updated, 0 unchanged." in page
    assert count(db, "SELECT count(*) FROM schools") == before + 6
    school = next(db.query("SELECT * FROM schools WHERE urn = '900005'"))
    assert school["name"] == "Kent Vale Academy"
    assert school["phase"] == "secondary"
    assert school["pupils"] == 1104
    assert school["trust"] == "Bay and Fell Learning Trust"
    assert (school["easting"], school["northing"]) == (351529, 492940)
    lost = next(db.query("SELECT * FROM schools WHERE urn = '900006'"))
    assert lost["easting"] is None
    # The same batch cannot be confirmed twice.
    assert confirm(client, preview).status_code == 404

    audit_rows = count(db, "SELECT count(*) FROM audit_log")
    preview, html = upload(client, "/admin/schools/import", EXTRACT.read_bytes())
    assert "6 already up to date" in text_of(html)
    confirm(client, preview)
    assert count(db, "SELECT count(*) FROM schools") == before + 6
    assert count(db, "SELECT count(*) FROM audit_log WHERE action='school.update'") == 0
    # Only the import itself is recorded.
    assert count(db, "SELECT count(*) FROM audit_log") == audit_rows + 1


def test_a_changed_name_or_postcode_updates_and_is_audited(demo, db, client, auth):
    auth.login(ADMIN)
    preview, _ = upload(client, "/admin/schools/import", EXTRACT.read_bytes())
    confirm(client, preview)
    changed = (
        EXTRACT.read_bytes()
        .replace(b"Kent Vale Academy", b"Kent Vale High School")
        .replace(b"TR18 2AA", b"TR18 2AB")
    )
    preview, html = upload(client, "/admin/schools/import", changed)
    page = text_of(html)
    assert "2 to update" in page
    assert "name: Kent Vale Academy → Kent Vale High School" in page
    assert "postcode: TR18 2AA → TR18 2AB" in page
    confirm(client, preview)
    row = next(db.query("SELECT * FROM schools WHERE urn = '900002'"))
    assert row["postcode"] == "TR18 2AB"
    assert (row["easting"], row["northing"]) == (147061, 30725)
    entries = {
        e["object_id"]: json.loads(e["detail"])
        for e in db.query("SELECT * FROM audit_log WHERE action = 'school.update'")
    }
    kent = next(db.query("SELECT id FROM schools WHERE urn = '900005'"))["id"]
    assert entries[kent]["changes"] == {
        "name": ["Kent Vale Academy", "Kent Vale High School"]
    }
    assert entries[row["id"]]["changes"] == {"postcode": ["TR18 2AA", "TR18 2AB"]}


def test_lead_imports_into_their_partnership_and_adds_the_chosen(
    demo, db, client, auth
):
    auth.login(CLUSTER_LEAD)
    # The cluster is partnership 2; the lead cannot import into the trust.
    assert client.get("/partnerships/1/schools/import").status_code == 404
    page = client.get("/partnerships/2").get_data(as_text=True)
    assert "/partnerships/2/schools/import" in page
    preview, html = upload(
        client, "/partnerships/2/schools/import", EXTRACT.read_bytes()
    )
    assert 'name="add" type="checkbox" value="900001" checked' in html
    response = confirm(client, preview, add=["900001", "900003"])
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "6 schools created" in page
    assert "2 schools added to Lune Valley Cluster" in page
    members = {
        r["urn"]
        for r in db.query(
            "SELECT s.urn FROM schools s JOIN partnership_schools ps "
            "ON ps.school_id = s.id WHERE ps.partnership_id = 2"
        )
    }
    assert {"900001", "900003"} <= members
    assert "900002" not in members
    assert "Tweedmouth Middle School" in page


def test_lead_cannot_change_a_school_other_partnerships_hold(demo, db, client, auth):
    # Kirkby Lonsdale Primary (119007) is in the cluster only; Northfield
    # Primary (119001) is in the trust only.
    header = EXTRACT.read_bytes().split(b"\r\n")[0].decode("cp1252").split(",")

    def line(urn, name, postcode):
        values = dict.fromkeys(header, "")
        values.update(
            {
                "URN": urn,
                "EstablishmentName": name,
                "PhaseOfEducation (name)": "Primary",
                "Postcode": postcode,
            }
        )
        return ",".join(values[h] for h in header)

    raw = "\r\n".join(
        [
            ",".join(header),
            line("119001", "Northfield Primary Academy", "LA1 2PE"),
            line("119007", "Kirkby Lonsdale CE Primary School", "LA6 2AT"),
        ]
    ).encode()
    auth.login(CLUSTER_LEAD)
    preview, html = upload(client, "/partnerships/2/schools/import", raw)
    page = text_of(html)
    assert "1 to update" in page
    assert "1 kept as they are" in page
    confirm(client, preview)
    names = {r["urn"]: r["name"] for r in db.query("SELECT urn, name FROM schools")}
    assert names["119001"] == "Northfield Primary School"
    assert names["119007"] == "Kirkby Lonsdale CE Primary School"


def test_a_file_that_is_not_a_gias_extract_is_refused(demo, db, client, auth):
    auth.login(ADMIN)
    url = "/admin/schools/import"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "file": (io.BytesIO(b"name,postcode\nA,LA1 1AA\n"), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "There is a problem" in page
    assert (
        "The file has no “URN”, “EstablishmentName”, “PhaseOfEducation (name)” "
        "and “Postcode” columns" in page
    )
    assert count(db, "SELECT count(*) FROM import_batches") == 0


def test_confirm_needs_the_csrf_token(demo, db, client, auth):
    auth.login(ADMIN)
    preview, _ = upload(client, "/admin/schools/import", EXTRACT.read_bytes())
    before = count(db, "SELECT count(*) FROM schools")
    response = client.post(preview, data={})
    assert response.status_code == 400
    assert count(db, "SELECT count(*) FROM schools") == before


def test_distance_between_opposite_ends_of_england(demo, db, client, auth):
    """Penzance to Berwick-upon-Tweed, from the schools' stored positions."""
    auth.login(ADMIN)
    preview, _ = upload(client, "/admin/schools/import", EXTRACT.read_bytes())
    confirm(client, preview)
    schools = {
        r["id"]: r
        for r in db.query("SELECT * FROM schools WHERE urn IN ('900002', '900003')")
    }
    penwith, tweedmouth = sorted(schools, key=lambda i: schools[i]["urn"])
    help_ = comparison.rank_helpers(
        [(penwith, "x", 1.0)], [(tweedmouth, "x", 5.0)], schools, 1000
    )
    miles = help_[penwith][0]["helpers"][0]["miles"]
    # By hand: TR18 2AA is at E 147125 N 30549, TD15 1AA at E 400009 N 652862;
    # ΔE = 252884 m, ΔN = 622313 m; √(252884² + 622313²) = 671732 m;
    # 671732 / 1609.344 = 417.4 miles.
    assert abs(miles - 417.4) < 1
    # And from the towns' latitudes and longitudes (Penzance 50.119 N 5.537 W,
    # Berwick 55.771 N 2.005 W) on a sphere of 3958.8 miles: about 417 miles.
    lat1, lon1, lat2, lon2 = map(math.radians, (50.119, -5.537, 55.771, -2.005))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    assert abs(miles - 2 * 3958.8 * math.asin(math.sqrt(h))) < 3
    assert postcodes.miles_between((0, 0), (1609.344, 0)) == 1


def test_cli_imports_with_a_progress_bar(demo, db, runner, tmp_path):
    result = runner.invoke(
        args=["schools", "import", str(EXTRACT), "--partnership", "Lune Valley Cluster"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "Created 6, updated 0, unchanged 0, added 6 to Lune Valley Cluster"
        in result.output
    )
    assert "gias_extract.csv:8: “12AB” is not a URN" in result.output
    assert "postcode ZZ9 9ZZ not found" in result.output
    again = runner.invoke(args=["schools", "import", str(EXTRACT)])
    assert "Created 0, updated 0, unchanged 6" in again.output


def test_cli_locates_schools_that_have_no_position(demo, db, runner):
    db.execute("UPDATE schools SET easting = NULL, northing = NULL")
    db.execute("UPDATE schools SET postcode = 'ZZ9 9ZZ' WHERE urn = '119007'")
    result = runner.invoke(args=["schools", "locate"])
    assert result.exit_code == 0, result.output
    assert "Located 6 schools; 1 postcodes not found." in result.output
    row = next(db.query("SELECT * FROM schools WHERE urn = '119001'"))
    assert (row["easting"], row["northing"]) == postcodes.locate("LA1 2PE")
