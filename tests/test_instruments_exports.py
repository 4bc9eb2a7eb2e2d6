"""An instrument as CSV of its items and back into YAML, and as a printed document."""

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import DEPUTY, tags

from peerreview.instruments import load_file, parse_text
from peerreview.instruments.cli import instruments_cli
from peerreview.instruments.spreadsheet import (
    CsvInvalid,
    document_from_csv,
    items_csv,
    sections_from_csv,
    to_yaml,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "instruments").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_instrument_goes_to_csv_and_back_unchanged(path):
    import yaml

    instrument = load_file(path)
    text = items_csv(instrument)
    document = document_from_csv(text, "items.csv", yaml.safe_load(path.read_text()))
    again = parse_text(to_yaml(document), "again.yaml")
    assert again.content_hash == instrument.content_hash


def test_csv_has_one_row_per_item_with_a_column_per_descriptor():
    instrument = load_file(ROOT / "instruments" / "partnership-maturity.yaml")
    rows = list(csv.DictReader(io.StringIO(items_csv(instrument))))
    assert len(rows) == instrument.item_count
    first = next(instrument.items())
    assert rows[0]["item_id"] == first.id
    assert rows[0]["statement"] == first.statement
    assert rows[0]["descriptor 4"] == first.descriptors["4"]
    assert rows[0]["reverse"] == "no"


HEADER = "section_id,item_id,statement,weight,reverse,descriptor 1\r\n"


def problems(text: str) -> list[str]:
    with pytest.raises(CsvInvalid) as caught:
        sections_from_csv(text, "items.csv")
    return [str(p) for p in caught.value.problems]


def test_csv_problems_name_the_line_and_item():
    text = HEADER + (
        "s,a,Statement a.,2,no,x\r\n"
        ",b,No section.,,,\r\n"
        "s,c,Statement c.,heavy,perhaps,\r\n"
        "s,,No id.,,,\r\n"
    )
    assert problems(text) == [
        "items.csv:3: b: section_id is empty",
        "items.csv:4: c: weight 'heavy' is not a number",
        "items.csv:4: c: reverse 'perhaps' must be yes or no",
        "items.csv:5: -: item_id is empty",
    ]
    assert problems("section_id,statement,colour\r\n") == [
        "items.csv:1: -: missing column(s): item_id",
        "items.csv:1: -: unknown column(s): colour (the columns are section_id, "
        "section_title, section_description, item_id, statement, guidance, "
        "evidence_prompts, weight, reverse, tags, replaces and 'descriptor CODE' "
        "for each point)",
    ]


def test_formula_cells_are_defused_and_restored():
    text = HEADER + "s,a,=1+1 is a formula,,yes,-minus\r\n"
    (section,) = sections_from_csv(text, "items.csv")
    (item,) = section["items"]
    assert item["statement"] == "=1+1 is a formula"
    assert item["reverse"] is True
    instrument = parse_text(
        (ROOT / "docs" / "instruments.md")
        .read_text()
        .split("```yaml\n")[1]
        .split("```")[0]
        .replace("statement: Subject leaders plan", "statement: =Subject leaders plan"),
        "x.yaml",
    )
    exported = items_csv(instrument)
    assert ",'=Subject leaders plan" in exported
    (section,) = sections_from_csv(exported, "items.csv")
    assert section["items"][0]["statement"].startswith("=Subject")


