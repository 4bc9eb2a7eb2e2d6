"""CSV and XLSX exports of the partnership comparison (agreed scores only)."""

import csv
import io

from ..results.export import safe_cell as _safe  # one rule for every export


def to_csv(sheets: dict[str, list[list]]) -> str:
    """Return every sheet in one CSV, each headed by its name and a blank line apart."""
    out = io.StringIO()
    writer = csv.writer(out)
    for n, (name, rows) in enumerate(sheets.items()):
        if n:
            writer.writerow([])
        writer.writerow([name])
        for row in rows:
            writer.writerow(["" if v is None else _safe(v) for v in row])
    return out.getvalue()


def to_xlsx(sheets: dict[str, list[list]]) -> bytes:
    """Return a workbook with one worksheet per sheet, headings in bold."""
    # Imported here, not with the app: it slows the start of every command.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        for row in rows:
            sheet.append([_safe(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
