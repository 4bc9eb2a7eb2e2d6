"""Evidence through HTTP: notes, links and files kept for a cycle, downloads only
as attachments, types decided from bytes, and nobody outside the school.

In the whole demo, cycle 9 is Northfield Primary's open self-evaluation (the
deputy rates in it), cycle 2 its agreed one, cycle 3 Riverside Infant's agreed
one (led by OTHER_LEAD)."""

import io
import re
import zipfile

import pytest
from access_table import OTHER_LEAD
from support import (
    ADMIN,
    CHAIR,
    CLUSTER_LEAD,
    DEPUTY,
    GOVERNOR,
    HEAD,
    TRUST_LEAD,
    csrf_token,
    user_id,
)
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from peerreview.cycles import service as cycles
from peerreview.evidence import service

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def office(part="word/document.xml", extra=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(part, "<x/>")
        for name in extra:
            z.writestr(name, "x")
    return buffer.getvalue()


def upload(client, cid, data, name, items=("ascl-01",), title="", page=None):
    url = f"/cycles/{cid}/evidence/new/file"
    token = csrf_token(client, page or url)
    # Encoded here, in memory: the test client would spool a large body to a
    # temporary file it never closes.
    fields = MultiDict(
        [("csrf_token", token), ("title", title)]
        + [("items", i) for i in items]
        + [("file", FileStorage(io.BytesIO(data), name))]
    )
    boundary, body = encode_multipart(fields)
    return client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def evidence_ids(db, cid):
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT evidence_id FROM evidence_items WHERE cycle_id = ? ORDER BY 1",
            [cid],
        )
    ]


# The demo keeps a small PDF and a CSV on cycle 2: one chunk each.
DEMO_CHUNKS = 2


def all_chunks(db) -> int:
    return db.execute("SELECT count(*) FROM evidence_chunks").fetchone()[0]


def chunks_of(db, eid) -> int:
    return db.execute(
        "SELECT count(*) FROM evidence_chunks WHERE blob = "
        "(SELECT blob FROM evidence WHERE id = ?)",
        [eid],
    ).fetchone()[0]


def test_note_and_link_shown_with_their_items(demo_full, client, auth):
    auth.login(DEPUTY)
    got = auth.post(
        "/cycles/9/evidence/new/note",
        {
            "title": "Book look",
            "note": "Books show feedback acted on.",
            "items": ["ascl-01", "ascl-02"],
        },
    )
    assert got.status_code == 302
    got = auth.post(
        "/cycles/9/evidence/new/link?back=rate",
        {
            "title": "Pupil premium strategy",
            "url": "https://example.org/pp",
            "items": ["ascl-03"],
        },
    )
    assert got.status_code == 302
    assert got.headers["Location"].endswith("/cycles/9/rate#item-ascl-03")
    rows = demo_full.execute(
        "SELECT e.kind, e.title, group_concat(i.item_id) FROM evidence e "
        "JOIN evidence_items i ON i.evidence_id = e.id WHERE e.cycle_id = 9 "
        "GROUP BY e.id ORDER BY e.id"
    ).fetchall()
    assert rows == [
        ("note", "Book look", "ascl-01,ascl-02"),
        ("link", "Pupil premium strategy", "ascl-03"),
    ]
    page = client.get("/cycles/9/evidence").get_data(as_text=True)
    assert "Book look" in page and "https://example.org/pp" in page
    rate = client.get("/cycles/9/rate").get_data(as_text=True)
    assert "Pupil premium strategy" in rate and "Add evidence for this item" in rate


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "example.org",
        "https://",
    ],
)
def test_links_are_http_or_https_only(demo_full, client, auth, url):
    auth.login(DEPUTY)
    got = auth.post(
        "/cycles/9/evidence/new/link",
        {"title": "x", "url": url, "items": ["ascl-01"]},
    )
    assert got.status_code == 400
    assert "https://" in got.get_data(as_text=True)
    assert evidence_ids(demo_full, 9) == []


