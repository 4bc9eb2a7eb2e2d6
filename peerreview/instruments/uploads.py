"""Instruments uploaded in the browser: validated like files, stored with their hash.

Rules for who may use an id (docs: the upload page says the same):

- An id has one owner: the platform (the shipped files and a platform
  admin's uploads) or one partnership (its leads' uploads).
- A partnership lead may not use the id of a shipped instrument, or of one
  that belongs to the platform or to another partnership: they give their
  instrument an id of its own.
- A platform admin may upload a new version of a shipped instrument or of an
  earlier platform upload; it must pass `check_version_change` against the
  latest known version (the shipped file or the latest upload, whichever is
  higher). A platform admin may not take over a partnership's id.
- Every new version must be above the latest known version, and content
  already in the library is not stored twice.

No Flask here: the shipped library and the acting person are arguments.
"""

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .. import audit
from ..db import immediate, now
from ..inputs import clean_text
from .loader import InstrumentInvalid, Problem, check_version_change, parse_text
from .schema import Instrument

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 256 * 1024
# Paths of the instrument pages that an id must not shadow.
RESERVED_IDS = frozenset({"upload", "from-csv"})


def semver(version: str) -> tuple[int, int, int]:
    """Return a MAJOR.MINOR.PATCH string as a comparable tuple."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


# Parsed uploads, by content hash: stored text never changes, so a parse is
# good for the life of the process.
_CACHE: "OrderedDict[str, Instrument]" = OrderedDict()
_CACHE_SIZE = 128
_CACHE_LOCK = threading.Lock()


def parse_stored(content_hash: str, text: str, filename: str) -> Instrument | None:
    """Return a stored upload parsed (cached by content hash), or None if invalid."""
    with _CACHE_LOCK:
        if content_hash in _CACHE:
            _CACHE.move_to_end(content_hash)
            return _CACHE[content_hash]
    try:
        instrument = parse_text(text, filename)
    except InstrumentInvalid as invalid:
        # A stored upload that the current schema refuses is left out, never fatal.
        for problem in invalid.problems:
            log.error("stored upload no longer valid: %s", problem)
        return None
    with _CACHE_LOCK:
        _CACHE[content_hash] = instrument
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return instrument


class UploadRefused(Exception):
    """An upload that cannot be stored, with every reason as a line of text."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


@dataclass(frozen=True)
class Stored:
    """What was stored: the upload's row id and the instrument."""

    upload_id: int
    instrument: Instrument
    replaces: str | None  # the version it follows, if any

    def summary(self) -> str:
        """Say what was added, and which version it follows."""
        follows = f" (it follows version {self.replaces})." if self.replaces else "."
        return (
            f"{self.instrument.title} version {self.instrument.version} "
            f"has been added{follows}"
        )


