"""Evidence for a cycle: notes, links and files, linked to items. No Flask.

A file's bytes live in the database, in ``evidence_chunks`` rows of
``CHUNK_BYTES``: each chunk is written in a transaction of its own (one short
hold of the write lock, so answer saves slip in between), one upload at a
time (two would take the write lock in turns, and a save would wait behind
both), and the evidence row that names the chunks is committed last. A file whose upload fails half
way leaves chunks no evidence row names; they are deleted at once.

What a file is comes from its bytes (``sniff``), never from its name.
"""

import codecs
import contextlib
import csv
import hashlib
import logging
import secrets
import time
import urllib.parse
import zipfile

from .. import anonymity, audit
from ..cycles import service as cycles
from ..db import checkpoint, connect, immediate, now, write_one
from ..scoring.crosswalk import compare_versions

log = logging.getLogger(__name__)

# 256 KB: each chunk holds the write lock for one insert of 64 pages, so a
# save waits behind at most that (1 MB chunks kept saves waiting four times
# as long). Files written before keep their 1 MB chunks; reading takes any.
CHUNK_BYTES = 256 * 1024
# A passive checkpoint after this many bytes of chunks (about 1,000 pages of
# WAL): the WAL never grows to where SQLite checkpoints inside a save's COMMIT.
CHECKPOINT_BYTES = 4 * 1024 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
DEFAULT_QUOTA_BYTES = 500 * 1024 * 1024
MAX_TITLE = 200
MAX_NOTE = 4000
MAX_URL = 2000
KINDS = {"note": "Note", "link": "Link", "file": "File"}

PDF = ("application/pdf", "pdf", "PDF")
PNG = ("image/png", "png", "PNG image")
JPEG = ("image/jpeg", "jpg", "JPEG image")
GIF = ("image/gif", "gif", "GIF image")
WEBP = ("image/webp", "webp", "WebP image")
DOCX = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    "Word document",
)
XLSX = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
    "Excel workbook",
)
PPTX = (
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptx",
    "PowerPoint presentation",
)
CSV = ("text/csv", "csv", "CSV")
TEXT = ("text/plain", "txt", "text")
DESCRIPTIONS = {
    t[0]: t[2] for t in (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, CSV, TEXT)
}
ACCEPTED = (
    "a PDF, an image (PNG, JPEG, GIF or WebP), a Word, Excel or PowerPoint "
    "document (docx, xlsx, pptx), a CSV or a plain text file"
)
_OFFICE = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}