def test_a_note_needs_an_item_and_a_title(demo_full, client, auth):
    auth.login(DEPUTY)
    got = auth.post("/cycles/9/evidence/new/note", {"title": "", "note": "x"})
    assert got.status_code == 400
    assert "Give the evidence a title" in got.get_data(as_text=True)
    got = auth.post("/cycles/9/evidence/new/note", {"title": "t", "note": "x"})
    assert "Choose at least one item" in got.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name", "media_type", "saved_as"),
    [
        (PDF, "plan.pdf", "application/pdf", "plan.pdf"),
        (PNG, "photo.png", "image/png", "photo.png"),
        (PNG, "photo.pdf", "image/png", "photo.png"),  # bytes decide, not the name
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "a.jpeg", "image/jpeg", "a.jpg"),
        (b"GIF89a" + b"\x00" * 20, "a.gif", "image/gif", "a.gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp", "a.webp"),
        (office(), "minutes.docx", service.DOCX[0], "minutes.docx"),
        (office("xl/workbook.xml"), "data.xlsx", service.XLSX[0], "data.xlsx"),
        (office("ppt/presentation.xml"), "talk.pptx", service.PPTX[0], "talk.pptx"),
        (b"name,score\nA,3\nB,4\n", "scores.csv", "text/csv", "scores.csv"),
        ("Notes from the visit — café".encode(), "n.txt", "text/plain", "n.txt"),
    ],
)
def test_upload_and_download_as_attachment(
    demo_full, client, auth, data, name, media_type, saved_as
):
    auth.login(DEPUTY)
    got = upload(client, 9, data, name, items=("ascl-01", "ascl-04"))
    assert got.status_code == 302, got.get_data(as_text=True)
    [eid] = evidence_ids(demo_full, 9)
    assert chunks_of(demo_full, eid) == 1
    down = client.get(f"/cycles/9/evidence/{eid}/download")
    assert down.status_code == 200
    assert down.data == data
    assert down.mimetype == media_type
    assert down.headers["Content-Disposition"] == f'attachment; filename="{saved_as}"'
    assert down.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in down.headers["Cache-Control"]


def test_a_large_file_is_kept_in_chunks(demo_full, client, auth):
    auth.login(DEPUTY)
    data = PDF + bytes(range(256)) * (4096 * 11)  # 11 MB and a bit
    assert upload(client, 9, data, "big.pdf").status_code == 302
    [eid] = evidence_ids(demo_full, 9)
    sizes = demo_full.execute(
        "SELECT length(data) FROM evidence_chunks WHERE blob = "
        "(SELECT blob FROM evidence WHERE id = ?) ORDER BY seq",
        [eid],
    ).fetchall()
    assert len(sizes) == -(-len(data) // service.CHUNK_BYTES)  # 45 of 256 KB
    assert sizes[0][0] == service.CHUNK_BYTES
    down = client.get(f"/cycles/9/evidence/{eid}/download")
    assert down.data == data and down.headers["Content-Length"] == str(len(data))


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (HTML, "report.pdf", "web page or markup"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            "logo.png",
            "web page or markup",
        ),
        (b"MZ\x90\x00\x03" + b"\x00" * 100, "setup.pdf", "cannot be kept as evidence"),
        (office("content.xml"), "a.docx", "zip archive, not one of the accepted kinds"),
        (office(extra=["word/vbaProject.bin"]), "a.docm", "contains macros"),
        (b"caf\xe9 latin-1 text", "old.csv", "cannot be kept as evidence"),
        (b"", "empty.pdf", "The file is empty"),
    ],
)
def test_refused_types(demo_full, client, auth, data, name, message):
    auth.login(DEPUTY)
    got = upload(client, 9, data, name)
    assert got.status_code == 400
    assert message in got.get_data(as_text=True)
    assert evidence_ids(demo_full, 9) == []
    assert all_chunks(demo_full) == DEMO_CHUNKS


def test_oversize_files_are_refused(demo_full, client, auth):
    auth.login(DEPUTY)
    got = upload(client, 9, PDF + b"\x00" * (20 * 1024 * 1024), "big.pdf")
    assert got.status_code == 400
    assert "files are 20 MB at most" in got.get_data(as_text=True)
    # A body far over the limit is refused before it is read.
    got = upload(client, 9, PDF + b"\x00" * (22 * 1024 * 1024), "bigger.pdf")
    assert got.status_code == 413
    assert "files are 20 MB at most" in got.get_data(as_text=True)
    assert evidence_ids(demo_full, 9) == []


