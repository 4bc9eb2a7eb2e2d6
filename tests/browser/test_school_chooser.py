"""Choosing a school for "who can help" in a partnership of 24 schools.

A labelled text box suggests the reviewed schools' names as one types (a
datalist); it works by keyboard alone and without JavaScript: Enter shows
who can help the school named, and a part name that fits several schools
lists them as links. Checked with axe at 1280 and 375 pixels; screenshots
are saved to be looked at.
"""

import pytest
from many_schools import add_reviewed_schools
from support import TRUST_LEAD
from support_browser import check_a11y, screenshot, sign_in

from peerreview.db import connect

pytestmark = pytest.mark.browser

LABEL = "Who can help: which school?"


@pytest.fixture
def big_server(live_server):
    db = connect(live_server.db_path)
    try:
        add_reviewed_schools(db)
    finally:
        db.conn.close()
    return live_server


def _helped(page) -> list[str]:
    return page.locator("#who-can-help ~ h3:not(#excellence)").all_inner_texts()


@pytest.mark.parametrize("width", [1280, 375])
def test_a_school_is_chosen_by_keyboard(big_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, big_server.url, TRUST_LEAD, a11y=False)
        page.goto(f"{big_server.url}/partnerships/1/comparison?round=2")
        box = page.get_by_label(LABEL, exact=True)
        assert box.evaluate("e => e.list.options.length") == 24
        screenshot(page, f"chooser-{width}")
        check_a11y(page)
        box.focus()
        page.keyboard.type("castle hill")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert _helped(page) == ["Castle Hill Academy"]
        assert page.get_by_label(LABEL, exact=True).input_value() == (
            "Castle Hill Academy"
        )
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth"
        )
        screenshot(page, f"chooser-chosen-{width}")
    finally:
        context.close()


def test_several_schools_fit_without_javascript(big_server, browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, big_server.url, TRUST_LEAD, a11y=False)
        page.goto(f"{big_server.url}/partnerships/1/comparison?round=2")
        page.get_by_label(LABEL, exact=True).fill("st mary")
        with page.expect_navigation():
            page.get_by_label(LABEL, exact=True).press("Enter")
        links = page.locator(".pr-school-matches a")
        assert links.all_inner_texts() == [
            "St Mary's Catholic Primary School",
            "St Mary's Church of England Primary School",
        ]
        screenshot(page, "chooser-matches-375")
        links.first.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert _helped(page) == ["St Mary's Catholic Primary School"]
    finally:
        context.close()
