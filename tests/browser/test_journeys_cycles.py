"""Journeys through a self-evaluation cycle: opening, rating with autosave,
moderation; the keyboard, two tabs, no JavaScript and an expired CSRF token."""

import re
import time

import pytest
from playwright.sync_api import Page, expect
from support import DEPUTY, HEAD
from support_browser import check_page, sign_in

from peerreview.db import connect

pytestmark = pytest.mark.browser

INSTRUMENT = "Closing gaps in attainment (ASCL checklist)"
ITEMS = 11  # items in that instrument
VIEWPORT = {"width": 1280, "height": 900}


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def new_page(browser, **options) -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", **options)
    context.set_default_timeout(10_000)
    return context.new_page()


def open_cycle(page: Page, base_url: str, *, respondents=("Ben Hughes",)) -> int:
    """As the team lead, create a cycle on the team page and open it; return its id."""
    sign_in(page, base_url, HEAD)
    page.goto(base_url + "/teams/1")
    check_page(page, "cycles-1-team")
    page.get_by_role("link", name="Start a self-evaluation").click()
    expect(heading(page)).to_have_text("Start a self-evaluation")
    check_page(page, "cycles-2-new")
    page.get_by_label("Instrument").select_option(label=f"{INSTRUMENT} ({ITEMS} items)")
    people = page.get_by_role("group", name="Who will rate")
    for box in people.get_by_role("checkbox").all():
        box.set_checked(False)
    for name in respondents:
        people.get_by_label(name).check()
    page.get_by_label("Closing date").fill("2027-03-14")
    page.get_by_label("With names").check()
    page.get_by_role("button", name="Create the cycle").click()
    expect(page.get_by_role("alert").first).to_contain_text("created as a draft")
    expect(page.get_by_text("Individual ratings shown with names")).to_be_visible()
    expect(page.get_by_text("14 March 2027")).to_be_visible()
    cid = int(re.search(r"/cycles/(\d+)$", page.url).group(1))
    page.get_by_role("button", name="Open for ratings").click()
    expect(page.get_by_text("The cycle is now: Open for ratings.")).to_be_visible()
    check_page(page, "cycles-3-opened")
    return cid


def items(page: Page):
    return page.locator(".pr-item")


def answer(item, label: str):
    """Choose an answer by its label and wait for the autosave to say Saved."""
    item.get_by_label(label, exact=True).check()
    expect(item.get_by_role("status")).to_have_text("Saved")


