"""Bringing evidence from an earlier cycle into a later one, through HTTP.

In the whole demo, cycle 2 is Northfield Primary's agreed self-evaluation
(autumn 2026) with four pieces of evidence (a note, a link, two files);
cycle 9 its open one (spring 2027), same instrument version; cycle 3 is
Riverside Infant's."""

import re

import pytest
from access_table import OTHER_LEAD
from support import DEPUTY, GOVERNOR, HEAD, csrf_token
from test_evidence import PDF, all_chunks, evidence_ids, upload

from peerreview.cycles import service as cycles
from peerreview.evidence import service

DEMO_PIECES = [1, 2, 3, 4]


def links(db, cid):
    return {
        title: items
        for title, items in db.execute(
            "SELECT e.title, group_concat(i.item_id, ' ') FROM evidence e "
            "JOIN evidence_items i ON i.evidence_id = e.id WHERE i.cycle_id = ? "
            "GROUP BY e.id",
            [cid],
        )
    }


def test_the_page_lists_earlier_pieces(demo_full, client, auth):
    auth.login(DEPUTY)
    page = client.get("/cycles/9/evidence/reuse")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Closing gaps in attainment, autumn 2026" in html
    assert html.count('name="pieces"') == 4
    assert "Linked here to items 1, 2." in html  # the book look: ascl-01, ascl-10
    assert "bring in evidence from an earlier cycle" in client.get(
        "/cycles/9/evidence"
    ).get_data(as_text=True)


def test_bring_in_links_the_same_items_and_shares_the_bytes(demo_full, client, auth):
    db = demo_full
    auth.login(DEPUTY)
    chunks = all_chunks(db)
    got = auth.post(
        "/cycles/9/evidence/reuse",
        {"pieces": ["1", "3"]},
        page="/cycles/9/evidence/reuse",
    )
    assert got.status_code == 302
    assert got.headers["Location"].endswith("/cycles/9/evidence")
    assert links(db, 9) == {
        "Book look, disadvantaged pupils in Year 5": "ascl-01 ascl-10",
        "Governors' pupil premium review, autumn 2026": "ascl-03 ascl-11",
    }
    # New pieces of cycle 9's own; the earlier cycle keeps its four unchanged.
    new = evidence_ids(db, 9)
    assert not set(new) & set(DEMO_PIECES)
    assert evidence_ids(db, 2) == DEMO_PIECES
    assert links(db, 2)["Governors' pupil premium review, autumn 2026"] == (
        "ascl-03 ascl-11"
    )
    # The file's bytes are stored once: the new piece names the same blob.
    assert all_chunks(db) == chunks
    blobs = db.execute(
        "SELECT DISTINCT blob FROM evidence WHERE id IN (3, ?)", [new[1]]
    ).fetchall()
    assert len(blobs) == 1
    down = client.get(f"/cycles/9/evidence/{new[1]}/download")
    assert down.status_code == 200
    assert down.data == client.get("/cycles/2/evidence/3/download").data
    # Counted once against the quota.
    cycle = cycles.get_cycle(db, 9)
    size = db.execute("SELECT size FROM evidence WHERE id = 3").fetchone()[0]
    assert (
        service.used_bytes(db, cycle)
        == size + db.execute("SELECT size FROM evidence WHERE id = 4").fetchone()[0]
    )
    # Audited, by who brought it in, from which piece.
    [entry] = db.execute(
        "SELECT detail FROM audit_log WHERE action = 'evidence.reuse' "
        "AND object_id = ?",
        [new[1]],
    ).fetchall()
    assert '"source": 3' in entry[0]
    # Offered no more: shown as here already.
    html = client.get("/cycles/9/evidence/reuse").get_data(as_text=True)
    assert html.count('name="pieces"') == 2
    assert "already in this cycle" in html


def test_removing_one_copy_keeps_the_others_bytes(demo_full, client, auth):
    db = demo_full
    auth.login(DEPUTY)
    auth.post("/cycles/9/evidence/reuse", {"pieces": ["3"]}, page="/cycles/9/evidence")
    [eid] = evidence_ids(db, 9)
    chunks = all_chunks(db)
    auth.logout()
    auth.login(HEAD)  # the lead may remove what others added
    got = auth.post(f"/cycles/9/evidence/{eid}/remove", page="/cycles/9/evidence")
    assert got.status_code == 302
    assert all_chunks(db) == chunks
    assert client.get("/cycles/2/evidence/3/download").data.startswith(b"%PDF")


