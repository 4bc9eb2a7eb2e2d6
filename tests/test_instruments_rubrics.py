"""Rubrics two raters can apply alike, and honest about where they come from.

The partnership maturity model (since 1.1.0) words every level as cumulative
criteria a reviewer could see or count in the last 12 months; the
school-improvement scorecard (1.1.0) describes every grade of every
principle, says its eight-grade scale is the platform's extension of the six
grades its source used, and tells a partnership how to read each principle.
Both reworded their rubric in a minor version (1.0.0 to 1.1.0): the released
files (kept in tests/data/released) still load as released, old cycles keep
them, and the results say the descriptors changed. The maturity model's
2.0.0 split its two strands that joined claims into one statement per claim
(tests/test_instruments_shipped.py).
"""

import re
from pathlib import Path

import pytest
from cycle_support import agree_all, make_cycle, team_people
from support import HEAD

from peerreview.cycles import service as cycles
from peerreview.instruments import load_file
from peerreview.instruments.versions import read_lock

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "instruments"
RELEASED = Path(__file__).resolve().parent / "data" / "released"
MATURITY = FOLDER / "partnership-maturity.yaml"
SCORECARD = FOLDER / "school-improvement-scorecard.yaml"
# Each rubric's first release, and the minor version that reworded its levels.
REWORDED = {
    "partnership-maturity": RELEASED / "partnership-maturity-1.1.0.yaml",
    "school-improvement-scorecard": SCORECARD,
}
SEED_001 = ROOT.parent / "shared" / "seeds" / "001_42c81af3882b709d.txt"

# Words that let two raters read one level differently.
VAGUE = re.compile(
    r"\b(a few|few|some|sometimes|occasional|occasionally|often|regular|"
    r"regularly|many|rarely|most|several)\b",
    re.I,
)
# Hill's grades for the government, principle by principle (seed 001).
HILL_GRADES = ["B+", "B", "C", "A-", "A-", "B-", "C", "C-", "B", "B-"]


def test_maturity_levels_are_cumulative_and_countable():
    model = load_file(MATURITY)
    strands = [c for c in model.source.coverage if " strand: " in c.element]
    assert len(strands) == 12
    assert [i for c in strands for i in c.items] == [i.id for i in model.items()]
    for item in model.items():
        levels = item.descriptors
        assert levels["1"].startswith("Developing is not yet reached:"), item.id
        assert levels["3"].startswith("All of Developing, and"), item.id
        assert levels["4"].startswith("All of Embedding, and"), item.id
        for code, text in levels.items():
            assert not VAGUE.search(text), (item.id, code, VAGUE.search(text))
            # Each level above Beginning says what to count, or over what time.
            if code != "1":
                assert re.search(r"12 months|two years|every|at least|half", text), (
                    item.id,
                    code,
                )
    assert "cumulative" in model.purpose and "last 12 months" in model.purpose


def test_maturity_quotes_the_seminar_report_marked_and_short():
    model = load_file(MATURITY)
    assert "seed file" not in model.source.citation
    assert "Hargreaves, D. H. (2011). Leading a self-improving school system" in (
        model.source.citation
    )
    assert (
        '"many schools imagine they have deeper partnerships than, in reality, '
        'they do"' in " ".join(model.purpose.split())
    )
    for tag in model.tags.values():
        quoted = re.findall(r"“([^”]+)”|\"([^\"]+)\"", tag.description)
        assert quoted, tag.label
        assert sum(len("".join(q).split()) for q in quoted) <= 12, tag.label
    assert "reserves all rights" in model.source.licence


def test_scorecard_says_its_scale_is_the_platforms_and_describes_every_grade():
    card = load_file(SCORECARD)
    codes = [p.code for p in card.scale.points]
    assert codes == ["C-", "C", "C+", "B-", "B", "B+", "A-", "A"]
    purpose = " ".join(card.purpose.split())
    assert "The scale is the platform's own" in purpose
    assert "six of them (A-, B+, B, B-, C and C-)" in purpose
    assert "adding A and C+" in purpose
    assert "grades" not in card.source.licence.split("Quoted:")[0]
    assert "letter scale beyond his six grades" in " ".join(card.source.licence.split())
    for item, grade in zip(card.items(), HILL_GRADES, strict=True):
        assert sorted(item.descriptors) == sorted(codes), item.id
        assert len(set(item.descriptors.values())) == 8, item.id
        assert item.guidance.startswith("For a partnership:"), item.id
        assert f"Hill graded the government {grade} here in July 2016" in " ".join(
            item.guidance.split()
        ), item.id


@pytest.mark.skipif(not SEED_001.exists(), reason="the seeds are not beside the repo")
def test_scorecard_grades_and_principles_are_the_seeds():
    lines = [line.strip() for line in SEED_001.read_text("utf-8").splitlines()]
    start = next(
        n
        for n, line in enumerate(lines)
        if line.startswith("Could do better – end of term report")
    )
    grades = [line for line in lines[start:] if re.fullmatch(r"[A-C][+-]?", line)][:10]
    assert grades == HILL_GRADES
    # The six grades Hill used, and only they, are named as his.
    assert sorted(set(grades)) == ["A-", "B", "B+", "B-", "C", "C-"]
    seed = " ".join(" ".join(lines[start:]).split())
    for item in load_file(SCORECARD).items():
        assert item.statement in seed, item.id


