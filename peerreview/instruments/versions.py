"""Released versions of the shipped instruments, recorded so that none can drift.

`instruments/versions.lock` (JSON, written by `flask instruments lock`)
records, for each shipped instrument, the file it lives in and, for every
released version, the content hash: the SHA-256 of the parsed content (the
same hash a cycle stores when it opens), so comments, blank lines, key order
and quoting never count, and any change of meaning does. It also keeps the
latest released version's full snapshot, so that a changed file can be told
exactly what changed and which version bump that needs, and each released
version's item ids, so that a crosswalk can name the items it replaces.

`lock_problems` is what `flask instruments check` and the test suite run:

- a released version whose content changed is drift: the file must carry a
  new version, with a bump big enough for the change;
- a new version must be above the released one, pass the version rules,
  and be recorded with `flask instruments lock` before it ships;
- a shipped id belongs to its file: another file, in the folder or checked
  alone, may not use it.
"""

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .loader import (
    Problem,
    check_version_change,
    crosswalk_errors,
    needed_bump,
    semver,
    version_changes,
)
from .schema import Instrument

LOCK_NAME = "versions.lock"
LOCK_FORMAT = 1
LOCK_COMMAND = "flask instruments lock"


class LockError(Exception):
    """A lock file that cannot be read, or a version that may not be locked."""


@dataclass
class Lock:
    """The released versions of the instruments in one folder."""

    path: Path
    instruments: dict[str, dict] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        """Return the folder of the instruments the lock covers."""
        return self.path.parent

    def released(self, instrument_id: str) -> dict | None:
        """Return the entry of one instrument id, or None."""
        return self.instruments.get(instrument_id)

    def item_ids(self, instrument_id: str, version: str) -> list[str] | None:
        """Return the item ids of one released version, or None."""
        entry = self.released(instrument_id) or {}
        release = entry.get("versions", {}).get(version)
        return None if release is None else list(release.get("items", []))

    def record(self, instrument: Instrument, file_name: str) -> None:
        """Record one instrument's current version as released."""
        entry = self.instruments.setdefault(
            instrument.id, {"file": file_name, "versions": {}}
        )
        entry["file"] = file_name
        entry["versions"][instrument.version] = {
            "hash": instrument.content_hash,
            "items": [item.id for item in instrument.items()],
        }
        latest = max(entry["versions"], key=semver)
        if latest == instrument.version:
            entry["latest"] = instrument.snapshot()

    def write(self) -> None:
        """Write the lock, sorted, so that a diff shows only what changed."""
        ordered = {}
        for instrument_id in sorted(self.instruments):
            entry = self.instruments[instrument_id]
            ordered[instrument_id] = {
                "file": entry["file"],
                "versions": {
                    v: entry["versions"][v]
                    for v in sorted(entry["versions"], key=semver)
                },
                "latest": entry.get("latest"),
            }
        document = {
            "format": LOCK_FORMAT,
            "about": (
                f"Released instrument versions, written by `{LOCK_COMMAND}`; "
                "do not edit by hand. See docs/instruments.md, Versions."
            ),
            "instruments": ordered,
        }
        text = json.dumps(document, indent=1, ensure_ascii=False, sort_keys=False)
        self.path.write_text(text + "\n", encoding="utf-8")


