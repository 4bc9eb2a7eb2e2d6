"""Peer-review rounds and the self vs peer comparison: plain functions over the database.

A peer-review cycle is an ordinary cycle (``kind='peer'``) on the host
school's senior leadership team, whose respondents are leaders of other
schools in the same partnership and whose lead is the lead reviewer. It runs
through cycles.service exactly like a self-evaluation. This module adds the
round that groups them, the rules for who may review whom, and the
comparison with the host's own agreed self-evaluation.

Gaps are signed self minus peer: a positive gap means the school rated
itself higher than its reviewers did (over-rating), a negative one lower.
"""

import logging

from .. import anonymity, audit
from ..cycles import service as cycles
from ..db import immediate, iso_date, now

log = logging.getLogger(__name__)

VISIBLE_STATES = ("agreed", "closed")
BIG_GAP = 2  # gaps of two points or more are listed first
MAX_TITLE = 200
# A peer review is of a school's senior leadership team: it uses the
# instruments such a team may rate itself on (catalogue.TEAM_AUDIENCES).
HOST_TEAM_KIND = "slt"


class PeerError(ValueError):
    """A request about peer review that cannot be carried out; the message says why."""


# Snapshot values ------------------------------------------------------------------


def item_values(snapshot) -> dict[str, dict[str, float]]:
    """Return {item_id: {code: value}} with reverse items turned round."""
    points = snapshot.points
    values = [float(p["value"]) for p in points]
    lo, hi = min(values), max(values)
    result = {}
    for item_id, item in snapshot.items.items():
        rev = bool(item.get("reverse"))
        result[item_id] = {
            str(p["code"]): (lo + hi - float(p["value"])) if rev else float(p["value"])
            for p in points
        }
    return result


def index_snapshot(db, version_id: int) -> None:
    """Store the numeric value of every answer code of a snapshot, once."""
    if db.execute(
        "SELECT 1 FROM snapshot_values WHERE version_id = ? LIMIT 1", [version_id]
    ).fetchone():
        return
    snap = cycles.load_snapshot(db, version_id)
    rows = [
        {
            "version_id": version_id,
            "item_id": item_id,
            "code": code,
            "section_id": snap.items[item_id]["section_id"],
            "value": value,
        }
        for item_id, codes in item_values(snap).items()
        for code, value in codes.items()
    ]
    with immediate(db):
        db["snapshot_values"].insert_all(rows, ignore=True)


def scale_bounds(snapshot) -> tuple[float, float]:
    values = [float(p["value"]) for p in snapshot.points]
    return min(values), max(values)


# Who may review whom -------------------------------------------------------------


def partnership_schools(db, partnership_id: int) -> list[dict]:
    """Return the partnership's schools with their senior leadership team id."""
    return list(
        db.query(
            """
            SELECT s.id, s.name, s.postcode, s.easting, s.northing, s.phase,
              (SELECT t.id FROM teams t WHERE t.school_id = s.id AND t.kind = 'slt'
               ORDER BY t.id LIMIT 1) AS team_id
            FROM schools s JOIN partnership_schools ps ON ps.school_id = s.id
            WHERE ps.partnership_id = ? ORDER BY s.name
            """,
            [partnership_id],
        )
    )


def partnership_leaders(db, partnership_id: int) -> list[dict]:
    """Return everyone on a senior leadership team of a partnership school."""
    return list(
        db.query(
            """
            SELECT DISTINCT u.id, u.name, s.id AS school_id, s.name AS school_name,
              r.role
            FROM roles r JOIN users u ON u.id = r.user_id
            JOIN teams t ON t.id = r.scope_id AND r.scope_type = 'team'
            JOIN schools s ON s.id = t.school_id
            JOIN partnership_schools ps ON ps.school_id = s.id
            WHERE ps.partnership_id = ? AND t.kind = 'slt' AND u.active = 1
              AND r.role IN ('team_lead', 'team_member')
            ORDER BY s.name, r.role, u.name
            """,
            [partnership_id],
        )
    )