def active_text(page: Page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def stored(db_path, cid: int, email: str) -> dict:
    db = connect(db_path)
    try:
        return {
            r["item_id"]: r
            for r in db.query(
                "SELECT r.item_id, r.value, r.comment, r.revision FROM responses r "
                "JOIN users u ON u.id = r.respondent_id "
                "WHERE r.cycle_id = ? AND u.email = ?",
                [cid, email],
            )
        }
    finally:
        db.conn.close()


def test_full_cycle_journey(live_server, page, browser):
    cid = open_cycle(page, live_server.url)
    # Blind: the lead sees who has finished, not what they answered.
    expect(page.get_by_role("row", name=re.compile("Ben Hughes"))).to_contain_text(
        f"0 of {ITEMS}"
    )

    # A respondent answers half the items, with autosave, then closes the tab.
    rater = new_page(browser)
    sign_in(rater, live_server.url, DEPUTY)
    check_page(rater, "cycles-4-home")
    rater.locator(f'a[href$="/cycles/{cid}/rate"]').click()
    expect(heading(rater)).to_contain_text("Closing gaps")
    check_page(rater, "cycles-5-rate-empty")
    labels = ["Strongly agree", "Agree", "Disagree", "Strongly disagree"]
    half = ITEMS // 2
    for n in range(half):
        answer(items(rater).nth(n), labels[n % 4])
    first = items(rater).nth(0)
    first.get_by_text("Comment and evidence").click()
    first.get_by_label("Comment (optional)").fill("Seen in most classrooms.")
    first.get_by_label("Comment (optional)").blur()
    expect(first.get_by_role("status")).to_have_text("Saved")
    expect(rater.locator("#answered-count")).to_have_text(str(half))
    check_page(rater, "cycles-6-rate-half")
    rater.context.close()

    # Signing in again, in a new browser, shows every answer as it was.
    again = new_page(browser)
    sign_in(again, live_server.url, DEPUTY, a11y=False)
    expect(again.get_by_text(f"{half} of {ITEMS} answered")).to_be_visible()
    again.goto(live_server.url + f"/cycles/{cid}/rate")
    for n in range(half):
        expect(
            items(again).nth(n).get_by_label(labels[n % 4], exact=True)
        ).to_be_checked()
    expect(items(again).nth(0).get_by_label("Comment (optional)")).to_have_value(
        "Seen in most classrooms."
    )
    for n in range(half, ITEMS):
        expect(items(again).nth(n).get_by_role("radio", checked=True)).to_have_count(0)
        answer(
            items(again).nth(n), labels[n % 4] if n != ITEMS - 1 else "Not applicable"
        )
    again.get_by_role("button", name="Submit my ratings").click()
    expect(again.get_by_role("alert").first).to_contain_text("ratings are submitted")
    check_page(again, "cycles-7-submitted")
    again.context.close()
    assert len(stored(live_server.db_path, cid, DEPUTY)) == ITEMS

    # The lead moves to moderation and records an agreed score for every item.
    page.reload()
    expect(page.get_by_role("row", name=re.compile("Ben Hughes"))).to_contain_text(
        "Submitted"
    )
    page.get_by_role("button", name="Close ratings and start moderation").click()
    expect(page.get_by_text("The cycle is now: Moderation.")).to_be_visible()
    page.get_by_role("link", name="Open the moderation meeting").click()
    expect(heading(page)).to_have_text("Moderation meeting")
    check_page(page, "cycles-8-moderation")
    expect(page.locator(".pr-moderation-item")).to_have_count(ITEMS)
    expect(page.get_by_text("Seen in most classrooms.")).to_be_visible()
    for n in range(1, ITEMS + 1):
        section = page.locator(".pr-moderation-item").filter(
            has=page.get_by_role("button", name=f"Record for item {n}", exact=True)
        )
        section.get_by_label("Agree", exact=True).check()
        section.get_by_label("Rationale", exact=True).fill(
            f"Agreed at the meeting ({n})."
        )
        section.get_by_role("button", name=f"Record for item {n}", exact=True).click()
        # The confirmation is inside the item, and focused: where the lead looks.
        saved = section.get_by_role("status")
        expect(saved).to_contain_text("Agreed score saved: Agree.")
        expect(saved).to_be_focused()
    expect(page.get_by_text(re.compile(r"^Agreed: Agree"))).to_have_count(ITEMS)
    check_page(page, "cycles-9-moderation-agreed")
    page.get_by_role("link", name="Back to the cycle").click()
    page.get_by_role("button", name="Mark the cycle agreed").click()
    expect(page.get_by_text("The cycle is now: Agreed.")).to_be_visible()
    check_page(page, "cycles-10-agreed")
    page.get_by_role("link", name="See the moderation record").click()
    expect(
        page.get_by_role("button", name=re.compile("Record for item"))
    ).to_have_count(0)
    check_page(page, "cycles-11-record")


def test_keyboard_only_rating(live_server, page, browser):
    cid = open_cycle(page, live_server.url)
    rater = new_page(browser)
    sign_in(rater, live_server.url, DEPUTY, a11y=False)
    rater.goto(live_server.url + f"/cycles/{cid}/rate")
    first_radio = items(rater).nth(0).get_by_role("radio").first
    # Tab from the top of the page to the first radio, counting the stops.
    rater.locator("body").focus()
    for _ in range(40):
        rater.keyboard.press("Tab")
        if first_radio.evaluate("el => el === document.activeElement"):
            break
    expect(first_radio).to_be_focused()
    for n in range(ITEMS):
        item = items(rater).nth(n)
        radios = item.get_by_role("radio")
        expect(radios.first).to_be_focused()
        rater.keyboard.press("Space")  # choose the first point
        rater.keyboard.press("ArrowDown")  # move to, and choose, the second
        expect(radios.nth(1)).to_be_checked()
        expect(item.get_by_role("status")).to_have_text("Saved")
        rater.keyboard.press("Tab")
        expect(item.locator("summary")).to_be_focused()
        if n == 0:
            rater.keyboard.press("Enter")  # open "Comment and evidence"
            rater.keyboard.press("Tab")
            expect(item.get_by_label("Comment (optional)")).to_be_focused()
            rater.keyboard.type("Typed with the keyboard.")
            rater.keyboard.press("Tab")  # to the evidence note: leaving saves
            expect(item.get_by_role("status")).to_have_text("Saved")
            rater.keyboard.press("Tab")
        else:
            rater.keyboard.press("Tab")
        # Then the item's way to add evidence, a link.
        expect(
            item.get_by_role("link", name="Add evidence for this item")
        ).to_be_focused()
        rater.keyboard.press("Tab")
        # The last item of a section is followed by the section's Save button.
        if "Save this section" in active_text(rater):
            rater.keyboard.press("Tab")
    # After the last section's button comes the submit button.
    assert active_text(rater) == "Submit my ratings"
    with rater.expect_navigation():
        rater.keyboard.press("Enter")
    expect(rater.get_by_role("alert").first).to_contain_text("ratings are submitted")
    rows = stored(live_server.db_path, cid, DEPUTY)
    assert len(rows) == ITEMS and all(r["value"] for r in rows.values())
    assert any(r["comment"] == "Typed with the keyboard." for r in rows.values())
    rater.context.close()


def test_two_tabs_never_lose_the_later_edit(live_server, page, browser):
    cid = open_cycle(page, live_server.url)
    rater = new_page(browser)
    sign_in(rater, live_server.url, DEPUTY, a11y=False)
    url = live_server.url + f"/cycles/{cid}/rate"
    rater.goto(url)
    other = rater.context.new_page()
    other.goto(url)
    answer(items(rater).nth(0), "Agree")
    # The second tab still holds revision 0: its save is stale and refused.
    item = items(other).nth(0)
    # click, not check: the refused save puts the newer answer back at once.
    item.get_by_label("Strongly disagree", exact=True).click()
    expect(item.get_by_role("status")).to_contain_text(
        "changed in another window or tab"
    )
    expect(item.get_by_label("Agree", exact=True)).to_be_checked()
    check_page(other, "cycles-12-stale")
    # Now that it shows the newer answer, a change from that tab saves.
    answer(item, "Disagree")
    row = stored(live_server.db_path, cid, DEPUTY)[
        items(rater).nth(0).get_attribute("data-item")
    ]
    assert (row["value"], row["revision"]) == ("2", 2)
    rater.context.close()


def test_section_save_button_without_javascript(live_server, page, browser):
    cid = open_cycle(page, live_server.url)
    rater = new_page(browser, java_script_enabled=False)
    sign_in(rater, live_server.url, DEPUTY, a11y=False)
    rater.goto(live_server.url + f"/cycles/{cid}/rate")
    section = rater.locator(".pr-section").first
    for item in section.locator(".pr-item").all():
        item.get_by_label("Agree", exact=True).check()
    section.locator("details").first.locator("summary").click()
    section.get_by_label("Comment (optional)").first.fill("Saved without scripts.")
    section.get_by_role("button", name="Save this section").click()
    expect(rater.get_by_role("alert").first).to_contain_text("are saved")
    count = section.locator(".pr-item").count()
    for item in rater.locator(".pr-section").first.locator(".pr-item").all():
        expect(item.get_by_label("Agree", exact=True)).to_be_checked()
    rows = stored(live_server.db_path, cid, DEPUTY)
    assert len(rows) == count and {r["value"] for r in rows.values()} == {"4"}
    assert "Saved without scripts." in {r["comment"] for r in rows.values()}
    rater.context.close()


def test_autosave_outlives_the_csrf_token(live_server, page, browser):
    cid = open_cycle(page, live_server.url)
    live_server.app.config["WTF_CSRF_TIME_LIMIT"] = 2
    rater = new_page(browser)
    sign_in(rater, live_server.url, DEPUTY, a11y=False)
    rater.goto(live_server.url + f"/cycles/{cid}/rate")
    answer(items(rater).nth(0), "Agree")
    time.sleep(3)  # the page's token has now expired
    saves = []
    rater.on(
        "response",
        lambda r: (
            saves.append((r.url.rsplit("/", 1)[-1], r.status))
            if r.request.method == "POST" or r.url.endswith("/csrf-token")
            else None
        ),
    )
    answer(items(rater).nth(0), "Disagree")
    assert saves[:3] == [("answers", 400), ("csrf-token", 200), ("answers", 200)]
    row = next(iter(stored(live_server.db_path, cid, DEPUTY).values()))
    assert (row["value"], row["revision"]) == ("2", 2)
    rater.context.close()
