"""Read instrument files, and say exactly where a broken one goes wrong."""

import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from .schema import Instrument, Loc, line_at
from .schema import reference_errors as schema_reference_errors

logger = logging.getLogger(__name__)

# libyaml's parser when PyYAML has it (ten times faster); the same safe
# constructor either way.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 1_000_000
# Deep enough for the format (about eight levels) with room to spare; PyYAML
# composes recursively, so unbounded nesting would exhaust the stack.
MAX_DEPTH = 40


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instrument file, located at a line."""

    file: str
    line: int
    item_id: str | None
    message: str

    def __str__(self) -> str:
        """Return the one-line form `file:line: item id: message` (`-` for no item)."""
        text = f"{self.file}:{self.line}: {self.item_id or '-'}: {self.message}"
        # Keys and values come from the file; keep the promise of one line.
        return text.replace("\r", "\\r").replace("\n", "\\n")


class InstrumentInvalid(Exception):
    """An instrument file that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_text(text: str, filename: str) -> Instrument:
    """Parse and validate one instrument document, or raise InstrumentInvalid."""
    try:
        return _parse(text, filename)
    except InstrumentInvalid:
        raise
    except Exception as error:
        # The contract is that callers only ever see InstrumentInvalid; a new
        # kind of fault must still come out as a located problem.
        logger.exception("unexpected error reading %s", filename)
        raise InstrumentInvalid(
            [Problem(filename, 1, None, f"internal error while reading: {error!r}")]
        ) from error


def load_file(path: str | os.PathLike[str]) -> Instrument:
    """Read and validate one instrument file, or raise InstrumentInvalid."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise InstrumentInvalid(
            [Problem(name, 1, None, f"cannot read: {error.strerror}")]
        ) from None
    if len(raw) > MAX_BYTES:
        raise InstrumentInvalid(
            [Problem(name, 1, None, f"file is larger than {MAX_BYTES} bytes")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InstrumentInvalid(
            [Problem(name, line, None, f"not valid UTF-8 (byte {error.start})")]
        ) from None
    return parse_text(text, name)


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    lock_folder: str | os.PathLike[str] | None = None,
) -> list[Problem]:
    """Return every problem in these files and folders of instruments.

    lock_folder: the folder of the shipped instruments; its `versions.lock`
    is checked too (drift, version bumps, ids that belong to shipped files).
    """
    return read_paths(paths, lock_folder=lock_folder)[1]


def read_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    lock_folder: str | os.PathLike[str] | None = None,
) -> tuple[list[Instrument], list[Problem], int]:
    """Return the valid instruments, every problem, and how many files were read."""
    paths = [Path(p) for p in paths]
    problems: list[Problem] = []
    lock = None
    if lock_folder is not None:
        from .versions import LockError, read_lock

        folder = Path(lock_folder)
        try:
            lock = read_lock(folder)
        except LockError as error:
            problems.append(Problem(str(folder / "versions.lock"), 1, None, str(error)))
    files, empty = _expand_folders(paths)
    for folder in empty:
        problems.append(
            Problem(str(folder), 1, None, "no instrument files (*.yaml, *.yml) here")
        )
    loaded: list[Instrument] = []
    for path in files:
        try:
            loaded.append(load_file(path))
        except InstrumentInvalid as invalid:
            problems.extend(invalid.problems)

    def owns(instrument: Instrument) -> bool:
        """Whether the lock names this file as the home of its id."""
        entry = lock.released(instrument.id) if lock is not None else None
        return bool(entry) and (
            Path(instrument.filename).resolve()
            == (lock.folder / entry["file"]).resolve()
        )

    # When two files give one id, the one the lock names keeps it.
    instruments: list[Instrument] = []
    first_file_of_id: dict[str, str] = {}
    for instrument in sorted(loaded, key=lambda i: not owns(i)):
        if instrument.id in first_file_of_id:
            problems.append(_duplicate_id(instrument, first_file_of_id[instrument.id]))
            continue
        first_file_of_id[instrument.id] = instrument.filename
        instruments.append(instrument)
    if lock is not None:
        from .versions import lock_problems

        whole = any(
            path.is_dir() and path.resolve() == lock.folder.resolve() for path in paths
        )
        problems += lock_problems(instruments, lock, whole_folder=whole)
    return instruments, problems, len(files)


INSTRUMENT_SUFFIXES = (".yaml", ".yml")


def instrument_files(folder: Path) -> list[Path]:
    """Return the instrument files in a folder: *.yaml and *.yml, sorted."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix in INSTRUMENT_SUFFIXES and path.is_file()
    )


