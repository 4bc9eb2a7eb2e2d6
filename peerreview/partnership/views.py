"""The partnership lead's comparison page and its CSV and XLSX exports."""

import logging
from html import escape

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import IntegerField, RadioField, StringField
from wtforms.validators import Length, NumberRange, Optional

from .. import catalogue
from .. import permissions as perm
from ..db import get_db
from ..formtools import options
from ..loaders import load_partnership
from ..organisations import postcodes
from . import comparison, export

bp = Blueprint("partnership", __name__)
log = logging.getLogger(__name__)


class FilterForm(FlaskForm):
    """The page's choices, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    # Radios, not drop-downs: a drop-down cannot wrap, and on a phone it cut
    # instrument titles and round names short.
    instrument = RadioField("Instrument", validate_choice=False)
    round = RadioField("Round", validate_choice=False)
    view = RadioField(
        "Show in the matrix",
        choices=options(comparison.MODES.items()),
        default="gap",
        validators=[Optional()],
    )
    # Typed, with the schools' names as suggestions (a datalist): a drop-down
    # of hundreds of schools could not be searched, nor read on a phone.
    school = StringField(
        "Who can help: which school?", validators=[Optional(), Length(max=200)]
    )
    miles = IntegerField(
        "Within (miles, as the crow flies)",
        default=postcodes.DEFAULT_MILES,
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=postcodes.MAX_MILES,
                message=f"Enter a distance from 1 to {postcodes.MAX_MILES} miles",
            ),
        ],
    )


def view_data(db, pid):
    """Read the choices, refuse bad ones with a message, return (form, data, ok)."""
    form = FilterForm(formdata=request.args or None)
    ok = form.validate() if request.args else True
    if not ok:
        log.warning("refused comparison choices for %s: %s", pid, form.errors)

    def as_int(text):
        return int(text) if text and str(text).isdigit() else None

    data = comparison.partnership_view(
        db,
        pid,
        instrument_id=form.instrument.data or None,
        round_id=as_int(form.round.data),
        mode=form.view.data or "gap",
        help_school=form.school.data,
        max_miles=form.miles.data
        if ok and form.miles.data
        else postcodes.DEFAULT_MILES,
    )
    titles = {i.id: i.title for i in catalogue.available(db, {pid})}
    data["instrument_titles"] = titles
    form.instrument.choices = options(
        (i, titles.get(i, i)) for i in data["instruments"]
    )
    form.instrument.data = data["instrument_id"]
    form.round.choices = options((str(r["id"]), r["title"]) for r in data["rounds"])
    form.round.data = str(data["round"]["id"]) if data["round"] else None
    form.view.data = data["mode"]
    if data["help_school_id"]:
        form.school.data = data["names"].get(data["help_school_id"])
    if data["school_unknown"] and not data["help_all"]:
        form.school.errors = [
            *form.school.errors,
            f"No school reviewed in this round has a name like “{data['school_text']}”",
        ]
        ok = False
    return form, data, ok


# Wide enough for the widest figure ("−2.0") and the heading "Overall" at
# 14px; a name's width is taken as 0.6 of the font size a character (DejaVu
# Sans, the PDF's font, is the widest the page may be shown in).
_CELL, _ROW, _TOP, _CHAR = 80, 28, 34, 8.4


def heat_cells_said(d: dict) -> str:
    """Say what the heat map's cells show, for the chosen measure and scale."""
    scale = d["scale"]
    if d["mode"] == "gap":
        unit = (
            "in steps along the scale (from one grade to the next is one step)"
            if scale.worded
            else "in points of the scale"
        )
        return (
            f"Each cell shows the gap, self minus peer, {unit}; darker cells "
            "are further from zero, and a gap below zero has a dashed border."
        )
    measure = d["modes"][d["mode"]].lower()
    shown = (
        "as the nearest grade (a half rounded up)"
        if scale.worded
        else "to one decimal place"
    )
    return (
        f"Each cell shows the mean {measure} {shown}, on the scale from "
        f"{scale.point(d['lo'])} to {scale.point(d['hi'])}; darker cells are higher."
    )


