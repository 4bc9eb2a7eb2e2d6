"""Peer review end to end: the partnership lead plans a round, two reviewers
rate and agree on the ordinary cycle pages, the host sees self vs peer, and the
lead sees the matrix. axe-core checks every page on the way.

The journey is five steps on one server, run in order; each can fail on its
own, and a step whose earlier step failed is skipped, saying which."""

import re

import pytest
from playwright.sync_api import Page, expect
from support import HEAD, TRUST_LEAD
from support_browser import check_page, sign_in

pytestmark = pytest.mark.browser

ITEMS = 11
VIEWPORT = {"width": 1280, "height": 900}
# The suggested reviewers of Northfield Primary: the heads of the next two
# schools by name; Riverside's head leads.
LEAD_REVIEWER = "headteacher@riversideinfant.example.org"
REVIEWER = "headteacher@bayviewspecial.example.org"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def new_page(browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(10_000)
    return context.new_page()


def rate_everything(browser, base_url, email, label, shot):
    page = new_page(browser)
    sign_in(page, base_url, email, a11y=False)
    page.get_by_role("link", name="Peer review", exact=True).click()
    check_page(page, f"peer-{shot}-hub")
    page.get_by_role("link", name="Rate Northfield Primary School").click()
    expect(page.locator(".govuk-caption-l")).to_have_text(
        "Northfield Primary School — peer review"
    )
    for n in range(ITEMS):
        item = page.locator(".pr-item").nth(n)
        item.get_by_label(label, exact=True).check()
        expect(item.get_by_role("status")).to_have_text("Saved")
    check_page(page, f"peer-{shot}-rated")
    page.get_by_role("button", name="Submit my ratings").click()
    expect(page.get_by_role("alert").first).to_contain_text("ratings are submitted")
    return page


JOURNEY: dict = {}


def after(step: str) -> None:
    """Skip this step unless the earlier one it builds on passed."""
    if step not in JOURNEY:
        pytest.skip(f"the earlier step '{step}' did not pass")


def test_1_the_lead_plans_a_round(module_live_server, page):
    base = module_live_server.url
    # The partnership lead plans a round with Northfield Primary as the only host.
    sign_in(page, base, TRUST_LEAD)
    page.get_by_role("link", name="Peer review", exact=True).click()
    check_page(page, "peer-1-lead-hub")
    page.get_by_role("link", name="Plan a peer-review round").click()
    expect(heading(page)).to_have_text("Plan a peer-review round")
    check_page(page, "peer-2-plan")
    page.get_by_label("Title of the round").fill("Spring peer visits")
    page.get_by_label("Instrument").select_option(
        label="Closing gaps in attainment (ASCL checklist)"
    )
    for box in page.get_by_role("checkbox", name=re.compile(r"^Include ")).all():
        box.set_checked(False)
    page.get_by_label("Include Northfield Primary School as a host").check()
    page.get_by_role("button", name="Plan the round").click()
    expect(page.get_by_role("alert").first).to_contain_text("The round is planned")
    expect(heading(page)).to_have_text("Spring peer visits")
    check_page(page, "peer-3-round")
    expect(page.get_by_role("row", name=re.compile("Northfield"))).to_contain_text(
        "Open for ratings"
    )
    JOURNEY["round_url"] = page.url
    # The lead moves the closing date, with the keyboard-reachable form.
    page.get_by_role("link", name=re.compile("Change the title or dates")).click()
    expect(heading(page)).to_have_text("Change the round's title or dates")
    check_page(page, "peer-3b-change")
    page.get_by_label("Ratings close").fill("2027-04-30")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert").first).to_contain_text("The round is changed")
    expect(page.get_by_text("ratings close 30 April 2027")).to_be_visible()
    page.get_by_role(
        "link", name="Change reviewers of Northfield Primary School"
    ).click()
    expect(heading(page)).to_have_text("Reviewers of Northfield Primary School")
    check_page(page, "peer-3c-reviewers")
    JOURNEY["planned"] = True


def test_2_two_reviewers_rate_alone(module_live_server, browser):
    after("planned")
    base = module_live_server.url
    rate_everything(browser, base, REVIEWER, "Disagree", "4").context.close()
    rate_everything(
        browser, base, LEAD_REVIEWER, "Strongly disagree", "5"
    ).context.close()
    JOURNEY["rated"] = True


def test_3_the_lead_reviewer_runs_moderation(module_live_server, browser):
    after("rated")
    base = module_live_server.url
    lead = new_page(browser)
    sign_in(lead, base, LEAD_REVIEWER, a11y=False)
    lead.goto(base + "/peer/")
    lead.get_by_role("link", name="Run the review of Northfield Primary School").click()
    check_page(lead, "peer-6-run")
    lead.get_by_role("button", name="Close ratings and start moderation").click()
    expect(lead.get_by_text("The cycle is now: Moderation.")).to_be_visible()
    lead.get_by_role("link", name="Open the moderation meeting").click()
    check_page(lead, "peer-6b-moderation")
    for n in range(1, ITEMS + 1):
        section = lead.locator(".pr-moderation-item").filter(
            has=lead.get_by_role("button", name=f"Record for item {n}", exact=True)
        )
        section.get_by_label("Disagree", exact=True).check()
        section.get_by_label("Rationale", exact=True).fill(
            f"Books did not show it ({n})."
        )
        section.get_by_role("button", name=f"Record for item {n}", exact=True).click()
        expect(section.get_by_role("status")).to_contain_text(
            "Agreed score saved: Disagree."
        )
    lead.get_by_role("link", name="Back to the cycle").click()
    lead.get_by_role("button", name="Mark the cycle agreed").click()
    expect(lead.get_by_text("The cycle is now: Agreed.")).to_be_visible()
    check_page(lead, "peer-7-agreed")
    lead.get_by_role("link", name="Self vs peer").click()
    expect(heading(lead)).to_have_text("Self vs peer: Northfield Primary School")
    lead.context.close()
    JOURNEY["agreed"] = True


def test_4_the_host_sees_self_against_peer(module_live_server, page):
    after("agreed")
    sign_in(page, module_live_server.url, HEAD, a11y=False)
    page.get_by_role("link", name="Peer review", exact=True).click()
    page.get_by_role("link", name="see self vs peer").first.click()
    expect(heading(page)).to_have_text("Self vs peer: Northfield Primary School")
    expect(page.get_by_text(re.compile(r"^Calibration: "))).to_be_visible()
    expect(page.get_by_text("Agreed peer score")).to_have_count(ITEMS)
    expect(page.get_by_text("Books did not show it (1).")).to_be_visible()
    check_page(page, "peer-8-host-self-vs-peer")


def test_5_the_lead_sees_the_round_in_the_matrix(module_live_server, page):
    after("agreed")
    sign_in(page, module_live_server.url, TRUST_LEAD, a11y=False)
    page.goto(JOURNEY["round_url"])
    page.get_by_role("link", name="Compare schools in this round").click()
    expect(heading(page)).to_have_text("Compare schools")
    expect(page.locator("svg.pr-heat")).to_be_visible()
    expect(page.locator("svg.pr-heat")).to_contain_text("Northfield Primary School")
    check_page(page, "peer-9-matrix")
    page.get_by_text("The matrix as a table").click()
    expect(
        page.locator("table.pr-matrix").get_by_role(
            "row", name=re.compile("^Northfield Primary School")
        )
    ).to_be_visible()
    check_page(page, "peer-10-matrix-table")
