"""The instrument format: pydantic models for one instrument file.

Field checks (types, patterns, ranges) live on the fields. Checks that look
across the document (unique ids, declared tags, descriptor keys, bands that
fit the scale) live in `reference_errors()`, which returns every fault with
its location so that the loader can point at the line of each one.
"""

import hashlib
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

FORMAT_VERSION = 1

# Answer codes with a meaning of their own; they are never points on a scale.
NOT_APPLICABLE = "na"
NO_EVIDENCE = "ne"
RESERVED_CODES = frozenset({NOT_APPLICABLE, NO_EVIDENCE})

# A location inside the parsed YAML document, as pydantic reports it.
Loc = tuple[str | int, ...]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9+-]{1,16}$"),
]
SemVer = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"),
]
# strict: YAML numbers are accepted, but not booleans or quoted numbers.
Number = Annotated[float, Field(strict=True)]


class _Model(BaseModel):
    # Numbers are welcome where a code is expected: `code: 1` means "1".
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        coerce_numbers_to_str=True,
        frozen=True,
    )


class Coverage(_Model):
    """One element of the source (a suggestion, a condition, a strand) and its items."""

    element: Text
    items: list[Slug] = []
    # Why no item covers the element; required when `items` is empty.
    note: Text | None = Field(default=None, exclude_if=lambda note: note is None)


class Source(_Model):
    """Where an instrument comes from and on what terms it may be used."""

    citation: Text
    url: Text | None = None
    licence: Text
    # Internal: where in the repository's source documents the content was
    # taken from. Only the file and platform admins see it, never readers.
    # Both new keys are left out of the snapshot when absent, so the content
    # hash of an instrument without them is what it always was.
    provenance: Text | None = Field(default=None, exclude_if=lambda text: text is None)
    coverage: list[Coverage] = Field(default=[], exclude_if=lambda entries: not entries)


class Point(_Model):
    """One rung of a rating scale."""

    code: Code
    value: Number
    label: Text

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, code: str) -> str:
        """Refuse the codes kept for "Not applicable" and "No evidence yet"."""
        if code.lower() in RESERVED_CODES:
            raise ValueError(
                f"code {code!r} is reserved for an answer that is not a point "
                f"({NOT_APPLICABLE!r} = Not applicable, {NO_EVIDENCE!r} = No evidence yet)"
            )
        return code


class Scale(_Model):
    """The ordered answers an item may be given."""

    kind: Literal["agreement", "maturity", "letter", "yes_no", "custom"]
    points: list[Point] = Field(min_length=2, max_length=20)
    not_applicable: StrictBool = False
    no_evidence: StrictBool = False

    @property
    def codes(self) -> list[str]:
        """Return the point codes, low to high."""
        return [p.code for p in self.points]


class Tag(_Model):
    """A declared tag that items may carry, such as an element of "glue"."""

    label: Text
    description: Text | None = None


class Item(_Model):
    """One statement to be rated."""

    id: Slug
    statement: Text
    guidance: Text | None = None
    evidence_prompts: list[Text] = []
    weight: Annotated[float, Field(strict=True, gt=0)] = 1.0
    reverse: StrictBool = False
    tags: list[Slug] = []
    descriptors: dict[Code, Text] = {}
    # The crosswalk: ids of items of the previous major version whose
    # meaning this item keeps. Left out of the snapshot when empty, so the
    # content hash of an instrument without one is what it always was.
    replaces: list[Slug] = Field(default=[], exclude_if=lambda ids: not ids)


class Section(_Model):
    """A titled group of items."""

    id: Slug
    title: Text
    description: Text | None = None
    items: list[Item] = Field(min_length=1)


class Band(_Model):
    """A named score range starting at `min`."""

    name: Text
    min: Number


class Priority(_Model):
    """When an item becomes a priority for the action plan."""

    at_or_below: Number


class Scoring(_Model):
    """How item answers roll up into section and overall scores."""

    rollup: Literal["weighted_mean"] = "weighted_mean"
    bands: list[Band] = Field(min_length=1)
    priority: Priority
    min_answered_share: Annotated[float, Field(strict=True, ge=0, le=1)] = 0.5


class Action(_Model):
    """A suggested action for one or more items."""

    items: list[Slug] = Field(min_length=1)
    text: Text


