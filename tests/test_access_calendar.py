"""Visits and deadlines in a calendar: an .ics file per peer-review visit and a
personal feed at a secret address that can be replaced or stopped."""

import re

from support import DEPUTY, GOVERNOR, Auth, csrf_token

REVIEWER = "headteacher@riversideinfant.example.org"
# These routes are checked here, person by person, rather than in the table.
COVERED_ELSEWHERE = {"cycles.visit_ics", "auth.calendar_feed", "auth.calendar_ics"}


def _reviewed_cycle(db, email):
    return db.execute(
        "SELECT pr.cycle_id FROM peer_reviews pr JOIN cycle_respondents cr "
        "ON cr.cycle_id = pr.cycle_id JOIN users u ON u.id = cr.user_id "
        "WHERE u.email = ? ORDER BY pr.cycle_id DESC LIMIT 1",
        [email],
    ).fetchone()[0]


def _lines(text):
    assert text.endswith("\r\n")
    raw = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in raw)
    return "\r\n".join(raw).replace("\r\n ", "").split("\r\n")


def test_a_reviewer_adds_the_visit_to_their_calendar(demo_full, client, auth):
    cid = _reviewed_cycle(demo_full, REVIEWER)
    school, starts = demo_full.execute(
        "SELECT s.name, r.starts_on FROM peer_reviews pr JOIN schools s "
        "ON s.id = pr.school_id JOIN peer_rounds r ON r.id = pr.round_id "
        "WHERE pr.cycle_id = ?",
        [cid],
    ).fetchone()
    auth.login(REVIEWER)
    page = client.get(f"/cycles/{cid}").get_data(as_text=True)
    assert f'href="/cycles/{cid}/visit.ics"' in page
    response = client.get(f"/cycles/{cid}/visit.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    lines = _lines(response.get_data(as_text=True))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert f"DTSTART;VALUE=DATE:{starts.replace('-', '')}" in lines
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert f"Peer review of {school}" in summary
    # A self-evaluation has no visit; someone not in the review gets nothing.
    auth.logout()
    auth.login(DEPUTY)
    assert client.get("/cycles/9/visit.ics").status_code == 404
    assert client.get(f"/cycles/{cid}/visit.ics").status_code == 404


def test_the_feed_address_works_until_replaced_or_stopped(app, demo_full, client, auth):
    demo_full.execute("UPDATE cycles SET closes_on = '2026-12-18' WHERE id = 9")
    auth.login(DEPUTY)
    assert client.get("/account/calendar").status_code == 200

    def make():
        page = client.post(
            "/account/calendar", data={"csrf_token": csrf_token(client, "/")}
        ).get_data(as_text=True)
        return re.search(r'value="http://localhost(/calendar/[^"]+\.ics)"', page)[1]

    first = make()
    outsider = app.test_client()  # a calendar program: no sign-in
    response = outsider.get(first)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    lines = _lines(response.get_data(as_text=True))
    assert "DTSTART;VALUE=DATE:20261218" in lines
    assert any(line.startswith("SUMMARY:Ratings close: ") for line in lines)
    # A new address stops the old one; stopping ends it.
    second = make()
    assert outsider.get(first).status_code == 404
    assert outsider.get(second).status_code == 200
    client.post(
        "/account/calendar",
        data={"csrf_token": csrf_token(client, "/"), "action": "stop"},
    )
    assert outsider.get(second).status_code == 404
    assert outsider.get("/calendar/not-a-token.ics").status_code == 404
    # Another person's feed holds only their own dates.
    governor = app.test_client()
    Auth(governor).login(GOVERNOR)
    page = governor.post(
        "/account/calendar", data={"csrf_token": csrf_token(governor, "/")}
    ).get_data(as_text=True)
    own = re.search(r'value="http://localhost(/calendar/[^"]+\.ics)"', page)[1]
    assert "20261218" not in outsider.get(own).get_data(as_text=True)
