"""Journeys through the instrument library: browse, preview, download, and an
admin uploading a broken file, then a good one."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support import ADMIN, CLUSTER_LEAD, TRUST_LEAD
from support_browser import check_page, sign_in, sign_out

from peerreview.db import connect
from peerreview.instruments import load_file

pytestmark = pytest.mark.browser

GOOD = """\
format: 1
id: welcome-check
version: 1.0.0
title: Welcome check
purpose: A short check of how a school welcomes new staff.
audience: school_leadership_team
source:
  citation: Written by the trust for its own schools (2026).
  licence: For use within the trust.
scale:
  kind: maturity
  points:
    - {code: "1", value: 1, label: Beginning}
    - {code: "2", value: 2, label: Developing}
    - {code: "3", value: 3, label: Embedding}
    - {code: "4", value: 4, label: Leading}
  no_evidence: true
sections:
  - id: induction
    title: Induction
    description: The first term of a new member of staff.
    items:
      - id: ind-01
        statement: Every new member of staff has a named mentor from day one.
        guidance: Count the staff who joined this year.
        evidence_prompts:
          - The list of mentors and mentees.
        descriptors:
          "1": Mentors are found when someone asks for one.
          "2": Most new staff have a mentor by half term.
          "3": Every new member of staff meets their mentor in the first week.
          "4": Mentors are trained together across the trust's schools.
scoring:
  bands:
    - {name: Early days, min: 1}
    - {name: Secure, min: 3}
  priority: {at_or_below: 2}
actions:
  - items: [ind-01]
    text: Name a mentor for every new member of staff before they start.
