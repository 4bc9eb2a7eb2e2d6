"""Action plans: plain functions over the database.

A plan belongs to one agreed self-evaluation cycle. Its lead drafts it from
the proposals (the scoring rules' priorities with the instrument's suggested
actions) and from the unfinished actions of the team's previous plan of the
same instrument, each carried (with its owner, dates, status and notes,
linked to the old one) or closed, with a reason; then keeps, edits, merges,
drops or adds actions. The next agreed cycle of the same instrument shows
each action beside the change in the scores of the items it addressed.
"""

import datetime
import json
import logging

from .. import anonymity, audit
from ..cycles import service as cycles
from ..db import immediate, iso_date, now
from ..organisations import service as orgs
from ..peer import service as peer
from ..results.service import cycle_results
from ..results.service import previous_cycle as cycle_results_previous

log = logging.getLogger(__name__)

STATUSES = {
    "not_started": "Not started",
    "on_track": "On track",
    "at_risk": "At risk",
    "done": "Done",
}
PLANNABLE_STATES = ("agreed", "closed")
MAX_TITLE = 300
MAX_TEXT = 4000
MAX_REASON = 1000
CARRY_DECISIONS = {
    "carry": "Carry it into this plan",
    "close": "Close it: it is not carried",
}
TEXT_FIELDS = ("resources", "success_criteria", "impact_measure")


class PlanError(ValueError):
    """A change to a plan that cannot be made; the message says why."""


class StaleAction(PlanError):
    """An edit made from an older revision of an action than the one stored."""

    def __init__(self, current: dict):
        super().__init__("This action was changed by someone else after you opened it.")
        self.current = current


# Results ----------------------------------------------------------------------


def previous_cycle(db, cycle: dict) -> dict | None:
    """Return the team's previous agreed cycle of the same instrument, or None."""
    row = cycle_results_previous(db, cycle)
    return cycles.get_cycle(db, row["id"]) if row else None


def results_of(db, cycle: dict, viewer: anonymity.Viewer = anonymity.OUTSIDE) -> dict:
    """Return a cycle's scores, exactly as the results page shows them to ``viewer``."""
    return cycle_results(db, cycle, viewer)


def peer_comparison(db, cycle: dict) -> dict | None:
    """Return the self vs peer comparison of the latest agreed peer review, or None."""
    row = db.execute(
        "SELECT pr.cycle_id FROM peer_reviews pr JOIN cycles c ON c.id = pr.cycle_id "
        "WHERE pr.self_cycle_id = ? AND c.state IN ('agreed', 'closed') "
        "ORDER BY c.agreed_at DESC, c.id DESC LIMIT 1",
        [cycle["id"]],
    ).fetchone()
    if row is None:
        return None
    peer_cycle = cycles.get_cycle(db, row[0])
    review = peer.review_of_cycle(db, row[0])
    return {
        **peer.self_vs_peer(db, peer_cycle, review),
        "review": review,
        "peer_cycle": peer_cycle,
    }


# Reading ------------------------------------------------------------------------


def proposals_for(db, cycle: dict) -> list[dict]:
    """Return a cycle's proposals: its priorities and its widest self vs peer gaps."""
    return proposals(
        results_of(db, cycle), cycle["snapshot"], peer_comparison(db, cycle)
    )


