"""The report renderer fetches only the package's static files.

User-entered text (an action title, a progress note) that names a local
file or a server must embed nothing and make no request, both through the
report (where autoescaping already turns it into text) and when the same
markup reaches the renderer raw.
"""

import http.server
import io
import threading

import pytest
from pypdf import PdfReader
from support import HEAD, user_id

from peerreview.cycles import service as cycles
from peerreview.plans import service as plans
from peerreview.reports.render import (
    BASE_URL,
    PRINT_STYLESHEET,
    STATIC,
    RefusedURL,
    SafeFetcher,
    render_pdf,
    static_path,
    stylesheet,
)
from peerreview.reports.views import build_html


@pytest.fixture
def server():
    """A loopback HTTP server that records every request and redirects to file:."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def _hostile(url):
    return (
        '<img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        f'<img src="{url}/img.png"><link rel="attachment" href="{url}/a.txt">'
        f'<link rel="stylesheet" href="{url}/s.css">'
    )


def _embedded(pdf: bytes):
    reader = PdfReader(io.BytesIO(pdf))
    images = [img for page in reader.pages for img in page.images]
    return images, reader.attachments, b"root:x:0:0" in pdf


def test_user_text_in_a_report_embeds_nothing(demo_full, app, server):
    url, hits = server
    cycle = cycles.get_cycle(demo_full, 2)
    head = user_id(demo_full, HEAD)
    action = plans.get_plan(demo_full, cycle)["actions"][0]
    plans.update_action(
        demo_full,
        cycle,
        action["id"],
        {**action, "title": "Survey " + _hostile(url)[:250]},
        actor_id=head,
    )
    plans.add_note(
        demo_full, cycle, action["id"], "2026-11-20", _hostile(url), actor_id=head
    )
    with app.test_request_context():
        html = build_html(demo_full, cycle, "team")
    assert "&lt;img src=" in html and '<img src="file' not in html
    pdf = render_pdf(html)
    assert _embedded(pdf) == ([], {}, False)
    assert "&lt;img" not in PdfReader(io.BytesIO(pdf)).pages[4].extract_text()
    assert hits == []


def test_raw_markup_embeds_nothing_and_calls_no_server(server):
    url, hits = server
    fetcher = SafeFetcher()
    from weasyprint import HTML

    document = HTML(
        string=f"<html><body><p>Hello</p>{_hostile(url)}</body></html>",
        base_url=BASE_URL,
        url_fetcher=fetcher,
    ).render()
    pdf = document.write_pdf()
    assert _embedded(pdf) == ([], {}, False)
    assert hits == []
    assert "file:///etc/passwd" in fetcher.refused
    assert f"{url}/img.png" in fetcher.refused and f"{url}/s.css" in fetcher.refused


@pytest.mark.parametrize(
    "bad",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.org/font.woff2",
        "data:text/plain,hello",
        "ftp://example.org/x",
        BASE_URL + "../../README.md",
        BASE_URL + "print/%2e%2e/%2e%2e/%2e%2e/README.md",
        "file://evil.example.org" + str(STATIC / "print" / "report.css"),
        BASE_URL + "print/no-such-file.css",
    ],
)
def test_fetcher_refuses_everything_else(bad, server):
    url, hits = server
    with pytest.raises(RefusedURL):
        SafeFetcher().fetch(bad)
    with pytest.raises(RefusedURL):
        SafeFetcher().fetch(url + "/redirect")
    assert hits == []


def test_fetcher_serves_static_files_only_by_real_path(tmp_path):
    response = SafeFetcher().fetch(BASE_URL + "print/report.css")
    assert b"@page" in response.read()
    assert static_path(BASE_URL + "print/report.css") == STATIC / "print" / "report.css"
    # A symbolic link inside static/ that points out of it is refused.
    link = STATIC / "print" / "test-link-out.css"
    link.symlink_to("/etc/passwd")
    try:
        with pytest.raises(RefusedURL):
            SafeFetcher().fetch(BASE_URL + "print/test-link-out.css")
    finally:
        link.unlink()


def test_print_stylesheet_is_parsed_once_with_the_safe_fetcher(server):
    """The cached stylesheet reaches nothing but static files, as a document does."""
    url, hits = server
    assert stylesheet(PRINT_STYLESHEET) is stylesheet(PRINT_STYLESHEET)
    with pytest.raises(RefusedURL):
        stylesheet("../../README.md")
    hostile = STATIC / "print" / "test-hostile.css"
    hostile.write_text(
        '@import url("file:///etc/passwd");\n'
        f'@import url("{url}/s.css");\n'
        f'body {{ background: url("{url}/img.png"); }}\n'
    )
    try:
        pdf = render_pdf("<p>Hello</p>", style="print/test-hostile.css")
    finally:
        hostile.unlink()
        stylesheet.cache_clear()
    assert _embedded(pdf) == ([], {}, False)
    assert hits == []


def test_the_pdf_gets_the_print_stylesheet_without_linking_it(demo_full, app):
    with app.test_request_context():
        html = build_html(demo_full, cycles.get_cycle(demo_full, 2), "governors")
    assert "<link" not in html
    styled = PdfReader(io.BytesIO(render_pdf("<h1>Northfield</h1>"))).pages[0]
    plain = PdfReader(io.BytesIO(render_pdf("<h1>Northfield</h1>", style=None)))
    assert "Page 1 of 1" in styled.extract_text()  # the stylesheet's @page footer
    assert "Page 1 of 1" not in plain.pages[0].extract_text()


def test_the_report_worker_readies_the_renderer_before_it_forks(monkeypatch):
    from peerreview.reports import jobs

    calls = []
    monkeypatch.setattr(jobs, "preload", lambda: calls.append("preload"))
    consumer = jobs.huey.create_consumer(workers=1, worker_type="thread")
    assert calls == ["preload"] and consumer.huey is jobs.huey
