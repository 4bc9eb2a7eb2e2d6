"""Changing a piece of evidence through HTTP: its title, note or link, its items,
its file; two people editing the same piece see a conflict, never a silent
overwrite; audited; never in a closed cycle, nor once a peer has marked it.

In the whole demo, cycle 9 is Northfield Primary's open self-evaluation
(the deputy rates in it, the head leads it), cycle 2 its agreed one."""

import io

from access_table import OTHER_LEAD
from support import DEPUTY, HEAD, checked, csrf_token
from test_evidence import PDF, PNG, all_chunks, evidence_ids, upload
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

NOTE = {
    "title": "Book look",
    "note": "Books show feedback acted on.",
    "items": ["ascl-01"],
}


def add_note(auth):
    got = auth.post("/cycles/9/evidence/new/note", NOTE)
    assert got.status_code == 302


def row(db, eid):
    return db.execute(
        "SELECT title, note, url, filename, revision, blob FROM evidence WHERE id = ?",
        [eid],
    ).fetchone()


def items(db, eid, cid=9):
    return [
        r[0]
        for r in db.execute(
            "SELECT item_id FROM evidence_items WHERE evidence_id = ? AND cycle_id = ? "
            "ORDER BY item_id",
            [eid, cid],
        )
    ]


def edit(auth, eid, revision, **fields):
    data = {"revision": str(revision), **fields}
    return auth.post(
        f"/cycles/9/evidence/{eid}/edit", data, page=f"/cycles/9/evidence/{eid}/edit"
    )


def test_change_a_note_and_its_items(demo_full, client, auth):
    db = demo_full
    auth.login(DEPUTY)
    add_note(auth)
    [eid] = evidence_ids(db, 9)
    page = client.get(f"/cycles/9/evidence/{eid}/edit").get_data(as_text=True)
    assert 'value="Book look"' in page and "Books show feedback acted on." in page
    assert checked(page, "items") == ["ascl-01"]
    got = edit(
        auth,
        eid,
        1,
        title="Book look, Year 5",
        note="Seen twice.",
        items=["ascl-02", "ascl-03"],
    )
    assert got.status_code == 302
    assert got.headers["Location"].endswith("/cycles/9/evidence")
    assert row(db, eid)[:2] == ("Book look, Year 5", "Seen twice.")
    assert row(db, eid)[4] == 2
    assert items(db, eid) == ["ascl-02", "ascl-03"]
    [detail] = db.execute(
        "SELECT detail FROM audit_log WHERE action = 'evidence.edit' AND object_id = ?",
        [eid],
    ).fetchone()
    assert '"changed": ["items", "note", "title"]' in detail
    assert "Change<span" in client.get("/cycles/9/evidence").get_data(as_text=True)


def test_change_a_link_is_checked_like_a_new_one(demo_full, client, auth):
    db = demo_full
    auth.login(DEPUTY)
    auth.post(
        "/cycles/9/evidence/new/link",
        {"title": "Strategy", "url": "https://example.org/a", "items": ["ascl-01"]},
    )
    [eid] = evidence_ids(db, 9)
    got = edit(
        auth, eid, 1, title="Strategy", url="javascript:alert(1)", items=["ascl-01"]
    )
    assert got.status_code == 400
    assert "https://" in got.get_data(as_text=True)
    got = edit(auth, eid, 1, title="Strategy", url="https://example.org/b", items=[])
    assert "Choose at least one item" in got.get_data(as_text=True)
    got = edit(
        auth, eid, 1, title="Strategy", url="https://example.org/b", items=["ascl-01"]
    )
    assert got.status_code == 302
    assert row(db, eid)[2] == "https://example.org/b"


def replace(client, eid, revision, data, name, title="Plan"):
    url = f"/cycles/9/evidence/{eid}/edit"
    fields = MultiDict(
        [
            ("csrf_token", csrf_token(client, url)),
            ("revision", str(revision)),
            ("title", title),
            ("items", "ascl-01"),
            ("file", FileStorage(io.BytesIO(data), name)),
        ]
    )
    boundary, body = encode_multipart(fields)
    return client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_replace_a_file(demo_full, client, auth):
    db = demo_full
    auth.login(DEPUTY)
    upload(client, 9, PDF, "plan.pdf", title="Plan")
    [eid] = evidence_ids(db, 9)
    chunks, old_blob = all_chunks(db), row(db, eid)[5]
    # No file chosen keeps the file.
    assert replace(client, eid, 1, b"", "", title="Plan, v2").status_code == 302
    assert row(db, eid)[3] == "plan.pdf" and row(db, eid)[5] == old_blob
    # The type still comes from the bytes, and a refused file changes nothing.
    got = replace(client, eid, 2, b"<html><script>x</script></html>", "x.pdf")
    assert got.status_code == 400
    assert "web page or markup" in got.get_data(as_text=True)
    assert all_chunks(db) == chunks and row(db, eid)[5] == old_blob
    got = replace(client, eid, 2, PNG, "chart.png")
    assert got.status_code == 302
    title, _, _, filename, revision, blob = row(db, eid)
    assert (filename, revision) == ("chart.png", 3) and blob != old_blob
    # The old bytes are gone, the new ones served.
    assert all_chunks(db) == chunks
    assert not db.execute(
        "SELECT 1 FROM evidence_chunks WHERE blob = ?", [old_blob]
    ).fetchone()
    down = client.get(f"/cycles/9/evidence/{eid}/download")
    assert down.data == PNG and down.mimetype == "image/png"


