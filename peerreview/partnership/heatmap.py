"""The partnership heat map (schools by sections) as SVG, drawn the same for
the comparison page and the partnership report."""

from html import escape

from markupsafe import Markup

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
