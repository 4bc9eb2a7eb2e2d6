"""The audit log: who changed what, and when."""

import contextvars
import json
import logging

from .db import now

log = logging.getLogger("peerreview.audit")

# The address of the client whose request is being served (None outside a
# request: the command line, the report worker). Set by the app for each
# request, after ProxyFix has put the real client's address in place.
_client = contextvars.ContextVar("peerreview_client_address", default=None)


def set_client(address: str | None) -> None:
    """Say whose request the entries written from now on (in this context) serve."""
    _client.set(address)


def record(db, actor_id, action: str, object_type: str, object_id, **detail) -> None:
    """Write one audit entry (inside the caller's transaction)."""
    db["audit_log"].insert(
        {
            "at": now(),
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "detail": json.dumps(detail, sort_keys=True, default=str),
            "ip": _client.get(),
        }
    )
    log.info(
        "%s by user %s on %s %s from %s",
        action,
        actor_id,
        object_type,
        object_id,
        _client.get() or "-",
    )


def entries(db, object_type: str | None = None, object_id=None, limit: int = 200):
    """Return audit entries, newest first."""
    where, params = [], []
    if object_type:
        where.append("object_type = ?")
        params.append(object_type)
    if object_id is not None:
        where.append("object_id = ?")
        params.append(object_id)
    sql = (
        "SELECT a.*, u.name AS actor_name FROM audit_log a "
        "LEFT JOIN users u ON u.id = a.actor_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY a.id DESC LIMIT ?"
    )
    return list(db.query(sql, [*params, limit]))


_STATE_WORDS = {
    "open": "opened the cycle for ratings",
    "moderation": "closed ratings and started moderation",
    "agreed": "marked the cycle agreed",
    "closed": "closed the cycle",
}
_OTHER_WORDS = {
    "evidence.share": "chose the evidence the reviewers see",
    "peer.findings": "saved the reviewers' findings",
    "peer.nominate": "nominated an area of excellence",
    "peer.excellence": "decided on a nominated area of excellence",
}
_STATE_NAMES = {
    "draft": "draft",
    "open": "open for ratings",
    "moderation": "moderation",
    "agreed": "agreed",
}


def describe(entry: dict, snapshot=None) -> str:
    """Say what an audit entry records in plain words (for a cycle's history).

    ``snapshot`` (the cycle's ``Snapshot``) turns item ids and answer codes
    into statements and labels; without it the ids are shown.
    """
    action = entry["action"]
    try:
        detail = json.loads(entry.get("detail") or "{}")
    except ValueError:
        detail = {}

    def item_text(item_id):
        item = snapshot.items.get(item_id) if snapshot else None
        if not item:
            return f"item {item_id}"
        statement = item["statement"]
        short = statement if len(statement) <= 60 else statement[:57].rstrip() + "…"
        return f"“{short}”"

    def answer(code):
        label = snapshot.label(code) if snapshot and code else ""
        return label or (code or "none")

    if action == "cycle.create":
        n = len(detail.get("respondents") or [])
        return f"created the cycle with {n} respondent{'s' if n != 1 else ''}"
    if action == "cycle.submit":
        return "submitted their ratings"
    if action == "cycle.reopen":
        to = _STATE_NAMES.get(detail.get("to"), detail.get("to") or "")
        reason = (detail.get("reason") or "").strip()
        return f"reopened the cycle to {to}" + (f": “{reason}”" if reason else "")
    if action.startswith("cycle.") and action[6:] in _STATE_WORDS:
        return _STATE_WORDS[action[6:]]
    if action == "cycle.agree":
        old = detail.get("old")
        change = f" (was {answer(old)})" if old else ""
        return (
            f"agreed {answer(detail.get('new'))} for "
            f"{item_text(detail.get('item'))}{change}"
        )
    if action == "cycle.defer":
        return f"deferred {item_text(detail.get('item'))}"
    if action == "plan.create":
        return "drafted the action plan"
    if action in _OTHER_WORDS:
        return _OTHER_WORDS[action]
    return action.replace(".", " ").replace("_", " ")
