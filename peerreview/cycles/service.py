"""Cycles, responses and agreed scores: plain functions over the database.

A cycle moves draft -> open -> moderation -> agreed -> closed. Peer-review
cycles use the same functions: only who the respondents are differs.
"""

import datetime
import json
import logging
import random

from .. import anonymity, audit
from ..db import immediate, now, write_one

log = logging.getLogger(__name__)
_shuffle = random.SystemRandom().shuffle

STATES = ("draft", "open", "moderation", "agreed", "closed")
STATE_LABELS = {
    "draft": "Draft",
    "open": "Open for ratings",
    "moderation": "Moderation",
    "agreed": "Agreed",
    "closed": "Closed",
}
# Moves forward, one step at a time; the time column each move stamps.
FORWARD = {
    ("draft", "open"): "opened_at",
    ("open", "moderation"): "moderation_at",
    ("moderation", "agreed"): "agreed_at",
    ("agreed", "closed"): "closed_at",
}
# Reopening goes back one step and needs a reason.
BACKWARD = {("moderation", "open"), ("agreed", "moderation"), ("closed", "agreed")}
ANONYMOUS_TOO_FEW = (
    f"An anonymous cycle needs at least {anonymity.MIN_GROUP} people to rate: "
    "with fewer, each could work out the others' ratings. Choose more people, "
    "or make it a named cycle."
)
SPECIAL = {"na": "Not applicable", "ne": "No evidence yet"}
MAX_TEXT = 4000


class CycleError(ValueError):
    """A request about a cycle that cannot be carried out; the message says why.

    `field` names the input the message is about ("value", "rationale"), when
    it is about one, so that a page can put the message beside it.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleAnswer(CycleError):
    """A save based on an older revision than the one stored."""

    def __init__(self, current: dict):
        super().__init__(
            "This answer was changed in another window or tab. "
            "The newer answer is shown; check it and change it again if needed."
        )
        self.current = current


class StaleAgreed(CycleError):
    """An agreed score recorded from an older revision than the one stored."""

    def __init__(self, current: dict):
        super().__init__(
            "This item's agreed score was changed by someone else after you "
            "opened the page."
        )
        self.current = current


# Instruments ----------------------------------------------------------------


def snapshot_version(db, instrument) -> int:
    """Store an instrument version's snapshot once; return its row id."""
    digest = instrument.content_hash
    row = db.execute(
        "SELECT id FROM instrument_versions WHERE content_hash = ?", [digest]
    ).fetchone()
    if row:
        return row[0]
    return (
        db["instrument_versions"]
        .insert(
            {
                "instrument_id": instrument.id,
                "version": instrument.version,
                "content_hash": digest,
                "title": instrument.title,
                "snapshot": json.dumps(instrument.snapshot(), ensure_ascii=False),
                "created_at": now(),
            }
        )
        .last_pk
    )


# Parsed snapshots by content hash: a stored snapshot never changes, and its
# hash is the sha256 of its content, so one entry serves every database.
_SNAPSHOTS: dict[str, "Snapshot"] = {}
_MAX_SNAPSHOTS = 256


def load_snapshot(db, version_id: int, content_hash: str | None = None) -> "Snapshot":
    """Return a stored snapshot, parsed once per process.

    Pass the version's content_hash when the caller has it (get_cycle does):
    a cached snapshot is then returned without reading the database.
    """
    if content_hash is None:
        content_hash = db.execute(
            "SELECT content_hash FROM instrument_versions WHERE id = ?", [version_id]
        ).fetchone()[0]
    snap = _SNAPSHOTS.get(content_hash)
    if snap is None:
        text = db.execute(
            "SELECT snapshot FROM instrument_versions WHERE id = ?", [version_id]
        ).fetchone()[0]
        snap = Snapshot(json.loads(text))
        if len(_SNAPSHOTS) >= _MAX_SNAPSHOTS:
            _SNAPSHOTS.clear()
        _SNAPSHOTS[content_hash] = snap
    return snap


