"""Released versions cannot drift: instruments/versions.lock and its checks."""

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from peerreview.instruments import cli as instruments_cli_module
from peerreview.instruments import load_file
from peerreview.instruments.cli import instruments_cli
from peerreview.instruments.loader import check_paths
from peerreview.instruments.versions import (
    LockError,
    lock_instruments,
    read_lock,
    upload_conflicts,
)

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "instruments"
HEALTH = "partnership-health-check.yaml"
# The released version of the health check, which these tests change.
RELEASED = load_file(FOLDER / HEALTH).version
NEXT_MAJOR = f"{int(RELEASED.split('.')[0]) + 1}.0.0"
NEXT_MINOR = f"{int(RELEASED.split('.')[0]) + 1}.1.0"
FIRST_STATEMENT = (
    "Our partnership builds on relationships and joint work that already\n"
    "          exist between the schools."
)


@pytest.fixture
def folder(tmp_path):
    """A copy of the shipped folder with its lock."""
    copy = tmp_path / "instruments"
    shutil.copytree(FOLDER, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def statement_line(path: Path) -> int:
    """Return the line of the first item's statement key."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines) if "Our partnership builds" in line)


def _line_of_key(path: Path, key: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(key))


def make_next_major(path: Path) -> None:
    """Raise the file to the next major version with no crosswalk: the released
    one's `replaces` name items of the major before it, so each item that had
    one gets a new id (a changed item may not keep its id across a major)."""
    crosswalked = [i.id for i in load_file(path).items() if i.replaces]
    text = path.read_text(encoding="utf-8").replace(
        f"version: {RELEASED}", f"version: {NEXT_MAJOR}", 1
    )
    text = "".join(line for line in text.splitlines(True) if "replaces: [" not in line)
    for item_id in crosswalked:
        text = re.sub(rf"(?<![a-z0-9-]){item_id}(?![a-z0-9-])", f"{item_id}-x", text)
    path.write_text(text, encoding="utf-8")


def rename_first_item(path: Path) -> None:
    """Give the first item a new id everywhere it is named, as a major version must."""
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("builds-on-relationships", "builds-on-what-exists"),
        encoding="utf-8",
    )


def messages(folder: Path, *paths) -> list[str]:
    targets = list(paths) or [folder]
    return [
        str(p).replace(str(folder) + "/", "")
        for p in check_paths(targets, lock_folder=folder)
    ]


def test_the_shipped_folder_matches_its_lock():
    # The test suite fails when a shipped file changes without a version bump.
    assert check_paths([FOLDER], lock_folder=FOLDER) == []
    lock = read_lock(FOLDER)
    for path in sorted(FOLDER.glob("*.yaml")):
        instrument = load_file(path)
        entry = lock.released(instrument.id)
        assert entry["file"] == path.name
        assert entry["versions"][instrument.version]["hash"] == (
            instrument.content_hash
        )


def test_comments_and_layout_are_not_content(folder):
    path = folder / HEALTH
    text = path.read_text(encoding="utf-8")
    text = text.replace("\nsections:", "\n\n# The sections.\nsections:  # here\n")
    path.write_text("# A comment.\n\n" + text, encoding="utf-8")
    assert messages(folder) == []


def test_changed_file_without_a_bump_fails_naming_the_file_and_the_change(folder):
    line = statement_line(folder / HEALTH)
    edit(folder / HEALTH, FIRST_STATEMENT, "Something else entirely.")
    assert messages(folder) == [
        f"{HEALTH}:{_line_of_key(folder / HEALTH, 'version:')}: -: version "
        f"{RELEASED} was released with other content and the "
        "version did not change (item 'builds-on-relationships': statement "
        f"reworded); this is a MAJOR change: make it version {NEXT_MAJOR} at "
        "least, then run `flask instruments lock`",
        f"{HEALTH}:{line}: builds-on-relationships: "
        f"changed since {RELEASED}: statement "
        "reworded (a MAJOR change)",
    ]


def test_removed_item_without_a_bump_fails(folder):
    path = folder / HEALTH
    gone = "middle-leaders"
    items = [item.id for item in load_file(path).items()]
    after = items[items.index(gone) + 1]
    text = path.read_text(encoding="utf-8")
    start = text.index(f"      - id: {gone}\n")
    end = text.index(f"      - id: {after}\n")
    text = text[:start] + text[end:]
    path.write_text(text.replace(f"items: [{gone}]", f"items: [{after}]"), "utf-8")
    (first, *_) = messages(folder)
    assert f"item {gone!r}: item removed" in first
    assert f"make it version {NEXT_MAJOR}" in first


def test_reworded_descriptors_need_a_minor_version(folder):
    path = folder / "partnership-maturity.yaml"
    instrument = load_file(path)
    major, minor, patch = (int(n) for n in instrument.version.split("."))
    released = instrument.version
    minor_bump = f"{major}.{minor + 1}.0"
    patch_bump = f"{major}.{minor}.{patch + 1}"
    first = next(instrument.items())
    old = " ".join(first.descriptors["2"].split()[:3])
    edit(path, f'"2": >-\n            {old}', f'"2": >-\n            Rarely, {old}')
    (summary, located) = messages(folder)
    assert "descriptors reworded" in summary
    assert f"this is a MINOR change: make it version {minor_bump} at least" in summary
    assert "(a MINOR change)" in located
    # The right bump is a new version waiting to be recorded ...
    edit(path, f"version: {released}", f"version: {minor_bump}")
    assert messages(folder) == [
        f"partnership-maturity.yaml:{_line_of(path, 'version:')}: -: version "
        f"{minor_bump} is new: run `flask instruments lock` to record it in "
        f"versions.lock (released: {released})"
    ]
    # ... and a PATCH bump is too small.
    edit(path, f"version: {minor_bump}", f"version: {patch_bump}")
    (problem,) = messages(folder)
    assert "descriptors reworded: needs a MINOR version change" in problem


def _line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(start))


def test_lock_records_a_new_version_and_refuses_drift(folder):
    path = folder / HEALTH
    edit(path, FIRST_STATEMENT, "Something else entirely.")
    with pytest.raises(LockError, match="was released with other content"):
        lock_instruments(
            [load_file(p) for p in folder.glob("*.yaml")], read_lock(folder)
        )
    make_next_major(path)
    rename_first_item(path)
    assert len(messages(folder)) == 1
    recorded = lock_instruments(
        [load_file(p) for p in sorted(folder.glob("*.yaml"))], read_lock(folder)
    )
    assert recorded == [f"partnership-health-check {NEXT_MAJOR}"]
    assert messages(folder) == []
    lock = read_lock(folder)
    released = list(read_lock(FOLDER).released("partnership-health-check")["versions"])
    assert list(lock.released("partnership-health-check")["versions"]) == [
        *released,
        NEXT_MAJOR,
    ]
    # Going back to a released version with other content is refused.
    edit(path, f"version: {NEXT_MAJOR}", f"version: {RELEASED}")
    (problem,) = messages(folder)
    assert (
        f"released with other content and the latest release is {NEXT_MAJOR}" in problem
    )


def test_new_file_may_not_reuse_a_shipped_id_alone_or_together(folder, tmp_path):
    mine = tmp_path / "mine.yaml"
    shutil.copy(folder / HEALTH, mine)
    edit(mine, f"version: {RELEASED}", f"version: {RELEASED.split('.')[0]}.9.0")
    (alone,) = messages(folder, mine)
    assert alone.endswith(
        ": -: the id 'partnership-health-check' belongs to the shipped instrument "
        f"{HEALTH}; give this instrument an id of its own"
    )
    shutil.copy(mine, folder / "mine.yml")
    together = messages(folder)
    assert together == [
        f"mine.yml:{_line_of_key(mine, 'id:')}: -: instrument id "
        f"'partnership-health-check' is already used by {HEALTH}"
    ]


def test_a_released_instrument_may_not_lose_its_file(folder):
    (folder / HEALTH).unlink()
    assert messages(folder) == [
        "versions.lock:1: -: the released instrument 'partnership-health-check' "
        f"has no file: restore {HEALTH}, whose past cycles name it"
    ]


def test_an_unreleased_shipped_file_must_be_locked(folder):
    text = (folder / HEALTH).read_text(encoding="utf-8")
    (folder / "new-one.yaml").write_text(
        text.replace("id: partnership-health-check", "id: new-one"), encoding="utf-8"
    )
    line = _line_of_key(folder / "new-one.yaml", "version:")
    assert messages(folder) == [
        f"new-one.yaml:{line}: -: version {RELEASED} of 'new-one' is not released: "
        "run `flask instruments lock` to record it in versions.lock"
    ]


def test_id_and_version_mean_one_thing_across_uploads(tmp_path):
    instrument = load_file(FOLDER / HEALTH)
    database = tmp_path / "p.db"
    conn = sqlite3.connect(database)
    conn.execute(
        "CREATE TABLE instrument_uploads (instrument_id, version, content_hash)"
    )
    conn.execute(
        "INSERT INTO instrument_uploads VALUES (?, ?, ?)",
        [instrument.id, instrument.version, "0" * 64],
    )
    conn.commit()
    conn.close()
    (problem,) = upload_conflicts(str(database), [instrument])
    assert problem.message == (
        "an uploaded instrument in the database is 'partnership-health-check' "
        f"version {RELEASED} with other content; an id and version must mean one "
        "thing: raise the version"
    )
    assert upload_conflicts(str(tmp_path / "none.db"), [instrument]) == []


def test_cli_check_and_lock(folder, monkeypatch):
    monkeypatch.setattr(instruments_cli_module, "DEFAULT_FOLDER", folder)
    runner = CliRunner()
    assert runner.invoke(instruments_cli, ["check"]).exit_code == 0
    edit(folder / HEALTH, FIRST_STATEMENT, "Something else entirely.")
    result = runner.invoke(instruments_cli, ["check"])
    assert result.exit_code == 1
    assert "version did not change" in result.output
    result = runner.invoke(instruments_cli, ["lock"])
    assert result.exit_code == 1
    assert "Nothing recorded" in result.output
    make_next_major(folder / HEALTH)
    rename_first_item(folder / HEALTH)
    result = runner.invoke(instruments_cli, ["lock"])
    assert result.exit_code == 0, result.output
    assert result.output == f"recorded partnership-health-check {NEXT_MAJOR}\n"
    assert runner.invoke(instruments_cli, ["check"]).exit_code == 0
    result = runner.invoke(instruments_cli, ["lock"])
    assert result.output == "Nothing new: every version is already recorded\n"


def test_a_crosswalk_is_checked_against_the_released_versions(folder):
    path = folder / HEALTH
    make_next_major(path)
    rename_first_item(path)
    edit(
        path,
        "        statement: >-\n          Our partnership builds",
        "        replaces: [builds-on-relationships]\n"
        "        statement: >-\n          Our partnership builds",
    )
    assert lock_instruments(
        [load_file(p) for p in sorted(folder.glob("*.yaml"))], read_lock(folder)
    ) == [f"partnership-health-check {NEXT_MAJOR}"]
    # A minor version that points the crosswalk at an item the released
    # major version never had.
    edit(path, f"version: {NEXT_MAJOR}", f"version: {NEXT_MINOR}")
    edit(path, "replaces: [builds-on-relationships]", "replaces: [no-such-item]")
    assert messages(folder) == [
        f"{HEALTH}:{statement_line(path) - 1}: builds-on-what-exists: replaces "
        f"'no-such-item', which version {RELEASED} does not have"
    ]
