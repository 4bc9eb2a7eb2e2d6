"""The instruments the platform ships with load and are faithful to their seeds."""

from pathlib import Path

import pytest

from peerreview.instruments import Library, check_paths, load_file
from peerreview.instruments.versions import read_lock

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "instruments"
SEEDS = ROOT.parent / "shared" / "seeds"
SHIPPED = sorted(FOLDER.glob("*.yaml"))

ASCL_STATEMENTS = [
    "The school/college has a strong high expectations culture that is visible to staff, "
    "students and parents and reflected in its arrangements for impartial information and "
    "guidance",
    "The school/college has a named individual on the senior leadership team who is "
    "responsible for championing and driving forward action in relation to FSM pupils",
    "The school/college uses data well at whole-school and year group and subject level to "
    "identify and track the performance and progress of FSM students",
    "In discussion with students and the involvement of all staff the school/college has "
    "identified the main within-school factors contributing to gaps in attainment for FSM "
    "student",
    "The school/college understands the relative merits of different strategies and "
    "interventions for supporting disadvantaged students and has adopted strategies to meet "
    "the specific challenges identified",
    "The school/college has set challenging achievement goals for all FSM students in "
    "partnership with them and their parents",
    "The school/college has resourced, carefully planned and secured support for the "
    "intervention strategies it is going to use",
    "The school/college has monitored and evaluated the impact of interventions, using a mix "
    "of methods",
    "The school\u2019s/college\u2019s strategy on closing gaps in attainment for FSM students is "
    "integrated into its self-evaluation and the school development plan",
    "The school ensures that where setting or ability grouping is used, pupils in different "
    "groupings should have equal access to high quality teaching and learning",
    "The school/college has carefully considered its criteria for allocating bursary awards "
    "to ensure that it has identified and targeted those students that are most disadvantaged",
]

ASCL_ISSUES = [
    "Establishing a strong culture of high expectations and achievement for all pupils",
    "Identifying the performance and progress of FSM pupils",
    "Analysing and understanding the issues blocking progress",
    "Reviewing and selecting potential interventions",
    "Setting success criteria and agreeing how to measure impact",
    "Implementing interventions",
    "Developing the roles and skills required of school leaders",
]

EXPECTED_FILES = {
    "ascl-closing-gaps",
    "partnership-maturity",
    "mat-governance",
    "partnership-health-check",
    "village-school-mat-readiness",
    "school-improvement-scorecard",
}


@pytest.fixture(scope="module")
def library():
    return Library(FOLDER)


def test_the_expected_instruments_are_shipped():
    assert {path.stem for path in SHIPPED} == EXPECTED_FILES


def test_every_shipped_file_passes_the_check():
    assert check_paths([FOLDER]) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_file_is_complete(path):
    instrument = load_file(path)
    assert instrument.id == path.stem
    assert instrument.source.citation
    # The file is the latest release recorded in the lock.
    latest = read_lock(FOLDER).released(instrument.id)["latest"]
    assert instrument.version == latest["version"]
    covered = {item_id for action in instrument.actions for item_id in action.items}
    assert [item.id for item in instrument.items() if item.id not in covered] == []


def test_library_loads_them_all_without_problems(library):
    assert library.problems == []
    assert {i.id for i in library.all()} == EXPECTED_FILES
    titles = [i.title for i in library.all()]
    assert titles == sorted(titles, key=str.casefold)