def _expand_folders(
    paths: Iterable[str | os.PathLike[str]],
) -> tuple[list[Path], list[Path]]:
    """Return the files named, each folder replaced by its instrument files,
    and the folders that hold none."""
    files: list[Path] = []
    empty: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = instrument_files(path)
            files.extend(found)
            if not found:
                empty.append(path)
        else:
            files.append(path)
    return files, empty


def _duplicate_id(instrument: Instrument, other_file: str) -> Problem:
    return Problem(
        instrument.filename,
        instrument.line_of(("id",)),
        None,
        f"instrument id {instrument.id!r} is already used by {other_file}",
    )


class Library:
    """The instruments in one folder, reloaded when a file changes."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self._problems: list[Problem] = []
        self._by_id: dict[str, Instrument] = {}
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._lock = threading.Lock()
        # Read on first use, so that an app made for a command starts fast.

    @property
    def problems(self) -> list[Problem]:
        """Return the problems of the broken files, which are kept out."""
        self._refresh()
        return self._problems

    def all(self) -> list[Instrument]:
        """Return every valid instrument, sorted by title."""
        self._refresh()
        return sorted(self._by_id.values(), key=lambda i: (i.title.casefold(), i.id))

    def get(self, instrument_id: str) -> Instrument | None:
        """Return the instrument with this id, or None."""
        self._refresh()
        return self._by_id.get(instrument_id)

    def __contains__(self, instrument_id: object) -> bool:
        """Return whether an instrument with this id is loaded."""
        self._refresh()
        return instrument_id in self._by_id

    def __len__(self) -> int:
        """Return the number of valid instruments."""
        self._refresh()
        return len(self._by_id)

    def _files(self) -> list[Path]:
        try:
            return instrument_files(self.folder)
        except OSError:
            return []

    def _current_stamp(self, files: list[Path]) -> tuple[tuple[str, int, int], ...]:
        stamp = []
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                continue
            stamp.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(stamp)

    def _refresh(self) -> None:
        """Reload every file when any file was added, removed or changed."""
        files = self._files()
        stamp = self._current_stamp(files)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            by_id: dict[str, Instrument] = {}
            problems: list[Problem] = []
            for path in files:
                try:
                    instrument = load_file(path)
                except InstrumentInvalid as invalid:
                    problems.extend(invalid.problems)
                    continue
                if instrument.id in by_id:
                    problems.append(
                        _duplicate_id(instrument, by_id[instrument.id].filename)
                    )
                    continue
                by_id[instrument.id] = instrument
            for problem in problems:
                logger.error("%s", problem)
            logger.info("loaded %s instruments from %s", len(by_id), self.folder)
            self._by_id, self._problems, self._stamp = by_id, problems, stamp


# --- parsing -------------------------------------------------------------


def _parse(text: str, filename: str) -> Instrument:
    if not isinstance(text, str):
        raise InstrumentInvalid(
            [Problem(filename, 1, None, "the document is not text")]
        )
    if len(text) > MAX_BYTES:
        raise InstrumentInvalid(
            [
                Problem(
                    filename, 1, None, f"document is longer than {MAX_BYTES} characters"
                )
            ]
        )
    _check_events(text, filename)
    try:
        root = yaml.compose(text, Loader=_Loader)
        # Construct from the composed nodes: one parse gives lines and data.
        data = None if root is None else yaml.SafeLoader("").construct_document(root)
    except yaml.YAMLError as error:
        raise InstrumentInvalid([_yaml_problem(error, text, filename)]) from None
    if root is None:
        raise InstrumentInvalid([Problem(filename, 1, None, "the file is empty")])
    lines = _line_map(root)
    problems = _duplicate_keys(root, filename)
    if not isinstance(data, dict):
        problems.append(
            Problem(
                filename, 1, None, "the document must be a mapping of keys to values"
            )
        )
        raise InstrumentInvalid(problems)

    reference_errors: list[tuple[Loc, str | None, str]] = []
    try:
        instrument = Instrument.model_validate(
            data, context={"reference_errors": reference_errors}
        )
    except ValidationError as error:
        reported: list[Loc] = []
        for detail in error.errors(include_url=False):
            loc = tuple(detail["loc"])
            reported.append(loc)
            line = line_at(lines, loc)
            problems.append(
                Problem(
                    filename,
                    line,
                    _item_id_at(data, loc),
                    _describe(loc, detail["msg"], dict(detail), _line(text, line)),
                )
            )
        # The checks across the document run on the plain data too, so that
        # one run reports every problem; places already reported are skipped.
        reference_errors[:] = [
            error
            for error in schema_reference_errors(data)
            if not any(error[0][: len(done)] == done for done in reported)
        ]
        instrument = None
    for loc, item_id, message in reference_errors:
        problems.append(
            Problem(filename, line_at(lines, loc), item_id, _describe(loc, message))
        )
    if problems or instrument is None:
        raise InstrumentInvalid(_sorted(problems))
    instrument._filename = filename
    instrument._lines = lines
    return instrument


def _check_events(text: str, filename: str) -> None:
    """Refuse syntax errors, aliases and deep nesting before composing."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                raise InstrumentInvalid(
                    [
                        Problem(
                            filename,
                            event.start_mark.line + 1,
                            None,
                            # Aliases can expand a small file into a huge
                            # document; instruments have no need of them.
                            "aliases (*name) are not allowed; write the value out",
                        )
                    ]
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InstrumentInvalid(
                        [
                            Problem(
                                filename,
                                event.start_mark.line + 1,
                                None,
                                f"nested more than {MAX_DEPTH} levels deep",
                            )
                        ]
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as error:
        raise InstrumentInvalid([_yaml_problem(error, text, filename)]) from None


def _yaml_problem(error: yaml.YAMLError, text: str, filename: str) -> Problem:
    """Turn a PyYAML error into a located problem."""
    if isinstance(error, yaml.reader.ReaderError):
        line = text[: error.position].count("\n") + 1
        return Problem(
            filename,
            line,
            None,
            f"character U+{error.character:04X} is not allowed in YAML",
        )
    if not isinstance(error, yaml.MarkedYAMLError):
        return Problem(filename, 1, None, f"YAML error: {error}")
    mark = error.problem_mark or error.context_mark
    parts = []
    if error.context:
        started = error.context_mark
        where = (
            f" (from line {started.line + 1})"
            if started and started is not mark
            else ""
        )
        parts.append(f"{error.context}{where}")
    if error.problem:
        parts.append(error.problem)
    line = mark.line + 1 if mark is not None else 1
    message = f"YAML syntax error: {', '.join(parts) or error}"
    if "\t" in _line(text, line) or "\t" in (parts[-1] if parts else ""):
        message += "; the line holds a tab: indent with spaces, not tabs"
    return Problem(filename, line, None, message)


def _line_map(root: yaml.Node) -> dict[tuple[str, ...], int]:
    """Return the 1-based line of every location, its parts as strings."""
    lines: dict[tuple[str, ...], int] = {}
    # Iterative, so that no document shape can exhaust the stack.
    stack: list[tuple[tuple[str, ...], yaml.Node]] = [((), root)]
    while stack:
        loc, node = stack.pop()
        lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    child = loc + (key.value,)
                    # A key's own line, for faults in the key itself.
                    lines.setdefault(child + ("[key]",), key.start_mark.line + 1)
                    # A value on a line of its own still belongs to its key.
                    if isinstance(value, yaml.ScalarNode):
                        lines.setdefault(child, value.start_mark.line + 1)
                    else:
                        lines.setdefault(child, key.start_mark.line + 1)
                    stack.append((child, value))
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                stack.append((loc + (str(index),), value))
    return lines


def _duplicate_keys(root: yaml.Node, filename: str) -> list[Problem]:
    """Return a problem for every key given twice in one mapping."""
    problems: list[Problem] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        problems.append(
                            Problem(
                                filename,
                                key.start_mark.line + 1,
                                None,
                                f"key {key.value!r} is given twice; YAML keeps only the last",
                            )
                        )
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems


def _item_id_at(data: dict, loc: Loc) -> str | None:
    """Return the id of the item that `loc` points into, if there is one."""
    if len(loc) >= 4 and loc[0] == "sections" and loc[2] == "items":
        try:
            item = data["sections"][loc[1]]["items"][loc[3]]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return item["id"]
    return None


_PLAIN = re.compile(r"^[\w-]+$")

# Plain words for the patterns in the schema, instead of the regex itself.
_PATTERN_WORDS = {
    "^[a-z0-9]+(-[a-z0-9]+)*$": "must be a lowercase slug: a-z, 0-9 and single hyphens",
    "^[A-Za-z0-9+-]{1,16}$": "must be a short code of letters, digits, + or -",
    "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$": "must be MAJOR.MINOR.PATCH, such as 1.0.0",
}

# A list key followed by a position, and the word for one of its entries.
_ENTRY_WORDS = {
    "sections": "section",
    "items": "item",
    "points": "point",
    "bands": "band",
    "actions": "action",
    "evidence_prompts": "evidence prompt",
    "tags": "tag",
    "coverage": "coverage entry",
}
_BOOL_WORDS = re.compile(r"(?<![\w-])(yes|no|on|off|y|n|true|false)(?![\w-])", re.I)


def where(loc: Loc) -> str:
    """Return a location in words, counting from 1: "section 1, item 2, statement"."""
    parts: list[str] = []
    keys: list[str] = []
    steps = [part for part in loc if part != "[key]"]
    i = 0
    while i < len(steps):
        part = steps[i]
        following = steps[i + 1] if i + 1 < len(steps) else None
        if (
            isinstance(part, str)
            and part in _ENTRY_WORDS
            and isinstance(following, int)
        ):
            if keys:
                parts.append(".".join(keys))
                keys = []
            word = _ENTRY_WORDS[part]
            if part == "items" and (steps[:1] == ["actions"] or "coverage" in steps):
                word = "item listed"
            parts.append(f"{word} {following + 1}")
            i += 2
            continue
        if part == "descriptors" and following is not None:
            if keys:
                parts.append(".".join(keys))
                keys = []
            parts.append(f"descriptor {str(following)!r}")
            i += 2
            continue
        keys.append(_path_part(part))
        i += 1
    if keys == ["id"] and parts:
        keys = []  # "section 1, item 2: the id 'x' is used twice"
    if keys:
        parts.append(".".join(keys))
    text = ", ".join(parts)
    if loc and loc[-1] == "[key]":
        text += " (the key)"
    return text


def _describe(
    loc: Loc, message: str, detail: dict | None = None, source_line: str = ""
) -> str:
    """Return the message in plain words, prefixed with where it applies."""
    detail = detail or {}
    if loc[-1:] == ("[key]",) and isinstance(detail.get("input"), bool):
        loc = loc[:-2]
    if detail.get("type") == "missing" and loc:
        # Said of the mapping that should hold the key, where it is reported.
        path = where(loc[:-1])
        text = f"the required key {str(loc[-1])!r} is missing"
        return f"{path}: {text}" if path else text
    path = where(loc)
    kind = detail.get("type")
    given = detail.get("input")
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "string_pattern_mismatch":
        pattern = str(detail.get("ctx", {}).get("pattern", ""))
        message = _PATTERN_WORDS.get(pattern, message)
        message = f"{given!r} {message}" if isinstance(given, str) else message
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif isinstance(given, bool) and kind in ("string_type", "literal_error"):
        found = _BOOL_WORDS.findall(source_line)
        word = repr(found[-1]) if found else "the value"
        message = (
            f"{word} was read as {str(given).lower()}, not as text: YAML reads "
            "unquoted yes, no, on, off, true and false as true or false; put it "
            f'in quotes, such as "{found[-1] if found else "yes"}"'
        )
    elif kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        message = f"{message.lower()} (it is {given!r})"
    return f"{path}: {message}" if path else message


def _line(text: str, line: int) -> str:
    """Return one line of the text (1-based), or nothing."""
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _path_part(part: str | int) -> str:
    """Return one step of a path, quoted when it is not a plain key."""
    if isinstance(part, int) or _PLAIN.match(part):
        return str(part)
    return repr(part)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line)