def clean_filename(name: str | None) -> str:
    """Return the base name of an uploaded file, safe to quote in messages."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(c for c in base if c.isprintable())[:100]
    return base or "upload.yaml"


def decode(raw: bytes, filename: str) -> str:
    """Return an upload's text, or raise UploadRefused (too large, not UTF-8)."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            [f"The file must be {MAX_UPLOAD_BYTES // 1024} KB or smaller"]
        )
    try:
        return clean_text(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problem = Problem(filename, line, None, f"not valid UTF-8 (byte {error.start})")
        raise UploadRefused([str(problem)]) from None


def owner_of(db, shipped, instrument_id: str) -> tuple[str, int | None] | None:
    """Return who owns an id: ("shipped", None), ("platform", None),
    ("partnership", id) or None when the id is free."""
    if instrument_id in shipped:
        return ("shipped", None)
    row = db.execute(
        "SELECT partnership_id FROM instrument_uploads WHERE instrument_id = ? "
        "ORDER BY id LIMIT 1",
        [instrument_id],
    ).fetchone()
    if row is None:
        return None
    return ("platform", None) if row[0] is None else ("partnership", row[0])


def latest_version(db, shipped, instrument_id: str) -> tuple[str, dict, str] | None:
    """Return (version, snapshot, content hash) of an id's latest known version."""
    candidates = []
    instrument = shipped.get(instrument_id)
    if instrument is not None:
        candidates.append(((semver(instrument.version), 1, 0), instrument))
    for row in db.query(
        "SELECT id, version, yaml, filename, content_hash FROM instrument_uploads "
        "WHERE instrument_id = ?",
        [instrument_id],
    ):
        parsed = parse_stored(row["content_hash"], row["yaml"], row["filename"] or "")
        if parsed is not None:
            candidates.append(((semver(parsed.version), 0, row["id"]), parsed))
    if not candidates:
        return None
    latest = max(candidates, key=lambda pair: pair[0])[1]
    return latest.version, latest.snapshot(), latest.content_hash


def _ownership_problems(
    instrument: Instrument, owner, partnership_id: int | None
) -> list[str]:
    at = f"{instrument.filename}:{instrument.line_of(('id',))}: -: "
    if instrument.id in RESERVED_IDS:
        return [at + f"id {instrument.id!r} is reserved; choose another id"]
    if owner is None:
        return []
    kind, owner_partnership = owner
    if partnership_id is None and kind in ("shipped", "platform"):
        return []
    if partnership_id is not None and owner == ("partnership", partnership_id):
        return []
    if kind == "shipped":
        return [
            at + f"id {instrument.id!r} belongs to an instrument shipped with the "
            "platform; only a platform admin may upload a new version of it. "
            "Give your instrument an id of its own"
        ]
    return [
        at + f"id {instrument.id!r} is already used by another organisation's "
        "instrument; choose another id"
    ]


def store_upload(
    db,
    shipped,
    text: str,
    filename: str,
    *,
    partnership_id: int | None,
    actor_id: int,
) -> Stored:
    """Validate an uploaded instrument and store it, or raise UploadRefused.

    shipped: the library of instrument files (anything with `in` and `get`);
    partnership_id: the partnership that will own it, None for platform-wide.
    """
    try:
        instrument = parse_text(text, filename)
    except InstrumentInvalid as invalid:
        log.warning(
            "refused instrument upload %s by user %s: %s problem(s)",
            filename,
            actor_id,
            len(invalid.problems),
        )
        raise UploadRefused([str(p) for p in invalid.problems]) from None
    with immediate(db):
        owner = owner_of(db, shipped, instrument.id)
        problems = _ownership_problems(instrument, owner, partnership_id)
        latest = None if problems else latest_version(db, shipped, instrument.id)
        if latest is not None:
            problems = _version_problems(instrument, latest)
        if problems:
            log.warning(
                "refused instrument upload %s by user %s: %s problem(s)",
                instrument.id,
                actor_id,
                len(problems),
            )
            raise UploadRefused(problems)
        upload_id = (
            db["instrument_uploads"]
            .insert(
                {
                    "instrument_id": instrument.id,
                    "version": instrument.version,
                    "partnership_id": partnership_id,
                    "filename": filename,
                    "yaml": text,
                    "content_hash": instrument.content_hash,
                    "uploaded_by": actor_id,
                    "uploaded_at": now(),
                }
            )
            .last_pk
        )
        audit.record(
            db,
            actor_id,
            "instrument.upload",
            "instrument_upload",
            upload_id,
            instrument=instrument.id,
            version=instrument.version,
            replaces=latest[0] if latest else None,
            partnership_id=partnership_id,
            content_hash=instrument.content_hash,
            filename=filename,
        )
    return Stored(upload_id, instrument, latest[0] if latest else None)


def _version_problems(instrument: Instrument, latest: tuple[str, dict, str]) -> list:
    version, snapshot, digest = latest
    line = instrument.line_of(("version",))
    at = f"{instrument.filename}:{line}: -: "
    if digest == instrument.content_hash:
        return [at + f"version {version} with exactly this content is already stored"]
    problems = [str(p) for p in check_version_change(snapshot, instrument)]
    if not problems and semver(instrument.version) <= semver(version):
        problems.append(
            at + f"version {instrument.version} is not above the latest "
            f"version {version}"
        )
    return problems