def test_ascl_checklist(library):
    ascl = library.get("ascl-closing-gaps")
    assert ascl.audience == "school_leadership_team"
    assert ascl.item_count == 11
    assert [section.title for section in ascl.sections] == ASCL_ISSUES
    assert all(section.items for section in ascl.sections)
    by_id = {item.id: item.statement for item in ascl.items()}
    assert [by_id[f"ascl-{n:02}"] for n in range(1, 12)] == ASCL_STATEMENTS
    assert [(p.code, p.value, p.label) for p in ascl.scale.points] == [
        ("1", 1, "Strongly disagree"),
        ("2", 2, "Disagree"),
        ("3", 3, "Not sure"),
        ("4", 4, "Agree"),
        ("5", 5, "Strongly agree"),
    ]
    assert ascl.scoring.priority.at_or_below == 3
    assert "individually" in ascl.purpose.lower() or "on their own" in ascl.purpose
    assert "collective" in ascl.purpose


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed texts are not in this checkout")
def test_ascl_statements_match_the_seed_text():
    lines = (
        (SEEDS / "002_f5e8bfc52aa54d22.txt").read_text(encoding="utf-8").splitlines()
    )
    # Trailing whitespace (including no-break spaces) is the only thing fixed.
    seed = [line.strip() for line in lines[361:382] if line.strip()]
    assert seed == ASCL_STATEMENTS
    scale_line = lines[360]
    assert (
        "1 = Strongly disagree; 2 = Disagree; 3 = Not sure; 4 = Agree; 5 = Strongly agree"
        in (scale_line)
    )
    for issue in ASCL_ISSUES:
        assert any(line.strip().endswith(issue) for line in lines[350:357])


def test_partnership_maturity_model(library):
    model = library.get("partnership-maturity")
    assert model.audience == "partnership"
    assert "per school" in model.purpose and "per partnership" in model.purpose
    assert model.scale.kind == "maturity"
    assert [p.label for p in model.scale.points] == [
        "Beginning",
        "Developing",
        "Embedding",
        "Leading",
    ]
    assert [(s.title, [i.id for i in s.items]) for s in model.sections] == [
        (
            "Professional development",
            [
                "joint-practice-development",
                "talent-identification",
                "mentoring-and-coaching",
                "distributed-staff-information",
            ],
        ),
        (
            "Partnership competence",
            [
                "fit-governance-arrangements",
                "fit-governance-with-governors",
                "high-social-capital",
                "collective-moral-purpose",
                "evaluation-by-peer-review",
                "challenge-with-honesty",
                "action-on-review-findings",
            ],
        ),
        (
            "Collaborative capital",
            [
                "analytic-investigation",
                "disciplined-innovation",
                "creative-entrepreneurship",
                "alliance-architecture",
            ],
        ),
    ]
    for item in model.items():
        assert sorted(item.descriptors) == ["1", "2", "3", "4"]
        assert len(set(item.descriptors.values())) == 4
    glue = {
        "high-social-capital",
        "evaluation-and-challenge",
        "joint-practice-development",
        "distributed-system-leadership",
    }
    assert set(model.tags) == glue
    assert {tag for item in model.items() for tag in item.tags} == glue


def test_mat_governance(library):
    mat = library.get("mat-governance")
    assert mat.audience == "trust_board"
    assert mat.scale.kind == "agreement" and len(mat.scale.points) == 5
    *suggestions, weaknesses = mat.sections
    assert [s.id for s in suggestions] == [
        "values",
        "governance-structure",
        "schemes-of-delegation",
        "growth-and-due-diligence",
        "school-improvement",
        "real-time-tracking",
        "training-and-development",
        "local-accountability",
        "remuneration-and-related-parties",
        "audit",
        "sector-leadership",
    ]
    assert len(weaknesses.items) >= 6
    # Weaknesses are worded as weaknesses and reverse-scored; nothing else is.
    assert all(item.reverse for item in weaknesses.items)
    assert not any(item.reverse for s in suggestions for item in s.items)
    growth = " ".join(item.statement for item in mat.sections[3].items)
    assert "due diligence" in growth and "four or five" in growth
    # The top tips the blog author wrote himself, not Hill et al. (2012).
    assert "et al" not in mat.source.citation
    assert "2014" in mat.source.citation and "seed file" not in mat.source.citation
    statements = {item.id: item.statement for item in mat.items()}
    assert "school improvement" in statements["improvement-shared-approach"]
    assert "deployed across academies" in statements["improvement-leaders-deployed"]
    assert "good and outstanding schools" in statements["growth-strong-schools-join"]
    # Suggestions 9 and 10 say whom they were addressed to, regulator and forum too.
    audit, sector = mat.sections[9], mat.sections[10]
    assert "Funding Agency" in audit.description
    assert "independent regulator" in audit.description
    assert "sector as a whole" in sector.description
    assert "forum" in statements["sector-forum"]