# --- version changes -----------------------------------------------------

PATCH, MINOR, MAJOR = 1, 2, 3
_LEVEL = {PATCH: "PATCH", MINOR: "MINOR", MAJOR: "MAJOR"}

# (level the change needs, location in the new file, item id, what changed)
Change = tuple[int, Loc, str | None, str]


def check_version_change(old: dict, new: Instrument) -> list[Problem]:
    """Return problems with `new`'s version, given the snapshot it replaces."""

    def at(loc: Loc, item_id: str | None, message: str) -> Problem:
        return Problem(new.filename, new.line_of(loc), item_id, message)

    try:
        before = Instrument.model_validate(old)
    except ValidationError:
        return [at(("version",), None, "the previous version's snapshot is not valid")]
    if before.id != new.id:
        return [
            at(
                ("id",),
                None,
                f"the previous snapshot is of {before.id!r}, not {new.id!r}",
            )
        ]
    changes = _changes(before, new)
    if not changes:
        return []
    old_version, new_version = _semver(before.version), _semver(new.version)
    if new_version <= old_version:
        level, _, item_id, what = max(changes, key=lambda change: change[0])
        if item_id:
            what = f"item {item_id!r}: {what}"
        return [
            at(
                ("version",),
                None,
                f"the content changed but version {new.version} is not above "
                f"{before.version} (a {_LEVEL[level]} change is needed: {what})",
            )
        ]
    if new_version[0] > old_version[0]:
        bump = MAJOR
    elif new_version[1] > old_version[1]:
        bump = MINOR
    else:
        bump = PATCH
    problems = [
        at(
            loc,
            item_id,
            f"{what}: needs a {_LEVEL[level]} version change, but "
            f"{before.version} -> {new.version} is {_LEVEL[bump]}",
        )
        for level, loc, item_id, what in changes
        if level > bump
    ]
    if bump == MAJOR:
        problems += [at(*reuse) for reuse in _reused_ids(before, new)]
        problems += [
            at(loc, item_id, message)
            for loc, item_id, message in crosswalk_errors(
                new, [item.id for item in before.items()], before.version
            )
        ]
    return sorted(problems, key=lambda p: p.line)