def proposals(results: dict, snapshot, comparison: dict | None = None) -> list[dict]:
    """Return the proposed actions, each with the instrument's suggested actions.

    First the scoring rules' priorities (low scores, split items), then items
    where the team rated itself two or more points above its peer reviewers.
    """
    suggested_by_item: dict[str, list[str]] = {}
    for action in snapshot.data.get("actions") or []:
        for item_id in action.get("items") or []:
            suggested_by_item.setdefault(item_id, []).append(action["text"])
    gaps = [
        r
        for r in (comparison or {}).get("rows", [])
        if r["big"] and r["gap"] is not None and r["gap"] > 0
    ]
    out = []
    priorities = list(results["priorities"])
    seen = {p["item_id"] for p in priorities}
    for r in gaps:
        if r["item_id"] not in seen:
            priorities.append(
                {
                    "item_id": r["item_id"],
                    "statement": r["statement"],
                    "reasons": ["self vs peer gap"],
                    "agreed_label": r["self_label"],
                    "actions": suggested_by_item.get(r["item_id"], []),
                }
            )
            seen.add(r["item_id"])
    gap_items = {r["item_id"]: r for r in gaps}
    for p in priorities:
        suggested = p.get("actions") or []
        reasons = list(p["reasons"])
        gap = gap_items.get(p["item_id"])
        if gap and "self vs peer gap" not in reasons:
            reasons.append("self vs peer gap")
        out.append(
            {
                "item_id": p["item_id"],
                "statement": p["statement"],
                "reasons": reasons,
                "peer_label": gap["peer_label"] if gap else "",
                "score_label": p.get("agreed_label") or "",
                "suggested": suggested,
                "title": suggested[0] if suggested else f"Improve: {p['statement']}",
            }
        )
    for group in action_groups(out):
        for p in group["proposals"]:
            p["with"] = [o["statement"] for o in group["proposals"] if o is not p]
    return out


def action_groups(kept: list[dict]) -> list[dict]:
    """Group proposals into the actions a draft creates, in their order.

    Proposals whose title is the same suggested action become one action
    linked to all their items (an action may address several items), placed
    where the first of them is; any other proposal is an action of its own.
    """
    groups: list[dict] = []
    by_title: dict[str, dict] = {}
    for p in kept:
        shared = by_title.get(p["title"]) if p["suggested"] else None
        if shared is not None:
            shared["proposals"].append(p)
            continue
        group = {"title": p["title"], "proposals": [p]}
        groups.append(group)
        if p["suggested"]:
            by_title[p["title"]] = group
    for group in groups:
        group["item_ids"] = [p["item_id"] for p in group["proposals"]]
    return groups


def is_overdue(action: dict, today: datetime.date) -> bool:
    return bool(
        action["due_on"]
        and action["status"] != "done"
        and action["due_on"] < today.isoformat()
    )


def get_plan(db, cycle: dict, *, today: datetime.date | None = None) -> dict | None:
    """Return the cycle's plan with its actions and their notes, or None."""
    rows = list(
        db.query("SELECT * FROM action_plans WHERE cycle_id = ?", [cycle["id"]])
    )
    if not rows:
        return None
    plan = rows[0]
    today = today or datetime.date.today()
    items = cycle["snapshot"].items
    order = {i: n for n, i in enumerate(cycle["snapshot"].item_ids, start=1)}
    actions = list(
        db.query(
            "SELECT a.*, u.name AS owner_name FROM plan_actions a "
            "LEFT JOIN users u ON u.id = a.owner_id WHERE a.plan_id = ? "
            "ORDER BY a.position, a.id",
            [plan["id"]],
        )
    )
    notes: dict[int, list] = {}
    for note in db.query(
        "SELECT n.*, u.name AS author_name FROM action_notes n "
        "JOIN plan_actions a ON a.id = n.action_id LEFT JOIN users u "
        "ON u.id = n.author_id WHERE a.plan_id = ? ORDER BY n.noted_on, n.id",
        [plan["id"]],
    ):
        notes.setdefault(note["action_id"], []).append(note)
    links = _carry_links(db, plan["id"])
    for number, action in enumerate(actions, start=1):
        action["carried_from"] = links["from"].get(action["id"], [])
        action["carried_to"] = links["to"].get(action["id"])
        action["number"] = number
        action["item_ids"] = json.loads(action["item_ids"])
        action["items"] = [
            {
                "id": i,
                "statement": items[i]["statement"] if i in items else i,
                "number": order.get(i),
            }
            for i in action["item_ids"]
        ]
        action["status_label"] = STATUSES[action["status"]]
        action["overdue"] = is_overdue(action, today)
        action["notes"] = notes.get(action["id"], [])
    plan["actions"] = actions
    plan["counts"] = {
        key: sum(1 for a in actions if a["status"] == key) for key in STATUSES
    }
    plan["overdue"] = [a for a in actions if a["overdue"]]
    return plan