def test_no_reverse_item_joins_two_faults_with_and(library):
    """A weakness "A and B" lets a board with one of the faults score as healthy."""
    mat = library.get("mat-governance")
    joined = [
        item.id
        for item in mat.items()
        if item.reverse
        and (", and " in item.statement or "and the roles" in item.statement)
    ]
    assert joined == []
    assert mat.item("weakness-self-perpetuating").reverse
    assert mat.item("weakness-chair-ceo-overlap").reverse


def test_mat_governance_2_crosswalks_to_1(library):
    """Change since a 1.0.0 cycle survives wherever the split kept the meaning."""
    from peerreview.instruments.versions import read_lock

    mat = library.get("mat-governance")
    old_ids = set(read_lock(FOLDER).item_ids("mat-governance", "1.0.0"))
    kept = [item.id for item in mat.items() if item.id in old_ids]
    mapped = [item.id for item in mat.items() if item.replaces]
    assert all(set(item.replaces) <= old_ids for item in mat.items())
    carried = {old for item in mat.items() for old in item.replaces} | set(kept)
    # Only the two weaknesses that joined two faults with "and" are dropped.
    assert old_ids - carried == {"weakness-structure", "weakness-hubris"}
    assert len(mapped) + len(kept) > 60


def test_village_condition_five_is_national(library):
    village = library.get("village-school-mat-readiness")
    faith = village.sections[4]
    assert "national change" in faith.description
    assert "Memoranda of Understanding" in faith.description
    assert village.item("faith-national-position-known") is not None
    assert village.scale.not_applicable
    assert "Hill, R. (2016" in village.source.citation


def test_short_instruments(library):
    health = library.get("partnership-health-check")
    assert health.item_count == 16
    village = library.get("village-school-mat-readiness")
    assert len(village.sections) == 5
    assert village.scale.kind == "yes_no"
    assert [p.label for p in village.scale.points] == ["No", "In part", "Yes"]
    scorecard = library.get("school-improvement-scorecard")
    assert scorecard.item_count == 10
    assert scorecard.scale.kind == "letter"
    assert [(p.code, p.value) for p in scorecard.scale.points] == [
        ("C-", 1),
        ("C", 2),
        ("C+", 3),
        ("B-", 4),
        ("B", 5),
        ("B+", 6),
        ("A-", 7),
        ("A", 8),
    ]


def test_snapshots_are_stable_across_loads():
    for path in SHIPPED:
        first, second = load_file(path), load_file(path)
        assert first.snapshot() == second.snapshot()
        assert first.content_hash == second.content_hash


def test_mat_governance_and_village_list_every_source_element(library):
    """Each weakness, suggestion, top tip and condition is in the coverage."""
    mat = library.get("mat-governance")
    elements = [entry.element.split(":")[0] for entry in mat.source.coverage]
    expected = (
        [f"Problem {n}" for n in range(1, 5)]
        + [f"Weakness {n}" for n in range(1, 7)]
        + [f"Suggestion {n}" for n in range(1, 11)]
        + [f"Top tip {n}" for n in range(1, 13)]
    )
    assert sorted(elements) == sorted(expected)
    by_name = {entry.element.split(":")[0]: entry for entry in mat.source.coverage}
    # Suggestion 9 is the funding agency's and Parliament's: no board item.
    assert by_name["Suggestion 9"].items == []
    assert "regulator" in by_name["Suggestion 9"].note
    assert "sector" in by_name["Suggestion 10"].note
    for tip in ("Top tip 3", "Top tip 6", "Top tip 8"):
        assert by_name[tip].items
    covered = {item_id for entry in mat.source.coverage for item_id in entry.items}
    assert [item.id for item in mat.items() if item.id not in covered] == []
    assert "seed file 001" in mat.source.provenance
    village = library.get("village-school-mat-readiness")
    conditions = {e.element.split(":")[0]: e for e in village.source.coverage}
    assert sorted(conditions) == [f"Condition {n}" for n in range(1, 6)]
    assert "national change" in conditions["Condition 5"].note


