"""The printed reports as a reader sees them: nothing overflows its cell.

Checked on the laid-out pages (WeasyPrint's boxes), for the demo's team
report, governors' summary and partnership report, and for a long plan.
"""

import pytest
from markupsafe import escape
from test_reports import _agreed_cycle_with_full_plan
from weasyprint.formatting_structure import boxes

from peerreview.cycles import service as cycles
from peerreview.db import ROOT
from peerreview.instruments import Library
from peerreview.loaders import load_partnership
from peerreview.partnership.forms import view_data
from peerreview.plans import service as plans
from peerreview.reports import partnership_views
from peerreview.reports.render import render_document
from peerreview.reports.views import build_html

# Half a point: the rounding of a glyph's advance, not an overflow.
SLACK = 0.5


def overflowing(document) -> list[str]:
    """Return the text of every line that runs out of its table cell, and where."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        for cell in page._page_box.descendants():
            if not isinstance(cell, boxes.TableCellBox):
                continue
            left = cell.content_box_x()
            right = left + cell.width
            for box in cell.descendants():
                if not isinstance(box, boxes.TextBox):
                    continue
                if box.position_x < left - SLACK or (
                    box.position_x + box.width > right + SLACK
                ):
                    found.append(f"page {number}: {box.text!r}")
    return found


def _cycle_html(app, db, cycle, kind):
    with app.test_request_context():
        return build_html(db, cycle, kind)


@pytest.mark.parametrize("kind", ["team", "governors"])
def test_no_cell_overflows_in_the_demo_reports(demo_full, app, kind):
    html = _cycle_html(app, demo_full, cycles.get_cycle(demo_full, 2), kind)
    assert overflowing(render_document(html)) == []


def test_no_cell_overflows_in_the_partnership_report(demo_full, app):
    with app.test_request_context("/partnerships/1/reports?round=1"):
        _form, data, ok = view_data(demo_full, 1)
        assert ok
        html = partnership_views.build_html(
            demo_full, load_partnership(demo_full, 1), data
        )
    assert overflowing(render_document(html)) == []


def test_an_undefined_alpha_is_explained_in_the_note_column(demo_full, app):
    """The reason alpha is missing is a sentence: it goes where sentences fit."""
    html = _cycle_html(app, demo_full, cycles.get_cycle(demo_full, 2), "team")
    table = html.split("Agreement across each section", 1)[1].split("</table>", 1)[0]
    assert "<td>Not defined: every rating was the same point</td>" in table
    assert '<td class="num">Not defined' not in table


def test_evidence_coverage_headings_each_keep_their_own_column(demo_full, app):
    html = _cycle_html(app, demo_full, cycles.get_cycle(demo_full, 2), "team")
    document = render_document(html)
    assert overflowing(document) == []
    texts = [
        b
        for page in document.pages
        for b in page._page_box.descendants()
        if isinstance(b, boxes.TextBox)
    ]
    start = next(
        n for n, b in enumerate(texts) if b.text.startswith("Evidence coverage")
    )
    heads = [
        b
        for b in texts[start + 1 : start + 12]
        if b.text.strip() and b.text != "Section"
    ]
    # Each heading on one line, and each ends before the next begins.
    assert [b.text for b in heads[:3]] == ["Items", "On evidence", "Peer-confirmed"]
    for left, right in zip(heads[:2], heads[1:3], strict=True):
        assert left.position_x + left.width < right.position_x


@pytest.fixture
def long_plan(demo_full, app):
    """A low-scoring board on MAT governance: 80-odd priorities, each an action."""
    instrument = Library(ROOT / "instruments").get("mat-governance")
    return _agreed_cycle_with_full_plan(demo_full, instrument, 1, seed=5)


def test_a_long_plan_prints_whole_and_starts_with_its_heading(
    demo_full, app, long_plan
):
    document = render_document(_cycle_html(app, demo_full, long_plan, "team"))
    assert overflowing(document) == []
    actions = plans.get_plan(demo_full, long_plan)["actions"]
    pages = [
        " ".join(
            b.text for b in p._page_box.descendants() if isinstance(b, boxes.TextBox)
        )
        for p in document.pages
    ]
    status = f"{len(actions)} actions:"
    heading = next(text for text in pages if status in text)
    # The heading and its status line go over with the plan's first action.
    after = " ".join(heading.split(status, 1)[1].split())
    assert " ".join(actions[0]["title"].split()[:4]) in after


def test_governors_read_where_the_rest_of_a_long_plan_is(demo_full, app, long_plan):
    html = _cycle_html(app, demo_full, long_plan, "governors")
    actions = len(plans.get_plan(demo_full, long_plan)["actions"])
    assert actions > 21
    assert (
        f"{actions - 20} further actions, numbers 21 to {actions}, are in the team "
        "report, and on the cycle's action plan in the platform." in html
    )
    assert overflowing(render_document(html)) == []
    # The board's instrument never says FSM: the glossary does not explain it.
    assert "FSM" not in html


def test_one_further_action_is_named(app):
    action = {
        "title": "Act",
        "items": [],
        "owner_name": None,
        "due_on": None,
        "status_label": "Not started",
        "overdue": False,
    }
    plan = {"actions": [dict(action, number=n) for n in (1, 2, 3)]}
    with app.test_request_context():
        macro = app.jinja_env.get_template("reports/_parts.html").module.plan_table
        html = str(macro(plan, full=False, limit=2))
    assert "the first 2 of 3 actions" in html
    assert "1 further action, number 3, is in the team report" in html


def test_an_action_lists_the_statements_it_addresses_as_sentences(
    demo_full, app, long_plan
):
    html = _cycle_html(app, demo_full, long_plan, "team")
    several = [
        a
        for a in plans.get_plan(demo_full, long_plan)["actions"]
        if len(a["items"]) > 1
    ]
    assert several and ".;" not in html
    first, second = several[0]["items"][:2]
    joined = f"{first['statement']} {second['statement']}"
    assert str(escape(joined)) in html
