"""Journeys through the imports: schools from a GIAS extract, people from a list."""

import pathlib
import re

import pytest
from playwright.sync_api import expect
from support import HEAD, TRUST_LEAD
from support_browser import check_page, sign_in

pytestmark = pytest.mark.browser

EXTRACT = pathlib.Path(__file__).parents[1] / "data" / "gias_extract.csv"


def test_partnership_lead_imports_schools_from_gias(live_server, page, tmp_path):
    sign_in(page, live_server.url, TRUST_LEAD)
    page.goto(live_server.url + "/partnerships/1")
    page.get_by_role("link", name="Import schools from a GIAS extract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Import schools from GIAS"
    )
    check_page(page, "imports-1-upload")

    page.get_by_label("GIAS extract (CSV)").set_input_files(str(EXTRACT))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import")
    problems = page.get_by_role("table", name="Lines that cannot be used")
    expect(problems).to_contain_text("It has no postcode")
    check_page(page, "imports-1-preview")

    page.get_by_label("Add Lost Valley Free School").uncheck()
    page.get_by_role("button", name="Import 6 schools").click()
    expect(
        page.get_by_text("5 schools added to Northfield Learning Trust")
    ).to_be_visible()
    schools = page.get_by_role("table", name="Schools")
    expect(schools).to_contain_text("Penwith Community Primary School")
    expect(schools).not_to_contain_text("Lost Valley Free School")
    check_page(page, "imports-1-done")


def test_team_lead_invites_people_from_a_list(live_server, page, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text(
        "email,name,urn,team,role\n"
        "nina.new@example.org,Nina New,,,Team member\n"
        "hal@example.org,Hal Head,,,Head\n"
    )
    sign_in(page, live_server.url, HEAD)
    page.goto(live_server.url + "/teams/1")
    page.get_by_role("link", name="Invite people from a list").click()
    check_page(page, "imports-2-upload")
    page.get_by_label("List of people (CSV)").set_input_files(str(people))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the invitations")
    check_page(page, "imports-2-preview")
    page.get_by_role("button", name="Send 1 invitation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1 invitation made")
    expect(page.get_by_label("Link for Nina New")).to_have_value(
        re.compile(r"/invitations/")
    )
    check_page(page, "imports-2-sent")
