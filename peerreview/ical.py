"""Peer-review visits and cycle deadlines as calendar entries (iCalendar).

An ``.ics`` file per peer-review visit, and a personal feed of one's own
visits and closing dates at a secret address a calendar program subscribes
to. The address's token is stored only as its SHA-256 hash; making a new
one, or stopping it, ends the old address at once.
"""

import datetime
import hashlib
import secrets

PRODID = "-//peerreview//calendar//EN"


def _escape(text: str) -> str:
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    # RFC 5545: lines longer than 75 octets continue after CRLF and a space.
    out, data = [], line.encode("utf-8")
    while len(data) > 75:
        cut = 75 if not out else 74
        while cut and (data[cut] & 0xC0) == 0x80:  # never split a character
            cut -= 1
        out.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    out.append(data.decode("utf-8"))
    return [out[0]] + [" " + part for part in out[1:]]


def _day(iso: str) -> str:
    return iso.replace("-", "")


def ics(events: list[dict], name: str) -> str:
    """Return a calendar of all-day events: [{uid, summary, starts, ends, url}].

    ``starts`` and ``ends`` are ISO dates, both days included.
    """
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for e in events:
        end = datetime.date.fromisoformat(e["ends"]) + datetime.timedelta(days=1)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e['uid']}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_day(e['starts'])}",
            f"DTEND;VALUE=DATE:{end.strftime('%Y%m%d')}",
            f"SUMMARY:{_escape(e['summary'])}",
            f"URL:{e['url']}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(part for line in lines for part in _fold(line)) + "\r\n"


def visit_event(db, cycle_id: int, base_url: str) -> dict | None:
    """The visit of a peer review: its round's dates; None for another cycle."""
    row = db.execute(
        "SELECT r.title, r.starts_on, r.ends_on, s.name FROM peer_reviews pr "
        "JOIN peer_rounds r ON r.id = pr.round_id JOIN schools s ON s.id = pr.school_id "
        "WHERE pr.cycle_id = ?",
        [cycle_id],
    ).fetchone()
    if row is None or not row[1]:
        return None
    title, starts, ends, school = row
    return {
        "uid": f"peer-review-{cycle_id}@peerreview",
        "summary": f"Peer review of {school} ({title})",
        "starts": starts,
        "ends": ends or starts,
        "url": f"{base_url.rstrip('/')}/cycles/{cycle_id}",
    }


def events_for(db, user_id: int, base_url: str) -> list[dict]:
    """A person's visits (as a reviewer) and the closing dates of the cycles
    they rate or lead that are still open."""
    events = []
    for (cycle_id,) in db.execute(
        "SELECT pr.cycle_id FROM peer_reviews pr "
        "JOIN cycle_respondents cr ON cr.cycle_id = pr.cycle_id "
        "WHERE cr.user_id = ? ORDER BY pr.cycle_id",
        [user_id],
    ).fetchall():
        event = visit_event(db, cycle_id, base_url)
        if event:
            events.append(event)
    for cycle_id, title, closes_on, school in db.execute(
        "SELECT DISTINCT c.id, c.title, c.closes_on, s.name FROM cycles c "
        "JOIN teams t ON t.id = c.team_id LEFT JOIN schools s ON s.id = t.school_id "
        "LEFT JOIN cycle_respondents cr ON cr.cycle_id = c.id AND cr.user_id = :u "
        "WHERE c.state IN ('draft', 'open') AND c.closes_on IS NOT NULL "
        "AND (cr.user_id IS NOT NULL OR c.lead_id = :u) ORDER BY c.closes_on, c.id",
        {"u": user_id},
    ).fetchall():
        where = f", {school}" if school else ""
        events.append(
            {
                "uid": f"cycle-closes-{cycle_id}@peerreview",
                "summary": f"Ratings close: {title}{where}",
                "starts": closes_on,
                "ends": closes_on,
                "url": f"{base_url.rstrip('/')}/cycles/{cycle_id}",
            }
        )
    return events


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed(db, user_id: int) -> str:
    """Make a new secret feed address token (the old one stops working)."""
    token = secrets.token_urlsafe(24)
    db.execute(
        "UPDATE users SET calendar_token_hash = ? WHERE id = ?", [_hash(token), user_id]
    )
    return token


def stop_feed(db, user_id: int) -> None:
    db.execute("UPDATE users SET calendar_token_hash = NULL WHERE id = ?", [user_id])


def has_feed(db, user_id: int) -> bool:
    row = db.execute(
        "SELECT calendar_token_hash FROM users WHERE id = ?", [user_id]
    ).fetchone()
    return bool(row and row[0])


def owner_of(db, token: str) -> int | None:
    """The active person a feed token belongs to, or None."""
    row = db.execute(
        "SELECT id FROM users WHERE calendar_token_hash = ? AND active = 1",
        [_hash(token)],
    ).fetchone()
    return row[0] if row else None