HEALTH_1 = ROOT / "tests" / "data" / "released" / "partnership-health-check-1.0.1.yaml"


def test_health_check_2_asks_one_thing_per_statement_and_crosswalks_to_1(library):
    """Lesson 3's four ways heads build relationships are four questions, and
    the other lessons that joined two claims are two; each maps to its 1.0.1
    item, and each of the ten lessons still weighs one."""
    health = library.get("partnership-health-check")
    assert health.version.startswith("2.")
    old = load_file(HEALTH_1)
    assert old.version == "1.0.1"
    lock = read_lock(FOLDER).released(old.id)
    assert lock["versions"]["1.0.1"]["hash"] == old.content_hash
    assert health.item("headteacher-relationships") is None
    heads = [i for i in health.items() if i.replaces == ["headteacher-relationships"]]
    assert [i.statement for i in heads] == [
        "The heads of the partner schools meet regularly.",
        "The heads visit one another's schools.",
        "Between meetings, the heads are in frequent contact by phone or email.",
        "A head new to one of the partner schools is welcomed into the partnership.",
    ]
    # Every 1.0.1 item is kept or carried by the crosswalk; none is dropped.
    old_ids = {i.id for i in old.items()}
    carried = {o for i in health.items() for o in i.replaces}
    kept = {i.id for i in health.items() if i.id in old_ids}
    assert carried | kept == old_ids and not carried & kept
    for item_id in kept:
        assert health.item(item_id) == old.item(item_id)
    # No statement joins two clauses: no ", and" and no second verb after "and".
    for i in health.items():
        assert ", and " not in i.statement and " and expects " not in i.statement
    # Each lesson's items weigh one in all, so the ten lessons count alike.
    lessons = [e for e in health.source.coverage if e.element.startswith("Lesson")]
    assert len(lessons) == 10
    for entry in lessons:
        total = sum(health.item(i).weight for i in entry.items)
        assert total == pytest.approx(1), entry.element


MATURITY_1 = ROOT / "tests" / "data" / "released" / "partnership-maturity-1.1.0.yaml"


def test_maturity_2_asks_one_thing_per_statement_and_crosswalks_to_1(library):
    """Fit governance (arrangements; governors) is two statements and
    evaluation and challenge (evaluate; challenge; act) three, each with its
    own cumulative levels; each maps to its 1.1.0 strand, and each strand
    still weighs one."""
    model = library.get("partnership-maturity")
    major = int(model.version.split(".")[0])
    assert major >= 2
    old = load_file(MATURITY_1)
    assert old.version == "1.1.0"
    lock = read_lock(FOLDER).released(old.id)
    assert lock["versions"]["1.1.0"]["hash"] == old.content_hash
    split = {
        "fit-governance": [
            "fit-governance-arrangements",
            "fit-governance-with-governors",
        ],
        "evaluation-and-challenge": [
            "evaluation-by-peer-review",
            "challenge-with-honesty",
            "action-on-review-findings",
        ],
    }
    for was, parts in split.items():
        assert model.item(was) is None
        assert [i.id for i in model.items() if i.replaces == [was]] == parts
        assert sum(model.item(i).weight for i in parts) == pytest.approx(1)
        for part in parts:
            # Each part keeps the strand's glue and gets an action of its own.
            assert model.item(part).tags == old.item(was).tags, part
            assert any(a.items == [part] for a in model.actions), part
    # Every 1.1.0 item is kept unchanged or carried by the crosswalk.
    old_ids = {i.id for i in old.items()}
    carried = {o for i in model.items() for o in i.replaces}
    kept = {i.id for i in model.items() if i.id in old_ids}
    assert carried | kept == old_ids and not carried & kept
    for item_id in kept:
        assert model.item(item_id) == old.item(item_id)
    # No statement joins two claims with ", and".
    for item in model.items():
        assert ", and " not in item.statement, item.id
    assert model.item("fit-governance-with-governors").statement == (
        "The schools' governors are involved in the partnership's work."
    )
    assert model.item("action-on-review-findings").statement == (
        "The schools act on what their reviews of one another find."
    )
