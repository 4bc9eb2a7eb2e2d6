"""Journeys through signing in and out, invitations and organisations."""

import asyncio
import re

import pytest
from playwright.sync_api import Page, expect
from support import ADMIN, DEPUTY, HEAD, totp_code
from support_browser import check_a11y, check_page, screenshot, sign_in, sign_out

from peerreview.db import connect

pytestmark = pytest.mark.browser


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def menu(page: Page):
    return page.get_by_role("navigation", name="Menu")


def test_admin_signs_in_and_out(live_server, page):
    sign_in(page, live_server.url, ADMIN)

    expect(page).to_have_url(live_server.url + "/")
    expect(heading(page)).to_have_text("Welcome, Platform Admin")
    expect(menu(page).get_by_role("link")).to_have_text(
        ["Home", "Organisations", "Accounts", "Instruments"]
    )
    expect(menu(page).get_by_role("link", name="Home")).to_have_attribute(
        "aria-current", "page"
    )
    header = page.get_by_role("banner")
    expect(header).to_contain_text("Signed in as Platform Admin")
    expect(header).not_to_contain_text("GOV.UK")
    check_page(page, "accounts-1-admin-home")

    sign_out(page)

    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("alert")).to_contain_text("You have signed out.")
    expect(menu(page)).to_have_count(0)
    expect(
        page.get_by_role("banner").get_by_role("link", name="Sign in")
    ).to_be_visible()
    check_page(page, "accounts-1-signed-out")


def test_wrong_password_error_links_to_the_field(live_server, page):
    sign_in(page, live_server.url, ADMIN, "not-the-password")

    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    # GOV.UK Frontend moves focus to the summary so that it is read out first.
    expect(summary).to_be_focused()
    check_page(page, "accounts-2-wrong-password")

    summary.get_by_role(
        "link", name="The email address or password is not right"
    ).click()

    password = page.get_by_label("Password", exact=True)
    expect(password).to_be_focused()
    assert page.evaluate("() => document.activeElement.id") == "password"
    expect(password).to_have_attribute("aria-describedby", "password-error")


def test_headteacher_invites_someone_who_accepts(live_server, page):
    sign_in(page, live_server.url, HEAD)
    check_page(page, "accounts-3-head-home")

    page.get_by_role("link", name="Senior leadership team").click()
    expect(heading(page)).to_have_text("Senior leadership team")
    expect(page.get_by_text("Northfield Primary School")).to_be_visible()
    check_page(page, "accounts-3-team")

    page.get_by_role("link", name="Invite a team member").click()
    expect(heading(page)).to_have_text("Invite someone")
    check_page(page, "accounts-3-invite")
    page.get_by_label("Full name").fill("Nadia Kowalski")
    page.get_by_label("Email address").fill(
        "nadia.kowalski@northfieldprimary.example.org"
    )
    page.get_by_label("Role").select_option(label="Team member")
    page.get_by_role("button", name="Create invitation link").click()

    expect(heading(page)).to_have_text("The invitation link is ready")
    link_input = page.get_by_label(re.compile(r"^Link"))
    expect(link_input).not_to_be_editable()
    link = link_input.input_value()
    assert link.startswith(live_server.url + "/invitations/")
    check_page(page, "accounts-3-link-issued")

    sign_out(page)
    page.goto(link)

    expect(heading(page)).to_have_text("Accept your invitation")
    expect(page.get_by_label("Your full name")).to_have_value("Nadia Kowalski")
    check_page(page, "accounts-3-accept")
    page.get_by_label("Create a password").fill("correct horse battery")
    page.get_by_label("Confirm password").fill("correct horse battery")
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(heading(page)).to_have_text("Welcome, Nadia Kowalski")
    expect(page.get_by_role("alert")).to_contain_text("Your account is ready")
    teams = page.get_by_role("list").filter(has_text="Senior leadership team")
    expect(teams).to_contain_text("Northfield Primary School")
    expect(teams).not_to_contain_text("Team lead")
    check_page(page, "accounts-3-new-member-home")