class Instrument(_Model):
    """One instrument, as read from one YAML file."""

    format: Literal[1]
    id: Slug
    version: SemVer
    title: Text
    purpose: Text
    audience: Literal["school_leadership_team", "trust_board", "partnership"]
    source: Source
    scale: Scale
    tags: dict[Slug, Tag] = {}
    sections: list[Section] = Field(min_length=1)
    scoring: Scoring
    actions: list[Action] = []

    # Where the instrument was read from, to point problems at lines.
    _filename: str = PrivateAttr(default="")
    _lines: dict[tuple[str, ...], int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self, info: ValidationInfo) -> "Instrument":
        """Refuse cross-reference faults, or hand them to the loader to place."""
        errors = self.reference_errors()
        if errors:
            collected = (info.context or {}).get("reference_errors")
            if isinstance(collected, list):
                collected.extend(errors)
            else:
                raise ValueError("; ".join(message for _, _, message in errors))
        return self

    def reference_errors(self) -> list[tuple[Loc, str | None, str]]:
        """Return (location, item id, message) for every cross-reference fault."""
        return reference_errors(self.model_dump())

    def items(self) -> Iterator[Item]:
        """Iterate over every item, section by section."""
        for section in self.sections:
            yield from section.items

    @property
    def item_count(self) -> int:
        """Return the number of items."""
        return sum(len(section.items) for section in self.sections)

    def item(self, item_id: str) -> Item | None:
        """Return the item with this id, or None."""
        return next((item for item in self.items() if item.id == item_id), None)

    def section_of(self, item_id: str) -> Section | None:
        """Return the section that holds this item, or None."""
        for section in self.sections:
            if any(item.id == item_id for item in section.items):
                return section
        return None

    def snapshot(self) -> dict[str, Any]:
        """Return the instrument as a plain JSON-able dict, defaults filled in."""
        return self.model_dump(mode="json")

    @property
    def content_hash(self) -> str:
        """Return the sha256 hex digest of the canonical JSON snapshot."""
        return content_hash(self.snapshot())

    @property
    def filename(self) -> str:
        """Return the file the instrument was read from, or a stand-in."""
        return self._filename or f"<{self.id}>"

    def line_of(self, loc: Loc) -> int:
        """Return the source line of the nearest located ancestor of `loc`."""
        return line_at(self._lines, loc)


# --- checks across the document ---------------------------------------------
#
# They read the plain data, not the models, so that they can run on a
# document that also has faults of type: every problem is reported in one
# run. Anything of the wrong type is skipped here (the field checks report
# it).

RefError = tuple[Loc, str | None, str]


