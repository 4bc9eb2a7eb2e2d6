"""Email reminders, so that cycles finish.

Three kinds, found by plain functions on the database and sent once each:

- closing: to a respondent who has not submitted, when their open cycle
  closes within ``days`` days (once per person and cycle);
- visit: to a peer reviewer when their review's round starts within
  ``days`` days (once per person and review);
- overdue: to the owner of actions past their due date and not done, one
  digest a week (once per person and ISO week).

A reminder names only the person's own cycle or actions: never anyone
else's ratings, answers or progress. Whoever turned reminders off on their
account gets none. Every reminder sent is recorded (``reminders``), so the
lead of a cycle sees who was reminded when. The report worker's periodic
task (peerreview.reports.jobs) calls ``send_due`` once a day.
"""

import datetime
import logging

from .dates import long_date

log = logging.getLogger(__name__)

DEFAULT_DAYS = 3


def _iso(day: datetime.date) -> str:
    return day.isoformat()


def due(db, today: datetime.date, *, days: int = DEFAULT_DAYS) -> list[dict]:
    """Return the reminders to send today, none already sent or turned off.

    Each is {kind, ref, user_id, email, name, cycle_id, subject, lines, path}.
    """
    horizon = _iso(today + datetime.timedelta(days=days))
    out = []
    for row in db.query(
        """
        SELECT c.id AS cycle_id, c.title, c.closes_on, s.name AS school,
               u.id AS user_id, u.email, u.name
        FROM cycles c JOIN cycle_respondents cr ON cr.cycle_id = c.id
        JOIN users u ON u.id = cr.user_id
        JOIN teams t ON t.id = c.team_id LEFT JOIN schools s ON s.id = t.school_id
        WHERE c.state = 'open' AND cr.submitted_at IS NULL
          AND c.closes_on >= :today AND c.closes_on <= :horizon
          AND u.active = 1 AND coalesce(u.reminders_off, 0) = 0
        ORDER BY c.id, u.id
        """,
        {"today": _iso(today), "horizon": horizon},
    ):
        where = f" ({row['school']})" if row["school"] else ""
        out.append(
            {
                "kind": "closing",
                "ref": str(row["cycle_id"]),
                **_person(row),
                "cycle_id": row["cycle_id"],
                "subject": f"Reminder: {row['title']} closes on "
                f"{long_date(row['closes_on'])}",
                "lines": [
                    f"Your ratings for {row['title']}{where} are not submitted yet.",
                    f"The cycle closes on {long_date(row['closes_on'])}. "
                    "Answers you have saved are kept; submit them when you are done.",
                ],
                "path": f"/cycles/{row['cycle_id']}/rate",
            }
        )
    for row in db.query(
        """
        SELECT c.id AS cycle_id, r.title, r.starts_on, s.name AS school,
               u.id AS user_id, u.email, u.name
        FROM peer_reviews pr JOIN cycles c ON c.id = pr.cycle_id
        JOIN peer_rounds r ON r.id = pr.round_id
        JOIN schools s ON s.id = pr.school_id
        JOIN cycle_respondents cr ON cr.cycle_id = c.id
        JOIN users u ON u.id = cr.user_id
        WHERE c.state IN ('draft', 'open') AND cr.submitted_at IS NULL
          AND r.starts_on >= :today AND r.starts_on <= :horizon
          AND u.active = 1 AND coalesce(u.reminders_off, 0) = 0
        ORDER BY c.id, u.id
        """,
        {"today": _iso(today), "horizon": horizon},
    ):
        out.append(
            {
                "kind": "visit",
                "ref": str(row["cycle_id"]),
                **_person(row),
                "cycle_id": row["cycle_id"],
                "subject": f"Reminder: your peer review of {row['school']} "
                f"starts on {long_date(row['starts_on'])}",
                "lines": [
                    f"You are a reviewer of {row['school']} in {row['title']}, "
                    f"which starts on {long_date(row['starts_on'])}.",
                    "The visit's calendar entry and the statements to rate are here:",
                ],
                "path": f"/cycles/{row['cycle_id']}",
            }
        )
    year, number, _ = today.isocalendar()
    week = f"{year}-W{number:02d}"
    owners: dict[int, dict] = {}
    for row in db.query(
        """
        SELECT a.id, a.title, a.due_on, p.cycle_id, u.id AS user_id, u.email, u.name
        FROM plan_actions a JOIN action_plans p ON p.id = a.plan_id
        JOIN users u ON u.id = a.owner_id
        WHERE a.status != 'done' AND a.due_on IS NOT NULL AND a.due_on < :today
          AND u.active = 1 AND coalesce(u.reminders_off, 0) = 0
          AND NOT EXISTS (SELECT 1 FROM plan_carries pc WHERE pc.from_action_id = a.id)
        ORDER BY u.id, a.due_on, a.id
        """,
        {"today": _iso(today)},
    ):
        digest = owners.setdefault(
            row["user_id"],
            {
                "kind": "overdue",
                "ref": week,
                **_person(row),
                "cycle_id": None,
                "subject": "Your overdue actions",
                "lines": ["These actions you own are past their due date:"],
                "path": f"/cycles/{row['cycle_id']}/plan",
            },
        )
        digest["lines"].append(f"- {row['title']} (due {long_date(row['due_on'])})")
    out.extend(owners.values())
    sent = {
        (r["kind"], r["user_id"], r["ref"])
        for r in db.query("SELECT kind, user_id, ref FROM reminders")
    }
    return [r for r in out if (r["kind"], r["user_id"], r["ref"]) not in sent]