def school_people(db, school_id: int) -> set[int]:
    """Return everyone holding any role in a school or on one of its teams."""
    return {
        r[0]
        for r in db.execute(
            """
            SELECT user_id FROM roles WHERE (scope_type = 'school' AND scope_id = ?)
              OR (scope_type = 'team' AND scope_id IN
                  (SELECT id FROM teams WHERE school_id = ?))
            """,
            [school_id, school_id],
        ).fetchall()
    }


def eligible_reviewers(db, partnership_id: int, host_school_id: int) -> list[dict]:
    """Return the leaders of the partnership's other schools who may review a host."""
    excluded = school_people(db, host_school_id)
    seen, result = set(), []
    for person in partnership_leaders(db, partnership_id):
        if person["id"] in excluded or person["id"] in seen:
            continue
        if person["school_id"] == host_school_id:
            continue
        seen.add(person["id"])
        result.append(person)
    return result


def suggest_assignments(db, partnership_id: int) -> dict[int, tuple[list, int]]:
    """Suggest reviewers: each host reviewed by the leads of the next two schools."""
    schools = [s for s in partnership_schools(db, partnership_id) if s["team_id"]]
    heads: dict[int, int] = {}
    for person in partnership_leaders(db, partnership_id):
        heads.setdefault(person["school_id"], person["id"])
    suggestion = {}
    for n, school in enumerate(schools):
        others = [schools[(n + k) % len(schools)] for k in (1, 2)]
        excluded = school_people(db, school["id"])
        ids = []
        for other in others:
            uid = heads.get(other["id"])
            if other["id"] != school["id"] and uid and uid not in excluded:
                if uid not in ids:
                    ids.append(uid)
        if ids:
            suggestion[school["id"]] = (ids, ids[0])
    return suggestion


def latest_self_cycle(db, team_id: int, instrument_id: str) -> dict | None:
    """Return the host team's latest agreed self-evaluation on an instrument."""
    rows = list(
        db.query(
            """
            SELECT c.id, c.title, c.agreed_at FROM cycles c
            JOIN instrument_versions v ON v.id = c.instrument_version_id
            WHERE c.team_id = ? AND c.kind = 'self' AND v.instrument_id = ?
              AND c.state IN ('agreed', 'closed')
            ORDER BY c.agreed_at DESC, c.id DESC LIMIT 1
            """,
            [team_id, instrument_id],
        )
    )
    return rows[0] if rows else None


def self_cycle_current_at(db, team_id: int, instrument_id: str, at: str):
    """Return the host team's agreed self-evaluation that was current at ``at``.

    The latest one agreed at or before that moment: a self-evaluation agreed
    later is not the view the school held then.
    """
    rows = list(
        db.query(
            """
            SELECT c.id, c.title, c.agreed_at FROM cycles c
            JOIN instrument_versions v ON v.id = c.instrument_version_id
            WHERE c.team_id = ? AND c.kind = 'self' AND v.instrument_id = ?
              AND c.state IN ('agreed', 'closed') AND c.agreed_at <= ?
            ORDER BY c.agreed_at DESC, c.id DESC LIMIT 1
            """,
            [team_id, instrument_id, at],
        )
    )
    return rows[0] if rows else None


def pin_self_evaluation(db, peer_cycle_id: int, at: str) -> None:
    """Compare a peer review with the self-evaluation current when it closed.

    Called when the reviewers' ratings close (the peer cycle goes to
    moderation). The self-evaluation chosen when the round was planned is
    kept only if no other was agreed between then and ``at``, and kept too
    if none had been agreed by ``at`` (the comparison then warns).
    """
    review = db.execute(
        "SELECT c.team_id, r.instrument_id FROM peer_reviews pr "
        "JOIN cycles c ON c.id = pr.cycle_id JOIN peer_rounds r ON r.id = pr.round_id "
        "WHERE pr.cycle_id = ?",
        [peer_cycle_id],
    ).fetchone()
    if review is None:
        return
    team_id, instrument_id = review
    current = self_cycle_current_at(db, team_id, instrument_id, at)
    if current is not None:
        db.execute(
            "UPDATE peer_reviews SET self_cycle_id = ? WHERE cycle_id = ?",
            [current["id"], peer_cycle_id],
        )


