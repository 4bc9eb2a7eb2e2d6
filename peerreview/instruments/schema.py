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


class Source(_Model):
    """Where an instrument comes from and on what terms it may be used."""

    citation: Text
    url: Text | None = None
    licence: Text


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

    @property
    def lowest(self) -> float:
        """Return the lowest point value."""
        return self.points[0].value

    @property
    def highest(self) -> float:
        """Return the highest point value."""
        return self.points[-1].value


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
        errors: list[tuple[Loc, str | None, str]] = []
        errors += self._scale_errors()
        errors += self._section_and_item_errors()
        errors += self._scoring_errors()
        errors += self._action_errors()
        return errors

    def _scale_errors(self) -> list[tuple[Loc, str | None, str]]:
        errors: list[tuple[Loc, str | None, str]] = []
        seen: set[str] = set()
        for i, point in enumerate(self.scale.points):
            loc: Loc = ("scale", "points", i)
            if point.code in seen:
                errors.append(
                    (loc + ("code",), None, f"duplicate point code {point.code!r}")
                )
            seen.add(point.code)
            if i and point.value <= self.scale.points[i - 1].value:
                errors.append(
                    (
                        loc + ("value",),
                        None,
                        f"point values must rise strictly from low to high; "
                        f"{point.value:g} follows {self.scale.points[i - 1].value:g}",
                    )
                )
        return errors

    def _section_and_item_errors(self) -> list[tuple[Loc, str | None, str]]:
        errors: list[tuple[Loc, str | None, str]] = []
        codes = self.scale.codes
        section_ids: set[str] = set()
        item_ids: set[str] = set()
        for s, section in enumerate(self.sections):
            if section.id in section_ids:
                errors.append(
                    (
                        ("sections", s, "id"),
                        None,
                        f"duplicate section id {section.id!r}",
                    )
                )
            section_ids.add(section.id)
            for i, item in enumerate(section.items):
                loc: Loc = ("sections", s, "items", i)
                if item.id in item_ids:
                    errors.append((loc + ("id",), item.id, "duplicate item id"))
                item_ids.add(item.id)
                for t, tag in enumerate(item.tags):
                    if tag not in self.tags:
                        errors.append(
                            (
                                loc + ("tags", t),
                                item.id,
                                f"tag {tag!r} is not declared under the top-level tags",
                            )
                        )
                if len(set(item.tags)) != len(item.tags):
                    errors.append((loc + ("tags",), item.id, "a tag is listed twice"))
                for code in item.descriptors:
                    if code not in codes:
                        errors.append(
                            (
                                loc + ("descriptors", code),
                                item.id,
                                f"descriptor {code!r} is not a point code of the scale "
                                f"({', '.join(codes)})",
                            )
                        )
                if self.scale.kind == "maturity":
                    missing = [c for c in codes if c not in item.descriptors]
                    if missing:
                        errors.append(
                            (
                                loc + ("descriptors",) if item.descriptors else loc,
                                item.id,
                                "a maturity scale needs a descriptor for every point; "
                                f"missing {', '.join(missing)}",
                            )
                        )
        return errors

    def _scoring_errors(self) -> list[tuple[Loc, str | None, str]]:
        errors: list[tuple[Loc, str | None, str]] = []
        bands = self.scoring.bands
        low, high = self.scale.lowest, self.scale.highest
        if bands[0].min != low:
            errors.append(
                (
                    ("scoring", "bands", 0, "min"),
                    None,
                    f"the first band must start at the lowest scale value {low:g}",
                )
            )
        names: set[str] = set()
        for b, band in enumerate(bands):
            if band.name in names:
                errors.append(
                    (
                        ("scoring", "bands", b, "name"),
                        None,
                        f"duplicate band {band.name!r}",
                    )
                )
            names.add(band.name)
            if b and band.min <= bands[b - 1].min:
                errors.append(
                    (
                        ("scoring", "bands", b, "min"),
                        None,
                        "band minimums must rise strictly",
                    )
                )
            if band.min > high:
                errors.append(
                    (
                        ("scoring", "bands", b, "min"),
                        None,
                        f"band starts above the highest scale value {high:g}",
                    )
                )
        threshold = self.scoring.priority.at_or_below
        if not low <= threshold <= high:
            errors.append(
                (
                    ("scoring", "priority", "at_or_below"),
                    None,
                    f"priority threshold must lie within the scale ({low:g} to {high:g})",
                )
            )
        return errors

    def _action_errors(self) -> list[tuple[Loc, str | None, str]]:
        errors: list[tuple[Loc, str | None, str]] = []
        item_ids = {item.id for item in self.items()}
        for a, action in enumerate(self.actions):
            for i, item_id in enumerate(action.items):
                if item_id not in item_ids:
                    errors.append(
                        (
                            ("actions", a, "items", i),
                            item_id,
                            "the action names an item that does not exist",
                        )
                    )
        return errors

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

    def actions_for(self, item_id: str) -> list[Action]:
        """Return the suggested actions that name this item."""
        return [action for action in self.actions if item_id in action.items]

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
