"""Reviewers' findings per section, and areas of excellence: plain functions.

Reviewers write, per section of the instrument, "What went well" and "Even
better if", as partner schools write them after a visit. The host may
nominate a section as an area of excellence; the reviewers confirm it or
not. The host reads both once the reviewers have agreed their scores.
"""

from .. import audit
from ..db import immediate, now

MAX_TEXT = 4000
VERDICTS = {"confirmed": "Confirmed", "not_confirmed": "Not confirmed"}
WRITING_STATES = ("open", "moderation")


class FindingsError(ValueError):
    """Findings or a nomination that cannot be kept; the message says why."""


def _section_ids(cycle: dict) -> list[str]:
    return [s["id"] for s in cycle["snapshot"].sections]


def findings(db, cycle_id: int) -> dict[str, dict]:
    """Return the findings of a peer cycle by section id."""
    return {
        row["section_id"]: row
        for row in db.query(
            "SELECT * FROM peer_findings WHERE cycle_id = ?", [cycle_id]
        )
    }


def save_findings(db, cycle: dict, submitted: dict, *, actor_id: int) -> int:
    """Keep the reviewers' findings: {section_id: (went_well, even_better_if)}."""
    if cycle["kind"] != "peer" or cycle["state"] not in WRITING_STATES:
        raise FindingsError(
            "Findings are written while the review is open or in moderation."
        )
    known = set(_section_ids(cycle))
    rows = []
    for section_id, (well, better) in submitted.items():
        if section_id not in known:
            raise FindingsError("That section is not part of this review.")
        well, better = (well or "").strip(), (better or "").strip()
        if len(well) > MAX_TEXT or len(better) > MAX_TEXT:
            raise FindingsError(f"Each finding is {MAX_TEXT} characters at most.")
        rows.append(
            {
                "cycle_id": cycle["id"],
                "section_id": section_id,
                "went_well": well,
                "even_better_if": better,
                "updated_by": actor_id,
                "updated_at": now(),
            }
        )
    with immediate(db):
        db["peer_findings"].upsert_all(rows, pk=("cycle_id", "section_id"))
        audit.record(db, actor_id, "peer.findings", "cycle", cycle["id"])
    return len(rows)


def nominations(db, cycle_id: int) -> dict[str, dict]:
    """Return the host's nominated areas of excellence by section id."""
    return {
        row["section_id"]: row
        for row in db.query(
            "SELECT * FROM excellence_nominations WHERE cycle_id = ?", [cycle_id]
        )
    }


def nominate(db, cycle: dict, section_id: str, case: str, *, actor_id: int) -> None:
    """Nominate a section as an area of excellence, with the host's case for it."""
    if cycle["kind"] != "peer" or cycle["state"] not in ("draft", *WRITING_STATES):
        raise FindingsError(
            "Areas of excellence are nominated before the reviewers agree."
        )
    if section_id not in _section_ids(cycle):
        raise FindingsError("Choose a section of the instrument.")
    case = (case or "").strip()
    if not case:
        raise FindingsError("Say why this is an area of excellence.")
    if len(case) > MAX_TEXT:
        raise FindingsError(f"The case is {MAX_TEXT} characters at most.")
    with immediate(db):
        db["excellence_nominations"].upsert(
            {
                "cycle_id": cycle["id"],
                "section_id": section_id,
                "case": case,
                "nominated_by": actor_id,
                "nominated_at": now(),
                "verdict": None,
                "reason": "",
                "decided_by": None,
                "decided_at": None,
            },
            pk=("cycle_id", "section_id"),
        )
        audit.record(
            db, actor_id, "peer.nominate", "cycle", cycle["id"], section=section_id
        )


def decide(
    db, cycle: dict, section_id: str, verdict: str, reason: str, *, actor_id: int
) -> None:
    """The reviewers confirm a nominated area of excellence, or not."""
    if cycle["kind"] != "peer" or cycle["state"] not in WRITING_STATES:
        raise FindingsError(
            "Nominations are decided while the review is open or in moderation."
        )
    if verdict not in VERDICTS:
        raise FindingsError("Choose whether you confirm it.")
    reason = (reason or "").strip()
    if len(reason) > MAX_TEXT:
        raise FindingsError(f"The reason is {MAX_TEXT} characters at most.")
    with immediate(db):
        found = db.execute(
            "UPDATE excellence_nominations SET verdict = ?, reason = ?, decided_by = ?, "
            "decided_at = ? WHERE cycle_id = ? AND section_id = ? RETURNING section_id",
            [verdict, reason, actor_id, now(), cycle["id"], section_id],
        ).fetchall()
        if not found:
            raise FindingsError("That section was not nominated.")
        audit.record(
            db,
            actor_id,
            "peer.excellence",
            "cycle",
            cycle["id"],
            section=section_id,
            verdict=verdict,
        )


def for_readers(db, cycle: dict) -> list[dict]:
    """Per section: title, findings and nomination, in the instrument's order."""
    found = findings(db, cycle["id"])
    nominated = nominations(db, cycle["id"])
    return [
        {
            "section_id": s["id"],
            "title": s["title"],
            "went_well": (found.get(s["id"]) or {}).get("went_well", ""),
            "even_better_if": (found.get(s["id"]) or {}).get("even_better_if", ""),
            "nomination": nominated.get(s["id"]),
        }
        for s in cycle["snapshot"].sections
    ]
