"""Email reminders, sent through a real local SMTP server (aiosmtpd).

Respondents who have not submitted hear before a cycle closes; reviewers
before their peer review starts; owners of overdue actions get one digest a
week. Each is sent once; a person who turned reminders off on their account
gets none; the cycle's lead sees who was reminded when; no reminder names
anyone else's ratings.
"""

import datetime
import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from bench.bench_saves import free_port
from support import DEPUTY, HEAD, TRUST_LEAD, user_id

from peerreview import reminders
from peerreview.instruments import load_file
from peerreview.peer import service as peer

pytestmark = pytest.mark.slow

# A free port, not a fixed one: several checkouts may run this at once.
PORT = free_port()
TODAY = datetime.date(2026, 12, 3)
RIVERSIDE_HEAD = "headteacher@riversideinfant.example.org"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def inbox(app):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=PORT)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=PORT,
        MAIL_FROM="reminders@peerreview.example.org",
        BASE_URL="https://reviews.example.org",
        REMINDER_DAYS=3,
    )
    try:
        yield handler
    finally:
        controller.stop()


def _respondents(db, cycle_id):
    return {
        email: submitted
        for email, submitted in db.execute(
            "SELECT u.email, cr.submitted_at FROM cycle_respondents cr "
            "JOIN users u ON u.id = cr.user_id WHERE cr.cycle_id = ?",
            [cycle_id],
        ).fetchall()
    }


def test_reminders_reach_the_right_people_once(demo_full, app, inbox, client, auth):
    db = demo_full
    # The open demo cycle closes in two days.
    db.execute("UPDATE cycles SET closes_on = ? WHERE id = 9", ["2026-12-05"])
    people = _respondents(db, 9)
    waiting = sorted(e for e, submitted in people.items() if not submitted)
    assert DEPUTY in waiting and len(waiting) >= 2
    # Another member turns reminders off on their account page.
    quiet = next(e for e in waiting if e != DEPUTY)
    auth.login(quiet)
    page = client.get("/account/reminders").get_data(as_text=True)
    assert "Email me reminders" in page
    response = auth.post("/account/reminders", {"wanted": "no"})
    assert response.status_code == 302
    auth.logout()
    # A peer review whose round starts tomorrow, reviewed by Riverside's head.
    peer.plan_round(
        db,
        partnership_id=1,
        instrument=load_file(app.config["INSTRUMENTS_DIR"] + "/ascl-closing-gaps.yaml"),
        title="Spring visits",
        starts_on="2026-12-04",
        ends_on="2026-12-20",
        hosts=[
            {
                "school_id": 1,
                "reviewer_ids": [user_id(db, RIVERSIDE_HEAD)],
                "lead_id": user_id(db, RIVERSIDE_HEAD),
            }
        ],
        actor_id=user_id(db, TRUST_LEAD),
    )

    sent = reminders.run(app.config, TODAY)
    assert sent == len(inbox.messages) > 0
    closing = [m for m in inbox.messages if "closes on" in m["Subject"]]
    assert sorted(m["To"] for m in closing) == [e for e in waiting if e != quiet]
    assert not inbox.to(quiet)
    for message in closing:
        text = message.get_content()
        assert message["From"] == "reminders@peerreview.example.org"
        assert "5 December 2026" in message["Subject"]
        assert "https://reviews.example.org/cycles/9/rate" in text
        assert "https://reviews.example.org/account/reminders" in text
        # Nothing of anyone else: no other name, no rating.
        others = db.execute(
            "SELECT name FROM users WHERE email != ?", [message["To"]]
        ).fetchall()
        assert not [n for (n,) in others if n in text]
        for label in ("Strongly agree", "Disagree", "Not sure", "answered"):
            assert label not in text
    (visit,) = inbox.to(RIVERSIDE_HEAD)
    assert "peer review of Northfield Primary School" in visit["Subject"]
    assert "4 December 2026" in visit["Subject"]
    # The deputy owns the demo's one overdue action: one weekly digest.
    (overdue,) = [m for m in inbox.messages if m["Subject"] == "Your overdue actions"]
    assert overdue["To"] == DEPUTY
    assert "(due 13 November 2026)" in overdue.get_content()

    # The next day: nothing twice.
    before = len(inbox.messages)
    assert reminders.run(app.config, TODAY + datetime.timedelta(days=1)) == 0
    assert len(inbox.messages) == before

    # The lead sees who was reminded when.
    auth.login(HEAD)
    page = client.get("/cycles/9").get_data(as_text=True)
    names = [
        db.execute("SELECT name FROM users WHERE email = ?", [e]).fetchone()[0]
        for e in waiting
        if e != quiet
    ]
    section = page.split("Reminders sent", 1)[1].split("Next step", 1)[0]
    for name in names:
        assert f"{name}: closing date reminder, 3 December 2026" in section


def test_without_smtp_nothing_is_sent_or_recorded(demo_full, app):
    app.config["MAIL_SERVER"] = None
    demo_full.execute("UPDATE cycles SET closes_on = ? WHERE id = 9", ["2026-12-05"])
    assert reminders.run(app.config, TODAY) == 0
    assert demo_full.execute("SELECT count(*) FROM reminders").fetchone() == (0,)
