"""The evidence pages added for later cycles, in Chromium at 1280 and 375 px:
bringing evidence in from an earlier cycle, changing a piece and the conflict
page. Each passes axe, does not scroll
sideways, and is saved as a screenshot to be looked at."""

import pytest
from playwright.sync_api import expect
from support import DEPUTY
from support_browser import check_page, sign_in

WIDTHS = (1280, 375)


def overflow(page) -> int:
    return page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )


@pytest.fixture
def deputy(live_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, live_server.url, DEPUTY, a11y=False)
    yield page
    context.close()


def test_bring_in_evidence_from_an_earlier_cycle(live_server, deputy):
    page = deputy
    page.goto(live_server.url + "/cycles/9/evidence")
    page.get_by_role("link", name="bring in evidence from an earlier cycle").click()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert overflow(page) <= 0, width
        check_page(page, f"evidence-reuse-{width}")
    # Nothing ticked: the error is summarised and leads to the first box.
    page.get_by_role("button", name="Bring in the ticked evidence").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one piece")
    check_page(page, "evidence-reuse-error")
    page.get_by_role("alert").get_by_role("link").click()
    expect(page.locator("#pieces-0")).to_be_focused()
    page.get_by_label("Attendance by group").check()
    page.get_by_label("Book look, disadvantaged pupils in Year 5").check()
    page.get_by_role("button", name="Bring in the ticked evidence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Evidence")
    expect(page.get_by_text("2 pieces of evidence brought in.")).to_be_visible()
    expect(page.get_by_text("(brought in from an earlier cycle)")).to_have_count(2)
    check_page(page, "evidence-after-reuse")


def test_change_evidence_and_the_conflict_page(live_server, deputy, browser):
    page = deputy
    page.goto(live_server.url + "/cycles/9/evidence/new/note")
    page.get_by_label("Title").fill("Book look")
    page.get_by_label("Note").fill("Feedback acted on.")
    page.get_by_label("1. ", exact=False).first.check()
    page.get_by_role("button", name="Add evidence").click()
    page.get_by_role("link", name="Change “Book look”").click()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert overflow(page) <= 0, width
        check_page(page, f"evidence-edit-{width}")
    # Another tab saves first; this one's save is shown beside it, not lost.
    other = page.context.new_page()
    other.goto(page.url)
    other.get_by_label("Note").fill("Saved first.")
    other.get_by_role("button", name="Save the changes").click()
    expect(other.get_by_text("Evidence saved")).to_be_visible()
    page.get_by_label("Note").fill("Saved second.")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This evidence was changed after you opened it"
    )
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert overflow(page) <= 0, width
        check_page(page, f"evidence-conflict-{width}")
    page.get_by_role("button", name="Keep my edit").click()
    expect(page.get_by_text("Evidence saved")).to_be_visible()
    expect(page.get_by_text("Saved second.")).to_be_visible()