class Snapshot:
    """An instrument snapshot with the look-ups that saving needs."""

    def __init__(self, data: dict):
        self.data = data
        self.scale = data["scale"]
        self.points = self.scale["points"]
        self.codes = {p["code"] for p in self.points}
        self.allowed = set(self.codes)
        if self.scale.get("not_applicable"):
            self.allowed.add("na")
        if self.scale.get("no_evidence"):
            self.allowed.add("ne")
        self.items = {}
        self.sections = data["sections"]
        for section in self.sections:
            for item in section["items"]:
                self.items[item["id"]] = {**item, "section_id": section["id"]}
        self.item_ids = list(self.items)

    def label(self, code) -> str:
        """Return the label of an answer code."""
        if code in SPECIAL:
            return SPECIAL[code]
        for p in self.points:
            if p["code"] == code:
                return p["label"]
        return ""


# Cycles -----------------------------------------------------------------------


def create_cycle(
    db,
    *,
    instrument,
    team_id: int,
    respondent_ids,
    closes_on: str | None,
    anonymous: bool,
    actor_id: int,
    lead_id: int | None = None,
    kind: str = "self",
    partnership_id: int | None = None,
    peer_round_id: int | None = None,
    title: str | None = None,
) -> int:
    """Create a draft cycle with its respondents and the instrument snapshotted."""
    respondent_ids = sorted(set(respondent_ids))
    if not respondent_ids:
        raise CycleError("Choose at least one respondent.")
    if anonymous and len(respondent_ids) < anonymity.MIN_GROUP:
        raise CycleError(ANONYMOUS_TOO_FEW)
    with immediate(db):
        version_id = snapshot_version(db, instrument)
        cycle_id = (
            db["cycles"]
            .insert(
                {
                    "kind": kind,
                    "state": "draft",
                    "title": title or instrument.title,
                    "instrument_version_id": version_id,
                    "team_id": team_id,
                    "partnership_id": partnership_id,
                    "peer_round_id": peer_round_id,
                    "lead_id": lead_id or actor_id,
                    "anonymous": int(anonymous),
                    "closes_on": closes_on,
                    "created_by": actor_id,
                    "created_at": now(),
                }
            )
            .last_pk
        )
        db["cycle_respondents"].insert_all(
            {"cycle_id": cycle_id, "user_id": uid} for uid in respondent_ids
        )
        assign_letters(db, cycle_id, respondent_ids)
        audit.record(
            db,
            actor_id,
            "cycle.create",
            "cycle",
            cycle_id,
            instrument=instrument.id,
            version=instrument.version,
            respondents=respondent_ids,
        )
    return cycle_id