def test_admin_creates_a_school_and_its_team(live_server, page):
    sign_in(page, live_server.url, ADMIN)
    menu(page).get_by_role("link", name="Organisations").click()
    expect(heading(page)).to_have_text("Organisations")
    check_page(page, "accounts-4-organisations")

    page.get_by_role("link", name="Create a school").click()
    expect(heading(page)).to_have_text("Create a school")
    check_page(page, "accounts-4-new-school")
    page.get_by_label("School name").fill("Quernmore Primary School")
    page.get_by_label("URN (unique reference number)").fill("140999")
    page.get_by_label("Phase").select_option(label="Primary")
    page.get_by_label("Number of pupils").fill("87")
    page.get_by_label("Postcode").fill("la2 9ef")
    page.get_by_role("button", name="Create school").click()

    expect(heading(page)).to_have_text("Quernmore Primary School")
    expect(page.get_by_role("alert")).to_contain_text(
        "Quernmore Primary School has been created."
    )
    expect(page.get_by_text("LA2 9EF")).to_be_visible()
    check_page(page, "accounts-4-school")

    page.get_by_label("Team name").fill("Senior leadership team")
    page.get_by_role("button", name="Create a leadership team").click()

    expect(heading(page)).to_have_text("Senior leadership team")
    expect(page.get_by_text("Quernmore Primary School")).to_be_visible()
    check_page(page, "accounts-4-new-team")

    menu(page).get_by_role("link", name="Organisations").click()
    schools = page.get_by_role("table").filter(
        has=page.get_by_role("columnheader", name="URN")
    )
    row = schools.get_by_role("row").filter(has_text="Quernmore Primary School")
    expect(row).to_contain_text("140999")
    expect(row.get_by_role("link", name="Quernmore Primary School")).to_be_visible()
    screenshot(page, "accounts-4-organisations-after")


def test_sign_in_with_the_keyboard_alone(live_server, page):
    page.goto(live_server.url + "/sign-in")
    check_a11y(page)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main-content$"))
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("peerreview-demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The second step is one more labelled field, reached and sent by keyboard.
    expect(heading(page)).to_have_text("Enter the code from your app")
    check_a11y(page)
    code = page.get_by_label("Code from your authenticator app", exact=True)
    for _ in range(4):
        page.keyboard.press("Tab")
        if code.evaluate("el => el === document.activeElement"):
            break
    expect(code).to_be_focused()
    page.keyboard.type(_code(live_server, ADMIN))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The form posts to the page's own URL; the redirect keeps its fragment.
    expect(page).to_have_url(
        re.compile(re.escape(live_server.url) + r"/(#main-content)?$")
    )
    expect(heading(page)).to_have_text("Welcome, Platform Admin")
    check_page(page, "accounts-5-keyboard-home")


def _code(live_server, email):
    db = connect(live_server.db_path)
    try:
        return totp_code(db, email)
    finally:
        db.conn.close()


def test_a_member_turns_on_two_step_sign_in_with_the_keyboard(live_server, page):
    sign_in(page, live_server.url, DEPUTY, a11y=False)
    page.get_by_role("link", name="Sign-in and security").click()
    expect(heading(page)).to_have_text("Sign-in and security")
    check_page(page, "accounts-6-security")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(heading(page)).to_have_text("Set up two-step sign-in")
    expect(page.locator("svg").first).to_be_visible()
    check_page(page, "accounts-6-set-up")

    code = page.get_by_label("Code from your authenticator app", exact=True)
    code.focus()
    page.keyboard.type("000000")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The code is not right")
    check_page(page, "accounts-6-set-up-wrong-code")

    code.fill(_code(live_server, DEPUTY))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Save your recovery codes")
    expect(
        page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    ).to_have_count(10)
    check_page(page, "accounts-6-recovery-codes")
    page.get_by_role("link", name="I have saved my codes: continue").click()
    expect(page.get_by_text("Two-step sign-in is on")).to_be_visible()

    sign_out(page)
    sign_in(page, live_server.url, DEPUTY)
    expect(heading(page)).to_have_text(re.compile(r"^Welcome, "))


def test_no_event_loop_is_left_running_after_browser_tests():
    """Tests that run after the browser journeys can still use asyncio."""
    assert asyncio._get_running_loop() is None
    asyncio.run(asyncio.sleep(0))
