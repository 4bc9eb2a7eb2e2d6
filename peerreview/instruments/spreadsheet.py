"""An instrument's items as CSV, for people who draft in a spreadsheet, and back.

One row per item, in order, with its section. The CSV holds the items only:
the instrument's id, version, scale, scoring and actions stay in its YAML
file, and `document_from_csv` puts the items from a CSV back into a copy of
that file's document. No Flask here.
"""

import csv
import io
from collections.abc import Iterable

import yaml

from .loader import InstrumentInvalid, Problem, check_version_change, parse_text
from .schema import Instrument

SECTION_COLUMNS = ["section_id", "section_title", "section_description"]
ITEM_COLUMNS = [
    "item_id",
    "statement",
    "guidance",
    "evidence_prompts",
    "weight",
    "reverse",
    "tags",
    "replaces",
]
REQUIRED = ("section_id", "item_id", "statement")
DESCRIPTOR = "descriptor "  # then the point code: "descriptor 1", "descriptor A"
# A spreadsheet runs a cell starting with these as a formula (CWE-1236); the
# export puts a quote in front, and the import takes it off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _uncell(value: str) -> str:
    value = value.strip()
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def items_csv(instrument: Instrument) -> str:
    """Return the instrument's items as CSV text, one row per item."""
    codes = instrument.scale.codes
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SECTION_COLUMNS + ITEM_COLUMNS + [DESCRIPTOR + c for c in codes])
    for section in instrument.sections:
        for item in section.items:
            row = [
                section.id,
                section.title,
                section.description or "",
                item.id,
                item.statement,
                item.guidance or "",
                "\n".join(item.evidence_prompts),
                _number(item.weight),
                "yes" if item.reverse else "no",
                ", ".join(item.tags),
                ", ".join(item.replaces),
            ] + [item.descriptors.get(code, "") for code in codes]
            writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _number(value: float) -> str:
    """A number as a cell: 1, 0.5, or every digit it needs to read back the
    same (a third is 0.3333333333333333, not 0.333333)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class CsvInvalid(Exception):
    """A CSV of items that cannot be turned into an instrument, with every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _list(value: str, *, lines: bool = False) -> list[str]:
    parts = value.splitlines() if lines else value.replace(";", ",").split(",")
    return [part.strip() for part in parts if part.strip()]


def sections_from_csv(text: str, filename: str) -> list[dict]:
    """Return the sections and items a CSV describes, or raise CsvInvalid."""
    text = text.removeprefix("\ufeff")  # Excel's byte-order mark
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    problems: list[Problem] = []
    missing = [name for name in REQUIRED if name not in header]
    known = set(SECTION_COLUMNS + ITEM_COLUMNS)
    unknown = [
        name for name in header if name not in known and not name.startswith(DESCRIPTOR)
    ]
    if missing or unknown:
        if missing:
            problems.append(
                Problem(filename, 1, None, f"missing column(s): {', '.join(missing)}")
            )
        if unknown:
            problems.append(
                Problem(
                    filename,
                    1,
                    None,
                    f"unknown column(s): {', '.join(unknown)} (the columns are "
                    f"{', '.join(SECTION_COLUMNS + ITEM_COLUMNS)} and "
                    f"'{DESCRIPTOR}CODE' for each point)",
                )
            )
        raise CsvInvalid(problems)
    sections: dict[str, dict] = {}
    line = 1
    for row in reader:
        line = reader.line_num
        cells = {key: _uncell(value or "") for key, value in row.items() if key}
        if not any(cells.values()):
            continue
        item_id = cells.get("item_id") or None

        def fault(message: str, item_id=item_id, line=line) -> None:
            problems.append(Problem(filename, line, item_id, message))

        section_id = cells.get("section_id", "")
        if not section_id:
            fault("section_id is empty")
            continue
        section = sections.setdefault(section_id, {"id": section_id, "items": []})
        for key, column in (
            ("title", "section_title"),
            ("description", "section_description"),
        ):
            value = cells.get(column, "")
            if value and section.get(key) and section[key] != value:
                fault(
                    f"section {section_id!r} has the {key} {section[key]!r} on an "
                    f"earlier row; give it once, or the same on every row"
                )
            elif value:
                section[key] = value
        item: dict = {"id": item_id or "", "statement": cells.get("statement", "")}
        if not item_id:
            fault("item_id is empty")
        if cells.get("guidance"):
            item["guidance"] = cells["guidance"]
        prompts = _list(cells.get("evidence_prompts", ""), lines=True)
        if prompts:
            item["evidence_prompts"] = prompts
        weight = cells.get("weight", "")
        if weight:
            try:
                number = float(weight)
            except ValueError:
                fault(f"weight {weight!r} is not a number")
            else:
                if number != 1:
                    item["weight"] = int(number) if number.is_integer() else number
        reverse = cells.get("reverse", "").lower()
        if reverse in _YES:
            item["reverse"] = True
        elif reverse not in _NO:
            fault(f"reverse {cells['reverse']!r} must be yes or no")
        for key in ("tags", "replaces"):
            values = _list(cells.get(key, ""))
            if values:
                item[key] = values
        descriptors = {
            column[len(DESCRIPTOR) :].strip(): value
            for column, value in cells.items()
            if column.startswith(DESCRIPTOR) and value
        }
        if descriptors:
            item["descriptors"] = descriptors
        section["items"].append(item)
    if not sections and not problems:
        problems.append(Problem(filename, max(line, 1), None, "the CSV has no items"))
    if problems:
        raise CsvInvalid(problems)
    for section in sections.values():
        section.setdefault("title", section["id"])
    # Key order as the format documents it.
    order = ["id", "title", "description", "items"]
    return [{key: s[key] for key in order if key in s} for s in sections.values()]


def document_from_csv(text: str, filename: str, base: dict) -> dict:
    """Return `base` (an instrument document) with its sections from a CSV."""
    sections = sections_from_csv(text, filename)
    document = dict(base)
    document["sections"] = sections
    return document


class _Dumper(yaml.SafeDumper):
    """Block style, with long text folded and lists of words kept on one line."""

    def increase_indent(self, flow=False, indentless=False):
        # Indent a list under its key, as the documented example does.
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _flow_short_lists(dumper: yaml.SafeDumper, value: list):
    flow = all(isinstance(v, str) and len(v) < 40 and "\n" not in v for v in value)
    flow = flow and bool(value) and len(value) <= 8 and not _has_sentences(value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


def _has_sentences(values: Iterable[str]) -> bool:
    return any(" " in v for v in values)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _flow_short_lists)


def to_yaml(document: dict) -> str:
    """Return an instrument document as YAML text in the documented key order."""
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
        default_flow_style=False,
    )


def yaml_from_csv(
    csv_text: str,
    csv_name: str,
    base_text: str,
    base: Instrument,
    version: str | None = None,
) -> tuple[str, Instrument]:
    """Return the YAML of `base` with the items of a CSV, and its instrument.

    base_text: the YAML of `base`, whose keys other than the sections are
    kept; version: the new file's version (default: base's). The result must
    pass the check, and its version must fit its change from `base`; raise
    CsvInvalid or InstrumentInvalid with every problem otherwise.
    """
    document = yaml.safe_load(base_text)
    if version:
        document["version"] = version
    text = to_yaml(document_from_csv(csv_text, csv_name, document))
    instrument = parse_text(text, f"{base.id}-{document['version']}.yaml")
    problems = check_version_change(base.snapshot(), instrument)
    if problems:
        raise InstrumentInvalid(problems)
    return text, instrument
