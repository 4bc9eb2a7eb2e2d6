"""Every shipped instrument says which of its items cover each element of its source."""

import re
from pathlib import Path

import pytest

from peerreview.instruments import load_file

FOLDER = Path(__file__).resolve().parents[1] / "instruments"
SHIPPED = sorted(FOLDER.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_coverage_lists_elements_and_items_that_exist(path):
    instrument = load_file(path)
    coverage = instrument.source.coverage
    assert coverage, f"{path.name} lists no source elements"
    item_ids = {item.id for item in instrument.items()}
    for entry in coverage:
        assert set(entry.items) <= item_ids, entry.element
        assert entry.items or entry.note, entry.element
    elements = [entry.element for entry in coverage]
    assert len(elements) == len(set(elements))
    # Every item answers to some element of the source.
    listed = {item_id for entry in coverage for item_id in entry.items}
    assert sorted(item_ids - listed) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_citation_names_no_seed_file_and_provenance_does(path):
    source = load_file(path).source
    internal = re.compile(r"seed|\.txt|\blines? \d", re.I)
    assert not internal.search(source.citation), source.citation
    assert source.provenance and internal.search(source.provenance)


def test_every_shipped_instrument_has_coverage():
    assert len(SHIPPED) == 6
    assert [p.stem for p in SHIPPED if not load_file(p).source.coverage] == []


def test_ascl_coverage_follows_the_checklist():
    coverage = load_file(FOLDER / "ascl-closing-gaps.yaml").source.coverage
    statements = [c for c in coverage if c.element.startswith("Statement ")]
    issues = [c for c in coverage if c.element.startswith("Issue ")]
    assert len(statements) == 11 and len(issues) == 7
    assert all(len(c.items) == 1 for c in statements)
    # Each statement sits under exactly one of the seven issues.
    under = [item_id for c in issues for item_id in c.items]
    assert sorted(under) == sorted(c.items[0] for c in statements)


def test_partnership_health_check_covers_the_ten_lessons_for_schools():
    coverage = load_file(FOLDER / "partnership-health-check.yaml").source.coverage
    lessons = [c for c in coverage if c.element.startswith("Lesson ")]
    assert [c.element.split(":")[0] for c in lessons] == [
        f"Lesson {n}" for n in range(1, 11)
    ]
    assert all(c.items for c in lessons)
    others = [c for c in coverage if not c.items]
    assert [c.element for c in others] == [
        "Ten lessons for local authorities",
        "Ten lessons for policymakers",
    ]