def semver(version: str) -> tuple[int, int, int]:
    """Return a MAJOR.MINOR.PATCH string as a comparable tuple."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


_semver = semver


def version_changes(old: dict, new: Instrument) -> list[tuple[str, Problem]]:
    """Return (level needed, located problem) for every change since `old`."""
    before = Instrument.model_validate(old)
    return [
        (_LEVEL[level], Problem(new.filename, new.line_of(loc), item_id, what))
        for level, loc, item_id, what in sorted(
            _changes(before, new), key=lambda change: -change[0]
        )
    ]


def needed_bump(old_version: str, level: str) -> str:
    """Return the smallest version above `old_version` that a change of `level` needs."""
    major, minor, patch = semver(old_version)
    if level == "MAJOR":
        return f"{major + 1}.0.0"
    if level == "MINOR":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _item_locs(instrument: Instrument) -> dict[str, tuple[Loc, str]]:
    """Return each item's location and section id, by item id."""
    return {
        item.id: (("sections", s, "items", i), section.id)
        for s, section in enumerate(instrument.sections)
        for i, item in enumerate(section.items)
    }


def _scale_meaning(instrument: Instrument) -> tuple:
    scale = instrument.scale
    return scale.kind, tuple((p.code, p.value) for p in scale.points)


def _changes(old: Instrument, new: Instrument) -> list[Change]:
    """Return every difference between two versions, with the bump it needs."""
    changes: list[Change] = []

    def note(level: int, loc: Loc, item_id: str | None, what: str) -> None:
        changes.append((level, loc, item_id, what))

    for name in ("title", "purpose", "source"):
        if getattr(old, name) != getattr(new, name):
            note(PATCH, (name,), None, f"{name} reworded")
    if old.audience != new.audience:
        note(MAJOR, ("audience",), None, "audience changed")

    if _scale_meaning(old) != _scale_meaning(new):
        note(MAJOR, ("scale",), None, "scale kind, point codes or values changed")
    elif [p.label for p in old.scale.points] != [p.label for p in new.scale.points]:
        # A point's label says what a level means, as a descriptor does.
        note(MINOR, ("scale", "points"), None, "scale labels reworded")
    for name in ("not_applicable", "no_evidence"):
        was, now = getattr(old.scale, name), getattr(new.scale, name)
        if was != now:
            note(
                MINOR if now else MAJOR, ("scale", name), None, f"scale {name} changed"
            )

    for tag in new.tags.keys() - old.tags.keys():
        note(MINOR, ("tags", tag), None, f"tag {tag!r} added")
    for tag in old.tags.keys() - new.tags.keys():
        note(MAJOR, ("tags",), None, f"tag {tag!r} removed")
    for tag in new.tags.keys() & old.tags.keys():
        if new.tags[tag] != old.tags[tag]:
            note(PATCH, ("tags", tag), None, f"tag {tag!r} reworded")

    old_sections = {section.id: section for section in old.sections}
    new_section_ids = {section.id for section in new.sections}
    for s, section in enumerate(new.sections):
        before = old_sections.get(section.id)
        if before is None:
            note(MINOR, ("sections", s), None, f"section {section.id!r} added")
        elif (before.title, before.description) != (section.title, section.description):
            note(PATCH, ("sections", s), None, f"section {section.id!r} reworded")
    for section_id in old_sections.keys() - new_section_ids:
        note(MAJOR, ("sections",), None, f"section {section_id!r} removed")
    if [s.id for s in old.sections if s.id in new_section_ids] != [
        s.id for s in new.sections if s.id in old_sections
    ]:
        note(PATCH, ("sections",), None, "sections reordered")

    changes += _item_changes(old, new)

    for name in ("rollup", "bands", "priority", "min_answered_share"):
        if getattr(old.scoring, name) != getattr(new.scoring, name):
            note(MAJOR, ("scoring", name), None, f"scoring {name} changed")

    if old.actions != new.actions:
        if [a.items for a in old.actions] == [a.items for a in new.actions]:
            note(PATCH, ("actions",), None, "suggested actions reworded")
        else:
            note(
                MINOR,
                ("actions",),
                None,
                "suggested actions added, removed or re-aimed",
            )
    return changes