def _letter(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[n] if n < 26 else letters[n // 26 - 1] + letters[n % 26]


def assign_letters(db, cycle_id: int, user_ids) -> None:
    """Give each new respondent of a cycle a random letter not yet taken.

    Called inside the transaction that adds respondents. Letters are drawn
    at random, so they follow neither account nor answer order; once given,
    a letter is kept for the life of the cycle.
    """
    taken = {
        uid: letter
        for uid, letter in db.execute(
            "SELECT user_id, letter FROM respondent_letters WHERE cycle_id = ?",
            [cycle_id],
        ).fetchall()
    }
    new = [uid for uid in sorted(set(user_ids)) if uid not in taken]
    if not new:
        return
    used = set(taken.values())
    size = len(taken) + len(new)
    free = [letter for n in range(size) if (letter := _letter(n)) not in used]
    while len(free) < len(new):
        size += 1
        if _letter(size - 1) not in used:
            free.append(_letter(size - 1))
    _shuffle(new)
    _shuffle(free)
    db["respondent_letters"].insert_all(
        {"cycle_id": cycle_id, "user_id": uid, "letter": letter}
        for uid, letter in zip(new, free, strict=False)
    )


def get_cycle(db, cycle_id: int) -> dict | None:
    """Return a cycle with its snapshot, team and respondent ids, or None."""
    # One query: every background save starts here.
    cursor = db.execute(
        """
        SELECT c.*, t.name AS team_name, t.kind AS team_kind, t.school_id,
          t.partnership_id AS board_partnership_id, s.name AS school_name,
          v.instrument_id, v.version AS instrument_version, v.content_hash,
          (SELECT group_concat(user_id) FROM cycle_respondents
             WHERE cycle_id = c.id) AS respondent_list
        FROM cycles c JOIN teams t ON t.id = c.team_id
        LEFT JOIN schools s ON s.id = t.school_id
        JOIN instrument_versions v ON v.id = c.instrument_version_id
        WHERE c.id = ?
        """,
        [cycle_id],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    cycle = dict(zip((d[0] for d in cursor.description), row, strict=True))
    respondents = cycle.pop("respondent_list")
    cycle["respondent_ids"] = (
        {int(uid) for uid in respondents.split(",")} if respondents else set()
    )
    cycle["snapshot"] = load_snapshot(
        db, cycle["instrument_version_id"], cycle["content_hash"]
    )
    return cycle


def transition(db, cycle: dict, to: str, *, actor_id: int, reason: str = "") -> None:
    """Move a cycle to another state, refusing illegal moves."""
    frm = cycle["state"]
    with immediate(db):
        current = db.execute(
            "SELECT state FROM cycles WHERE id = ?", [cycle["id"]]
        ).fetchone()[0]
        if current != frm:
            raise CycleError("The cycle has changed since the page was loaded.")
        if (frm, to) in FORWARD:
            if to == "agreed":
                missing = unresolved_items(db, cycle)
                if missing:
                    raise CycleError(
                        f"{len(missing)} item(s) have neither an agreed score nor "
                        "a deferral yet."
                    )
            column = FORWARD[(frm, to)]
            moment = now()
            db.execute(
                f"UPDATE cycles SET state = ?, {column} = ? WHERE id = ?",
                [to, moment, cycle["id"]],
            )
            if cycle.get("kind") == "peer" and to == "moderation":
                # A peer review compares with the host's self-evaluation as it
                # stood when the reviewers' ratings closed.
                from ..peer import service as peer

                peer.pin_self_evaluation(db, cycle["id"], moment)
            action = "cycle." + to
        elif (frm, to) in BACKWARD:
            if not reason.strip():
                raise CycleError("Give a reason for reopening.")
            db.execute("UPDATE cycles SET state = ? WHERE id = ?", [to, cycle["id"]])
            action = "cycle.reopen"
        else:
            raise CycleError(
                f"A cycle cannot move from {STATE_LABELS[frm].lower()} to "
                f"{STATE_LABELS.get(to, to).lower()}."
            )
        audit.record(
            db, actor_id, action, "cycle", cycle["id"], frm=frm, to=to, reason=reason
        )
    cycle["state"] = to


def team_cycles(db, team_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT c.*, v.instrument_id FROM cycles c JOIN instrument_versions v "
            "ON v.id = c.instrument_version_id WHERE c.team_id = ? AND c.kind = 'self' "
            "ORDER BY c.id DESC",
            [team_id],
        )
    )


def my_cycles(db, user_id: int) -> list[dict]:
    """Return the open and moderated cycles someone rates in, with their progress."""
    rows = list(
        db.query(
            """
            SELECT c.id, c.title, c.state, c.kind, c.closes_on, c.instrument_version_id,
              t.name AS team_name, s.name AS school_name, cr.submitted_at,
              (SELECT count(*) FROM responses r WHERE r.cycle_id = c.id
                 AND r.respondent_id = cr.user_id AND r.value IS NOT NULL) AS answered
            FROM cycle_respondents cr JOIN cycles c ON c.id = cr.cycle_id
            JOIN teams t ON t.id = c.team_id LEFT JOIN schools s ON s.id = t.school_id
            WHERE cr.user_id = ? AND c.state IN ('open', 'moderation')
            ORDER BY c.closes_on IS NULL, c.closes_on, c.id
            """,
            [user_id],
        )
    )
    for row in rows:
        row["total"] = len(load_snapshot(db, row["instrument_version_id"]).item_ids)
    return rows


def completion(db, cycle: dict) -> list[dict]:
    """Return each respondent's progress: counts only, never their answers."""
    rows = list(
        db.query(
            """
            SELECT u.id, u.name, cr.submitted_at,
              (SELECT count(*) FROM responses r WHERE r.cycle_id = cr.cycle_id
                 AND r.respondent_id = u.id AND r.value IS NOT NULL) AS answered
            FROM cycle_respondents cr JOIN users u ON u.id = cr.user_id
            WHERE cr.cycle_id = ? ORDER BY u.name
            """,
            [cycle["id"]],
        )
    )
    total = len(cycle["snapshot"].item_ids)
    for row in rows:
        row["total"] = total
    return rows


# Responses -----------------------------------------------------------------------


BAD_REVISION = "The answer could not be read: reload the page and try again."


def save_section(db, cycle: dict, user_id: int, submitted: dict) -> dict[str, str]:
    """Save the answers of one section sent by a page without JavaScript.

    `submitted` maps each item id to its value, comment and evidence, and the
    revision the page was loaded from (None when it could not be read). Items
    the person did not change are left alone, so a stale page does not touch
    them. Returns {item id: message} for each answer refused.
    """
    answers = my_answers(db, cycle["id"], user_id)
    refused = {}
    for item_id, sent in submitted.items():
        new = {k: sent[k] for k in ("value", "comment", "evidence")}
        old = answers.get(item_id) or {"value": None, "comment": "", "evidence": ""}
        if all((old.get(k) or None) == (v or None) for k, v in new.items()):
            continue
        if sent["revision"] is None:
            refused[item_id] = BAD_REVISION
            continue
        try:
            save_answer(
                db, cycle, user_id, item_id, base_revision=sent["revision"], **new
            )
        except ValueError as e:  # CycleError, or a value the scale refuses
            refused[item_id] = str(e)
    return refused


def my_answers(db, cycle_id: int, user_id: int) -> dict[str, dict]:
    """Return one respondent's own answers, keyed by item id."""
    return {
        r["item_id"]: r
        for r in db.query(
            "SELECT item_id, value, comment, evidence, revision, updated_at "
            "FROM responses WHERE cycle_id = ? AND respondent_id = ?",
            [cycle_id, user_id],
        )
    }


def check_can_answer(cycle: dict, user_id: int) -> None:
    """Refuse answers for a cycle that is not open, or from a non-respondent."""
    if user_id not in cycle["respondent_ids"]:
        raise CycleError("You are not a respondent in this cycle.")
    if cycle["state"] != "open":
        raise CycleError(CLOSED_FOR_ANSWERS)


def _check_still(db, cycle: dict, state: str, message: str) -> None:
    """Inside a write transaction: refuse if the cycle has left a state since
    the request loaded it (a save racing the move to moderation)."""
    row = db.execute("SELECT state FROM cycles WHERE id = ?", [cycle["id"]]).fetchone()
    if row is None or row[0] != state:
        raise CycleError(message)


CLOSED_FOR_ANSWERS = (
    "This cycle is no longer open for ratings, so answers cannot be changed."
)


def _clean(cycle: dict, item_id: str, value, comment, evidence):
    snap = cycle["snapshot"]
    if item_id not in snap.items:
        raise CycleError("That item is not part of this cycle's instrument.")
    if value == "":
        value = None
    if value is not None and value not in snap.allowed:
        raise CycleError("Choose one of the answers on the scale.")
    for text in (comment, evidence):
        if text is not None and len(text) > MAX_TEXT:
            raise CycleError(
                f"Comments and evidence notes are {MAX_TEXT} characters at most."
            )
    return value


# One statement saves an answer: it writes only while the cycle is open, only
# from the revision the respondent last saw (0: no answer yet), and only when
# something changed. It returns the new revision, or nothing when it wrote
# nothing; save_answer() then reads why.
_SAVE = """
INSERT INTO responses (cycle_id, respondent_id, item_id, value, comment, evidence,
                       revision, updated_at)
SELECT c.id, :user, :item, :value, :comment, :evidence, 1, :now FROM cycles c
WHERE c.id = :cycle AND c.state = 'open' AND (:base = 0 OR EXISTS (
    SELECT 1 FROM responses WHERE cycle_id = :cycle AND respondent_id = :user
    AND item_id = :item))
ON CONFLICT (cycle_id, respondent_id, item_id) DO UPDATE SET
    value = excluded.value, comment = excluded.comment,
    evidence = excluded.evidence, revision = responses.revision + 1,
    updated_at = excluded.updated_at
WHERE responses.revision = :base AND (responses.value IS NOT excluded.value
    OR responses.comment IS NOT excluded.comment
    OR responses.evidence IS NOT excluded.evidence)
RETURNING revision, updated_at
"""


def save_answer(
    db,
    cycle: dict,
    user_id: int,
    item_id: str,
    *,
    value=None,
    comment=None,
    evidence=None,
    base_revision: int,
) -> dict:
    """Save one respondent's answer to one item; refuse a stale revision.

    value, comment and evidence are the full state of the answer as the
    respondent sees it. Returns the stored row with its new revision.
    """
    check_can_answer(cycle, user_id)
    value = _clean(cycle, item_id, value, comment, evidence)
    new = {"value": value, "comment": comment or "", "evidence": evidence or ""}
    written = write_one(
        db,
        _SAVE,
        {
            **new,
            "cycle": cycle["id"],
            "user": user_id,
            "item": item_id,
            "base": base_revision,
            "now": now(),
        },
    )
    if written:
        revision, stamp = written[0]
        return {"item_id": item_id, **new, "revision": revision, "updated_at": stamp}
    # Nothing written: the cycle has left "open" (a save racing the move to
    # moderation), the answer has moved on (another tab), or it is unchanged.
    found = db.execute(
        "SELECT c.state, r.value, r.comment, r.evidence, r.revision, "
        "r.updated_at FROM cycles c LEFT JOIN responses r ON r.cycle_id = c.id "
        "AND r.respondent_id = ? AND r.item_id = ? WHERE c.id = ?",
        [user_id, item_id, cycle["id"]],
    ).fetchone()
    if found is None or found[0] != "open":
        raise CycleError(CLOSED_FOR_ANSWERS)
    row = found[1:]
    current = {
        "item_id": item_id,
        "value": row[0],
        "comment": row[1] or "",
        "evidence": row[2] or "",
        "revision": row[3] or 0,
        "updated_at": row[4],
    }
    if (row[0], row[1], row[2]) != (new["value"], new["comment"], new["evidence"]):
        raise StaleAnswer(current)
    # The stored answer is already this one: unchanged, or a retry of a save
    # that was written but whose reply was lost (its base revision is then
    # one behind). Either way it is saved; there is nothing to conflict with.
    return current


def submit(db, cycle: dict, user_id: int) -> None:
    """Mark a respondent's ratings as submitted once every item is answered."""
    check_can_answer(cycle, user_id)
    answers = my_answers(db, cycle["id"], user_id)
    missing = [
        i for i in cycle["snapshot"].item_ids if not (answers.get(i) or {}).get("value")
    ]
    if missing:
        raise CycleError(
            f"Answer every item before submitting: {len(missing)} still to answer "
            "(Not applicable and No evidence yet count as answers)."
        )
    with immediate(db):
        _check_still(db, cycle, "open", CLOSED_FOR_ANSWERS)
        db.execute(
            "UPDATE cycle_respondents SET submitted_at = ? WHERE cycle_id = ? AND user_id = ?",
            [now(), cycle["id"], user_id],
        )
        audit.record(db, user_id, "cycle.submit", "cycle", cycle["id"])


# Moderation ----------------------------------------------------------------------


def all_answers(db, cycle: dict) -> list[dict]:
    """Return every individual answer of a cycle (for moderation and scoring only)."""
    return list(
        db.query(
            "SELECT r.respondent_id, r.item_id, r.value, r.comment, r.evidence, "
            "u.name AS respondent_name FROM responses r JOIN users u "
            "ON u.id = r.respondent_id WHERE r.cycle_id = ? ORDER BY u.name",
            [cycle["id"]],
        )
    )


def agreed_scores(db, cycle_id: int) -> dict[str, dict]:
    """Return the agreed score (or deferral) of each item, keyed by item id."""
    result = {}
    for row in db.query(
        "SELECT a.*, u.name AS recorded_by_name FROM agreed_scores a "
        "LEFT JOIN users u ON u.id = a.recorded_by WHERE a.cycle_id = ?",
        [cycle_id],
    ):
        row["deferred"] = bool(row["deferred"])
        result[row["item_id"]] = row
    return result


def unresolved_items(db, cycle: dict) -> list[str]:
    agreed = agreed_scores(db, cycle["id"])
    return [
        i
        for i in cycle["snapshot"].item_ids
        if not (agreed.get(i) and (agreed[i]["value"] or agreed[i]["deferred"]))
    ]


def record_agreed(
    db,
    cycle: dict,
    item_id: str,
    *,
    value: str | None,
    rationale: str,
    deferred: bool,
    actor_id: int,
    base_revision: int | None = None,
) -> None:
    """Record the team's agreed score for an item, or defer it; keep the history.

    ``base_revision`` is the revision the page was loaded with (0: none
    recorded then): if the score has moved on since, StaleAgreed is raised
    with the stored row, unless it already says exactly this (a form sent
    twice). None: no check.
    """
    if cycle["state"] != "moderation":
        raise CycleError("Agreed scores are recorded during moderation only.")
    snap = cycle["snapshot"]
    if item_id not in snap.items:
        raise CycleError("That item is not part of this cycle's instrument.")
    if deferred:
        value = None
        if not rationale.strip():
            raise CycleError("Say why the item is deferred.", field="rationale")
    elif value not in snap.allowed:
        raise CycleError("Choose the agreed score.", field="value")
    if len(rationale) > MAX_TEXT:
        raise CycleError(
            f"The rationale is {MAX_TEXT} characters at most.", field="rationale"
        )
    stamp = now()
    with immediate(db):
        _check_still(
            db,
            cycle,
            "moderation",
            "Agreed scores are recorded during moderation only.",
        )
        old = db.execute(
            "SELECT value, deferred, revision, rationale FROM agreed_scores "
            "WHERE cycle_id = ? AND item_id = ?",
            [cycle["id"], item_id],
        ).fetchone()
        if base_revision is not None and (old[2] if old else 0) != base_revision:
            if old and tuple(old[:2]) + (old[3],) == (
                value,
                int(deferred),
                rationale.strip(),
            ):
                return
            raise StaleAgreed(
                {
                    "value": old[0] if old else None,
                    "deferred": bool(old[1]) if old else False,
                    "revision": old[2] if old else 0,
                    "rationale": old[3] if old else "",
                }
            )
        db["agreed_scores"].upsert(
            {
                "cycle_id": cycle["id"],
                "item_id": item_id,
                "value": value,
                "rationale": rationale.strip(),
                "deferred": int(deferred),
                "recorded_by": actor_id,
                "recorded_at": stamp,
                "revision": (old[2] + 1) if old else 1,
            },
            pk=("cycle_id", "item_id"),
        )
        db["agreed_score_history"].insert(
            {
                "cycle_id": cycle["id"],
                "item_id": item_id,
                "old_value": old[0] if old else None,
                "new_value": value,
                "old_deferred": old[1] if old else None,
                "new_deferred": int(deferred),
                "rationale": rationale.strip(),
                "changed_by": actor_id,
                "changed_at": stamp,
            }
        )
        audit.record(
            db,
            actor_id,
            "cycle.defer" if deferred else "cycle.agree",
            "cycle",
            cycle["id"],
            item=item_id,
            old=old[0] if old else None,
            new=value,
        )


def agreed_history(db, cycle_id: int) -> dict[str, list[dict]]:
    history: dict[str, list[dict]] = {}
    for row in db.query(
        "SELECT h.*, u.name AS changed_by_name FROM agreed_score_history h "
        "LEFT JOIN users u ON u.id = h.changed_by WHERE h.cycle_id = ? ORDER BY h.id",
        [cycle_id],
    ):
        history.setdefault(row["item_id"], []).append(row)
    return history


def closes_label(closes_on: str | None) -> str:
    """Return '14 March' for a closing date, or ''."""
    if not closes_on:
        return ""
    day = datetime.date.fromisoformat(closes_on)
    return f"{day.day} {day:%B}" + (
        "" if day.year == datetime.date.today().year else f" {day.year}"
    )