def test_the_last_piece_naming_a_blob_takes_its_bytes(demo, db, client, auth):
    from cycle_support import make_cycle, team_people

    lead, _ = team_people(db)
    first, later = make_cycle(db), make_cycle(db)
    auth.login(HEAD)
    assert upload(client, first["id"], PDF, "a.pdf").status_code == 302
    [eid] = evidence_ids(db, first["id"])
    chunks = all_chunks(db)
    auth.post(
        f"/cycles/{later['id']}/evidence/reuse",
        {"pieces": [str(eid)]},
        page=f"/cycles/{later['id']}/evidence",
    )
    [copy] = evidence_ids(db, later["id"])
    for cid, piece in ((first["id"], eid), (later["id"], copy)):
        auth.post(f"/cycles/{cid}/evidence/{piece}/remove", page="/")
    assert all_chunks(db) == chunks - 1
    assert lead


def test_nothing_chosen_and_stale_ids(demo_full, client, auth):
    auth.login(DEPUTY)
    got = auth.post("/cycles/9/evidence/reuse", {}, page="/cycles/9/evidence/reuse")
    assert got.status_code == 400
    assert "Choose at least one piece of evidence to bring in" in got.get_data(
        as_text=True
    )
    # Another school's piece, or one of this cycle, is never brought in.
    got = auth.post("/cycles/9/evidence/reuse", {"pieces": ["999", "x"]}, page="/")
    assert got.status_code == 400
    assert evidence_ids(demo_full, 9) == []


def test_another_schools_evidence_is_never_offered(demo_full, client, auth):
    auth.login(OTHER_LEAD)
    assert upload(client, 3, PDF, "riverside.pdf").status_code == 302
    [riverside] = evidence_ids(demo_full, 3)
    auth.logout()
    auth.login(DEPUTY)
    html = client.get("/cycles/9/evidence/reuse").get_data(as_text=True)
    assert "riverside" not in html
    got = auth.post("/cycles/9/evidence/reuse", {"pieces": [str(riverside)]}, page="/")
    assert got.status_code == 400
    assert evidence_ids(demo_full, 9) == []


@pytest.mark.parametrize(("who", "status"), [(GOVERNOR, 404), (OTHER_LEAD, 404)])
def test_same_permission_as_the_cycle(demo_full, client, auth, who, status):
    auth.login(who)
    assert client.get("/cycles/9/evidence/reuse").status_code == status
    token = csrf_token(client, "/")
    got = client.post(
        "/cycles/9/evidence/reuse", data={"csrf_token": token, "pieces": ["1"]}
    )
    assert got.status_code == status
    assert evidence_ids(demo_full, 9) == []


def test_a_closed_cycle_takes_nothing_in(demo, db, client, auth):
    from cycle_support import make_cycle

    make_cycle(db)
    closed = make_cycle(db, state="closed")
    auth.login(HEAD)
    assert client.get(f"/cycles/{closed['id']}/evidence/reuse").status_code == 404


def test_crosswalked_items_are_relinked(demo, db, client, auth, tmp_path):
    """A new major version: an item crosswalked carries its evidence; one not
    comparable carries none, and a piece on that item alone is not offered."""
    from cycle_support import ASCL, make_cycle

    first = make_cycle(db)
    lead_id = db.execute("SELECT id FROM users WHERE email = ?", [HEAD]).fetchone()[0]
    for title, items in (
        ("Book look", ["ascl-01", "ascl-03"]),
        ("Culture", ["ascl-10"]),
    ):
        service.add_note(
            db, first, title=title, note="Seen.", item_ids=items, actor_id=lead_id
        )
    text = re.sub(
        r"(?m)^version: .*$",
        "version: 2.0.0",
        ASCL.read_text(encoding="utf-8"),
        count=1,
    )
    # Every list naming an old id (actions, the source's coverage) follows it.
    text = text.replace("[ascl-01]", "[ascl-01b]").replace("[ascl-01,", "[ascl-01b,")
    text = text.replace(
        "      - id: ascl-01\n", "      - id: ascl-01b\n        replaces: [ascl-01]\n"
    )
    text = (
        text.replace("id: ascl-10\n", "id: ascl-10-new\n")
        .replace("[ascl-10]", "[ascl-10-new]")
        .replace(" ascl-10]", " ascl-10-new]")
    )
    v2 = tmp_path / "ascl-closing-gaps.yaml"
    v2.write_text(text, encoding="utf-8")
    later = make_cycle(db, path=v2)
    auth.login(HEAD)
    url = f"/cycles/{later['id']}/evidence/reuse"
    html = client.get(url).get_data(as_text=True)
    assert html.count('name="pieces"') == 1
    assert "Culture: none of its items is in this cycle" in html
    [book, culture] = evidence_ids(db, first["id"])
    got = auth.post(url, {"pieces": [str(book), str(culture)]}, page=url)
    assert got.status_code == 302
    assert links(db, later["id"]) == {"Book look": "ascl-01b ascl-03"}
