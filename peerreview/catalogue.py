"""Which instruments a person may use: the shipped files plus partnerships' own.

An instrument id has one owner. The files in `instruments/` and the uploads
a platform admin makes are the platform's, seen by everyone; a partnership
lead's uploads are that partnership's, seen only by people in it (and by
platform admins). Where one id has several versions, the latest (highest
MAJOR.MINOR.PATCH) is the one offered; on a tie the shipped file wins.
"""

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from .instruments import Instrument, Library
from .instruments.uploads import parse_stored, semver

SHIPPED, PLATFORM, PARTNERSHIP = "shipped", "platform", "partnership"

# Which instruments a team may run on itself, by the team's kind: a school's
# leadership team rates its school, and the partnership its school works in
# (design: the maturity model is rated per school and per partnership); a
# trust board rates the trust's governance.
TEAM_AUDIENCES = {
    "slt": ("school_leadership_team", "partnership"),
    "board": ("trust_board",),
}


@dataclass(frozen=True)
class Entry:
    """One instrument in the catalogue, with where it comes from."""

    instrument: Instrument
    origin: str  # SHIPPED, PLATFORM (an admin's upload) or PARTNERSHIP
    partnership_id: int | None = None
    partnership_name: str | None = None
    upload_id: int | None = None
    uploaded_at: str | None = None
    uploaded_by: str | None = None

    @property
    def id(self) -> str:
        return self.instrument.id


def library() -> Library:
    """Return the application's library of instrument files."""
    return current_app.extensions["instruments"]


def _visible_uploads(db, partnership_ids, everything: bool) -> list[dict]:
    """Return upload rows (without their text) visible to these partnerships."""
    sql = (
        "SELECT u.id, u.instrument_id, u.version, u.partnership_id, u.filename, "
        "u.content_hash, u.uploaded_at, p.name AS partnership_name, "
        "a.name AS uploaded_by FROM instrument_uploads u "
        "LEFT JOIN partnerships p ON p.id = u.partnership_id "
        "LEFT JOIN users a ON a.id = u.uploaded_by"
    )
    if everything:
        return list(db.query(sql + " ORDER BY u.id"))
    ids = sorted({int(p) for p in partnership_ids or ()})
    where = " WHERE u.partnership_id IS NULL"
    if ids:
        where += f" OR u.partnership_id IN ({','.join('?' * len(ids))})"
    return list(db.query(sql + where + " ORDER BY u.id", ids))


def _upload_entry(db, row: dict) -> Entry | None:
    text = db.execute(
        "SELECT yaml FROM instrument_uploads WHERE id = ?", [row["id"]]
    ).fetchone()
    if text is None:
        return None
    instrument = parse_stored(row["content_hash"], text[0], row["filename"] or "")
    if instrument is None:
        return None
    return Entry(
        instrument=instrument,
        origin=PLATFORM if row["partnership_id"] is None else PARTNERSHIP,
        partnership_id=row["partnership_id"],
        partnership_name=row["partnership_name"],
        upload_id=row["id"],
        uploaded_at=row["uploaded_at"],
        uploaded_by=row["uploaded_by"],
    )


def entries(db, partnership_ids=(), *, everything: bool = False) -> list[Entry]:
    """Return the latest version of every instrument visible, sorted by title.

    partnership_ids: the partnerships whose own uploads are visible;
    everything: every partnership's uploads (for platform admins).
    """
    # Rank: version, then the shipped file before uploads, then the later upload.
    best: dict[str, tuple[tuple, Instrument | dict]] = {}
    for instrument in library().all():
        best[instrument.id] = ((semver(instrument.version), 1, 0), instrument)
    for row in _visible_uploads(db, partnership_ids, everything):
        try:
            rank = (semver(row["version"]), 0, row["id"])
        except ValueError:
            continue
        current = best.get(row["instrument_id"])
        if current is None or rank > current[0]:
            best[row["instrument_id"]] = (rank, row)
    found: list[Entry] = []
    for _, source in best.values():
        if isinstance(source, Instrument):
            found.append(Entry(instrument=source, origin=SHIPPED))
        else:
            entry = _upload_entry(db, source)
            if entry is not None:
                found.append(entry)
    return sorted(found, key=lambda e: (e.instrument.title.casefold(), e.id))


