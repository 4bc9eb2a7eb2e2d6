"""CSV and XLSX exports of a cycle's results and of its individual ratings.

Plain functions: they take what ``service.cycle_results`` and
``service.individual_ratings`` return and give back bytes. Text that people
typed is defused so that a spreadsheet never runs it as a formula.
"""

import csv
import io
import re
import unicodedata

from .service import WORDED_SCALES, on_scale

# Werkzeug adds "; charset=utf-8" to a text/* mimetype: name it once only.
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Defuse a text cell a spreadsheet would run as a formula (CWE-1236)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _num(value, places=2):
    return None if value is None else round(value, places)


def _yes(flag) -> str:
    return "yes" if flag else "no"


def _median(results, item):
    # A letter grade's median is a grade, not the number behind it.
    if results.get("scale_kind") in WORDED_SCALES:
        return item["median_label"] or None
    return _num(item["median"])


def _value(results, value):
    """A score: on a letter-grade or yes / no scale the nearest grade or word
    (as on the page), else the number."""
    if value is None or results.get("scale_kind") not in WORDED_SCALES:
        return _num(value)
    return on_scale(results, value)


def filename(results_or_cycle: dict, what: str, ext: str) -> str:
    """Return an ASCII file name such as northfield-primary-school-closing-gaps-results.csv."""
    parts = [
        results_or_cycle.get("school_name") or results_or_cycle.get("team_name") or "",
        results_or_cycle.get("title") or "",
        what,
    ]
    text = "-".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120].strip("-")
    return f"{slug or 'cycle'}.{ext}"


# Results -------------------------------------------------------------------


def _status(results) -> str:
    return "provisional" if results["provisional"] else "agreed"


def summary_rows(results) -> list[list]:
    """Return the cycle's headline as (label, value) rows."""
    overall = results["overall"]
    previous = results.get("previous_cycle")
    return [
        ["Cycle", results["title"]],
        ["School or team", results.get("school_name") or results.get("team_name")],
        ["Instrument", f"{results['instrument_title']}, version {results['version']}"],
        ["Figures", _status(results)],
        ["Respondents", results["respondents"]],
        ["Overall score", _value(results, overall["score"])],
        ["Overall band", overall["band"] or ""],
        ["Overall level", overall["level"] or ""],
        ["Previous cycle", previous["title"] if previous else ""],
        ["Overall previous score", _value(results, _change(overall).get("previous"))],
        ["Overall change", _num(_change(overall).get("delta"))],
        ["Overall change clear?", _clear(overall)[0]],
        ["Overall change interval low (95%)", _clear(overall)[1]],
        ["Overall change interval high (95%)", _clear(overall)[2]],
    ]


def _clear(figure) -> list:
    """Return [verdict, low, high] of whether a change is clear (scoring.change)."""
    interval = _change(figure).get("interval") or {}
    if not interval.get("verdict"):
        return ["", "", ""]
    return [interval["verdict"], _num(interval["low"]), _num(interval["high"])]


def _change(figure) -> dict:
    return figure.get("change") or {}


SECTION_HEADER = [
    "Section id",
    "Section",
    "Score",
    "Band",
    "Level",
    "Items scored",
    "Items",
    "Previous score",
    "Change",
    "Clear change?",
    "Change interval low (95%)",
    "Change interval high (95%)",
    "Figures",
]


def section_rows(results) -> list[list]:
    """Return one row per section, then the overall row, with change where known.

    A score is blank when too few items were scored.
    """
    rows = []
    overall = {**results["overall"], "id": "overall", "title": "Overall"}
    for s in [*results["sections"], overall]:
        change = _change(s)
        rows.append(
            [
                s["id"],
                s["title"],
                _value(results, s["score"]),
                s["band"] or "",
                s["level"] or "",
                s["scored_count"],
                s["item_count"],
                _value(results, change.get("previous")),
                _num(change.get("delta")),
                *_clear(s),
                _status(results),
            ]
        )
    return rows