class EvidenceError(ValueError):
    """Evidence that cannot be kept; the message says why, field names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def megabytes(size: int) -> str:
    """Say a size in megabytes as people read it ("20 MB", "0.3 MB")."""
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"


# What a file is -----------------------------------------------------------------


def sniff(stream) -> tuple[str, str, str]:
    """Return (media type, extension, description) of a seekable file from its bytes.

    Raises EvidenceError for anything not accepted. Leaves the stream at 0.
    """
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _office(stream)
    return _text(stream, head)


def _office(stream) -> tuple[str, str, str]:
    try:
        with zipfile.ZipFile(stream) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        names = set()
    finally:
        stream.seek(0)
    if "[Content_Types].xml" in names:
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise EvidenceError(
                "This document contains macros, which are not accepted: save it "
                "as a plain docx, xlsx or pptx and upload that.",
                "file",
            )
        for part, kind in _OFFICE.items():
            if part in names:
                return kind
    raise EvidenceError(
        f"This file is a zip archive, not one of the accepted kinds: {ACCEPTED}.",
        "file",
    )


def _text(stream, head: bytes) -> tuple[str, str, str]:
    refused = EvidenceError(
        f"This kind of file cannot be kept as evidence. Upload {ACCEPTED}.", "file"
    )
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    first = ""
    try:
        while block := stream.read(CHUNK_BYTES):
            if b"\x00" in block:
                raise refused
            text = decoder.decode(block)
            if len(first) < 4096:
                first += text[:4096]
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise refused from None
    finally:
        stream.seek(0)
    if not first.strip():
        raise EvidenceError("The file is empty.", "file")
    if first.lstrip()[:1] == "<":
        # HTML, SVG or XML: a browser could run what is in it.
        raise EvidenceError(
            "This file is a web page or markup (HTML, SVG or XML), which cannot "
            f"be kept as evidence. Upload {ACCEPTED}.",
            "file",
        )
    lines = [line for line in first.splitlines()[:10] if line.strip()]
    if len(lines) >= 2:
        try:
            widths = {len(row) for row in csv.reader(lines[:-1] or lines)}
        except csv.Error:
            widths = set()
        if len(widths) == 1 and widths.pop() >= 2:
            return CSV
    return TEXT


# Adding --------------------------------------------------------------------------


def _owner(cycle: dict) -> dict:
    return {"team_id": cycle["team_id"], "school_id": cycle.get("school_id")}


def _check_cycle(cycle: dict) -> None:
    if cycle["kind"] != "self":
        raise EvidenceError("Evidence is kept on the school's own self-evaluation.")
    if cycle["state"] == "closed":
        raise EvidenceError("The cycle is closed: evidence can no longer be added.")


def _check_common(cycle: dict, title: str, item_ids) -> tuple[str, list[str]]:
    _check_cycle(cycle)
    title = (title or "").strip()
    if not title:
        raise EvidenceError("Give the evidence a title", "title")
    if len(title) > MAX_TITLE:
        raise EvidenceError(f"The title is {MAX_TITLE} characters at most", "title")
    items = [i for i in dict.fromkeys(item_ids or ()) if i]
    if not items:
        raise EvidenceError("Choose at least one item this evidence supports", "items")
    unknown = [i for i in items if i not in cycle["snapshot"].items]
    if unknown:
        raise EvidenceError("Choose items of this cycle's instrument", "items")
    return title, items


def _insert(db, cycle: dict, row: dict, items: list[str], actor_id: int) -> int:
    """Write the evidence row and its item links in one short transaction."""
    stamp = now()
    with immediate(db):
        eid = (
            db["evidence"]
            .insert(
                {
                    "cycle_id": cycle["id"],
                    **_owner(cycle),
                    **row,
                    "added_by": actor_id,
                    "added_at": stamp,
                }
            )
            .last_pk
        )
        db["evidence_items"].insert_all(
            {"evidence_id": eid, "cycle_id": cycle["id"], "item_id": i} for i in items
        )
        audit.record(
            db,
            actor_id,
            "evidence.add",
            "evidence",
            eid,
            cycle=cycle["id"],
            kind=row["kind"],
            items=items,
        )
    return eid


def add_note(db, cycle: dict, *, title: str, note: str, item_ids, actor_id: int) -> int:
    """Keep a written note as evidence for items of a cycle; return its id."""
    title, items = _check_common(cycle, title, item_ids)
    note = _check_note(note)
    return _insert(
        db, cycle, {"kind": "note", "title": title, "note": note}, items, actor_id
    )


def _check_note(note: str | None) -> str:
    note = (note or "").strip()
    if not note:
        raise EvidenceError("Write the note", "note")
    if len(note) > MAX_NOTE:
        raise EvidenceError(f"The note is {MAX_NOTE} characters at most", "note")
    return note


def check_url(url: str) -> str:
    """Return a web address cleaned, or raise EvidenceError: http and https only."""
    url = (url or "").strip()
    if not url:
        raise EvidenceError("Enter the web address", "url")
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        raise EvidenceError("Enter a web address without spaces, like https://…", "url")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise EvidenceError(
            "Enter a web address that starts with https:// or http://", "url"
        )
    return url


def add_link(db, cycle: dict, *, title: str, url: str, item_ids, actor_id: int) -> int:
    """Keep a link (http or https) as evidence for items of a cycle; return its id."""
    title, items = _check_common(cycle, title, item_ids)
    url = check_url(url)
    return _insert(
        db, cycle, {"kind": "link", "title": title, "url": url}, items, actor_id
    )


def used_bytes(db, cycle: dict) -> int:
    """Return the bytes of files the cycle's school (or trust board) keeps.

    Finished files only (an upload under way has no evidence row yet), and
    each stored blob once, however many cycles' pieces name it.
    """
    if cycle.get("school_id"):
        where, key = "school_id = ?", cycle["school_id"]
    else:
        where, key = "team_id = ? AND school_id IS NULL", cycle["team_id"]
    sql = (
        "SELECT total(size) FROM (SELECT max(size) AS size FROM evidence "
        f"WHERE {where} AND blob IS NOT NULL GROUP BY blob)"
    )
    return int(db.execute(sql, [key]).fetchone()[0])


def _file_size(stream) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def add_file(
    db,
    cycle: dict,
    *,
    title: str,
    stream,
    filename: str,
    item_ids,
    actor_id: int,
    max_bytes: int = MAX_FILE_BYTES,
    quota: int = DEFAULT_QUOTA_BYTES,
    **writing,
) -> int:
    """Keep an uploaded file as evidence for items of a cycle; return its id.

    The stream must be seekable (Werkzeug spools uploads to a temporary file).
    writing: chunk_bytes and one_at_a_time, as _write_chunks takes them.
    """
    size = _file_size(stream) if stream is not None else 0
    if stream is None or (size == 0 and not filename):
        raise EvidenceError("Choose a file", "file")
    title, items = _check_common(cycle, title or _stem(filename), item_ids)
    kind = _check_file(stream, size, max_bytes)
    _check_quota(db, cycle, size, quota)
    stored = _write_chunks(db, stream, filename, kind, **writing)
    try:
        with immediate(db):
            _check_quota(db, cycle, size, quota)
            eid = _insert(
                db, cycle, {"kind": "file", "title": title, **stored}, items, actor_id
            )
    except BaseException:
        write_one(db, "DELETE FROM evidence_chunks WHERE blob = ?", [stored["blob"]])
        raise
    checkpoint(db)
    log.info("evidence %s: %s bytes", eid, size)
    return eid


def add(db, cycle: dict, kind: str, fields: dict, *, actor_id: int, **limits) -> int:
    """Keep a note, a link or a file as evidence; return its id.

    fields: as add_note, add_link or add_file take them; limits: how a file
    is checked and written (add_file's max_bytes, quota and writing).
    """
    if kind == "note":
        return add_note(db, cycle, actor_id=actor_id, **fields)
    if kind == "link":
        return add_link(db, cycle, actor_id=actor_id, **fields)
    return add_file(db, cycle, actor_id=actor_id, **limits, **fields)


def _check_file(stream, size: int, max_bytes: int) -> tuple[str, str, str]:
    """Refuse an empty or oversize file; return what it is, from its bytes."""
    if size == 0:
        raise EvidenceError("The file is empty.", "file")
    if size > max_bytes:
        raise EvidenceError(
            f"The file is {megabytes(size)}: files are {megabytes(max_bytes)} at most.",
            "file",
        )
    return sniff(stream)


def _bulk(db, wanted: bool = True):
    """The lock one run of chunk writes (or deletions) holds from start to end."""
    lock = getattr(db, "bulk_lock", None)
    return lock if wanted and lock is not None else contextlib.nullcontext()


def new_blob_name() -> str:
    """A new blob's name: the time it was started (for the sweep), then chance."""
    return f"{int(time.time()):012d}-{secrets.token_hex(8)}"


def blob_started(blob: str) -> int:
    """The time (epoch seconds) a blob's upload started, from its name."""
    return int(blob.split("-", 1)[0])


def _write_chunks(
    db,
    stream,
    filename: str,
    kind,
    *,
    chunk_bytes: int = CHUNK_BYTES,
    one_at_a_time: bool = True,
) -> dict:
    """Write a file's bytes as chunks of a new blob; return the row fields naming it.

    No evidence row names the blob yet: the caller commits one, or deletes
    the chunks. If neither happens (the process is killed), the sweep does.
    one_at_a_time: wait for any other upload's chunks first (db.bulk_lock).
    """
    media_type, ext, _ = kind
    digest = hashlib.sha256()
    size = seq = 0
    with _bulk(db, one_at_a_time):
        blob = new_blob_name()  # its time is when writing starts, for the sweep
        try:
            while block := stream.read(chunk_bytes):
                digest.update(block)
                size += len(block)
                # One chunk, one transaction: the write lock is held for one
                # insert of at most chunk_bytes, then answer saves go first.
                write_one(
                    db,
                    "INSERT INTO evidence_chunks (blob, seq, data) VALUES (?, ?, ?)",
                    [blob, seq, block],
                )
                seq += 1
                if size // CHECKPOINT_BYTES != (size - len(block)) // CHECKPOINT_BYTES:
                    checkpoint(db)
        except BaseException:
            write_one(db, "DELETE FROM evidence_chunks WHERE blob = ?", [blob])
            raise
    return {
        "filename": f"{_stem(filename) or 'evidence'}.{ext}",
        "media_type": media_type,
        "size": size,
        "sha256": digest.hexdigest(),
        "blob": blob,
    }


def _check_quota(db, cycle: dict, size: int, quota: int) -> None:
    used = used_bytes(db, cycle)
    if used + size > quota:
        raise EvidenceError(
            f"Your school's evidence space is full: {megabytes(used)} of "
            f"{megabytes(quota)} used, and this file is {megabytes(size)}. "
            "Remove files you no longer need, or keep a link instead.",
            "file",
        )


def _stem(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    keep = "".join(c if c.isalnum() or c in " -_()" else "_" for c in stem).strip()
    return keep[:100]


# Reading -------------------------------------------------------------------------

_COLUMNS = (
    "e.id, e.cycle_id, e.team_id, e.school_id, e.kind, e.title, e.note, e.url, "
    "e.filename, e.media_type, e.size, e.added_by, e.added_at, "
    "e.reused_from, e.revision, e.edited_at, "
    "u.name AS added_by_name, s.name AS school_name, t.name AS team_name, "
    "c0.anonymous AS origin_anonymous"
)
_JOINS = (
    "LEFT JOIN users u ON u.id = e.added_by "
    "LEFT JOIN schools s ON s.id = e.school_id JOIN teams t ON t.id = e.team_id "
    "JOIN cycles c0 ON c0.id = e.cycle_id"
)


def _shape(cycle: dict, row: dict) -> dict:
    # Named only where both the cycle it was added in and the one shown are
    # named self-evaluations: reviewers see the school.
    anonymous = (
        cycle["kind"] != "self" or cycle["anonymous"] or row.pop("origin_anonymous")
    )
    row["added_by_label"] = anonymity.evidence_author(
        {"anonymous": anonymous},
        row.pop("added_by_name"),
        row["school_name"] or row["team_name"],
    )
    row["kind_label"] = (
        DESCRIPTIONS.get(row["media_type"], "File")
        if row["kind"] == "file"
        else KINDS[row["kind"]]
    )
    row["size_label"] = megabytes(row["size"]) if row["kind"] == "file" else ""
    return row


def for_cycle(db, cycle: dict) -> list[dict]:
    """Return the evidence linked to a self-evaluation's items, each with item_ids."""
    rows = db.execute(
        f"SELECT {_COLUMNS}, group_concat(ei.item_id, ' ') AS item_list "
        f"FROM evidence_items ei JOIN evidence e ON e.id = ei.evidence_id {_JOINS} "
        "WHERE ei.cycle_id = ? GROUP BY e.id ORDER BY e.added_at, e.id",
        [cycle["id"]],
    )
    names = [d[0] for d in rows.description]
    out = []
    for values in rows.fetchall():
        row = dict(zip(names, values, strict=True))
        row["item_ids"] = (row.pop("item_list") or "").split()
        out.append(_shape(cycle, row))
    return out


def by_item(pieces: list[dict]) -> dict[str, list[dict]]:
    """Group evidence by the items it is linked to."""
    out: dict[str, list[dict]] = {}
    for piece in pieces:
        for item_id in piece["item_ids"]:
            out.setdefault(item_id, []).append(piece)
    return out


def get_in_cycle(db, cycle: dict, eid: int) -> dict | None:
    """Return one piece of evidence the cycle may show, or None.

    A self-evaluation shows what is linked to its items; a peer cycle only
    what its host chose to show its reviewers.
    """
    if cycle["kind"] == "peer":
        where = "EXISTS (SELECT 1 FROM peer_evidence p WHERE p.cycle_id = ? AND p.evidence_id = e.id)"
    else:
        where = "EXISTS (SELECT 1 FROM evidence_items i WHERE i.cycle_id = ? AND i.evidence_id = e.id)"
    cursor = db.execute(
        f"SELECT {_COLUMNS}, e.blob FROM evidence e {_JOINS} WHERE e.id = ? AND {where}",
        [eid, cycle["id"]],
    )
    values = cursor.fetchone()
    if values is None:
        return None
    return _shape(
        cycle, dict(zip([d[0] for d in cursor.description], values, strict=True))
    )


def read_chunks(path: str, blob: str):
    """Yield a file's bytes chunk by chunk, each from its own short read.

    Opens its own connection: the download is streamed after the request's
    connection has gone back to its thread.
    """
    db = connect(path)
    try:
        seq = 0
        while True:
            row = db.execute(
                "SELECT data FROM evidence_chunks WHERE blob = ? AND seq = ?",
                [blob, seq],
            ).fetchone()
            if row is None:
                return
            yield row[0]
            seq += 1
    finally:
        db.conn.close()


def remove(db, cycle: dict, eid: int, *, actor_id: int) -> None:
    """Unlink evidence from a cycle; delete it (and its bytes) when nothing else uses it."""
    with immediate(db):
        db.execute(
            "DELETE FROM evidence_items WHERE evidence_id = ? AND cycle_id = ?",
            [eid, cycle["id"]],
        )
        still = db.execute(
            "SELECT 1 FROM evidence_items WHERE evidence_id = ? LIMIT 1", [eid]
        ).fetchone()
        blob = None
        if not still:
            blob = db.execute(
                "SELECT blob FROM evidence WHERE id = ?", [eid]
            ).fetchone()[0]
            for table in ("evidence_checks", "peer_evidence"):
                db.execute(f"DELETE FROM {table} WHERE evidence_id = ?", [eid])
            db.execute("DELETE FROM evidence WHERE id = ?", [eid])
            blob = None if _named(db, blob) else blob
        audit.record(
            db, actor_id, "evidence.remove", "evidence", eid, cycle=cycle["id"]
        )
    if blob:
        delete_blob(db, blob)


# Editing ----------------------------------------------------------------------


class StaleEvidence(EvidenceError):
    """An edit made from an older revision of a piece than the one stored."""

    def __init__(self, current: dict):
        super().__init__(
            "Someone changed this evidence after you opened it: your edit "
            "has not been saved."
        )
        self.current = current


def for_edit(db, cycle: dict, eid: int) -> dict | None:
    """Return a piece of a self-evaluation with its items there and its marks, or None."""
    if cycle["kind"] != "self":
        return None
    piece = get_in_cycle(db, cycle, eid)
    if piece is None:
        return None
    piece["item_ids"] = [
        r[0]
        for r in db.execute(
            "SELECT item_id FROM evidence_items WHERE evidence_id = ? AND cycle_id = ?",
            [eid, cycle["id"]],
        )
    ]
    piece["marked"] = db.execute(
        "SELECT count(*) FROM evidence_checks WHERE evidence_id = ?", [eid]
    ).fetchone()[0]
    piece["note"] = piece["note"] or ""
    return piece


def edit(
    db,
    cycle: dict,
    eid: int,
    fields: dict,
    *,
    actor_id: int,
    max_bytes: int = MAX_FILE_BYTES,
    quota: int = DEFAULT_QUOTA_BYTES,
    **writing,
) -> list[str]:
    """Change a piece's title, note or link and its items, or replace its file.

    fields: title, item_ids, and note (a note), url (a link), or stream and
    filename (a file; no file chosen keeps the current one); base_revision,
    the revision the editor loaded (0 when unknown). If the piece has moved
    on since, StaleEvidence is raised with the stored piece, unless it
    already holds exactly this edit. Once a peer reviewer has marked a piece it no longer
    changes (what they confirmed stays what they saw); nor does anything in
    a closed cycle. Returns the names of the fields changed (audited).
    """
    piece = for_edit(db, cycle, eid)
    if piece is None:
        raise EvidenceError("There is no such evidence in this cycle.")
    if piece["marked"]:
        raise EvidenceError(
            "Peer reviewers have marked this evidence, so it stays as they saw "
            "it. Add a new piece instead."
        )
    title, items = _check_common(cycle, fields.get("title"), fields.get("item_ids"))
    change = {"title": title}
    if piece["kind"] == "note":
        change["note"] = _check_note(fields.get("note"))
    elif piece["kind"] == "link":
        change["url"] = check_url(fields.get("url"))
    stream, filename = fields.get("stream"), fields.get("filename") or ""
    size = _file_size(stream) if stream is not None and piece["kind"] == "file" else 0
    if size or filename:
        kind = _check_file(stream, size, max_bytes)
        shared = _named_elsewhere(db, piece["blob"], eid)
        freed = 0 if shared else piece["size"]
        _check_quota(db, cycle, size - freed, quota)
        change.update(_write_chunks(db, stream, filename, kind, **writing))
    try:
        changed = _apply_edit(
            db, cycle, piece, change, items, actor_id, fields.get("base_revision", 0)
        )
    except BaseException:
        if "blob" in change:
            delete_blob(db, change["blob"])
        raise
    if "blob" in change and not _named(db, piece["blob"]):
        delete_blob(db, piece["blob"])
    return changed


def _apply_edit(db, cycle, piece, change, items, actor_id, base_revision) -> list[str]:
    eid = piece["id"]
    with immediate(db):
        current = for_edit(db, cycle, eid)
        if current is None:
            raise EvidenceError("This evidence has been removed meanwhile.")
        changed = [k for k, v in change.items() if current.get(k) != v]
        if sorted(current["item_ids"]) != sorted(items):
            changed.append("items")
        if current["revision"] != base_revision:
            if not changed:
                return []  # the same edit, sent twice
            raise StaleEvidence(current)
        if not changed:
            return []
        db["evidence"].update(
            eid,
            {
                **change,
                "revision": current["revision"] + 1,
                "edited_by": actor_id,
                "edited_at": now(),
            },
        )
        db.execute(
            "DELETE FROM evidence_items WHERE evidence_id = ? AND cycle_id = ?",
            [eid, cycle["id"]],
        )
        db["evidence_items"].insert_all(
            {"evidence_id": eid, "cycle_id": cycle["id"], "item_id": i} for i in items
        )
        audit.record(
            db,
            actor_id,
            "evidence.edit",
            "evidence",
            eid,
            cycle=cycle["id"],
            changed=sorted({"file" if k in _FILE_FIELDS else k for k in changed}),
        )
    return changed


_FILE_FIELDS = {"filename", "media_type", "size", "sha256", "blob"}


def _named_elsewhere(db, blob: str | None, eid: int) -> bool:
    return bool(
        blob
        and db.execute(
            "SELECT 1 FROM evidence WHERE blob = ? AND id != ? LIMIT 1", [blob, eid]
        ).fetchone()
    )


def edit_rows(current: dict, mine: dict, snapshot) -> list[dict]:
    """The stored piece and an edit refused as stale, side by side, field by field."""
    number = {i: n for n, i in enumerate(snapshot.item_ids, 1)}

    def items(ids):
        return "\n".join(
            f"{number[i]}. {snapshot.items[i]['statement']}"
            for i in sorted(ids or [], key=lambda i: number.get(i, 0))
            if i in number
        )

    rows = [("Title", current["title"], (mine.get("title") or "").strip())]
    if current["kind"] == "note":
        rows.append(("Note", current["note"], (mine.get("note") or "").strip()))
    elif current["kind"] == "link":
        rows.append(("Web address", current["url"], (mine.get("url") or "").strip()))
    else:
        new = mine.get("filename")
        rows.append(
            (
                "File",
                current["filename"],
                f"{new} (not kept: choose it again)" if new else current["filename"],
            )
        )
    rows.append(("Items", items(current["item_ids"]), items(mine.get("item_ids"))))
    return [
        {"label": label, "theirs": a, "mine": b, "differs": a != b}
        for label, a, b in rows
    ]


def _named(db, blob: str | None) -> bool:
    """Whether any piece of evidence (of any cycle) still names this blob."""
    return bool(
        blob
        and db.execute(
            "SELECT 1 FROM evidence WHERE blob = ? LIMIT 1", [blob]
        ).fetchone()
    )


def delete_blob(db, blob: str, *, unless_named: bool = False) -> int:
    """Delete a blob's chunks, one short transaction each; return how many.

    Chunk by chunk, like the upload, so saves never wait long behind it.
    Called once no piece names the blob (decided inside the transaction that
    stopped naming it), so nothing can start naming it again; the sweep,
    which decides outside one, passes unless_named to check at each chunk.
    """
    guard = " AND NOT EXISTS (SELECT 1 FROM evidence WHERE blob = ?)"
    sql = "DELETE FROM evidence_chunks WHERE blob = ? AND seq = ?"
    seqs = [
        r[0]
        for r in db.execute(
            "SELECT seq FROM evidence_chunks WHERE blob = ? ORDER BY seq", [blob]
        )
    ]
    with _bulk(db):
        for n, seq in enumerate(seqs, 1):
            if unless_named:
                write_one(db, sql + guard, [blob, seq, blob])
            else:
                write_one(db, sql, [blob, seq])
            if n % CHECKPOINT_DELETES == 0:
                checkpoint(db)
    return len(seqs)


CHECKPOINT_DELETES = 16


# Chunks of an upload that never finished (the tab closed mid-way is handled
# at once; a server killed mid-upload is not) are swept after this long: an
# upload in progress writes its chunks within seconds of its name's time.
ORPHAN_AGE_SECONDS = 60 * 60


def sweep_orphans(
    db, *, min_age: int = ORPHAN_AGE_SECONDS, at: float | None = None
) -> dict:
    """Delete the chunks no piece of evidence names, once older than min_age.

    Returns {"blobs": n, "chunks": n}. Reads the blobs' names from the
    chunks' own index (not their bytes); each blob's time is in its name.
    """
    cutoff = (time.time() if at is None else at) - min_age
    orphans = [
        blob
        for (blob,) in db.execute(
            "SELECT DISTINCT c.blob FROM evidence_chunks c WHERE NOT EXISTS "
            "(SELECT 1 FROM evidence e WHERE e.blob = c.blob)"
        ).fetchall()
        if _started_before(blob, cutoff)
    ]
    chunks = sum(delete_blob(db, blob, unless_named=True) for blob in orphans)
    if orphans:
        checkpoint(db)
        log.warning(
            "swept %s unfinished evidence uploads (%s chunks)", len(orphans), chunks
        )
    return {"blobs": len(orphans), "chunks": chunks}


def _started_before(blob: str, cutoff: float) -> bool:
    try:
        return blob_started(blob) < cutoff
    except ValueError:
        return True  # not a name this code makes: nothing is writing it


# Bringing evidence into a later cycle -------------------------------------------

_COPIED = (
    "kind, title, note, url, filename, media_type, size, sha256, blob, reused_from"
)


def carried_items(earlier: dict, cycle: dict) -> dict[str, list[str]]:
    """Map each item of an earlier cycle to the items of `cycle` that carry it.

    The same rule as change over time (``crosswalk.compare_versions``): by
    id within a major version, through the crosswalk across one; an item
    that is not comparable carries nothing.
    """
    links = compare_versions(earlier["snapshot"].data, cycle["snapshot"].data)
    out: dict[str, list[str]] = {}
    for new_id, link in links["items"].items():
        for source in (link or {}).get("from", []):
            out.setdefault(source["id"], []).append(new_id)
    return out


def _roots_in(db, cycle_id: int) -> set[int]:
    """The first piece of the line of every piece linked to a cycle."""
    return {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT coalesce(e.reused_from, e.id) FROM evidence e "
            "JOIN evidence_items i ON i.evidence_id = e.id WHERE i.cycle_id = ?",
            [cycle_id],
        )
    }


def reusable(db, cycle: dict, may_view) -> list[dict]:
    """The team's earlier self-evaluations, newest first, with the pieces on offer.

    may_view(cycle) -> bool is the viewer's permission on each earlier
    cycle, the same check as its evidence page. Each piece says which items of `cycle` it would
    be linked to (``targets``) and whether it can be brought in
    (``reason`` is None) or why not: it is here already, or none of its
    items is in this cycle's version. A piece brought in before and kept
    in several cycles is offered once, from the newest.
    """
    here = _roots_in(db, cycle["id"])
    seen: set[int] = set()
    position = {item_id: n for n, item_id in enumerate(cycle["snapshot"].item_ids, 1)}
    groups = []
    for (cid,) in db.execute(
        "SELECT id FROM cycles WHERE team_id = ? AND kind = 'self' AND id < ? "
        "ORDER BY id DESC",
        [cycle["team_id"], cycle["id"]],
    ).fetchall():
        earlier = cycles.get_cycle(db, cid)
        if earlier is None or not may_view(earlier):
            continue
        carried = carried_items(earlier, cycle)
        pieces = []
        for piece in for_cycle(db, earlier):
            root = piece["reused_from"] or piece["id"]
            if root in seen:
                continue
            seen.add(root)
            targets = {t for i in piece["item_ids"] for t in carried.get(i, [])}
            piece["targets"] = sorted(targets, key=position.get)
            piece["numbers"] = [position[t] for t in piece["targets"]]
            if root in here:
                piece["reason"] = "Already in this cycle"
            elif not targets:
                piece["reason"] = "None of its items is in this cycle's instrument"
            else:
                piece["reason"] = None
            pieces.append(piece)
        if pieces:
            groups.append({"cycle": earlier, "pieces": pieces})
    return groups


def reuse(db, cycle: dict, evidence_ids, *, actor_id: int, may_view) -> int:
    """Bring chosen pieces of earlier cycles into `cycle`; return how many.

    Each becomes a piece of this cycle of its own (its title, note or link
    copied, so an edit here never changes what an earlier cycle rests on),
    linked to the items that carry its earlier ones. A file's bytes are not
    copied: the new piece names the same stored blob, counted once against
    the quota and deleted only when no piece names it.
    """
    _check_cycle(cycle)
    offered = {
        p["id"]: p
        for group in reusable(db, cycle, may_view)
        for p in group["pieces"]
        if p["reason"] is None
    }
    chosen = [offered[i] for i in dict.fromkeys(_ids(evidence_ids)) if i in offered]
    if not chosen:
        raise EvidenceError(
            "Choose at least one piece of evidence to bring in", "pieces"
        )
    stamp = now()
    brought = 0
    with immediate(db):
        here = _roots_in(db, cycle["id"])  # again, under the write lock
        for piece in chosen:
            row = db.execute(
                f"SELECT {_COPIED} FROM evidence WHERE id = ?", [piece["id"]]
            ).fetchone()
            root = piece["reused_from"] or piece["id"]
            if row is None or root in here:
                continue  # removed, or brought in by someone else, meanwhile
            copy = dict(zip(_COPIED.split(", "), row, strict=True))
            eid = (
                db["evidence"]
                .insert(
                    {
                        **copy,
                        "reused_from": root,
                        "cycle_id": cycle["id"],
                        **_owner(cycle),
                        "added_by": actor_id,
                        "added_at": stamp,
                    }
                )
                .last_pk
            )
            db["evidence_items"].insert_all(
                {"evidence_id": eid, "cycle_id": cycle["id"], "item_id": i}
                for i in piece["targets"]
            )
            audit.record(
                db,
                actor_id,
                "evidence.reuse",
                "evidence",
                eid,
                cycle=cycle["id"],
                source=piece["id"],
                items=piece["targets"],
            )
            here.add(root)
            brought += 1
    log.info("cycle %s: %s pieces of evidence brought in", cycle["id"], brought)
    return brought


def _ids(values) -> list[int]:
    out = []
    for value in values or ():
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            continue
    return out


# What readers see ----------------------------------------------------------------


def top_two(snapshot) -> set[str]:
    """Return the codes of the top two points of a cycle's scale."""
    points = sorted(snapshot.points, key=lambda p: float(p.get("value", 0)))
    return {str(p["code"]) for p in points[-2:]}


def unsupported(snapshot, agreed: dict, linked: dict) -> set[str]:
    """Items agreed in the top two points of the scale with no evidence linked."""
    top = top_two(snapshot)
    return {
        item_id
        for item_id, a in agreed.items()
        if a.get("value") in top and not a.get("deferred") and not linked.get(item_id)
    }


def coverage(snapshot, linked: dict, confirmed: set | None = None) -> list[dict]:
    """Per section: items, items resting on evidence, items on evidence a peer confirmed."""
    confirmed = confirmed or set()
    out = []
    for section in snapshot.sections:
        ids = [i["id"] for i in section["items"]]
        out.append(
            {
                "section_id": section["id"],
                "title": section["title"],
                "items": len(ids),
                "evidenced": sum(1 for i in ids if linked.get(i)),
                "confirmed": sum(1 for i in ids if i in confirmed),
            }
        )
    return out


# The items of a self-evaluation (ei) resting on a piece that a peer review
# of it (pr) confirmed; a query adds its SELECT in front and narrows the
# reviews with "AND pr.<column> = ?" after. A constant: no input reaches it.
_CONFIRMED = """
    FROM peer_reviews pr
    JOIN peer_evidence p ON p.cycle_id = pr.cycle_id
    JOIN evidence_items ei ON ei.evidence_id = p.evidence_id
      AND ei.cycle_id = pr.self_cycle_id
    WHERE EXISTS (SELECT 1 FROM evidence_checks k WHERE k.cycle_id = p.cycle_id
        AND k.evidence_id = p.evidence_id AND k.verdict = 'supports')
      AND NOT EXISTS (SELECT 1 FROM evidence_checks k WHERE k.cycle_id = p.cycle_id
        AND k.evidence_id = p.evidence_id AND k.verdict = 'not_supports')
"""


def confirmed_items(db, self_cycle_id: int) -> set[str]:
    """Items of a self-evaluation resting on evidence a peer confirmed.

    A piece is confirmed in a peer review when a reviewer marked it "seen
    and supports the judgement" and no reviewer of that review marked it
    "does not support it".
    """
    rows = db.execute(
        f"SELECT DISTINCT ei.item_id {_CONFIRMED} AND pr.self_cycle_id = ?",
        [self_cycle_id],
    )
    return {r[0] for r in rows}


def summary(db, cycle: dict, agreed: dict | None = None) -> dict:
    """What readers see of a self-evaluation's evidence, without the files.

    ``linked``: item id -> number of pieces; ``unsupported``: items agreed in
    the top two points with none linked; ``coverage``: per section.
    """
    linked: dict[str, int] = {}
    for item_id, n in db.execute(
        "SELECT item_id, count(*) FROM evidence_items WHERE cycle_id = ? GROUP BY item_id",
        [cycle["id"]],
    ):
        linked[item_id] = n
    snap = cycle["snapshot"]
    confirmed = confirmed_items(db, cycle["id"]) if cycle["kind"] == "self" else set()
    return {
        "linked": linked,
        "unsupported": unsupported(snap, agreed or {}, linked),
        "coverage": coverage(snap, linked, confirmed),
        "confirmed": confirmed,
    }


# Peer verification -------------------------------------------------------------

VERDICTS = {
    "supports": "Seen, and it supports the judgement",
    "not_supports": "Seen, and it does not support the judgement",
    "not_seen": "Not seen",
}


def shown_to_reviewers(db, peer_cycle: dict, self_cycle_id: int) -> list[dict]:
    """The host's evidence its reviewers see, each with the self-evaluation's item ids."""
    rows = db.execute(
        f"SELECT {_COLUMNS}, group_concat(ei.item_id, ' ') AS item_list "
        f"FROM peer_evidence p JOIN evidence e ON e.id = p.evidence_id {_JOINS} "
        "LEFT JOIN evidence_items ei ON ei.evidence_id = e.id AND ei.cycle_id = ? "
        "WHERE p.cycle_id = ? GROUP BY e.id ORDER BY e.added_at, e.id",
        [self_cycle_id, peer_cycle["id"]],
    )
    names = [d[0] for d in rows.description]
    out = []
    for values in rows.fetchall():
        row = dict(zip(names, values, strict=True))
        row["item_ids"] = (row.pop("item_list") or "").split()
        out.append(_shape(peer_cycle, row))
    return out


def share(
    db, peer_cycle: dict, self_cycle: dict, evidence_ids, *, actor_id: int
) -> int:
    """Set which of the self-evaluation's evidence the reviewers see; return how many."""
    if peer_cycle["state"] == "closed":
        raise EvidenceError(
            "The review is closed: what reviewers see no longer changes."
        )
    allowed = {p["id"] for p in for_cycle(db, self_cycle)}
    chosen = sorted({int(e) for e in evidence_ids or ()} & allowed)
    stamp = now()
    with immediate(db):
        current = {
            r[0]
            for r in db.execute(
                "SELECT evidence_id FROM peer_evidence WHERE cycle_id = ?",
                [peer_cycle["id"]],
            )
        }
        for eid in current - set(chosen):
            db.execute(
                "DELETE FROM evidence_checks WHERE cycle_id = ? AND evidence_id = ?",
                [peer_cycle["id"], eid],
            )
            db.execute(
                "DELETE FROM peer_evidence WHERE cycle_id = ? AND evidence_id = ?",
                [peer_cycle["id"], eid],
            )
        db["peer_evidence"].insert_all(
            (
                {
                    "cycle_id": peer_cycle["id"],
                    "evidence_id": eid,
                    "shown_by": actor_id,
                    "shown_at": stamp,
                }
                for eid in chosen
                if eid not in current
            ),
        )
        audit.record(
            db, actor_id, "evidence.share", "cycle", peer_cycle["id"], evidence=chosen
        )
    return len(chosen)


def record_checks(db, peer_cycle: dict, reviewer_id: int, verdicts: dict) -> int:
    """Record one reviewer's marks on the shown evidence; return how many."""
    if peer_cycle["state"] not in ("open", "moderation"):
        raise EvidenceError(
            "Evidence is marked while the review is open or in moderation."
        )
    shown = {
        r[0]
        for r in db.execute(
            "SELECT evidence_id FROM peer_evidence WHERE cycle_id = ?",
            [peer_cycle["id"]],
        )
    }
    rows = [
        {
            "cycle_id": peer_cycle["id"],
            "evidence_id": int(eid),
            "reviewer_id": reviewer_id,
            "verdict": verdict,
            "checked_at": now(),
        }
        for eid, verdict in verdicts.items()
        if verdict in VERDICTS and int(eid) in shown
    ]
    with immediate(db):
        db["evidence_checks"].upsert_all(
            rows, pk=("cycle_id", "evidence_id", "reviewer_id")
        )
    return len(rows)


def my_checks(db, peer_cycle: dict, reviewer_id: int) -> dict[int, str]:
    """One reviewer's marks, evidence id -> verdict."""
    return dict(
        db.execute(
            "SELECT evidence_id, verdict FROM evidence_checks WHERE cycle_id = ? AND reviewer_id = ?",
            [peer_cycle["id"], reviewer_id],
        ).fetchall()
    )


def check_counts(db, peer_cycle: dict) -> dict[int, dict[str, int]]:
    """Per shown piece, how many reviewers chose each verdict (never who)."""
    out: dict[int, dict[str, int]] = {}
    for eid, verdict, n in db.execute(
        "SELECT evidence_id, verdict, count(*) FROM evidence_checks WHERE cycle_id = ? "
        "GROUP BY evidence_id, verdict",
        [peer_cycle["id"]],
    ):
        out.setdefault(eid, dict.fromkeys(VERDICTS, 0))[verdict] = n
    return out


def peer_coverage(db, peer_cycle: dict, self_cycle: dict) -> list[dict]:
    """Per section of the self-evaluation: items on evidence, and on evidence this review confirmed."""
    linked: dict[str, int] = {}
    for item_id, n in db.execute(
        "SELECT item_id, count(*) FROM evidence_items WHERE cycle_id = ? GROUP BY item_id",
        [self_cycle["id"]],
    ):
        linked[item_id] = n
    confirmed = set()
    counts = check_counts(db, peer_cycle)
    for piece in shown_to_reviewers(db, peer_cycle, self_cycle["id"]):
        c = counts.get(piece["id"])
        if c and c["supports"] and not c["not_supports"]:
            confirmed.update(piece["item_ids"])
    return coverage(self_cycle["snapshot"], linked, confirmed)


def round_coverage(db, round_id: int, snapshot) -> dict[int, list[dict]]:
    """Per school reviewed in a peer round: its self-evaluation's coverage by section.

    Items resting on evidence are those the school linked evidence to in the
    self-evaluation the review compares with; confirmed, those resting on a
    piece this round's reviewers marked as supporting the judgement, none of
    them marking it as not. Counts of items only: evidence belongs to the
    school, never to the person who added it.
    """
    linked: dict[int, dict[str, int]] = {}
    for school_id, item_id in db.execute(
        """
        SELECT DISTINCT pr.school_id, ei.item_id FROM peer_reviews pr
        JOIN evidence_items ei ON ei.cycle_id = pr.self_cycle_id
        WHERE pr.round_id = ?
        """,
        [round_id],
    ):
        linked.setdefault(school_id, {})[item_id] = 1
    confirmed: dict[int, set] = {}
    for school_id, item_id in db.execute(
        f"SELECT DISTINCT pr.school_id, ei.item_id {_CONFIRMED} AND pr.round_id = ?",
        [round_id],
    ):
        confirmed.setdefault(school_id, set()).add(item_id)
    schools = [
        r[0]
        for r in db.execute(
            "SELECT school_id FROM peer_reviews WHERE round_id = ?", [round_id]
        )
    ]
    # Most schools of a big partnership keep no evidence: share one zero row.
    none = coverage(snapshot, {})
    return {
        sid: coverage(snapshot, linked[sid], confirmed.get(sid))
        if sid in linked
        else none
        for sid in schools
    }


def totals(rows: list[dict]) -> dict:
    """Add up per-section coverage: items, on evidence, on confirmed evidence."""
    return {
        key: sum(r[key] for r in rows) for key in ("items", "evidenced", "confirmed")
    }