def _carry_links(db, plan_id: int) -> dict:
    """Return where this plan's actions came from and where they went.

    "from": {action id: [{cycle_id, cycle_title, title}]} for actions carried
    in (several once merged); "to": {action id: {cycle_id, cycle_title,
    decision, reason}} for actions the next plan carried or closed.
    """
    came: dict[int, list] = {}
    for row in db.query(
        "SELECT pc.action_id, old.title, op.cycle_id, c.title AS cycle_title "
        "FROM plan_carries pc JOIN plan_actions old ON old.id = pc.from_action_id "
        "JOIN action_plans op ON op.id = old.plan_id JOIN cycles c ON c.id = "
        "op.cycle_id WHERE pc.plan_id = ? AND pc.action_id IS NOT NULL "
        "ORDER BY old.position, old.id",
        [plan_id],
    ):
        came.setdefault(row["action_id"], []).append(row)
    went = {
        row["from_action_id"]: row
        for row in db.query(
            "SELECT pc.from_action_id, pc.decision, pc.reason, np.cycle_id, "
            "c.title AS cycle_title FROM plan_carries pc JOIN plan_actions old "
            "ON old.id = pc.from_action_id JOIN action_plans np ON np.id = "
            "pc.plan_id JOIN cycles c ON c.id = np.cycle_id WHERE old.plan_id = ?",
            [plan_id],
        )
    }
    return {"from": came, "to": went}


def owners(db, cycle: dict) -> list[dict]:
    """Return the people who may own an action: the team's leads and members."""
    seen, out = set(), []
    for m in orgs.members_of(db, "team", cycle["team_id"]):
        if m["role"] in ("team_lead", "team_member") and m["id"] not in seen:
            seen.add(m["id"])
            out.append(m)
    return out


# Changing --------------------------------------------------------------------------


def _check_plannable(cycle: dict) -> None:
    if cycle["kind"] != "self":
        raise PlanError("Action plans belong to self-evaluations.")
    if cycle["state"] not in PLANNABLE_STATES:
        raise PlanError("A plan can be drafted once the team has agreed its scores.")


def _date(value, label: str) -> str | None:
    try:
        return iso_date(value)
    except ValueError:
        raise PlanError(f"Enter the {label} as a real date.") from None


def _clean(db, cycle: dict, fields: dict) -> dict:
    """Check one action's fields; return them ready to store."""
    title = (fields.get("title") or "").strip()
    if not title:
        raise PlanError("Say what will be done.")
    if len(title) > MAX_TITLE:
        raise PlanError(f"What will be done is {MAX_TITLE} characters at most.")
    item_ids = list(dict.fromkeys(fields.get("item_ids") or []))
    if not item_ids:
        raise PlanError("Choose at least one item the action addresses.")
    unknown = [i for i in item_ids if i not in cycle["snapshot"].items]
    if unknown:
        raise PlanError("Choose items from this cycle's instrument.")
    owner_id = fields.get("owner_id")
    if owner_id in ("", None):
        owner_id = None
    else:
        owner_id = int(owner_id)
        if owner_id not in orgs.team_member_ids(db, cycle["team_id"]):
            raise PlanError("The owner must be a member of the team.")
    starts_on = _date(fields.get("starts_on"), "start date")
    due_on = _date(fields.get("due_on"), "due date")
    if starts_on and due_on and due_on < starts_on:
        raise PlanError("The due date must be on or after the start date.")
    status = fields.get("status") or "not_started"
    if status not in STATUSES:
        raise PlanError("Choose a status.")
    out = {
        "title": title,
        "item_ids": json.dumps(item_ids),
        "owner_id": owner_id,
        "starts_on": starts_on,
        "due_on": due_on,
        "status": status,
    }
    for name in TEXT_FIELDS:
        text = (fields.get(name) or "").strip()
        if len(text) > MAX_TEXT:
            raise PlanError(f"Each text is {MAX_TEXT} characters at most.")
        out[name] = text
    return out