def test_released_versions_still_load_as_released():
    lock = read_lock(FOLDER)
    for instrument_id, reworded in REWORDED.items():
        old = load_file(RELEASED / f"{instrument_id}-1.0.0.yaml")
        new = load_file(reworded)
        versions = lock.released(old.id)["versions"]
        assert versions[old.version]["hash"] == old.content_hash, instrument_id
        assert versions[new.version]["hash"] == new.content_hash, instrument_id
        assert old.version == "1.0.0"
        assert new.version == "1.1.0"
        # A minor version: the same items, statements and scale.
        assert [(i.id, i.statement) for i in old.items()] == [
            (i.id, i.statement) for i in new.items()
        ]
        assert old.scale == new.scale


def _agreed_on_both_versions(db, name, old_value, new_value):
    lead, _ = team_people(db)
    first = make_cycle(db, state="moderation", path=RELEASED / f"{name}-1.0.0.yaml")
    agree_all(db, first, lead, value=old_value)
    cycles.transition(db, first, "agreed", actor_id=lead)
    db.execute("UPDATE cycles SET agreed_at = '2000-01-01' WHERE id = ?", [first["id"]])
    later = make_cycle(db, state="moderation", path=REWORDED[name])
    agree_all(db, later, lead, value=new_value)
    cycles.transition(db, later, "agreed", actor_id=lead)
    assert cycles.get_cycle(db, first["id"])["snapshot"].data["version"] == "1.0.0"
    return later


def test_maturity_results_say_the_descriptors_changed(demo, db, client, auth):
    later = _agreed_on_both_versions(db, "partnership-maturity", "2", "3")
    auth.login(HEAD)
    html = client.get(f"/cycles/{later['id']}/results").get_data(as_text=True)
    assert (
        "The descriptors of 12 items changed since version 1.0.0: a level may "
        "not mean what it meant then" in html
    )
    row = html.split('id="item-joint-practice-development"')[1].split("</tr>")[0]
    assert "The descriptors of this item changed since version 1.0.0." in row
    assert "+1.0 (up)" in row


def test_scorecard_results_say_the_descriptors_changed_in_grades(
    demo, db, client, auth
):
    later = _agreed_on_both_versions(db, "school-improvement-scorecard", "B-", "B")
    auth.login(HEAD)
    html = client.get(f"/cycles/{later['id']}/results").get_data(as_text=True)
    assert "The descriptors of 10 items changed since version 1.0.0" in html
    row = html.split('id="item-alignment"')[1].split("</tr>")[0]
    assert "The descriptors of this item changed since version 1.0.0." in row
    # Grades, not the numbers behind them.
    assert re.search(r">\s*B\s*<", row) and "B-" in row
    assert not re.search(r"\b[45]\.0\b", row)


def test_rating_form_shows_each_grades_descriptor(demo, db, client, auth):
    card = load_file(SCORECARD)
    first = next(card.items())
    auth.login(HEAD)
    html = client.get("/instruments/school-improvement-scorecard").get_data(
        as_text=True
    )
    for code in ("A", "C-"):
        assert " ".join(first.descriptors[code].split()).replace("'", "&#39;") in html
    # One answer per line under a described scale, not a row of letters.
    assert "pr-radios--scale" not in html


def test_maturity_coverage_names_every_strand_and_element_of_glue():
    model = load_file(MATURITY)
    coverage = model.source.coverage
    strands = [c for c in coverage if " strand: " in c.element]
    # Every item belongs to one strand, in order; a strand asked as several
    # statements says so, and its statements share its weight.
    assert [i for c in strands for i in c.items] == [i.id for i in model.items()]
    for strand in strands:
        assert sum(model.item(i).weight for i in strand.items) == pytest.approx(1)
        assert (len(strand.items) > 1) == bool(strand.note), strand.element
    glue = {c.element: set(c.items) for c in coverage if c.element.startswith("Glue")}
    assert len(glue) == 4
    for tag_id, tag in model.tags.items():
        tagged = {item.id for item in model.items() if tag_id in item.tags}
        assert glue[f"Glue: {tag.label.lower()}"] == tagged
    assert "004_dcf2fe2c8a06461d.txt" in model.source.provenance


def test_scorecard_coverage_is_one_principle_per_item():
    card = load_file(SCORECARD)
    assert [c.element.split(":")[0] for c in card.source.coverage] == [
        f"Principle {n}" for n in range(1, 11)
    ]
    assert [c.items for c in card.source.coverage] == [[i.id] for i in card.items()]
    assert "seed file" not in card.source.citation
    assert "001_42c81af3882b709d.txt" in card.source.provenance