def _person(row) -> dict:
    return {"user_id": row["user_id"], "email": row["email"], "name": row["name"]}


def body(reminder: dict, base_url: str) -> str:
    """Return the text of a reminder's email."""
    return "\n".join(
        [
            f"Dear {reminder['name']},",
            "",
            *reminder["lines"],
            "",
            base_url.rstrip("/") + reminder["path"],
            "",
            "You can turn these reminders off on your account page: "
            + base_url.rstrip("/")
            + "/account/reminders",
        ]
    )


def send_due(db, send, today: datetime.date, base_url: str, *, days=DEFAULT_DAYS):
    """Send every reminder due today through send(to, subject, body) -> bool.

    A reminder is recorded only once it was sent, so one that failed is
    tried again the next day. Returns how many were sent.
    """
    count = 0
    for reminder in due(db, today, days=days):
        if not send(reminder["email"], reminder["subject"], body(reminder, base_url)):
            continue
        db["reminders"].insert(
            {
                "kind": reminder["kind"],
                "ref": reminder["ref"],
                "user_id": reminder["user_id"],
                "cycle_id": reminder["cycle_id"],
                "sent_at": datetime.datetime.now(datetime.UTC).isoformat(
                    timespec="seconds"
                ),
            }
        )
        count += 1
        log.info("sent a %s reminder to user %s", reminder["kind"], reminder["user_id"])
    return count


def run(config: dict, today: datetime.date) -> int:
    """Send today's reminders with the platform's SMTP settings; 0 without them."""
    from .accounts import mail
    from .db import connect

    if not config.get("MAIL_SERVER"):
        return 0
    db = connect(config["DATABASE"])
    try:
        return send_due(
            db,
            lambda to, subject, text: mail.send_link(config, to, subject, text),
            today,
            config["BASE_URL"],
            days=config.get("REMINDER_DAYS", DEFAULT_DAYS),
        )
    finally:
        db.conn.close()


def sent_for_cycle(db, cycle_id: int) -> list[dict]:
    """Who was reminded about a cycle, and when, newest first."""
    return list(
        db.query(
            "SELECT r.kind, r.sent_at, u.name FROM reminders r "
            "JOIN users u ON u.id = r.user_id WHERE r.cycle_id = ? "
            "ORDER BY r.sent_at DESC, u.name",
            [cycle_id],
        )
    )


def set_off(db, user_id: int, off: bool) -> None:
    """Turn a person's reminders off (or back on)."""
    db.execute(
        "UPDATE users SET reminders_off = ? WHERE id = ?", [1 if off else 0, user_id]
    )
