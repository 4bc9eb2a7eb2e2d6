"""Journey: a team member opens an agreed cycle's results from the team page."""

from playwright.sync_api import expect
from support import DEPUTY, GOVERNOR
from support_browser import check_page, sign_in


def test_deputy_opens_agreed_results(live_server, page):
    sign_in(page, live_server.url, DEPUTY)
    page.goto(live_server.url + "/teams/1")
    page.get_by_role(
        "link", name="Results of Closing gaps in attainment, autumn 2026"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Results: Closing gaps in attainment, autumn 2026"
    )
    expect(page.get_by_text("Overall score")).to_be_visible()
    expect(
        page.get_by_role("img", name="Section scores on the 1 to 5 scale")
    ).to_be_visible()
    expect(
        page.get_by_role("link", name="Closing gaps in attainment, 2025")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Priorities")).to_be_visible()
    # A member may download agreed scores but not the individual ratings.
    expect(
        page.get_by_role("link", name="Agreed scores and section scores (CSV)")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Individual ratings (CSV)")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role(
            "link", name="Agreed scores and section scores (Excel, XLSX)"
        ).click()
    assert download.value.suggested_filename.endswith("-results.xlsx")
    check_page(page, "results-deputy")


def test_governor_reaches_results_from_the_school_page(live_server, page):
    sign_in(page, live_server.url, GOVERNOR)
    page.goto(live_server.url + "/schools/1")
    page.get_by_role("link", name="Closing gaps in attainment, autumn 2026").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results")
    expect(page.get_by_role("link", name="See the moderation record")).to_have_count(0)
    check_page(page, "results-governor")