def read_lock(folder: str | os.PathLike[str]) -> Lock:
    """Return the lock beside the instruments in `folder` (empty if there is none)."""
    path = Path(folder) / LOCK_NAME
    if not path.exists():
        return Lock(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LockError(f"{path}: cannot be read: {error}") from None
    if not isinstance(document, dict) or document.get("format") != LOCK_FORMAT:
        raise LockError(f"{path}: not a format {LOCK_FORMAT} lock file")
    return Lock(path, dict(document.get("instruments") or {}))


def _in_folder(instrument: Instrument, folder: Path) -> bool:
    try:
        return Path(instrument.filename).resolve().parent == folder.resolve()
    except OSError:
        return False


def lock_problems(
    instruments: list[Instrument], lock: Lock, *, whole_folder: bool = False
) -> list[Problem]:
    """Return every problem with these instruments against the released versions.

    whole_folder: every file of the lock's folder was checked, so a released
    instrument without a file is a problem too.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for instrument in instruments:
        entry = lock.released(instrument.id)
        shipped = _in_folder(instrument, lock.folder)
        if entry is None:
            if shipped:
                problems.append(
                    _at(
                        instrument,
                        ("version",),
                        f"version {instrument.version} of {instrument.id!r} is not "
                        f"released: run `{LOCK_COMMAND}` to record it in {LOCK_NAME}",
                    )
                )
            continue
        home = lock.folder / entry["file"]
        if not shipped or Path(instrument.filename).name != entry["file"]:
            problems.append(
                _at(
                    instrument,
                    ("id",),
                    f"the id {instrument.id!r} belongs to the shipped instrument "
                    f"{home}; give this instrument an id of its own",
                )
            )
            continue
        seen.add(instrument.id)
        problems += _release_problems(instrument, entry)
    if whole_folder:
        for instrument_id, entry in sorted(lock.instruments.items()):
            if instrument_id not in seen and not any(
                i.id == instrument_id for i in instruments
            ):
                problems.append(
                    Problem(
                        str(lock.path),
                        1,
                        None,
                        f"the released instrument {instrument_id!r} has no file: "
                        f"restore {lock.folder / entry['file']}, whose past cycles "
                        "name it",
                    )
                )
    return problems


def _release_problems(instrument: Instrument, entry: dict) -> list[Problem]:
    versions = entry.get("versions", {})
    latest_version = max(versions, key=semver)
    latest = entry.get("latest") or {}
    release = versions.get(instrument.version)
    if release is not None:
        if release["hash"] == instrument.content_hash:
            return []
        if instrument.version != latest_version:
            return [
                _at(
                    instrument,
                    ("version",),
                    f"version {instrument.version} was released with other content "
                    f"and the latest release is {latest_version}; give the file a "
                    f"version above {latest_version}",
                )
            ]
        return _drift(instrument, latest)
    if semver(instrument.version) < semver(latest_version):
        return [
            _at(
                instrument,
                ("version",),
                f"version {instrument.version} is below the latest release "
                f"{latest_version}",
            )
        ]
    problems = check_version_change(latest, instrument)
    if semver(instrument.version)[0] == semver(latest_version)[0]:
        # A crosswalk kept through a minor version still names the items of
        # the major version before.
        problems += _crosswalk_problems(instrument, entry)
    if problems:
        return problems
    return [
        _at(
            instrument,
            ("version",),
            f"version {instrument.version} is new: run `{LOCK_COMMAND}` to record "
            f"it in {LOCK_NAME} (released: {latest_version})",
        )
    ]


def _crosswalk_problems(instrument: Instrument, entry: dict) -> list[Problem]:
    versions = entry.get("versions", {})
    major = semver(instrument.version)[0]
    older = [v for v in versions if semver(v)[0] == major - 1]
    if not older:
        return []
    before = max(older, key=semver)
    return [
        Problem(instrument.filename, instrument.line_of(loc), item_id, message)
        for loc, item_id, message in crosswalk_errors(
            instrument, versions[before].get("items", []), before
        )
    ]


def _drift(instrument: Instrument, latest: dict) -> list[Problem]:
    """Say that a released version changed, what changed and the bump it needs."""
    changes = version_changes(latest, instrument)
    if not changes:
        what, level = "the content changed", "PATCH"
    else:
        level = changes[0][0]
        what = "; ".join(
            (f"item {p.item_id!r}: " if p.item_id else "") + p.message
            for _, p in changes
        )
    summary = _at(
        instrument,
        ("version",),
        f"version {instrument.version} was released with other content and the "
        f"version did not change ({what}); this is a {level} change: make it "
        f"version {needed_bump(instrument.version, level)} at least, then run "
        f"`{LOCK_COMMAND}`",
    )
    located = [
        Problem(
            p.file,
            p.line,
            p.item_id,
            f"changed since {instrument.version}: {p.message} (a {lvl} change)",
        )
        for lvl, p in changes
        if p.line != summary.line
    ]
    return [summary, *located]


def _at(instrument: Instrument, loc: tuple, message: str) -> Problem:
    return Problem(instrument.filename, instrument.line_of(loc), None, message)


def lock_instruments(instruments: list[Instrument], lock: Lock) -> list[str]:
    """Record every new version in the lock; return what was recorded.

    Raises LockError, recording nothing, when any instrument has a problem
    other than being a new version.
    """
    blocking = []
    for problem in lock_problems(instruments, lock, whole_folder=True):
        if f"run `{LOCK_COMMAND}`" in problem.message and "did not" not in (
            problem.message
        ):
            continue
        blocking.append(problem)
    if blocking:
        raise LockError("\n".join(str(p) for p in blocking))
    recorded = []
    for instrument in instruments:
        entry = lock.released(instrument.id)
        if entry and instrument.version in entry.get("versions", {}):
            continue
        lock.record(instrument, Path(instrument.filename).name)
        recorded.append(f"{instrument.id} {instrument.version}")
    if recorded:
        lock.write()
    return recorded


def upload_conflicts(database: str, instruments: list[Instrument]) -> list[Problem]:
    """Return shipped id+versions that the database knows with other content.

    An upload, or a cycle's snapshot, with the same id and version but a
    different hash would make one version mean two things.
    """
    if not database or not Path(database).exists():
        return []
    by_key = {(i.id, i.version): i for i in instruments}
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    problems = []
    try:
        for table, what in (
            ("instrument_uploads", "an uploaded instrument"),
            ("instrument_versions", "a cycle's snapshot"),
        ):
            try:
                rows = conn.execute(
                    f"SELECT DISTINCT instrument_id, version, content_hash FROM {table}"
                ).fetchall()
            except sqlite3.Error:
                continue
            for instrument_id, version, digest in rows:
                instrument = by_key.get((instrument_id, version))
                if instrument is not None and digest != instrument.content_hash:
                    problems.append(
                        _at(
                            instrument,
                            ("version",),
                            f"{what} in the database is {instrument_id!r} version "
                            f"{version} with other content; an id and version "
                            "must mean one thing: raise the version",
                        )
                    )
    finally:
        conn.close()
    return problems