def _item_changes(old: Instrument, new: Instrument) -> list[Change]:
    changes: list[Change] = []
    old_locs, new_locs = _item_locs(old), _item_locs(new)
    for item in new.items():
        loc, section_id = new_locs[item.id]
        before = old.item(item.id)
        if before is None:
            changes.append((MINOR, loc, item.id, "item added"))
            continue
        if old_locs[item.id][1] != section_id:
            changes.append(
                (MAJOR, loc, item.id, f"item moved to section {section_id!r}")
            )
        for name in ("weight", "reverse"):
            if getattr(before, name) != getattr(item, name):
                changes.append((MAJOR, loc + (name,), item.id, f"{name} changed"))
        if before.tags != item.tags:
            changes.append((MINOR, loc + ("tags",), item.id, "tags changed"))
        if before.statement != item.statement:
            # A reworded statement asks a different question: old answers
            # must not be read against it (a crosswalk can map them).
            changes.append((MAJOR, loc + ("statement",), item.id, "statement reworded"))
        if before.descriptors != item.descriptors:
            # Descriptors say what each level means for the item.
            changes.append(
                (MINOR, loc + ("descriptors",), item.id, "descriptors reworded")
            )
        for name in ("guidance", "evidence_prompts"):
            if getattr(before, name) != getattr(item, name):
                changes.append((PATCH, loc + (name,), item.id, f"{name} reworded"))
        if before.replaces != item.replaces:
            changes.append((MINOR, loc + ("replaces",), item.id, "crosswalk changed"))
    for item_id in old_locs.keys() - new_locs.keys():
        changes.append((MAJOR, ("sections",), item_id, "item removed"))
    return changes


