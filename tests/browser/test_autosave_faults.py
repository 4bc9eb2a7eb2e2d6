"""Autosave when saves fail: retried with back-off, kept as "Not saved yet",
closing the tab asks first, and a retried save whose reply was lost is saved."""

import pytest
from cycle_support import make_cycle
from playwright.sync_api import expect
from support import DEPUTY
from support_browser import sign_in

from peerreview.db import connect

pytestmark = pytest.mark.browser


def _open_cycle(db_path) -> int:
    db = connect(db_path)
    try:
        return make_cycle(db)["id"]
    finally:
        db.conn.close()


def _stored(db_path, cid) -> list[tuple]:
    db = connect(db_path)
    try:
        return db.execute(
            "SELECT r.value, r.revision FROM responses r JOIN users u "
            "ON u.id = r.respondent_id WHERE r.cycle_id = ? AND u.email = ?",
            [cid, DEPUTY],
        ).fetchall()
    finally:
        db.conn.close()


def test_failed_saves_are_retried_kept_and_guarded_on_close(live_server, page):
    cid = _open_cycle(live_server.db_path)
    sign_in(page, live_server.url, DEPUTY, a11y=False)
    page.goto(live_server.url + f"/cycles/{cid}/rate")
    tries = []

    def flaky(route):
        tries.append(route.request.post_data_json)
        if len(tries) == 1:
            route.abort("internetdisconnected")
        elif len(tries) == 2:
            route.fulfill(
                status=503, content_type="application/json", body='{"error": "busy"}'
            )
        else:
            route.continue_()

    page.route("**/answers", flaky)
    item = page.locator(".pr-item").first
    status = item.get_by_role("status")
    item.get_by_label("Agree", exact=True).check()
    expect(status).to_contain_text("Not saved yet: the connection was lost")
    expect(status).to_contain_text("trying again in 1 second")
    # While it is not saved, closing the tab asks first (and staying keeps it).
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.close(run_before_unload=True)
    expect(status).to_contain_text("Not saved yet: the server could not take it")
    expect(status).to_contain_text("trying again in 2 seconds")
    assert dialogs == ["beforeunload"] and not page.is_closed()
    expect(item.get_by_label("Agree", exact=True)).to_be_checked()
    expect(status).to_have_text("Saved", timeout=6000)
    assert len(tries) == 3 and all(t["value"] == "4" for t in tries)
    assert all(t["revision"] == 0 for t in tries)
    assert _stored(live_server.db_path, cid) == [("4", 1)]
    # Saved: the tab closes without asking.
    with page.expect_event("close"):
        page.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]


def test_a_retried_save_whose_reply_was_lost_is_saved(live_server, page):
    cid = _open_cycle(live_server.db_path)
    sign_in(page, live_server.url, DEPUTY, a11y=False)
    page.goto(live_server.url + f"/cycles/{cid}/rate")
    replies = []

    def lose_first_reply(route):
        if not replies:
            replies.append(route.fetch().status)  # the server writes it...
            route.abort("connectionreset")  # ...and the reply never arrives
        else:
            route.continue_()

    page.route("**/answers", lose_first_reply)
    item = page.locator(".pr-item").first
    status = item.get_by_role("status")
    item.get_by_label("Disagree", exact=True).check()
    expect(status).to_contain_text("Not saved yet")
    expect(status).to_have_text("Saved", timeout=6000)
    assert replies == [200]
    assert _stored(live_server.db_path, cid) == [("2", 1)]
    expect(item.locator('input[name$="__revision"]')).to_have_value("1")