"""
# Three faults: an unknown audience, a malformed item id, an unknown key;
# the action naming "ind-01" no longer finds its item, and says so in the
# same run (four problems).
BROKEN = (
    GOOD.replace("audience: school_leadership_team", "audience: everyone")
    .replace("      - id: ind-01", "      - id: Ind 01")
    .replace("purpose:", "colour: blue\npurpose:")
)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def choose_file(page: Page, name: str, text: str) -> None:
    page.get_by_label("Instrument file (YAML)").set_input_files(
        {"name": name, "mimeType": "text/yaml", "buffer": text.encode()}
    )


def test_admin_uploads_broken_then_good_file(live_server, page: Page, tmp_path):
    base = live_server.url
    sign_in(page, base, ADMIN)
    page.get_by_role("link", name="Instruments").click()
    expect(heading(page)).to_have_text("Instruments")
    expect(page.locator(".govuk-summary-card")).to_have_count(6)
    check_page(page, "instruments-1-library")

    page.get_by_role("link", name="Upload an instrument").click()
    expect(heading(page)).to_have_text("Upload an instrument")
    check_page(page, "instruments-2-upload")

    choose_file(page, "welcome.yaml", BROKEN)
    page.get_by_role("button", name="Upload and check").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(4)
    for text in links.all_inner_texts():
        assert re.match(r"welcome\.yaml:\d+: ", text), text
    expect(summary).to_contain_text("welcome.yaml:7: -: audience:")
    expect(summary).to_contain_text("Ind 01")
    expect(summary).to_contain_text("welcome.yaml:5: -: colour: unknown key")
    expect(summary).to_contain_text(
        "action 1, item listed 1: the action names the item 'ind-01', which does "
        "not exist"
    )
    check_page(page, "instruments-3-upload-errors")
    links.first.click()
    expect(page.get_by_label("Instrument file (YAML)")).to_be_focused()

    choose_file(page, "welcome.yaml", GOOD)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Welcome check version 1.0.0 has been added"
    )
    expect(heading(page)).to_have_text("Welcome check")
    item = page.locator(".pr-item")
    expect(item).to_have_count(1)
    expect(item.get_by_role("radio")).to_have_count(5)
    for radio in item.get_by_role("radio").all():
        expect(radio).to_be_disabled()
    expect(item.get_by_text("Mentors are trained together")).to_be_visible()
    expect(page.get_by_text("Name a mentor for every new member")).to_be_visible()
    check_page(page, "instruments-4-preview")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the YAML file").click()
    saved = tmp_path / "got.yaml"
    download.value.save_as(saved)
    assert saved.read_text() == GOOD
    assert download.value.suggested_filename == "welcome-check-1.0.0.yaml"

    db = connect(live_server.db_path)
    try:
        rows = list(db.query("SELECT instrument_id, version FROM instrument_uploads"))
    finally:
        db.conn.close()
    assert rows == [{"instrument_id": "welcome-check", "version": "1.0.0"}]


def test_partnership_lead_uploads_for_their_partnership(live_server, page: Page):
    base = live_server.url
    sign_in(page, base, TRUST_LEAD)
    page.goto(base + "/instruments/upload")
    expect(page.get_by_text("Northfield Learning Trust only")).to_be_visible()
    choose_file(page, "welcome.yaml", GOOD)
    page.get_by_role("button", name="Upload and check").click()
    expect(heading(page)).to_have_text("Welcome check")
    page.get_by_role("link", name="Instruments", exact=True).first.click()
    card = page.locator("#instrument-welcome-check")
    expect(card).to_contain_text("Northfield Learning Trust only")
    check_page(page, "instruments-5-library-with-own")
    sign_out(page)

    # Another partnership's lead neither sees it nor reaches it.
    sign_in(page, base, CLUSTER_LEAD, a11y=False)
    page.goto(base + "/instruments")
    expect(page.locator(".govuk-summary-card")).to_have_count(6)
    expect(page.locator("#instrument-welcome-check")).to_have_count(0)
    response = page.goto(base + "/instruments/welcome-check")
    assert response.status == 404


HEALTH = (
    Path(__file__).resolve().parents[2]
    / "instruments"
    / "partnership-health-check.yaml"
)
_MAJOR, _MINOR, _ = load_file(HEALTH).version.split(".")
# The version after the shipped health check's, for a new item.
NEXT_MINOR = f"{_MAJOR}.{int(_MINOR) + 1}.0"


def test_admin_turns_an_edited_csv_of_items_into_yaml(
    live_server, page: Page, tmp_path
):
    base = live_server.url
    sign_in(page, base, ADMIN)
    page.goto(base + "/instruments/partnership-health-check")
    with page.expect_download() as download:
        page.get_by_role("link", name="its items as CSV").click()
    exported = tmp_path / "items.csv"
    download.value.save_as(exported)
    page.get_by_role("link", name="turn the CSV back into YAML").click()
    expect(heading(page)).to_have_text("Turn a CSV of items into an instrument file")
    expect(page.get_by_label("Instrument the items are for")).to_have_value(
        "partnership-health-check"
    )
    text = exported.read_text(encoding="utf-8-sig")

    def choose_csv(body: str) -> None:
        page.get_by_label("CSV of items").set_input_files(
            {"name": "items.csv", "mimeType": "text/csv", "buffer": body.encode()}
        )

    # A row with no id, and a version in words: every problem, in words.
    choose_csv(text + "foundations,,,,A statement with no id.\r\n")
    page.get_by_label("Version of the new file (optional)").fill("next")
    page.get_by_role("button", name="Make the YAML file").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(
        "Give the version as MAJOR.MINOR.PATCH, such as 1.1.0"
    )
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"instruments-csv-version-error-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    choose_csv(text + "foundations,,,,A statement with no id.\r\n")
    page.get_by_label("Version of the new file (optional)").fill(NEXT_MINOR)
    page.get_by_role("button", name="Make the YAML file").click()
    expect(summary).to_contain_text(
        f"items.csv:{len(text.splitlines()) + 1}: -: item_id is empty"
    )
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"instruments-csv-errors-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    # A new item (a MINOR change) in the next minor version: the YAML downloads.
    choose_csv(text + "foundations,,,new-item,A new statement.\r\n")
    page.get_by_label("Version of the new file (optional)").fill(NEXT_MINOR)
    with page.expect_download() as download:
        page.get_by_role("button", name="Make the YAML file").click()
    assert (
        download.value.suggested_filename
        == f"partnership-health-check-{NEXT_MINOR}.yaml"
    )
    saved = tmp_path / "new.yaml"
    download.value.save_as(saved)
    assert "id: new-item" in saved.read_text(encoding="utf-8")