def _plan_row(db, cycle: dict) -> dict:
    row = db.execute(
        "SELECT id FROM action_plans WHERE cycle_id = ?", [cycle["id"]]
    ).fetchone()
    if row is None:
        raise PlanError("This cycle has no action plan yet.")
    return {"id": row[0]}


def _action_row(db, plan_id: int, action_id: int) -> dict:
    rows = list(
        db.query(
            "SELECT * FROM plan_actions WHERE id = ? AND plan_id = ?",
            [action_id, plan_id],
        )
    )
    if not rows:
        raise PlanError("That action is not part of this plan.")
    return rows[0]


def _touch(db, plan_id: int, stamp: str) -> None:
    db.execute("UPDATE action_plans SET updated_at = ? WHERE id = ?", [stamp, plan_id])


def create_plan(db, cycle: dict, keep, *, actor_id: int, carry=None) -> int:
    """Create the cycle's plan with one action for each kept proposal; kept
    proposals that share a suggested action make one action for all their items.

    ``carry`` maps each unfinished action of the previous plan (its id) to
    ``(decision, reason)``, decision "carry" or "close"; an action left out
    is carried. A carried action comes in first, with its owner (while still
    in the team), dates, status and notes; a closed one needs a reason.
    """
    _check_plannable(cycle)
    proposed = {p["item_id"]: p for p in proposals_for(db, cycle)}
    keep = list(dict.fromkeys(keep))
    unknown = [k for k in keep if k not in proposed]
    if unknown:
        raise PlanError("Choose from the proposed priorities.")
    candidates = carry_candidates(db, cycle)
    decisions = _carry_decisions(candidates, carry or {})
    stamp = now()
    with immediate(db):
        if db.execute(
            "SELECT 1 FROM action_plans WHERE cycle_id = ?", [cycle["id"]]
        ).fetchone():
            raise PlanError("This cycle already has an action plan.")
        plan_id = (
            db["action_plans"]
            .insert(
                {
                    "cycle_id": cycle["id"],
                    "team_id": cycle["team_id"],
                    "created_by": actor_id,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            .last_pk
        )
        position = 0
        members = orgs.team_member_ids(db, cycle["team_id"])
        for old in candidates:
            decision, reason = decisions[old["id"]]
            action_id = None
            if decision == "carry":
                position += 1
                action_id = _copy_action(
                    db, cycle, old, plan_id, position, members, stamp
                )
            db["plan_carries"].insert(
                {
                    "plan_id": plan_id,
                    "from_action_id": old["id"],
                    "action_id": action_id,
                    "decision": "carried" if decision == "carry" else "closed",
                    "reason": reason,
                    "decided_by": actor_id,
                    "decided_at": stamp,
                }
            )
        for group in action_groups([proposed[item_id] for item_id in keep]):
            position += 1
            db["plan_actions"].insert(
                {
                    "plan_id": plan_id,
                    "position": position,
                    "title": group["title"][:MAX_TITLE],
                    "item_ids": json.dumps(group["item_ids"]),
                    "status": "not_started",
                    "source": "proposed",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        audit.record(
            db,
            actor_id,
            "plan.create",
            "cycle",
            cycle["id"],
            plan=plan_id,
            kept=keep,
            carried=[c["id"] for c in candidates if decisions[c["id"]][0] == "carry"],
            closed=[c["id"] for c in candidates if decisions[c["id"]][0] == "close"],
        )
    log.info(
        "plan %s drafted for cycle %s: %s proposals kept, %s actions carried",
        plan_id,
        cycle["id"],
        len(keep),
        sum(1 for d, _ in decisions.values() if d == "carry"),
    )
    return plan_id


def add_action(db, cycle: dict, fields: dict, *, actor_id: int) -> int:
    """Add the lead's own action to the plan."""
    _check_plannable(cycle)
    clean = _clean(db, cycle, fields)
    stamp = now()
    with immediate(db):
        plan = _plan_row(db, cycle)
        position = db.execute(
            "SELECT coalesce(max(position), 0) + 1 FROM plan_actions WHERE plan_id = ?",
            [plan["id"]],
        ).fetchone()[0]
        action_id = (
            db["plan_actions"]
            .insert(
                {
                    **clean,
                    "plan_id": plan["id"],
                    "position": position,
                    "source": "own",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            .last_pk
        )
        _touch(db, plan["id"], stamp)
        audit.record(db, actor_id, "plan.add", "plan_action", action_id)
    return action_id


def update_action(
    db,
    cycle: dict,
    action_id: int,
    fields: dict,
    *,
    actor_id: int,
    base_revision: int | None = None,
):
    """Change an action's details and status.

    ``base_revision`` is the revision the editor loaded: if the action has
    moved on since, StaleAction is raised with the stored row, unless it
    already holds exactly these fields (a form sent twice). None: no check.
    """
    _check_plannable(cycle)
    clean = _clean(db, cycle, fields)
    stamp = now()
    with immediate(db):
        plan = _plan_row(db, cycle)
        old = _action_row(db, plan["id"], action_id)
        if base_revision is not None and old["revision"] != base_revision:
            if all(old.get(k) == v for k, v in clean.items()):
                return
            raise StaleAction(old)
        db["plan_actions"].update(
            action_id,
            {**clean, "updated_at": stamp, "revision": old["revision"] + 1},
        )
        _touch(db, plan["id"], stamp)
        changed = sorted(k for k, v in clean.items() if old.get(k) != v)
        audit.record(
            db, actor_id, "plan.update", "plan_action", action_id, changed=changed
        )


def drop_action(db, cycle: dict, action_id: int, *, actor_id: int) -> None:
    """Remove an action and its notes from the plan."""
    _check_plannable(cycle)
    with immediate(db):
        plan = _plan_row(db, cycle)
        old = _action_row(db, plan["id"], action_id)
        db.execute("DELETE FROM action_notes WHERE action_id = ?", [action_id])
        # A carried action dropped later is closed: the record says when.
        db.execute(
            "UPDATE plan_carries SET action_id = NULL, decision = 'closed', "
            "reason = 'Dropped from the plan after it was carried.', "
            "decided_by = ?, decided_at = ? WHERE action_id = ?",
            [actor_id, now(), action_id],
        )
        db.execute("DELETE FROM plan_actions WHERE id = ?", [action_id])
        _touch(db, plan["id"], now())
        audit.record(
            db, actor_id, "plan.drop", "plan_action", action_id, title=old["title"]
        )


def merge_actions(db, cycle: dict, action_ids, *, actor_id: int) -> int:
    """Merge two or more actions into the first: items, texts and notes combined."""
    _check_plannable(cycle)
    ids = sorted({int(i) for i in action_ids})
    if len(ids) < 2:
        raise PlanError("Choose two or more actions to merge.")
    stamp = now()
    with immediate(db):
        plan = _plan_row(db, cycle)
        rows = sorted(
            (_action_row(db, plan["id"], i) for i in ids),
            key=lambda r: (r["position"], r["id"]),
        )
        keep, rest = rows[0], rows[1:]
        items = list(dict.fromkeys(i for r in rows for i in json.loads(r["item_ids"])))
        merged = {
            "title": "; ".join(r["title"] for r in rows)[:MAX_TITLE],
            "item_ids": json.dumps(items),
            "source": "merged",
            "updated_at": stamp,
            "revision": keep["revision"] + 1,
            "starts_on": min(
                (r["starts_on"] for r in rows if r["starts_on"]), default=None
            ),
            "due_on": max((r["due_on"] for r in rows if r["due_on"]), default=None),
        }
        for name in TEXT_FIELDS:
            texts = [r[name] for r in rows if r[name]]
            merged[name] = "\n".join(dict.fromkeys(texts))[:MAX_TEXT]
        db["plan_actions"].update(keep["id"], merged)
        for r in rest:
            db.execute(
                "UPDATE action_notes SET action_id = ? WHERE action_id = ?",
                [keep["id"], r["id"]],
            )
            db.execute(
                "UPDATE plan_carries SET action_id = ? WHERE action_id = ?",
                [keep["id"], r["id"]],
            )
            db.execute("DELETE FROM plan_actions WHERE id = ?", [r["id"]])
        _touch(db, plan["id"], stamp)
        audit.record(
            db,
            actor_id,
            "plan.merge",
            "plan_action",
            keep["id"],
            merged=[r["id"] for r in rest],
        )
    return keep["id"]


def add_note(db, cycle: dict, action_id: int, noted_on, note: str, *, actor_id: int):
    """Add a dated progress note to an action."""
    _check_plannable(cycle)
    note = (note or "").strip()
    if not note:
        raise PlanError("Write the progress note.")
    if len(note) > MAX_TEXT:
        raise PlanError(f"A note is {MAX_TEXT} characters at most.")
    day = _date(noted_on, "date of the note")
    if day is None:
        raise PlanError("Enter the date of the note.")
    with immediate(db):
        plan = _plan_row(db, cycle)
        _action_row(db, plan["id"], action_id)
        note_id = (
            db["action_notes"]
            .insert(
                {
                    "action_id": action_id,
                    "noted_on": day,
                    "note": note,
                    "author_id": actor_id,
                    "created_at": now(),
                }
            )
            .last_pk
        )
        _touch(db, plan["id"], now())
        audit.record(db, actor_id, "plan.note", "plan_action", action_id, note=note_id)
    return note_id


# Carry-over ------------------------------------------------------------------------


def actions_for_results(db, cycle: dict, results: dict | None = None) -> list[dict]:
    """Return the previous cycle's actions beside the change in the items they addressed.

    Each entry is the action (title, owner, status) with ``items``: for every
    item addressed, its statement and {previous, current, delta, new} from
    the scores' change figures (None when the versions are not comparable).
    """
    before = previous_cycle(db, cycle)
    if before is None:
        return []
    plan = get_plan(db, before)
    if plan is None:
        return []
    results = results or results_of(db, cycle)
    change = (results.get("change") or {}) if results else {}
    changes = change.get("items", {}) if change.get("comparable") else {}
    statements = cycle["snapshot"].items
    out = []
    for action in plan["actions"]:
        items = []
        for item in action["items"]:
            figures = changes.get(item["id"]) or {}
            items.append(
                {
                    "id": item["id"],
                    "statement": statements[item["id"]]["statement"]
                    if item["id"] in statements
                    else item["statement"],
                    "previous": figures.get("previous"),
                    "current": figures.get("current"),
                    "delta": figures.get("delta"),
                    "in_this_cycle": item["id"] in statements,
                }
            )
        out.append(
            {
                "id": action["id"],
                "title": action["title"],
                "owner_name": action["owner_name"],
                "status": action["status"],
                "status_label": action["status_label"],
                "due_on": action["due_on"],
                "carried_to": action["carried_to"],
                "from_cycle_id": before["id"],
                "from_cycle_title": before["title"],
                "items": items,
            }
        )
    return out


# Carry-forward ------------------------------------------------------------------


def carry_candidates(db, cycle: dict) -> list[dict]:
    """Return the previous plan's unfinished actions, to carry or close.

    Empty once this cycle has a plan (the decisions are then made), when the
    team has no earlier agreed cycle of the instrument, or nothing is left
    unfinished. Each action says which of its items are in this cycle's
    version and whether its owner is still in the team.
    """
    if db.execute(
        "SELECT 1 FROM action_plans WHERE cycle_id = ?", [cycle["id"]]
    ).fetchone():
        return []
    before = previous_cycle(db, cycle)
    plan = get_plan(db, before) if before else None
    if plan is None:
        return []
    members = orgs.team_member_ids(db, cycle["team_id"])
    items = cycle["snapshot"].items
    out = []
    for action in plan["actions"]:
        if action["status"] == "done":
            continue
        out.append(
            {
                **action,
                "from_cycle_id": before["id"],
                "from_cycle_title": before["title"],
                "kept_items": [i for i in action["item_ids"] if i in items],
                "owner_stays": action["owner_id"] in members,
            }
        )
    return out


def _carry_decisions(candidates: list[dict], carry: dict) -> dict:
    """Check the lead's decision for each candidate; return {id: (decision, why)}."""
    known = {c["id"] for c in candidates}
    if any(int(k) not in known for k in carry):
        raise PlanError("Choose from the unfinished actions of the previous plan.")
    given = {int(k): v for k, v in carry.items()}
    out = {}
    for c in candidates:
        decision, reason = given.get(c["id"], ("carry", ""))
        reason = (reason or "").strip()
        if decision not in CARRY_DECISIONS:
            raise PlanError("Choose whether to carry or close each unfinished action.")
        if len(reason) > MAX_REASON:
            raise PlanError(f"Each reason is {MAX_REASON} characters at most.")
        if decision == "close" and not reason:
            raise PlanError(
                f"Say why \u201c{c['title'][:80]}\u201d is closed: governors read it."
            )
        if decision == "carry" and not reason:
            reason = (
                f"Not finished by the end of {c['from_cycle_title']} "
                f"({STATUSES[c['status']].lower()})."
            )
        out[c["id"]] = (decision, reason)
    return out


def _copy_action(db, cycle, old, plan_id, position, members, stamp) -> int:
    """Copy an unfinished action, and its notes, into the new plan."""
    action_id = (
        db["plan_actions"]
        .insert(
            {
                "plan_id": plan_id,
                "position": position,
                "title": old["title"],
                "item_ids": json.dumps(old["kept_items"]),
                "owner_id": old["owner_id"] if old["owner_id"] in members else None,
                "starts_on": old["starts_on"],
                "due_on": old["due_on"],
                "resources": old["resources"],
                "success_criteria": old["success_criteria"],
                "impact_measure": old["impact_measure"],
                "status": old["status"],
                "source": "carried",
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        .last_pk
    )
    for note in old["notes"]:
        db["action_notes"].insert(
            {
                "action_id": action_id,
                "noted_on": note["noted_on"],
                "note": note["note"],
                "author_id": note["author_id"],
                "created_at": stamp,
            }
        )
    return action_id


def carry_record(db, cycle: dict) -> list[dict]:
    """Return what the plan took from the previous one: each action, carried or closed.

    Each entry: the old action's title, owner and status, the decision,
    the reason, and (when carried) the number of the action it became.
    """
    rows = list(
        db.query(
            "SELECT pc.decision, pc.reason, pc.decided_at, pc.action_id, "
            "old.id AS from_action_id, old.title, old.status, u.name AS owner_name, "
            "op.cycle_id AS from_cycle_id, c.title AS from_cycle_title "
            "FROM plan_carries pc JOIN action_plans p ON p.id = pc.plan_id "
            "JOIN plan_actions old ON old.id = pc.from_action_id "
            "JOIN action_plans op ON op.id = old.plan_id "
            "JOIN cycles c ON c.id = op.cycle_id "
            "LEFT JOIN users u ON u.id = old.owner_id "
            "WHERE p.cycle_id = ? ORDER BY old.position, old.id",
            [cycle["id"]],
        )
    )
    plan = get_plan(db, cycle) if rows else None
    numbers = {a["id"]: a["number"] for a in (plan or {}).get("actions", [])}
    for row in rows:
        row["status_label"] = STATUSES[row["status"]]
        row["number"] = numbers.get(row["action_id"])
    return rows