def reference_errors(data: Any) -> list[RefError]:
    """Return (location, item id, message) for every cross-reference fault."""
    if not isinstance(data, dict):
        return []
    errors: list[RefError] = []
    scale = data.get("scale") if isinstance(data.get("scale"), dict) else {}
    points = [p for p in _list(scale.get("points")) if isinstance(p, dict)]
    codes = _scale_codes(points)
    errors += _raw_scale_errors(_list(scale.get("points")))
    errors += _raw_item_errors(data, scale, codes)
    errors += _raw_scoring_errors(data, _list(scale.get("points")))
    errors += _raw_action_errors(data)
    errors += _raw_coverage_errors(data)
    return errors


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _code(value: Any) -> str | None:
    """Return a code as the format reads it (numbers as text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return value.strip() if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _scale_codes(points: list[dict]) -> list[str]:
    return [c for c in (_code(p.get("code")) for p in points) if c is not None]


def _raw_scale_errors(points: list) -> list[RefError]:
    errors: list[RefError] = []
    seen: set[str] = set()
    previous: float | None = None
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            continue
        loc: Loc = ("scale", "points", i)
        code = _code(point.get("code"))
        if code is not None:
            if code in seen:
                errors.append(
                    (loc + ("code",), None, f"the point code {code!r} is used twice")
                )
            seen.add(code)
        value = _number(point.get("value"))
        if value is not None and previous is not None and value <= previous:
            errors.append(
                (
                    loc + ("value",),
                    None,
                    f"point values must rise strictly from low to high; "
                    f"{value:g} follows {previous:g}",
                )
            )
        if value is not None:
            previous = value
    return errors


def _raw_item_errors(data: dict, scale: dict, codes: list[str]) -> list[RefError]:
    errors: list[RefError] = []
    declared = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    maturity = scale.get("kind") == "maturity" and codes
    version = data.get("version")
    first_major = isinstance(version, str) and version.split(".")[0] in ("0", "1")
    section_ids: set[str] = set()
    item_ids: set[str] = set()
    for s, section in enumerate(_list(data.get("sections"))):
        if not isinstance(section, dict):
            continue
        section_id = section.get("id")
        if isinstance(section_id, str):
            if section_id in section_ids:
                errors.append(
                    (
                        ("sections", s, "id"),
                        None,
                        f"the section id {section_id!r} is used twice",
                    )
                )
            section_ids.add(section_id)
        for i, item in enumerate(_list(section.get("items"))):
            if not isinstance(item, dict):
                continue
            loc: Loc = ("sections", s, "items", i)
            item_id = item.get("id") if isinstance(item.get("id"), str) else None
            if item_id is not None:
                if item_id in item_ids:
                    errors.append(
                        (loc + ("id",), item_id, f"the id {item_id!r} is used twice")
                    )
                item_ids.add(item_id)
            tags = [t for t in _list(item.get("tags")) if isinstance(t, str)]
            for t, tag in enumerate(_list(item.get("tags"))):
                if isinstance(tag, str) and tag not in declared:
                    errors.append(
                        (
                            loc + ("tags", t),
                            item_id,
                            f"tag {tag!r} is not declared under the top-level tags",
                        )
                    )
            if len(set(tags)) != len(tags):
                errors.append((loc + ("tags",), item_id, "a tag is listed twice"))
            replaces = [r for r in _list(item.get("replaces")) if isinstance(r, str)]
            if replaces and first_major:
                errors.append(
                    (
                        loc + ("replaces",),
                        item_id,
                        "only a new major version (2.0.0 or later) can replace "
                        "items of the version before it",
                    )
                )
            if len(set(replaces)) != len(replaces):
                errors.append((loc + ("replaces",), item_id, "an item is listed twice"))
            descriptors = item.get("descriptors")
            descriptors = descriptors if isinstance(descriptors, dict) else {}
            keys = [_code(key) for key in descriptors]
            if codes:
                for key in descriptors:
                    code = _code(key)
                    if code is not None and code not in codes:
                        errors.append(
                            (
                                loc + ("descriptors", str(key)),
                                item_id,
                                f"descriptor {code!r} is not a point code of the "
                                f"scale ({', '.join(codes)})",
                            )
                        )
            if maturity:
                missing = [c for c in codes if c not in keys]
                if missing:
                    errors.append(
                        (
                            loc + ("descriptors",) if descriptors else loc,
                            item_id,
                            "a maturity scale needs a descriptor for every point; "
                            f"missing {', '.join(missing)}",
                        )
                    )
    return errors


def _raw_scoring_errors(data: dict, points: list) -> list[RefError]:
    errors: list[RefError] = []
    values = [
        v
        for v in (_number(p.get("value")) for p in points if isinstance(p, dict))
        if v is not None
    ]
    if not values or len(values) != len(points):
        return errors
    low, high = values[0], values[-1]
    scoring = data.get("scoring") if isinstance(data.get("scoring"), dict) else {}
    bands = _list(scoring.get("bands"))
    names: set[str] = set()
    previous: float | None = None
    for b, band in enumerate(bands):
        if not isinstance(band, dict):
            continue
        loc: Loc = ("scoring", "bands", b)
        name = band.get("name")
        if isinstance(name, str):
            if name in names:
                errors.append(
                    (loc + ("name",), None, f"the band name {name!r} is used twice")
                )
            names.add(name)
        start = _number(band.get("min"))
        if start is None:
            continue
        if b == 0 and start != low:
            errors.append(
                (
                    loc + ("min",),
                    None,
                    f"the first band starts at {start:g}; it must start at the "
                    f"lowest scale value, {low:g}",
                )
            )
        if previous is not None and start <= previous:
            errors.append(
                (
                    loc + ("min",),
                    None,
                    f"band minimums must rise strictly: {start:g} follows {previous:g}",
                )
            )
        if start > high:
            errors.append(
                (
                    loc + ("min",),
                    None,
                    f"the band starts at {start:g}, above the highest scale "
                    f"value {high:g}",
                )
            )
        previous = start
    priority = scoring.get("priority")
    threshold = (
        _number(priority.get("at_or_below")) if isinstance(priority, dict) else None
    )
    if threshold is not None and not low <= threshold <= high:
        errors.append(
            (
                ("scoring", "priority", "at_or_below"),
                None,
                f"the priority threshold {threshold:g} must lie within the scale "
                f"({low:g} to {high:g})",
            )
        )
    return errors


def _item_ids(data: dict) -> set[str]:
    return {
        item.get("id")
        for section in _list(data.get("sections"))
        if isinstance(section, dict)
        for item in _list(section.get("items"))
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _raw_action_errors(data: dict) -> list[RefError]:
    errors: list[RefError] = []
    item_ids = _item_ids(data)
    for a, action in enumerate(_list(data.get("actions"))):
        if not isinstance(action, dict):
            continue
        for i, item_id in enumerate(_list(action.get("items"))):
            if isinstance(item_id, str) and item_id not in item_ids:
                errors.append(
                    (
                        ("actions", a, "items", i),
                        item_id,
                        f"the action names the item {item_id!r}, which does not exist",
                    )
                )
    return errors


def _raw_coverage_errors(data: dict) -> list[RefError]:
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    errors: list[RefError] = []
    item_ids = _item_ids(data)
    elements: set[str] = set()
    for c, entry in enumerate(_list(source.get("coverage"))):
        if not isinstance(entry, dict):
            continue
        loc: Loc = ("source", "coverage", c)
        element = entry.get("element")
        if isinstance(element, str) and element.strip():
            if element.strip() in elements:
                errors.append(
                    (
                        loc + ("element",),
                        None,
                        f"the element {element.strip()!r} is listed twice",
                    )
                )
            elements.add(element.strip())
        items = entry.get("items", [])
        for i, item_id in enumerate(_list(items)):
            if isinstance(item_id, str) and item_id not in item_ids:
                errors.append(
                    (
                        loc + ("items", i),
                        item_id,
                        f"the coverage names the item {item_id!r}, which does not exist",
                    )
                )
        note = entry.get("note")
        if (
            isinstance(items, list)
            and not items
            and not (isinstance(note, str) and note.strip())
        ):
            errors.append(
                (
                    loc,
                    None,
                    "an element with no items needs a note saying why no item covers it",
                )
            )
    return errors


def line_at(lines: dict[tuple[str, ...], int], loc: Loc) -> int:
    """Return the line of `loc`, or of its nearest ancestor, in a line map."""
    # The map keys every part as a string: YAML keys are strings, and a
    # node is either a mapping or a sequence, so "0" and 0 never collide.
    key = tuple(str(part) for part in loc)
    for end in range(len(key), -1, -1):
        if key[:end] in lines:
            return lines[key[:end]]
    return 1


def content_hash(snapshot: dict[str, Any]) -> str:
    """Return the sha256 hex digest of a snapshot's canonical JSON."""
    canonical = json.dumps(
        snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the format, generated from the models.

    Shipped as instruments/instrument.schema.json for editors. It covers what
    a JSON Schema can say (keys, types, patterns, required keys); the checks
    across the document (unique ids, declared tags, bands that fit the
    scale) are the loader's alone.
    """
    schema = Instrument.model_json_schema(mode="validation")
    code = schema["$defs"]["Point"]["properties"]["code"]
    # `code: 1` is read as the text "1": a YAML number is a code too.
    schema["$defs"]["Point"]["properties"]["code"] = {
        "title": code["title"],
        "anyOf": [{k: v for k, v in code.items() if k != "title"}, {"type": "integer"}],
    }
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            # Mappings keyed by pattern (descriptors, tags) take no other keys.
            if "patternProperties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "peerreview instrument",
        "description": (
            "One instrument file of peerreview (docs/instruments.md). Generated "
            "from peerreview/instruments/schema.py by `flask instruments schema`; "
            "do not edit by hand."
        ),
    }


def json_schema_text() -> str:
    """Return the JSON Schema as the shipped file holds it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def field_names() -> set[str]:
    """Return every field name of the format, across all models."""
    names: set[str] = set()
    pending: list[type[BaseModel]] = [Instrument]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            names.add(name)
            pending.extend(_models_in(field.annotation))
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Return the pydantic models named anywhere in a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found