def item_header(results) -> list[str]:
    return [
        "Item",
        "Item id",
        "Section",
        "Statement",
        "Agreed answer" if not results["provisional"] else "Provisional answer",
        "Reverse-worded",
        "Score (reverse items turned round)",
        "Deferred",
        "Ratings",
        *[f"Rated {p['label']}" for p in results["scale"]],
        "Not applicable",
        "No evidence yet",
        "Unanswered",
        "Median (as rated)",
        "Mean (as rated)",
        "Standard deviation",
        "Range (steps)",
        "Agreement (rWG)",
        "Split",
        "Priority",
        "Why a priority",
        "Previous score (reverse items turned round)",
        "Change",
        "New item",
        "Ratings withheld (anonymity)",
        "Rationale",
    ]


def item_rows(results) -> list[list]:
    """Return one row per item; ratings figures are blank where withheld."""
    rows = []
    for item in results["items"]:
        hidden = item["hidden"]
        change = item.get("change") or {}
        counts = [d["count"] for d in item["distribution"]]
        answer = item["agreed_label"] or ""
        if results["provisional"]:
            answer = ""
        rows.append(
            [
                item["position"],
                item["item_id"],
                item["section_title"],
                item["statement"],
                answer,
                _yes(item["reverse"]),
                _value(results, item["effective"]),
                _yes(item["deferred"]),
                item["n"],
                *([None] * len(counts) if hidden else counts),
                item["na"],
                item["ne"],
                item["unanswered"],
                *(
                    [None] * 6
                    if hidden
                    else [
                        _median(results, item),
                        _value(results, item["mean"]),
                        _num(item["sd"]),
                        item["range"],
                        _num(item["rwg"]),
                        _yes(item["split"]),
                    ]
                ),
                _yes(item["priority_reasons"]),
                ", ".join(item["priority_reasons"]),
                _value(results, change.get("previous")),
                _num(change.get("delta")),
                _yes(change.get("new")) if change else "",
                _yes(hidden),
                item["rationale"],
            ]
        )
    return rows


def results_csv(results) -> bytes:
    """Return the results as CSV: the item table, then the section table."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(item_header(results))
    writer.writerows([safe_cell(v) for v in row] for row in item_rows(results))
    writer.writerow([])
    writer.writerow(SECTION_HEADER)
    writer.writerows([safe_cell(v) for v in row] for row in section_rows(results))
    # A byte-order mark lets Excel read the file as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# openpyxl is imported when a workbook is made, not with the app (it slows
# the start of every `flask` command).
def _workbook():
    from openpyxl import Workbook

    return Workbook()


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


def _sheet(book, title, header, rows, first=False):
    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    if header:
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = _bold()
        sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    return sheet


def _xlsx_bytes(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def results_xlsx(results) -> bytes:
    """Return the results as a workbook: Summary, Sections and Items sheets."""
    book = _workbook()
    _sheet(book, "Summary", None, summary_rows(results), first=True)
    _sheet(book, "Sections", SECTION_HEADER, section_rows(results))
    _sheet(book, "Items", item_header(results), item_rows(results))
    return _xlsx_bytes(book)


# Individual ratings ---------------------------------------------------------------

RATINGS_HEADER = [
    "Respondent",
    "Item",
    "Item id",
    "Section",
    "Statement",
    "Answer code",
    "Answer",
    "Comment",
    "Evidence",
]


def _rating_row(r) -> list:
    return [
        r["who"],
        r["position"],
        r["item_id"],
        r["section"],
        r["statement"],
        r["code"],
        r["label"],
        r["comment"],
        r["evidence"],
    ]


def ratings_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RATINGS_HEADER)
    writer.writerows([safe_cell(v) for v in _rating_row(r)] for r in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def ratings_xlsx(rows) -> bytes:
    book = _workbook()
    _sheet(book, "Ratings", RATINGS_HEADER, map(_rating_row, rows), first=True)
    return _xlsx_bytes(book)