def entry(db, instrument_id: str, partnership_ids=(), *, everything=False):
    """Return the visible catalogue entry for an id, or None."""
    return next(
        (
            e
            for e in entries(db, partnership_ids, everything=everything)
            if e.id == instrument_id
        ),
        None,
    )


def available(
    db, partnership_ids=(), *, team_kind: str | None = None
) -> list[Instrument]:
    """Return the instruments visible to members of these partnerships.

    team_kind: only those meant for a team of this kind ("slt" or "board").
    """
    audiences = TEAM_AUDIENCES.get(team_kind, ()) if team_kind else None
    return [
        e.instrument
        for e in entries(db, partnership_ids)
        if audiences is None or e.instrument.audience in audiences
    ]


def find(
    db, instrument_id: str, partnership_ids=(), *, team_kind: str | None = None
) -> Instrument | None:
    """Return one available instrument by id (meant for `team_kind`), or None."""
    return next(
        (
            i
            for i in available(db, partnership_ids, team_kind=team_kind)
            if i.id == instrument_id
        ),
        None,
    )


# Who an instrument is for, as a refusal names them.
AUDIENCE_NAMES = {
    "school_leadership_team": "a school's senior leadership team",
    "trust_board": "a trust board",
    "partnership": "a partnership",
}

# What a team of each kind would use an instrument for, as a refusal says it.
SELF_EVALUATION_BY = {
    "slt": "a self-evaluation by a school's leadership team",
    "board": "a self-evaluation by a trust board",
}


def why_not_offered(db, instrument_id, partnership_ids=(), *, use: str) -> str:
    """Why a form refuses an instrument it did not offer (one posted by hand).

    An instrument these partnerships may see is named, with who it is for and
    that it is not for `use` (such as "a peer review of a school"); any other
    id is refused without saying whether it exists.
    """
    other = find(db, instrument_id, partnership_ids) if instrument_id else None
    if other is None:
        return "Choose an instrument"
    meant = AUDIENCE_NAMES.get(other.audience, "another kind of team")
    return (
        f"“{other.title}” is for {meant}, not for {use}: "
        "choose one of the instruments listed."
    )


def for_team(db, team: dict) -> list[Instrument]:
    """Return the instruments a team may run on itself (its partnerships', its kind's)."""
    return available(db, team["partnership_ids"], team_kind=team["kind"])


def find_for_team(db, team: dict, instrument_id: str) -> Instrument | None:
    """Return one instrument a team may run on itself, or None."""
    return find(db, instrument_id, team["partnership_ids"], team_kind=team["kind"])


def yaml_text(db, found: Entry) -> str:
    """Return the exact text of an entry's file (an upload's stored text)."""
    if found.upload_id is not None:
        return db.execute(
            "SELECT yaml FROM instrument_uploads WHERE id = ?", [found.upload_id]
        ).fetchone()[0]
    path = Path(found.instrument.filename)
    folder = library().folder.resolve()
    if folder not in path.resolve().parents:
        raise FileNotFoundError(path)
    return path.read_bytes().decode("utf-8")


def member_partnership_ids(db, user) -> set[int]:
    """Return the partnerships a person belongs to, through any of their roles.

    Leads and governors of a partnership; leads and members of its boards
    and of its schools' teams; governors of its schools.
    """
    ids = set(user.scopes("partnership_lead", "partnership"))
    ids |= user.scopes("governor", "partnership")
    team_ids = sorted(
        user.scopes("team_lead", "team") | user.scopes("team_member", "team")
    )
    school_ids = set(user.scopes("governor", "school"))
    if team_ids:
        marks = ",".join("?" * len(team_ids))
        for school_id, partnership_id in db.execute(
            f"SELECT school_id, partnership_id FROM teams WHERE id IN ({marks})",
            team_ids,
        ).fetchall():
            if school_id is not None:
                school_ids.add(school_id)
            if partnership_id is not None:
                ids.add(partnership_id)
    if school_ids:
        marks = ",".join("?" * len(school_ids))
        ids |= {
            row[0]
            for row in db.execute(
                "SELECT partnership_id FROM partnership_schools "
                f"WHERE school_id IN ({marks})",
                sorted(school_ids),
            ).fetchall()
        }
    return ids


def init_app(app) -> None:
    app.extensions["instruments"] = Library(app.config["INSTRUMENTS_DIR"])
