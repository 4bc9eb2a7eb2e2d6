"""The audit log: who changed what, and when."""

import json
import logging

from .db import now

log = logging.getLogger("peerreview.audit")


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
        }
    )
    log.info("%s by user %s on %s %s", action, actor_id, object_type, object_id)


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
