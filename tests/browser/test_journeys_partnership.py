"""Journey: a partnership lead opens the partnership report, previews it and
gets the PDF (the queue runs at once in tests)."""

import re

import pytest
from playwright.sync_api import expect
from support import TRUST_LEAD
from support_browser import check_a11y, check_page, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_lead_previews_and_downloads_the_partnership_report(live_server, page):
    sign_in(page, live_server.url, TRUST_LEAD)
    page.goto(f"{live_server.url}/partnerships/1/comparison")
    page.get_by_role("link", name="Partnership report (PDF) for this round").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnership report")
    check_page(page, "partnership-report-1-page")

    page.get_by_role("link", name=re.compile("Preview as a web page")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Northfield Learning Trust"
    )
    expect(
        page.get_by_role("img", name=re.compile("by school and section"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Who can help whom")).to_be_visible()
    screenshot(page, "partnership-report-2-preview")
    check_a11y(page)

    page.go_back()
    page.get_by_role(
        "button", name=re.compile("Prepare the PDF of the partnership report")
    ).click()
    expect(page.get_by_text("The PDF is ready")).to_be_visible()
    check_page(page, "partnership-report-3-ready")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the PDF")).click()
    assert download.value.suggested_filename.startswith("partnership-report-1-")
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
