"""The partnership lead's comparison page and its CSV and XLSX exports."""

from html import escape

from flask import Blueprint, Response, render_template
from flask_login import login_required
from markupsafe import Markup

from ..db import get_db
from ..loaders import load_comparison
from . import comparison, export
from .forms import view_data
from .heatmap import heatmap_svg

bp = Blueprint("partnership", __name__)


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


@bp.route("/partnerships/<int:pid>/comparison")
@login_required
def page(pid):
    """Compare agreed self and peer scores across the partnership's schools."""
    db = get_db()
    partnership = load_comparison(db, pid)
    form, data, ok = view_data(db, pid)
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
    db = get_db()
    load_comparison(db, pid)
    form, data, ok = view_data(db, pid)
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