def test_cli_from_csv_writes_only_a_valid_instrument(tmp_path):
    base = ROOT / "instruments" / "partnership-health-check.yaml"
    runner = CliRunner()
    exported = runner.invoke(instruments_cli, ["to-csv", str(base)])
    assert exported.exit_code == 0
    # A new item drafted in the spreadsheet.
    edited = tmp_path / "items.csv"
    edited.write_text(
        exported.output + "foundations,,,new-item,A new statement.,,,,,,\r\n",
        encoding="utf-8",
    )
    out = tmp_path / "new.yaml"
    result = runner.invoke(
        instruments_cli,
        ["from-csv", str(edited), "--into", str(base), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    instrument = load_file(out)
    assert instrument.item("new-item").statement == "A new statement."
    assert instrument.item_count == load_file(base).item_count + 1
    # A duplicate id is refused, and nothing is written.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        exported.output + "foundations,,,new-item,A.,,,,,,\r\n"
        "foundations,,,new-item,B.,,,,,,\r\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        instruments_cli,
        ["from-csv", str(bad), "--into", str(base), "--out", str(tmp_path / "x.yaml")],
    )
    assert result.exit_code == 1
    assert "the id 'new-item' is used twice" in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_csv_download(demo, client, auth):
    version = load_file(ROOT / "instruments" / "partnership-maturity.yaml").version
    auth.login(DEPUTY)
    response = client.get("/instruments/partnership-maturity.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        f"partnership-maturity-{version}-items.csv"
        in response.headers["Content-Disposition"]
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffsection_id,section_title")
    page = client.get("/instruments/partnership-maturity").get_data(as_text=True)
    assert "/instruments/partnership-maturity.csv" in page


def test_printable_document_has_every_item_descriptor_and_action(demo, client, auth):
    from html import unescape

    instrument = load_file(ROOT / "instruments" / "partnership-maturity.yaml")
    auth.login(DEPUTY)
    response = client.get("/instruments/partnership-maturity/print")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert tags(html, "link", rel="stylesheet", href="/static/print/report.css")
    assert f"<h1>{instrument.title}</h1>" in html
    for n, item in enumerate(instrument.items(), start=1):
        assert f"{n}. {item.statement}" in html
        for text in item.descriptors.values():
            assert text in html
    for action in instrument.actions:
        assert action.text in html
    page = client.get("/instruments/partnership-maturity").get_data(as_text=True)
    assert "/instruments/partnership-maturity/print" in page
    assert "Prepare a PDF" in page


def test_pdf_is_prepared_then_downloaded(demo, client, auth):
    from pypdf import PdfReader

    auth.login(DEPUTY)
    assert client.get("/instruments/ascl-closing-gaps.pdf").status_code == 302
    response = auth.post(
        "/instruments/ascl-closing-gaps.pdf", page="/instruments/ascl-closing-gaps"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/instruments/ascl-closing-gaps#pdf")
    page = client.get("/instruments/ascl-closing-gaps").get_data(as_text=True)
    assert "Download the PDF" in page
    pdf = client.get("/instruments/ascl-closing-gaps.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages
    )
    statement = next(load_file(ROOT / "instruments" / "ascl-closing-gaps.yaml").items())
    assert " ".join(statement.statement.split()[:6]) in " ".join(text.split())


# The CSV of items uploaded in the browser --------------------------------------

HEALTH = ROOT / "instruments" / "partnership-health-check.yaml"


def post_csv(auth, text: str, instrument="partnership-health-check", version=""):
    """POST a CSV of items to the browser's CSV-to-YAML form."""
    return auth.post(
        "/instruments/from-csv",
        {
            "instrument": instrument,
            "version": version,
            "file": (io.BytesIO(text.encode("utf-8")), "items.csv"),
        },
        page="/instruments/from-csv",
        content_type="multipart/form-data",
    )


def error_messages(html: str) -> list[str]:
    from html import unescape

    match = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert match, "no error summary"
    return [
        unescape(re.sub(r"<[^>]+>", "", m)).strip()
        for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    ]


def test_a_csv_of_items_becomes_the_instruments_yaml_in_the_browser(demo, client, auth):
    import yaml
    from support import ADMIN

    auth.login(ADMIN)
    shipped = load_file(HEALTH)
    page = client.get("/instruments/partnership-health-check").get_data(as_text=True)
    assert "/instruments/from-csv?instrument=partnership-health-check" in page
    form = client.get("/instruments/from-csv?instrument=partnership-health-check")
    chosen = re.search(r"<option[^>]*selected[^>]*>", form.get_data(as_text=True))
    assert 'value="partnership-health-check"' in chosen.group(0)
    # The spreadsheet round trip: download, add an item, upload (a MINOR change).
    exported = client.get("/instruments/partnership-health-check.csv")
    text = exported.get_data(as_text=True) + "foundations,,,new-item,A new one.\r\n"
    major, minor, _ = (int(n) for n in shipped.version.split("."))
    version = f"{major}.{minor + 1}.0"
    response = post_csv(auth, text, version=version)
    assert response.status_code == 200
    assert response.mimetype == "text/yaml"
    assert (
        f'filename="partnership-health-check-{version}.yaml"'
        in response.headers["Content-Disposition"]
    )
    made = parse_text(response.get_data(as_text=True), "made.yaml")
    assert made.version == version
    assert made.item("new-item").statement == "A new one."
    assert made.item_count == shipped.item_count + 1
    # Everything but the items is the instrument's own, the source too.
    assert made.source == shipped.source and made.scoring == shipped.scoring
    assert yaml.safe_load(response.get_data(as_text=True))["actions"]


def test_a_csv_of_items_is_refused_with_every_problem_in_words(demo, client, auth):
    from support import ADMIN

    auth.login(ADMIN)
    shipped = load_file(HEALTH)
    exported = items_csv(shipped)
    # Two rows with one id, and a weight that is not a number: CSV lines.
    bad = exported + "foundations,,,dup,A.,,,,,,\r\nfoundations,,,dup,B.,,,x,,,\r\n"
    lines = len(exported.splitlines())
    assert error_messages(post_csv(auth, bad).get_data(as_text=True)) == [
        f"items.csv:{lines + 2}: dup: weight 'x' is not a number"
    ]
    # A reworded statement in the same version: the version rule says why.
    reworded = exported.replace("Our partnership builds", "The school builds", 1)
    (message,) = error_messages(post_csv(auth, reworded).get_data(as_text=True))
    assert message.startswith(f"partnership-health-check-{shipped.version}.yaml:")
    assert (
        f"the content changed but version {shipped.version} is not above "
        f"{shipped.version} (a MAJOR change is needed: item "
        "'builds-on-relationships': statement reworded)"
    ) in message
    # A removed item still named by the source's coverage is named too.
    missing = "\r\n".join(
        row for row in exported.split("\r\n") if ",impact-evaluated," not in row
    )
    messages = error_messages(
        post_csv(auth, missing, version="2.0.0").get_data(as_text=True)
    )
    assert any(
        "the coverage names the item 'impact-evaluated', which does not exist" in m
        for m in messages
    ), messages
    # No file, no version in words, an unknown instrument.
    response = auth.post(
        "/instruments/from-csv",
        {"instrument": "no-such", "version": "two"},
        page="/instruments/from-csv",
    )
    assert error_messages(response.get_data(as_text=True)) == [
        "Not a valid choice.",
        "Choose a CSV file of items to upload",
        "Give the version as MAJOR.MINOR.PATCH, such as 1.1.0",
    ]


def test_the_csv_form_needs_its_csrf_token_and_an_uploader(demo, client, auth):
    from support import ADMIN

    auth.login(ADMIN)
    response = client.post(
        "/instruments/from-csv",
        data={
            "instrument": "partnership-health-check",
            "file": (io.BytesIO(b"section_id,item_id,statement\r\n"), "items.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    auth.logout()
    auth.login(DEPUTY)
    assert client.get("/instruments/from-csv").status_code == 403
    page = client.get("/instruments/partnership-health-check").get_data(as_text=True)
    assert "/instruments/from-csv" not in page
