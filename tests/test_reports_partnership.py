"""The partnership report: content, who may see it, the cache, the fetcher.

In the whole demo, partnership 1 is the trust, led by TRUST_LEAD, with two
agreed peer-review rounds on the ASCL checklist across its six schools;
cycle 21 is round 1's peer review of Northfield Primary School.
"""

import io
from html import unescape

import pytest
from pypdf import PdfReader
from support import (
    CLUSTER_LEAD,
    DEPUTY,
    GOVERNOR,
    TRUST_LEAD,
    count_renders,
    ready_pdf,
    tagged_pdf,
    tags,
)
from test_reports_fetcher import _embedded, _hostile, server  # noqa: F401
from weasyprint import HTML

from peerreview.cycles import service as cycles
from peerreview.loaders import load_partnership
from peerreview.partnership import comparison
from peerreview.partnership.forms import view_data
from peerreview.reports.partnership_views import build_html
from peerreview.reports.render import (
    BASE_URL,
    SafeFetcher,
    render_document,
    render_pdf,
)

BASE = "/partnerships/1/reports"


def _flat(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def _pdf(client, auth, query="round=1"):
    """Prepare the report as the trust's lead, check its progress, download it."""
    if client.get("/sign-in").status_code == 200:
        auth.login(TRUST_LEAD)
    response = auth.post(f"{BASE}/partnership.pdf?{query}", page=f"{BASE}?{query}")
    assert response.status_code == 302
    assert f"{BASE}/partnership/status?" in response.headers["Location"]
    return ready_pdf(client, response.headers["Location"] + "&format=json")


def _html(app, db, query="round=1"):
    """Return the report's HTML for a choice, as the PDF gets it."""
    with app.test_request_context(f"{BASE}?{query}"):
        _form, data, ok = view_data(db, 1)
        assert ok
        return build_html(db, load_partnership(db, 1), data)


def _status(client, query="round=1"):
    return client.get(f"{BASE}/partnership/status?{query}&format=json").get_json()


def test_report_shows_schools_matrix_calibration_and_help(demo_full, client, auth):
    pdf = _pdf(client, auth)
    flat = _flat(pdf)
    data = comparison.partnership_view(demo_full, 1, round_id=1)
    assert "Northfield Learning Trust" in flat
    assert "Trust peer review, June 2026" in flat
    assert "Page 1 of" in flat
    for heading in (
        "Calibration over rounds",
        "Who can help whom",
        "How far schools differ, item by item",
        "Note on method",
    ):
        assert heading in flat
    # Every school's row of the matrix, figure by figure, as the page shows it.
    assert len(data["grid"]) == 6
    for row in data["grid"]:
        figures = " ".join(text for _cls, text in row["cells"])
        assert f"{row['school']['name']} {figures}" in flat
    # Each school's calibration in the round.
    for school in data["schools"]:
        total = data["school_totals"][school["id"]]
        assert f"self {total['self']:.1f}, peer {total['peer']:.1f}" in flat
    # Who can help whom: each school, its weakest item and its nearest helper.
    items = data["item_info"]
    numbers = {item_id: n for n, item_id in enumerate(items, start=1)}
    helped = 0
    for sid, entries in data["help"].items():
        assert data["names"][sid] in flat
        for e in entries:
            assert f"Item {numbers[e['item_id']]} ({e['value']:g}):" in flat
            if e["helpers"]:
                h = e["helpers"][0]
                place = (
                    "under a mile"
                    if h["miles"] is not None and h["miles"] < 1
                    else f"{h['miles']:.0f} miles"
                )
                assert f"{h['name']} ({h['value']:g}, {place})" in flat
                helped += 1
    assert helped > 5


def test_report_holds_no_individual_rating(demo_full, client, auth):
    flat = _flat(_pdf(client, auth))
    # An individual reviewer's evidence note, and the people who rated.
    assert "Learning walk" not in flat
    people = [
        r[0]
        for r in demo_full.execute(
            "SELECT DISTINCT u.name FROM cycle_respondents cr "
            "JOIN users u ON u.id = cr.user_id JOIN peer_reviews pr "
            "ON pr.cycle_id = cr.cycle_id WHERE pr.round_id = 1"
        )
    ]
    assert people and not any(name in flat for name in people)


def test_pdf_is_tagged_with_metadata(demo_full, client, auth):
    tagged_pdf(
        _pdf(client, auth, "round=2&view=peer"),
        "Partnership report: Northfield Learning Trust",
        "Northfield Learning Trust",
    )


def test_demo_report_is_short_and_the_matrix_is_landscape(demo_full, app):
    document = render_document(_html(app, demo_full, "round=2"))
    assert 4 <= len(document.pages) <= 9
    sizes = [(p.width > p.height) for p in document.pages]
    assert sizes[0] is False and sizes[1] is True  # cover portrait, matrix wide


def test_page_preview_and_link_from_the_comparison(demo_full, client, auth):
    auth.login(TRUST_LEAD)
    comparison_page = client.get("/partnerships/1/comparison?round=1").get_data(
        as_text=True
    )
    assert "Partnership report (PDF) for this round" in comparison_page
    page = client.get(f"{BASE}?round=1&view=self").get_data(as_text=True)
    assert "Prepare the PDF" in page and "Trust peer review, June 2026" in page
    preview = client.get(f"{BASE}/partnership.html?round=1&view=self")
    html = preview.get_data(as_text=True)
    assert tags(html, "link", rel="stylesheet", href="/static/print/report.css")
    assert "Agreed self score by school and section" in html
    assert tags(html, "svg", class_="pr-chart pr-heat", role="img")
    assert "<style>" in html
    # The chart's print rules are allowed by their hash, nothing else inline.
    policy = preview.headers["Content-Security-Policy"]
    assert "style-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy
    assert client.get(f"{BASE}?miles=500").status_code == 400


@pytest.mark.parametrize("who", [CLUSTER_LEAD, GOVERNOR, DEPUTY])
def test_others_get_404_on_page_preview_and_pdf(demo_full, client, auth, who):
    auth.login(who)
    for url in (
        BASE,
        f"{BASE}?round=1",
        f"{BASE}/partnership.html?round=1",
        f"{BASE}/partnership/status?round=1",
        f"{BASE}/partnership.pdf?round=1",
    ):
        assert client.get(url).status_code == 404, (who, url)
    assert auth.post(f"{BASE}/partnership.pdf?round=1", page="/").status_code == 404


def test_cache_hit_and_fresh_render_after_a_change(
    demo_full, client, auth, monkeypatch
):
    calls = count_renders(monkeypatch)
    first = _pdf(client, auth)
    again = _pdf(client, auth)
    assert calls == [1] and first == again
    # Another choice of measure is another report.
    assert _status(client, "round=1&view=peer")["state"] == "none"
    # Northfield's reviewers agree their scores again, all 5s.
    cycle = cycles.get_cycle(demo_full, 21)
    lead = cycle["lead_id"]
    cycles.transition(demo_full, cycle, "moderation", actor_id=lead, reason="Recheck")
    assert _status(client)["state"] == "none"  # reopened: out of the matrix
    for item_id in cycle["snapshot"].item_ids:
        cycles.record_agreed(
            demo_full,
            cycle,
            item_id,
            value="5",
            rationale="",
            deferred=False,
            actor_id=lead,
        )
    cycles.transition(demo_full, cycle, "agreed", actor_id=lead)
    assert _status(client)["state"] == "none"
    assert client.get(f"{BASE}/partnership.pdf?round=1").status_code == 302
    fresh = _pdf(client, auth)
    assert len(calls) == 2 and fresh != first
    assert "Northfield Primary School" in _flat(fresh)


def test_user_text_in_the_report_embeds_nothing(demo_full, app, server):  # noqa: F811
    url, hits = server
    hostile = _hostile(url)
    demo_full["partnerships"].update(1, {"name": "Trust " + hostile})
    demo_full["schools"].update(1, {"name": "Northfield " + hostile})
    html = _html(app, demo_full)
    assert "&lt;img src=" in html and '<img src="file' not in html
    assert '<link rel="attachment"' not in html
    pdf = render_pdf(html, title="Partnership report", author="Trust")
    assert _embedded(pdf) == ([], {}, False)
    assert hits == []
    assert '<img src="file:///etc/passwd">' in _flat(pdf)  # shown as text
    # Had escaping slipped, the renderer's fetcher would still refuse it all.
    fetcher = SafeFetcher()
    raw = HTML(string=unescape(html), base_url=BASE_URL, url_fetcher=fetcher)
    assert _embedded(raw.render().write_pdf()) == ([], {}, False)
    assert "file:///etc/passwd" in fetcher.refused
    assert f"{url}/img.png" in fetcher.refused and f"{url}/s.css" in fetcher.refused
    assert hits == []


def test_calibration_movement_is_read_from_the_size_of_the_gap():
    from peerreview.reports.content import calibration_movement

    # Riverside went from -0.18 to -0.45: a negative change that moved away.
    assert calibration_movement(-0.18, -0.45) == "away from its reviewers"
    assert calibration_movement(1.1, 0.5) == "towards its reviewers"
    assert calibration_movement(-1.0, -0.6) == "towards its reviewers"
    assert calibration_movement(0.3, 0.32) == "no clear movement"