def heatmap_svg(d: dict, chart_id: str = "heat") -> Markup:
    """Draw the schools-by-sections heat map; every cell carries its figure.

    Columns are headed S1, S2… (the key beside the map names each section in
    full: whole titles would overlap) and school names are never cut, so the
    map is as wide as it needs to be and scrolls in its region on a small
    screen. Built as one string rather than in Jinja: a partnership of 500
    schools has 4,500 cells, and only the names need escaping.
    """
    names = [s["name"] for s in d.get("schools") or [r["school"] for r in d["grid"]]]
    left = round(max([16, *map(len, names)]) * _CHAR) + 16
    cols = len(d["sections"]) + 1
    width, height = left + _CELL * cols + 4, _TOP + _ROW * len(d["grid"]) + 4
    title = escape(
        f"{d['modes'][d['mode']]} by school and section, {d['round']['title']}"
    )
    out = [
        f'<svg class="pr-chart pr-heat" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{title}</title>',
        f'<desc id="{chart_id}-d">{len(d["grid"])} schools by {len(d["sections"])} '
        f"sections and overall. {escape(heat_cells_said(d))} The last column, "
        "boxed, is the school's overall figure; a dash means no comparable item. "
        "The same figures are in the table that follows.</desc>",
    ]
    headings = [f"S{n + 1}" for n in range(cols - 1)] + ["Overall"]
    for n, heading in enumerate(headings):
        out.append(
            f'<text x="{left + _CELL * n + _CELL // 2}" y="22" text-anchor="middle" '
            f'class="pr-chart__label pr-chart__label--head">{heading}</text>'
        )
    cells = [(left + _CELL * n + 1, left + _CELL * n + _CELL // 2) for n in range(cols)]
    for row_number, row in enumerate(d["grid"]):
        out.append(
            f'<g transform="translate(0 {_TOP + _ROW * row_number})"><text '
            f'x="{left - 8}" y="19" text-anchor="end" class="pr-chart__label">'
            f"{escape(row['school']['name'])}</text>"
        )
        last = len(row["cells"]) - 1
        for n, (cls, text) in enumerate(row["cells"]):
            total = " pr-heat__cell--total" if n == last else ""
            out.append(
                f'<rect x="{cells[n][0]}" y="1" width="{_CELL - 2}" height="{_ROW - 2}" '
                f'class="pr-heat__cell {cls}{total}"></rect><text x="{cells[n][1]}" '
                f'y="19" text-anchor="middle" class="pr-heat__value">{text}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def matrix_rows_html(d: dict) -> Markup:
    """Return the table alternative's body rows, one per school."""
    out = []
    for row in d["grid"]:
        out.append(
            '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">'
            f"{escape(row['school']['name'])}</th>"
            + "".join(
                f'<td class="govuk-table__cell govuk-table__cell--numeric">{text}</td>'
                for _cls, text in row["cells"]
            )
            + "</tr>"
        )
    return Markup("".join(out))


def coverage_rows_html(d: dict) -> Markup:
    """Return the evidence coverage table's body rows, one per school.

    Built as one string, as the matrix is: 500 schools make 4,500 cells.
    """

    def cell(c):
        return (
            '<td class="govuk-table__cell govuk-table__cell--numeric">'
            f'{c["evidenced"]} of {c["items"]}<br><span class="govuk-body-s">'
            f"{c['confirmed']} confirmed</span></td>"
        )

    out = []
    for school in d["schools"]:
        c = d["coverage"].get(school["id"])
        if c:
            out.append(
                '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">'
                f"{escape(school['name'])}</th>"
                + "".join(cell(x) for x in c["sections"])
                + cell(c["all"])
                + "</tr>"
            )
    return Markup("".join(out))


def trend_rows_html(d: dict) -> Markup:
    """Return the trend table's body rows: each school's peer mean and gap by round."""
    fmt = comparison.fmt
    out = []
    for school in d["schools"]:
        t = d["trend"].get(school["id"], {})
        cells = []
        for r in d["rounds"]:
            c = t.get(r["id"])
            text = (
                f"peer {d['scale'].mean(c['peer'])}, gap {fmt(c['gap'], 'gap')}"
                if c
                else "–"
            )
            cells.append(
                f'<td class="govuk-table__cell govuk-table__cell--numeric">{text}</td>'
            )
        out.append(
            '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">'
            f"{escape(school['name'])}</th>{''.join(cells)}</tr>"
        )
    return Markup("".join(out))


def load_comparison(pid):
    """Load a partnership for its comparison (the route's one permission check),
    and the comparison the query string asks for."""
    db = get_db()
    partnership = load_partnership(db, pid)
    perm.require(
        perm.can_view_partnership_comparison(current_user, partnership), hide=True
    )
    form, data, ok = view_data(db, pid)
    return db, partnership, form, data, ok


@bp.route("/partnerships/<int:pid>/comparison")
@login_required
def page(pid):
    """Compare agreed self and peer scores across the partnership's schools."""
    db, partnership, form, data, ok = load_comparison(pid)
    return render_template(
        "partnership/comparison.html",
        partnership=partnership,
        form=form,
        d=data,
        fmt=comparison.fmt,
        heatmap=heatmap_svg(data) if data["round"] else "",
        matrix_body=matrix_rows_html(data) if data["round"] else "",
        trend_body=trend_rows_html(data) if data["round"] else "",
        coverage_body=coverage_rows_html(data) if data["round"] else "",
    ), (200 if ok else 400)


def _export(pid, kind):
    db, partnership, form, data, ok = load_comparison(pid)
    if not ok:
        messages = "; ".join(m for ms in form.errors.values() for m in ms)
        return Response(messages, status=400, mimetype="text/plain")
    sheets = comparison.export_rows(data)
    name = f"partnership-{pid}-comparison"
    if data["round"]:
        name += f"-round-{data['round']['id']}"
    if kind == "csv":
        return Response(
            export.to_csv(sheets),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        export.to_xlsx(sheets),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@bp.route("/partnerships/<int:pid>/comparison.csv")
@login_required
def export_csv(pid):
    """Everything on the comparison page, as CSV."""
    return _export(pid, "csv")


@bp.route("/partnerships/<int:pid>/comparison.xlsx")
@login_required
def export_xlsx(pid):
    """Everything on the comparison page, as an XLSX workbook."""
    return _export(pid, "xlsx")