def check_assignment(
    db, partnership_id: int, school_id: int, reviewer_ids, lead_id
) -> None:
    """Refuse a reviewing team that breaks the rules, saying which rule."""
    names = {
        r[0]: r[1]
        for r in db.execute("SELECT id, name FROM schools WHERE id = ?", [school_id])
    }
    school = names.get(school_id, "this school")
    if not reviewer_ids:
        raise PeerError(f"Choose at least one reviewer for {school}.")
    own_people = school_people(db, school_id)
    if any(uid in own_people for uid in reviewer_ids):
        raise PeerError(
            f"Reviewers of {school} must come from other schools: nobody reviews "
            "their own school."
        )
    allowed = {p["id"] for p in eligible_reviewers(db, partnership_id, school_id)}
    outsiders = [uid for uid in reviewer_ids if uid not in allowed]
    if outsiders:
        raise PeerError(
            f"Reviewers of {school} must be leaders of other schools in this "
            "partnership."
        )
    if lead_id not in reviewer_ids:
        raise PeerError(f"Choose the lead reviewer of {school} from its reviewers.")


def _date(value, label):
    """Return a date (a date or ISO text) as ISO text, or None for none."""
    try:
        return iso_date(value)
    except ValueError:
        raise PeerError(f"{label} must be a real date.") from None


def _round_fields(title, starts_on, ends_on) -> tuple[str, str | None, str | None]:
    """Return a round's title and ISO dates, cleaned; refuse them saying why."""
    title = (title or "").strip()
    if not title:
        raise PeerError("Enter a title for the round.")
    if len(title) > MAX_TITLE:
        raise PeerError(f"The title is {MAX_TITLE} characters at most.")
    starts_on = _date(starts_on, "The start date")
    ends_on = _date(ends_on, "The end date")
    if starts_on and ends_on and ends_on < starts_on:
        raise PeerError("The end date must be on or after the start date.")
    return title, starts_on, ends_on


def plan_round(
    db,
    *,
    partnership_id: int,
    instrument,
    title: str,
    starts_on: str | None,
    ends_on: str | None,
    hosts: list[dict],
    actor_id: int,
) -> int:
    """Create a round and, for each host, a peer cycle open to its reviewers.

    hosts: [{"school_id", "reviewer_ids", "lead_id"}]. Every rule is checked
    before anything is written, so a refused plan changes nothing.
    """
    title, starts_on, ends_on = _round_fields(title, starts_on, ends_on)
    if not hosts:
        raise PeerError("Choose at least one host school.")
    schools = {s["id"]: s for s in partnership_schools(db, partnership_id)}
    planned, missing = [], []
    for host in hosts:
        school = schools.get(host["school_id"])
        if school is None or not school["team_id"]:
            raise PeerError("Host schools must be schools of this partnership.")
        reviewers = sorted(set(host["reviewer_ids"]))
        check_assignment(
            db, partnership_id, school["id"], reviewers, host.get("lead_id")
        )
        own = latest_self_cycle(db, school["team_id"], instrument.id)
        if own is None:
            missing.append(school["name"])
            continue
        planned.append((school, reviewers, host["lead_id"], own["id"]))
    if missing:
        # Name every such school at once, so the lead fixes the plan in one go.
        names = (
            missing[0]
            if len(missing) == 1
            else (", ".join(missing[:-1]) + " and " + missing[-1])
        )
        raise PeerError(
            f"{names} {'has' if len(missing) == 1 else 'have'} no agreed "
            f"self-evaluation on “{instrument.title}” yet; peer review "
            "compares with it."
        )
    with immediate(db):
        round_id = (
            db["peer_rounds"]
            .insert(
                {
                    "partnership_id": partnership_id,
                    "instrument_id": instrument.id,
                    "title": title,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "created_by": actor_id,
                    "created_at": now(),
                }
            )
            .last_pk
        )
        for school, reviewers, lead_id, self_cycle_id in planned:
            cid = cycles.create_cycle(
                db,
                instrument=instrument,
                team_id=school["team_id"],
                respondent_ids=reviewers,
                closes_on=ends_on,
                anonymous=False,
                actor_id=actor_id,
                lead_id=lead_id,
                kind="peer",
                partnership_id=partnership_id,
                peer_round_id=round_id,
                title=title,
            )
            db["peer_reviews"].insert(
                {
                    "cycle_id": cid,
                    "round_id": round_id,
                    "school_id": school["id"],
                    "self_cycle_id": self_cycle_id,
                }
            )
            cycle = cycles.get_cycle(db, cid)
            cycles.transition(db, cycle, "open", actor_id=actor_id)
            index_snapshot(db, cycle["instrument_version_id"])
        audit.record(
            db,
            actor_id,
            "peer.round.plan",
            "peer_round",
            round_id,
            partnership=partnership_id,
            instrument=instrument.id,
            hosts=[p[0]["id"] for p in planned],
        )
    return round_id