def test_the_school_quota(app, demo_full, client, auth):
    app.config["EVIDENCE_QUOTA_BYTES"] = 1024 * 1024
    auth.login(DEPUTY)
    assert upload(client, 9, PDF + b"x" * 600_000, "a.pdf").status_code == 302
    got = upload(client, 9, PDF + b"x" * 600_000, "b.pdf")
    assert got.status_code == 400
    assert "evidence space is full" in got.get_data(as_text=True)
    assert len(evidence_ids(demo_full, 9)) == 1
    assert all_chunks(demo_full) == DEMO_CHUNKS + -(-600_045 // service.CHUNK_BYTES)


def test_the_form_needs_csrf(demo_full, client, auth):
    auth.login(DEPUTY)
    got = client.post(
        "/cycles/9/evidence/new/file",
        data={"items": ["ascl-01"], "file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert got.status_code == 400
    assert evidence_ids(demo_full, 9) == []


def test_anonymous_cycle_attributes_evidence_to_the_school(demo_full, client, auth):
    cycle = cycles.get_cycle(demo_full, 2)
    assert cycle["anonymous"]
    auth.login(DEPUTY)
    assert (
        auth.post(
            "/cycles/2/evidence/new/note",
            {"title": "Governor visit", "note": "Seen.", "items": ["ascl-01"]},
        ).status_code
        == 302
    )
    auth.logout()
    auth.login(HEAD)
    page = client.get("/cycles/2/evidence").get_data(as_text=True)
    deputy = demo_full.execute(
        "SELECT name FROM users WHERE email = ?", [DEPUTY]
    ).fetchone()[0]
    assert "Governor visit" in page
    assert deputy not in page
    assert "Northfield Primary School" in page


@pytest.fixture
def riverside_file(demo_full, client, auth):
    """A file kept by Riverside Infant on its agreed cycle 3; returns its id."""
    auth.login(OTHER_LEAD)
    assert upload(client, 3, PDF, "riverside.pdf").status_code == 302
    auth.logout()
    [eid] = evidence_ids(demo_full, 3)
    return eid


@pytest.mark.parametrize(
    "who", [HEAD, DEPUTY, CHAIR, TRUST_LEAD, CLUSTER_LEAD, GOVERNOR, ADMIN]
)
def test_another_schools_evidence_is_not_found(riverside_file, client, auth, who):
    auth.login(who)
    eid = riverside_file
    for url in (
        f"/cycles/3/evidence/{eid}/download",
        f"/cycles/2/evidence/{eid}/download",  # through a cycle one may see
        f"/cycles/9/evidence/{eid}/download",
        "/cycles/3/evidence",
    ):
        assert client.get(url).status_code == 404, (who, url)
    token = csrf_token(client, "/")
    got = client.post(f"/cycles/3/evidence/{eid}/remove", data={"csrf_token": token})
    assert got.status_code == 404


def test_the_owner_school_downloads_it(riverside_file, client, auth):
    auth.login(OTHER_LEAD)
    got = client.get(f"/cycles/3/evidence/{riverside_file}/download")
    assert got.status_code == 200 and got.data == PDF


def test_remove_deletes_the_bytes(demo_full, client, auth):
    auth.login(DEPUTY)
    upload(client, 9, PDF, "a.pdf")
    [eid] = evidence_ids(demo_full, 9)
    got = auth.post(f"/cycles/9/evidence/{eid}/remove", page="/cycles/9/evidence")
    assert got.status_code == 302
    assert demo_full.execute(
        "SELECT count(*) FROM evidence WHERE id = ?", [eid]
    ).fetchone() == (0,)
    assert all_chunks(demo_full) == DEMO_CHUNKS


def test_the_pdf_renderer_never_fetches_evidence(demo_full, app, client, auth):
    from peerreview.reports.render import RefusedURL, SafeFetcher, render_pdf
    from peerreview.reports.views import build_html

    auth.login(HEAD)
    assert (
        upload(client, 2, PNG, "chart.png", title="Attendance chart").status_code == 302
    )
    eid = evidence_ids(demo_full, 2)[-1]
    cycle = cycles.get_cycle(demo_full, 2)
    with app.test_request_context():
        html = build_html(demo_full, cycle, "team")
    assert not re.search(r"/evidence/\d+/download", html)
    fetcher = SafeFetcher()
    with pytest.raises(RefusedURL):
        fetcher.fetch(f"http://localhost/cycles/2/evidence/{eid}/download")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(render_pdf(html)))
    assert [img for page in reader.pages for img in page.images] == []
    assert user_id(demo_full, HEAD)


def test_the_file_form_without_a_file(demo_full, client, auth):
    auth.login(DEPUTY)
    got = auth.post(
        "/cycles/9/evidence/new/file",
        {"title": "", "items": ["ascl-01"]},
        content_type="multipart/form-data",
    )
    assert got.status_code == 400
    assert "Choose a file" in got.get_data(as_text=True)


def test_one_upload_writes_its_chunks_at_a_time(app, demo_full):
    """While one upload (here: a held bulk lock) writes, another waits to start."""
    import threading
    import time

    from peerreview.db import connect

    other = connect(app.config["DATABASE"])
    cycle = cycles.get_cycle(demo_full, 9)
    done = []
    with other.bulk_lock:
        writer = threading.Thread(
            target=lambda: done.append(
                service.add_file(
                    connect(app.config["DATABASE"]),
                    cycle,
                    title="",
                    stream=io.BytesIO(PDF * 20_000),
                    filename="a.pdf",
                    item_ids=["ascl-01"],
                    actor_id=user_id(demo_full, DEPUTY),
                )
            )
        )
        writer.start()
        time.sleep(0.5)
        assert all_chunks(demo_full) == DEMO_CHUNKS and not done
    writer.join(10)
    assert done and all_chunks(demo_full) == DEMO_CHUNKS + 4
    other.conn.close()
