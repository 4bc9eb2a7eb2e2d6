"""Uploads held between their preview and their confirmation.

An import (schools from GIAS, people from a list) is checked when the file
arrives and shown as a preview; the parsed rows wait here, keyed by a
random token that only the uploader's pages carry, until that person
confirms. The browser never sends the rows back, so what is confirmed is
exactly what was previewed. A batch is used once and lasts a day.
"""

import datetime
import hashlib
import json
import secrets

from .db import immediate, now

LIFETIME = datetime.timedelta(days=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def store(
    db, kind: str, payload: dict, *, actor_id, scope_type, scope_id, filename=""
) -> str:
    """Keep a checked upload; return the token that finds it again."""
    token = secrets.token_urlsafe(24)
    with immediate(db):
        db["import_batches"].insert(
            {
                "token_hash": _hash(token),
                "kind": kind,
                "created_by": actor_id,
                "scope_type": scope_type,
                "scope_id": scope_id,
                "filename": filename,
                "payload": json.dumps(payload, separators=(",", ":")),
                "created_at": now(),
            }
        )
    return token


def load(db, token: str, kind: str, *, actor_id) -> dict | None:
    """Return an unused, unexpired batch of this person's, with its payload, or None."""
    rows = list(
        db.query(
            "SELECT * FROM import_batches WHERE token_hash = ? AND kind = ? "
            "AND created_by = ? AND used_at IS NULL",
            [_hash(token or ""), kind, actor_id],
        )
    )
    if not rows:
        return None
    batch = rows[0]
    created = datetime.datetime.fromisoformat(batch["created_at"])
    if datetime.datetime.now(datetime.UTC) - created > LIFETIME:
        return None
    batch["payload"] = json.loads(batch["payload"])
    return batch


def mark_used(db, batch_id: int) -> bool:
    """Mark a batch used (inside the caller's transaction); False if it already was."""
    cursor = db.execute(
        "UPDATE import_batches SET used_at = ?, payload = '{}' "
        "WHERE id = ? AND used_at IS NULL",
        [now(), batch_id],
    )
    return cursor.rowcount == 1