def change_round(
    db,
    peer_round: dict,
    *,
    title: str,
    starts_on: str | None,
    ends_on: str | None,
    actor_id: int,
) -> None:
    """Rename a round or move its dates; its reviews still open close then too.

    The closing date of a review already in moderation or agreed is history
    and stays as it was.
    """
    title, starts_on, ends_on = _round_fields(title, starts_on, ends_on)
    before = {k: peer_round[k] for k in ("title", "starts_on", "ends_on")}
    after = {"title": title, "starts_on": starts_on, "ends_on": ends_on}
    if before == after:
        return
    with immediate(db):
        db.execute(
            "UPDATE peer_rounds SET title = ?, starts_on = ?, ends_on = ? WHERE id = ?",
            [title, starts_on, ends_on, peer_round["id"]],
        )
        for cycle_id, state in db.execute(
            "SELECT c.id, c.state FROM peer_reviews pr "
            "JOIN cycles c ON c.id = pr.cycle_id WHERE pr.round_id = ?",
            [peer_round["id"]],
        ).fetchall():
            db.execute("UPDATE cycles SET title = ? WHERE id = ?", [title, cycle_id])
            if state in ("draft", "open"):
                db.execute(
                    "UPDATE cycles SET closes_on = ? WHERE id = ?", [ends_on, cycle_id]
                )
        audit.record(
            db,
            actor_id,
            "peer.round.change",
            "peer_round",
            peer_round["id"],
            before=before,
            after=after,
        )
    peer_round.update(after)


def change_reviewers(
    db, peer_round: dict, cycle_id: int, reviewer_ids, lead_id, *, actor_id: int
) -> None:
    """Add or withdraw reviewers of one host while its review is open for ratings.

    The same rules as planning apply. Nobody who has rated anything is
    withdrawn: their ratings are kept, so the lead is told who they are.
    """
    review = db.execute(
        "SELECT school_id FROM peer_reviews WHERE cycle_id = ? AND round_id = ?",
        [cycle_id, peer_round["id"]],
    ).fetchone()
    if review is None:
        raise PeerError("That review is not part of this round.")
    reviewer_ids = sorted(set(reviewer_ids))
    check_assignment(db, peer_round["partnership_id"], review[0], reviewer_ids, lead_id)
    with immediate(db):
        state = db.execute(
            "SELECT state FROM cycles WHERE id = ?", [cycle_id]
        ).fetchone()[0]
        if state not in ("draft", "open"):
            raise PeerError(
                "Reviewers can change only while the review is open for ratings."
            )
        current = {
            r[0]
            for r in db.execute(
                "SELECT user_id FROM cycle_respondents WHERE cycle_id = ?", [cycle_id]
            )
        }
        leaving = current - set(reviewer_ids)
        rated = [
            name
            for uid, name in db.execute(
                "SELECT DISTINCT r.respondent_id, u.name FROM responses r "
                "JOIN users u ON u.id = r.respondent_id WHERE r.cycle_id = ? "
                "ORDER BY u.name",
                [cycle_id],
            )
            if uid in leaving
        ]
        if rated:
            raise PeerError(
                f"{' and '.join(rated)} already rated this school; their ratings "
                "stay, so they stay on the reviewing team."
            )
        joining = [uid for uid in reviewer_ids if uid not in current]
        for uid in leaving:
            db.execute(
                "DELETE FROM cycle_respondents WHERE cycle_id = ? AND user_id = ?",
                [cycle_id, uid],
            )
        db["cycle_respondents"].insert_all(
            {"cycle_id": cycle_id, "user_id": uid} for uid in joining
        )
        db.execute("UPDATE cycles SET lead_id = ? WHERE id = ?", [lead_id, cycle_id])
        audit.record(
            db,
            actor_id,
            "peer.reviewers.change",
            "cycle",
            cycle_id,
            joined=joining,
            left=sorted(leaving),
            lead=lead_id,
        )


