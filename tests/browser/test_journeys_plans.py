"""Journeys: a lead drafts and keeps an action plan; a PDF is queued, rendered
by the worker and downloaded; a governor reads the plan and the report."""

import re
import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import expect
from support import GOVERNOR, HEAD
from support_browser import check_page, screenshot, sign_in

from peerreview.reports import jobs

pytestmark = pytest.mark.browser
OTHER_LEAD = "headteacher@riversideinfant.example.org"


@pytest.fixture
def worker(live_server):
    """The real queue on the live server's HUEY_FILE, worked by a consumer thread."""
    jobs.huey.immediate = False
    jobs.huey.storage_kwargs["filename"] = live_server.app.config["HUEY_FILE"]
    jobs.huey.storage = jobs.huey.create_storage()
    consumer = jobs.huey.create_consumer(
        workers=1, worker_type="thread", periodic=False
    )
    consumer.start()
    yield consumer
    consumer.stop(graceful=True)
    jobs.huey.immediate = True


def _agreed_cycle_without_plan(db_path, email):
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT c.id FROM cycles c JOIN roles r ON r.scope_type = 'team' "
            "AND r.scope_id = c.team_id AND r.role = 'team_lead' JOIN users u "
            "ON u.id = r.user_id WHERE u.email = ? AND c.state = 'agreed' "
            "AND c.id NOT IN (SELECT cycle_id FROM action_plans) ORDER BY c.id",
            [email],
        ).fetchone()[0]


def test_lead_drafts_a_plan_from_the_proposals(live_server, page):
    cid = _agreed_cycle_without_plan(live_server.db_path, OTHER_LEAD)
    sign_in(page, live_server.url, OTHER_LEAD)
    page.goto(f"{live_server.url}/cycles/{cid}/plan")
    boxes = page.get_by_role("checkbox")
    count = boxes.count()
    assert count >= 2
    check_page(page, "plans-1-proposals")
    boxes.nth(1).uncheck()
    page.get_by_role("button", name="Draft the action plan").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("drafted")
    expect(page.locator("section.pr-action")).to_have_count(count - 1)
    page.get_by_role("link", name="Add your own action").click()
    page.get_by_role("button", name="Save the action").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Say what will be done"
    )
    check_page(page, "plans-2-add-errors")
    page.get_by_label("What will be done").fill("Peer visits to a partner school")
    page.locator("input[name=item_ids]").first.check()
    page.get_by_label("Owner").select_option(index=1)
    page.get_by_label("Due date").fill("2027-03-31")
    page.get_by_role("button", name="Save the action").click()
    expect(page.locator("section.pr-action")).to_have_count(count)
    expect(page.get_by_role("heading", name=re.compile("Peer visits"))).to_be_visible()
    check_page(page, "plans-3-plan")


def test_pdf_is_queued_rendered_and_downloaded(live_server, page, worker):
    sign_in(page, live_server.url, HEAD)
    page.goto(f"{live_server.url}/cycles/2/plan")
    expect(page.get_by_text("Overdue").first).to_be_visible()
    page.get_by_role("link", name=re.compile("Edit, update status")).first.click()
    page.get_by_label("Status").select_option("at_risk")
    page.get_by_role("button", name="Save the action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
    page.get_by_role("link", name=re.compile("Reports for governors")).click()
    check_page(page, "plans-4-reports")
    page.get_by_role(
        "button", name=re.compile("Prepare the PDF of the governors")
    ).click()
    # The worker renders while the page polls; then the page offers the file.
    expect(page.get_by_text("The PDF is ready")).to_be_visible(timeout=20_000)
    check_page(page, "plans-5-ready")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the PDF")).click()
    path = download.value.path()
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"


def test_governor_reads_the_plan_and_the_preview(live_server, page):
    sign_in(page, live_server.url, GOVERNOR)
    page.goto(f"{live_server.url}/cycles/2/plan")
    expect(page.get_by_role("heading", level=1)).to_have_text("Action plan")
    expect(page.get_by_role("link", name="Add your own action")).to_have_count(0)
    check_page(page, "plans-6-governor")
    refused = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else 0,
    )
    page.goto(f"{live_server.url}/cycles/2/reports/governors.html")
    expect(page.get_by_role("heading", name="Action plan status")).to_be_visible()
    screenshot(page, "plans-7-governors-preview")
    page.goto(f"{live_server.url}/cycles/2/reports/team.html")
    expect(page.get_by_role("heading", name="Action plan").first).to_be_visible()
    # The charts' own print styles are allowed by hash, nothing else inline.
    assert refused == []