def crosswalk_errors(
    new: Instrument, old_ids: list[str], old_version: str
) -> list[tuple[Loc, str, str]]:
    """Return each `replaces` entry that names no item of the previous version."""
    errors = []
    known = set(old_ids)
    for s, section in enumerate(new.sections):
        for i, item in enumerate(section.items):
            for r, old_id in enumerate(item.replaces):
                if old_id not in known:
                    errors.append(
                        (
                            ("sections", s, "items", i, "replaces", r),
                            item.id,
                            f"replaces {old_id!r}, which version {old_version} "
                            "does not have",
                        )
                    )
    return errors


def _reused_ids(old: Instrument, new: Instrument) -> list[tuple[Loc, str, str]]:
    """Return old item ids that a MAJOR version gives to a changed item."""
    reused = []
    old_locs = _item_locs(old)
    scale_changed = _scale_meaning(old) != _scale_meaning(new)
    for item_id, (loc, section_id) in _item_locs(new).items():
        before = old.item(item_id)
        if before is None:
            continue
        if (
            scale_changed
            or before != new.item(item_id)
            or old_locs[item_id][1] != section_id
        ):
            reused.append(
                (
                    loc + ("id",),
                    item_id,
                    "a MAJOR version may not reuse the id of an item that changed; "
                    "give the item a new id so old answers are not read against it",
                )
            )
    return reused