def test_replacing_a_shared_file_keeps_the_earlier_cycles_bytes(
    demo_full, client, auth
):
    db = demo_full
    auth.login(DEPUTY)
    auth.post("/cycles/9/evidence/reuse", {"pieces": ["3"]}, page="/cycles/9/evidence")
    [eid] = evidence_ids(db, 9)
    assert replace(client, eid, 1, PNG, "chart.png").status_code == 302
    assert client.get(f"/cycles/9/evidence/{eid}/download").data == PNG
    assert client.get("/cycles/2/evidence/3/download").data.startswith(b"%PDF")
    assert row(db, 3)[0] == "Governors' pupil premium review, autumn 2026"


def test_two_people_editing_see_a_conflict(demo_full, client, auth, app):
    from support import Auth

    db = demo_full
    auth.login(DEPUTY)
    add_note(auth)
    [eid] = evidence_ids(db, 9)
    # The head opens the piece (revision 1), the deputy saves first.
    head = Auth(app.test_client())
    head.login(HEAD)
    mine = {"title": "Head's title", "note": "Head's note.", "items": ["ascl-01"]}
    theirs = {"title": "Deputy's title", "note": "Deputy's note.", "items": ["ascl-01"]}
    assert edit(auth, eid, 1, **theirs).status_code == 302
    got = edit(head, eid, 1, **mine)
    assert got.status_code == 409
    page = got.get_data(as_text=True)
    assert "This evidence was changed after you opened it" in page
    assert "Deputy&#39;s note." in page and "Head&#39;s note." in page
    assert 'name="revision" value="2"' in page
    assert row(db, eid)[:2] == ("Deputy's title", "Deputy's note.")
    # Keeping their edit, from the conflict page, saves it over revision 2.
    assert edit(head, eid, 2, **mine).status_code == 302
    assert row(db, eid)[:2] + (row(db, eid)[4],) == ("Head's title", "Head's note.", 3)
    # The same edit sent twice is no conflict.
    assert edit(head, eid, 2, **mine).status_code == 302
    assert row(db, eid)[4] == 3
    # A form without a revision is older than any saved one.
    assert (
        edit(auth, eid, "", title="x", note="y", items=["ascl-01"]).status_code == 409
    )


def test_who_may_change_it(demo_full, client, auth):
    db = demo_full
    auth.login(HEAD)
    add_note(auth)
    [eid] = evidence_ids(db, 9)
    auth.logout()
    # Not the member who did not add it (only the lead and whoever added it).
    auth.login(DEPUTY)
    assert client.get(f"/cycles/9/evidence/{eid}/edit").status_code == 404
    assert edit(auth, eid, 1, title="x", note="y", items=["ascl-01"]).status_code == 404
    auth.logout()
    auth.login(OTHER_LEAD)
    assert client.get(f"/cycles/9/evidence/{eid}/edit").status_code == 404
    assert client.get("/cycles/2/evidence/1/edit").status_code == 404
    assert row(db, eid)[0] == "Book look"


def test_not_in_a_closed_cycle(demo_full, client, auth):
    db = demo_full
    db.execute("UPDATE cycles SET state = 'closed' WHERE id = 2")
    auth.login(HEAD)
    assert client.get("/cycles/2/evidence/1/edit").status_code == 404
    assert "Change<span" not in client.get("/cycles/2/evidence").get_data(as_text=True)


def test_not_once_a_peer_has_marked_it(demo_full, client, auth):
    db = demo_full
    marked = db.execute("SELECT evidence_id FROM evidence_checks LIMIT 1").fetchone()
    if marked is None:  # the demo marks some; else mark one here
        db.execute(
            "INSERT INTO evidence_checks (cycle_id, evidence_id, reviewer_id, verdict, "
            "checked_at) VALUES (27, 1, 1, 'supports', '2026-11-20')"
        )
        marked = (1,)
    cid = db.execute(
        "SELECT cycle_id FROM evidence_items WHERE evidence_id = ?", [marked[0]]
    ).fetchone()[0]
    db.execute("UPDATE cycles SET state = 'open' WHERE id = ?", [cid])
    auth.login(HEAD)
    url = f"/cycles/{cid}/evidence/{marked[0]}/edit"
    got = auth.post(
        url,
        {
            "revision": "1",
            "title": "Changed",
            "note": "x",
            "url": "https://example.org",
            "items": ["ascl-01"],
        },
        page=url,
    )
    assert got.status_code == 400
    assert "Peer reviewers have marked this evidence" in got.get_data(as_text=True)
    assert row(db, marked[0])[0] != "Changed"