# Reading rounds --------------------------------------------------------------------


def get_round(db, round_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM peer_rounds WHERE id = ?", [round_id]))
    return rows[0] if rows else None


def rounds_of(db, partnership_id: int, instrument_id: str | None = None) -> list[dict]:
    """Return a partnership's rounds, oldest first, with progress counts."""
    sql = """
        SELECT r.*, count(pr.cycle_id) AS hosts,
          sum(c.state IN ('agreed', 'closed')) AS agreed
        FROM peer_rounds r LEFT JOIN peer_reviews pr ON pr.round_id = r.id
        LEFT JOIN cycles c ON c.id = pr.cycle_id
        WHERE r.partnership_id = ?"""
    params = [partnership_id]
    if instrument_id:
        sql += " AND r.instrument_id = ?"
        params.append(instrument_id)
    sql += " GROUP BY r.id ORDER BY coalesce(r.starts_on, r.created_at), r.id"
    return list(db.query(sql, params))


def round_reviews(db, round_id: int, cycle_id: int | None = None) -> list[dict]:
    """Return each host of a round (or only one review's) with its cycle state
    and reviewing team."""
    rows = list(
        db.query(
            """
            SELECT pr.*, s.name AS school_name, c.state, c.lead_id,
              u.name AS lead_name
            FROM peer_reviews pr JOIN schools s ON s.id = pr.school_id
            JOIN cycles c ON c.id = pr.cycle_id LEFT JOIN users u ON u.id = c.lead_id
            WHERE pr.round_id = ? AND (? IS NULL OR pr.cycle_id = ?) ORDER BY s.name
            """,
            [round_id, cycle_id, cycle_id],
        )
    )
    for row in rows:
        row["reviewers"] = list(
            db.query(
                """
                SELECT u.id, u.name, cr.submitted_at,
                  (SELECT s.name FROM roles r JOIN teams t ON t.id = r.scope_id
                   JOIN schools s ON s.id = t.school_id WHERE r.user_id = u.id
                   AND r.scope_type = 'team' ORDER BY r.id LIMIT 1) AS school_name
                FROM cycle_respondents cr JOIN users u ON u.id = cr.user_id
                WHERE cr.cycle_id = ? ORDER BY u.name
                """,
                [row["cycle_id"]],
            )
        )
    return rows


def review_of_cycle(db, cycle_id: int) -> dict | None:
    """Return the peer_reviews row of a peer cycle, with round and school names."""
    rows = list(
        db.query(
            """
            SELECT pr.*, r.title AS round_title, r.partnership_id,
              r.instrument_id, s.name AS school_name
            FROM peer_reviews pr JOIN peer_rounds r ON r.id = pr.round_id
            JOIN schools s ON s.id = pr.school_id WHERE pr.cycle_id = ?
            """,
            [cycle_id],
        )
    )
    return rows[0] if rows else None


def is_visible(cycle: dict) -> bool:
    """Tell whether a peer cycle's scores may be compared with the host's own."""
    return cycle["state"] in VISIBLE_STATES


# Self vs peer ----------------------------------------------------------------------


def direction(gap: float | None) -> str:
    if gap is None:
        return "not comparable"
    if gap > 0:
        return "self higher"
    if gap < 0:
        return "peer higher"
    return "same"


def compare_items(snapshot, self_agreed: dict, peer_agreed: dict, evidence=None):
    """Return per item the agreed self and peer scores and their gap (self - peer).

    Items with a gap of BIG_GAP points or more come first (largest first),
    then the rest in the instrument's order. Plain data in, plain data out.
    """
    values = item_values(snapshot)
    evidence = evidence or {}
    rows = []
    for position, item_id in enumerate(snapshot.item_ids):
        item = snapshot.items[item_id]
        own = self_agreed.get(item_id) or {}
        peer = peer_agreed.get(item_id) or {}
        s = values[item_id].get(own.get("value") or "")
        p = values[item_id].get(peer.get("value") or "")
        gap = (s - p) if s is not None and p is not None else None
        rows.append(
            {
                "item_id": item_id,
                "position": position,
                "statement": item["statement"],
                "section_id": item["section_id"],
                "self_code": own.get("value"),
                "self_label": snapshot.label(own.get("value"))
                if own.get("value")
                else ("Deferred" if own.get("deferred") else "No agreed score"),
                "peer_code": peer.get("value"),
                "peer_label": snapshot.label(peer.get("value"))
                if peer.get("value")
                else ("Deferred" if peer.get("deferred") else "No agreed score"),
                "self_value": s,
                "peer_value": p,
                "gap": gap,
                "direction": direction(gap),
                "big": gap is not None and abs(gap) >= BIG_GAP,
                "rationale": peer.get("rationale") or "",
                "evidence": evidence.get(item_id, []),
            }
        )
    rows.sort(
        key=lambda r: (
            not r["big"],
            -abs(r["gap"] or 0) if r["big"] else 0,
            r["position"],
        )
    )
    return rows


def calibration(rows) -> dict:
    """Return the mean signed gap over comparable items, and how many there were."""
    gaps = [r["gap"] for r in rows if r["gap"] is not None]
    if not gaps:
        return {"mean": None, "n": 0}
    return {"mean": sum(gaps) / len(gaps), "n": len(gaps)}


def reviewers_evidence(db, cycle: dict) -> dict[str, list[str]]:
    """Return the reviewers' evidence notes per item, without names, once each.

    The host sees them only where ``anonymity`` lets a reader outside the
    review see notes: where enough reviewers answered the item.
    """
    answered = dict(
        db.execute(
            "SELECT item_id, count(*) FROM responses WHERE cycle_id = ? "
            "AND value IS NOT NULL GROUP BY item_id",
            [cycle["id"]],
        ).fetchall()
    )
    notes: dict[str, list[str]] = {}
    for item_id, text in db.execute(
        "SELECT item_id, evidence FROM responses WHERE cycle_id = ? "
        "AND evidence != '' ORDER BY id",
        [cycle["id"]],
    ).fetchall():
        shown = anonymity.comments_shown(
            cycle, anonymity.OUTSIDE, answered.get(item_id, 0)
        )
        if shown is None:
            continue
        bucket = notes.setdefault(item_id, [])
        if text.strip() and text.strip() not in bucket:
            bucket.append(text.strip())
    # In order of their text, which says nothing about who wrote which.
    return {item_id: sorted(texts) for item_id, texts in notes.items()}


def self_vs_peer(db, peer_cycle: dict, review: dict) -> dict:
    """Return the self vs peer comparison of an agreed peer cycle."""
    if not is_visible(peer_cycle):
        raise PeerError("The reviewers have not agreed their scores yet.")
    snap = peer_cycle["snapshot"]
    rows = compare_items(
        snap,
        cycles.agreed_scores(db, review["self_cycle_id"]),
        cycles.agreed_scores(db, peer_cycle["id"]),
        reviewers_evidence(db, peer_cycle),
    )
    sections = {s["id"]: s["title"] for s in snap.sections}
    for r in rows:
        r["section_title"] = sections.get(r["section_id"], "")
    self_cycle = cycles.get_cycle(db, review["self_cycle_id"])
    closed = (peer_cycle.get("moderation_at") or peer_cycle.get("agreed_at") or "")[:10]
    agreed_on = (self_cycle.get("agreed_at") or "")[:10]
    return {
        "self_agreed_on": agreed_on,
        "round_closed_on": closed,
        # A self-evaluation agreed after the reviewers finished is not the view
        # the school held when it was reviewed: say so wherever it is shown.
        "self_after_round": bool(agreed_on and closed and agreed_on > closed),
        "reviewers": len(peer_cycle["respondent_ids"]),
        "rows": rows,
        "calibration": calibration(rows),
        "self_cycle": self_cycle,
        "big": sum(1 for r in rows if r["big"]),
    }


def calibration_history(
    db, school_id: int, instrument_id: str, partnership_id: int | None = None
) -> list[dict]:
    """Return the school's calibration figure in each agreed round, oldest first.

    With ``partnership_id``, only that partnership's rounds: a school in two
    partnerships shows each partnership its own.
    """
    rows = list(
        db.query(
            """
            SELECT r.id AS round_id, r.title, r.starts_on, r.partnership_id,
              avg(sv.value - pv.value) AS mean, count(*) AS n
            FROM peer_reviews pr JOIN peer_rounds r ON r.id = pr.round_id
            JOIN cycles pc ON pc.id = pr.cycle_id
            JOIN cycles sc ON sc.id = pr.self_cycle_id
            JOIN agreed_scores pa ON pa.cycle_id = pc.id
            JOIN snapshot_values pv ON pv.version_id = pc.instrument_version_id
              AND pv.item_id = pa.item_id AND pv.code = pa.value
            JOIN agreed_scores sa ON sa.cycle_id = sc.id AND sa.item_id = pa.item_id
            JOIN snapshot_values sv ON sv.version_id = sc.instrument_version_id
              AND sv.item_id = sa.item_id AND sv.code = sa.value
            WHERE pr.school_id = ? AND r.instrument_id = ?
              AND pc.state IN ('agreed', 'closed')
              AND (? IS NULL OR r.partnership_id = ?)
            GROUP BY r.id ORDER BY coalesce(r.starts_on, r.created_at), r.id
            """,
            [school_id, instrument_id, partnership_id, partnership_id],
        )
    )
    return rows


# The hub -----------------------------------------------------------------------------


def reviewing(db, user_id: int) -> list[dict]:
    """Return the peer cycles someone reviews in, newest first."""
    return list(
        db.query(
            """
            SELECT c.id, c.title, c.state, c.lead_id, c.closes_on, s.name AS school_name,
              r.title AS round_title, cr.submitted_at
            FROM cycle_respondents cr JOIN cycles c ON c.id = cr.cycle_id
            JOIN peer_reviews pr ON pr.cycle_id = c.id
            JOIN peer_rounds r ON r.id = pr.round_id
            JOIN schools s ON s.id = pr.school_id
            WHERE cr.user_id = ? AND c.kind = 'peer' ORDER BY c.id DESC
            """,
            [user_id],
        )
    )


def reviews_of_teams(db, team_ids) -> list[dict]:
    """Return the peer reviews of the schools whose teams someone sits on."""
    team_ids = list(team_ids)
    if not team_ids:
        return []
    marks = ",".join("?" * len(team_ids))
    return list(
        db.query(
            f"""
            SELECT c.id, c.title, c.state, c.team_id, s.name AS school_name,
              r.title AS round_title
            FROM cycles c JOIN peer_reviews pr ON pr.cycle_id = c.id
            JOIN peer_rounds r ON r.id = pr.round_id
            JOIN schools s ON s.id = pr.school_id
            WHERE c.kind = 'peer' AND c.team_id IN ({marks}) ORDER BY c.id DESC
            """,
            team_ids,
        )
    )
