"""Two tabs editing one action, and one agreed score: the later save meets a
page with both versions, passes axe, and keeps whichever the person chooses."""

import re

import pytest
from cycle_support import make_cycle
from playwright.sync_api import expect
from support import HEAD
from support_browser import check_page, sign_in

from peerreview.db import connect

pytestmark = pytest.mark.browser


def test_two_tabs_edit_an_action_and_an_agreed_score(live_server, page):
    db = connect(live_server.db_path)
    try:
        cid = make_cycle(db, state="moderation")["id"]
    finally:
        db.conn.close()
    sign_in(page, live_server.url, HEAD, a11y=False)
    other = page.context.new_page()

    # The action: both tabs open it; the first saves, then the second.
    page.goto(f"{live_server.url}/cycles/2/plan")
    page.get_by_role("link", name=re.compile("Edit, update status")).first.click()
    other.goto(page.url)
    page.get_by_label("What will be done").fill("Weekly reading clinics")
    page.get_by_role("button", name="Save the action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
    other.get_by_label("What will be done").fill("Daily phonics sessions")
    other.get_by_role("button", name="Save the action").click()
    expect(other.get_by_role("heading", level=1)).to_contain_text(
        "was changed after you opened it"
    )
    table = other.get_by_role("table")
    expect(table).to_contain_text("Weekly reading clinics")
    expect(table).to_contain_text("Daily phonics sessions")
    check_page(other, "conflict-1-action")
    other.get_by_role("button", name="Keep my edit").click()
    expect(other.locator(".govuk-notification-banner")).to_contain_text("saved")
    expect(
        other.get_by_role("heading", name=re.compile("Daily phonics sessions"))
    ).to_be_visible()
    expect(other.get_by_text("Weekly reading clinics")).to_have_count(0)

    # The agreed score: both tabs have the meeting open; the first records.
    page.goto(f"{live_server.url}/cycles/{cid}/moderate")
    other.goto(page.url)
    first = page.locator(".pr-moderation-item").first
    first.get_by_label("Agree", exact=True).check()
    first.get_by_role("button", name=re.compile("Record for item")).click()
    expect(first.get_by_role("status")).to_contain_text("Agreed score saved")
    late = other.locator(".pr-moderation-item").first
    late.get_by_label("Disagree", exact=True).check()
    late.get_by_label("Rationale", exact=True).fill("Books show otherwise.")
    late.get_by_role("button", name=re.compile("Record for item")).click()
    expect(other.get_by_role("heading", level=1)).to_contain_text(
        "was changed after you opened the page"
    )
    check_page(other, "conflict-2-agreed")
    other.get_by_role("link", name="Keep the saved one").click()
    kept = other.locator(".pr-moderation-item").first
    expect(kept.get_by_text(re.compile(r"^Agreed: Agree"))).to_be_visible()
    expect(kept.get_by_label("Agree", exact=True)).to_be_checked()
    other.close()
