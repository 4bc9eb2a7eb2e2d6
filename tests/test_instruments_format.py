"""The instrument format: faults located by file, line and item; versions; docs; CLI."""

import os
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from peerreview.instruments import (
    Instrument,
    InstrumentInvalid,
    Library,
    Problem,
    check_paths,
    check_version_change,
    load_file,
    parse_text,
)
from peerreview.instruments.cli import instruments_cli
from peerreview.instruments.schema import field_names

ROOT = Path(__file__).resolve().parents[1]

# A small valid instrument. Line numbers matter: tests point at them.
VALID = textwrap.dedent(
    """\
    format: 1
    id: tiny
    version: 1.2.3
    title: Tiny instrument
    purpose: Exercise the format.
    audience: school_leadership_team
    source: {citation: Test suite, licence: CC0}
    scale:
      kind: maturity
      points:
        - {code: "1", value: 1, label: Beginning}
        - {code: "2", value: 2, label: Developing}
        - {code: "3", value: 3, label: Embedding}
      not_applicable: true
      no_evidence: true
    tags:
      trust: {label: High social capital}
    sections:
      - id: first
        title: First section
        items:
          - id: item-a
            statement: Statement A.
            tags: [trust]
            descriptors: {"1": a1, "2": a2, "3": a3}
          - id: item-b
            statement: Statement B.
            weight: 2
            descriptors: {"1": b1, "2": b2, "3": b3}
    scoring:
      bands:
        - {name: Low, min: 1}
        - {name: High, min: 2}
      priority: {at_or_below: 1}
    actions:
      - {items: [item-a], text: Do something about A.}
    """
)


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    """Return the 1-based number of the nth line containing `fragment`."""
    numbers = [
        n for n, line in enumerate(text.splitlines(), start=1) if fragment in line
    ]
    assert len(numbers) >= nth, f"{fragment!r} not in text {nth} times"
    return numbers[nth - 1]


def problems_of(text: str, filename: str = "broken.yaml") -> list[Problem]:
    with pytest.raises(InstrumentInvalid) as caught:
        parse_text(text, filename)
    assert caught.value.problems
    return caught.value.problems


def test_valid_document_loads_with_defaults_filled_in():
    instrument = parse_text(VALID, "tiny.yaml")
    snapshot = instrument.snapshot()
    item_a = snapshot["sections"][0]["items"][0]
    assert item_a == {
        "id": "item-a",
        "statement": "Statement A.",
        "guidance": None,
        "evidence_prompts": [],
        "weight": 1.0,
        "reverse": False,
        "tags": ["trust"],
        "descriptors": {"1": "a1", "2": "a2", "3": "a3"},
    }
    assert snapshot["scale"]["points"][0] == {
        "code": "1",
        "value": 1.0,
        "label": "Beginning",
    }
    assert snapshot["scoring"]["rollup"] == "weighted_mean"
    assert snapshot["scoring"]["min_answered_share"] == 0.5
    assert snapshot["source"]["url"] is None
    assert snapshot["tags"] == {
        "trust": {"label": "High social capital", "description": None}
    }
    assert instrument.item_count == 2
    assert [item.id for item in instrument.items()] == ["item-a", "item-b"]


def test_snapshot_and_hash_are_stable_and_canonical():
    first = parse_text(VALID, "a.yaml")
    # Same content laid out differently must give the same hash.
    reflowed = VALID.replace(
        "source: {citation: Test suite, licence: CC0}",
        "source:\n  licence: CC0\n  citation: Test suite",
    )
    second = parse_text(reflowed, "b.yaml")
    assert first.snapshot() == second.snapshot()
    assert first.content_hash == second.content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", first.content_hash)
    assert (
        Instrument.model_validate(first.snapshot()).content_hash == first.content_hash
    )
    changed = parse_text(VALID.replace("Statement A.", "Statement A!"), "c.yaml")
    assert changed.content_hash != first.content_hash


def test_problem_string_form():
    assert str(Problem("f.yaml", 3, "item-a", "bad")) == "f.yaml:3: item-a: bad"
    assert str(Problem("f.yaml", 3, None, "bad")) == "f.yaml:3: -: bad"


@pytest.mark.parametrize(
    ("change", "anchor", "item_id", "words"),
    [
        pytest.param(
            (
                "        statement: Statement B.",
                "        statement: Statement B.\n        colour: red",
            ),
            "colour: red",
            "item-b",
            "unknown key",
            id="unknown-key",
        ),
        pytest.param(
            ("      - id: item-b", "      - id: item-a"),
            ("- id: item-a", 2),
            "item-a",
            "the id 'item-a' is used twice",
            id="duplicate-item-id",
        ),
        pytest.param(
            ("version: 1.2.3", "version: 1.2"),
            "version: 1.2",
            None,
            "MAJOR.MINOR.PATCH",
            id="bad-version",
        ),
        pytest.param(
            (
                'descriptors: {"1": b1, "2": b2, "3": b3}',
                'descriptors: {"1": b1, "3": b3}',
            ),
            'descriptors: {"1": b1, "3": b3}',
            "item-b",
            "missing 2",
            id="missing-descriptor",
        ),
        pytest.param(
            ("tags: [trust]", "tags: [trust, glue]"),
            "tags: [trust, glue]",
            "item-a",
            "'glue' is not declared",
            id="undeclared-tag",
        ),
        pytest.param(
            ("{items: [item-a]", "{items: [item-z]"),
            "item-z",
            "item-z",
            "does not exist",
            id="action-unknown-item",
        ),
        pytest.param(
            ('{code: "2", value: 2', '{code: "ne", value: 2'),
            'code: "ne"',
            None,
            "reserved",
            id="reserved-code",
        ),
        pytest.param(
            ('{code: "3", value: 3', '{code: "3", value: 1.5'),
            'code: "3"',
            None,
            "rise strictly",
            id="values-not-increasing",
        ),
        pytest.param(
            ('descriptors: {"1": a1,', 'descriptors: {"7": x, "1": a1,'),
            '"7": x',
            "item-a",
            "not a point code",
            id="descriptor-not-a-code",
        ),
        pytest.param(
            ("- {name: Low, min: 1}", "- {name: Low, min: 0}"),
            "name: Low",
            None,
            "lowest scale value",
            id="first-band",
        ),
        pytest.param(
            ("weight: 2", "weight: 0"),
            "weight: 0",
            "item-b",
            "greater than 0",
            id="weight-zero",
        ),
        pytest.param(
            ("weight: 2", "weight: yes"),
            "weight: yes",
            "item-b",
            "number",
            id="weight-bool",
        ),
        pytest.param(
            ("title: Tiny instrument", "title: Tiny\ntitle: Tiny instrument"),
            "title: Tiny instrument",
            None,
            "given twice",
            id="duplicate-key",
        ),
        pytest.param(
            ("  - id: first", "  - id: First"),
            "id: First",
            None,
            "lowercase slug",
            id="bad-slug",
        ),
        pytest.param(
            ("audience: school_leadership_team", "audience: parents"),
            "audience: parents",
            None,
            "audience",
            id="bad-audience",
        ),
    ],
)
def test_fault_is_located(change, anchor, item_id, words):
    old, new = change
    assert old in VALID
    text = VALID.replace(old, new, 1)
    problems = problems_of(text)
    expected_line = (
        line_of(text, *anchor) if isinstance(anchor, tuple) else line_of(text, anchor)
    )
    matching = [p for p in problems if words in p.message]
    assert matching, problems
    problem = matching[0]
    assert problem.file == "broken.yaml"
    assert problem.line == expected_line, problems
    assert problem.item_id == item_id
    assert str(problem).startswith(f"broken.yaml:{expected_line}: {item_id or '-'}: ")


def test_missing_required_key_points_at_the_parent():
    text = VALID.replace("        statement: Statement B.\n", "")
    (problem,) = problems_of(text)
    assert problem.item_id == "item-b"
    assert problem.line == line_of(text, "- id: item-b")
    assert "statement" in problem.message and "required" in problem.message


def test_every_problem_is_reported_at_once():
    text = VALID.replace("tags: [trust]", "tags: [glue]").replace(
        "{items: [item-a]", "{items: [x]"
    )
    problems = problems_of(text)
    assert {p.item_id for p in problems} == {"item-a", "x"}
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_yaml_syntax_error_line():
    text = VALID.replace("title: First section", "title: First: section")
    (problem,) = problems_of(text)
    assert problem.line == line_of(text, "title: First: section")
    assert problem.message.startswith("YAML syntax error")


def test_unclosed_flow_sequence_is_located():
    text = VALID.replace("tags: [trust]", "tags: [trust")
    (problem,) = problems_of(text)
    assert "YAML syntax error" in problem.message
    assert (
        line_of(text, "tags: [trust")
        <= problem.line
        <= line_of(text, "tags: [trust") + 1
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "mapping"),
        ("just text", "mapping"),
        ("a: 1\nb: *nowhere\n", "aliases"),
        ("a: 1\n  b: 2\n", "YAML syntax error"),
        ("a: 'unclosed\n", "YAML syntax error"),
        ("a: &x [1]\nb: *x\n", "aliases"),
        ("[" * 500, "nested"),
        ("a: \x00\n", "U+0000"),
        ("a: !!python/object:os.system x\n", "YAML"),
        ("? [a, b]\n: c\n", "YAML"),
    ],
)
def test_hostile_documents_give_problems(text, words):
    problems = problems_of(text)
    assert any(words in p.message for p in problems), problems
    assert all(p.line >= 1 for p in problems)


def test_load_file_reports_bad_utf8_with_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"format: 1\nid: x\ntitle: caf\xe9\n")
    with pytest.raises(InstrumentInvalid) as caught:
        load_file(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 3)
    assert "UTF-8" in problem.message


def test_load_file_reports_missing_file(tmp_path):
    with pytest.raises(InstrumentInvalid) as caught:
        load_file(tmp_path / "nope.yaml")
    assert "cannot read" in caught.value.problems[0].message


def test_check_paths_reads_folders_and_finds_duplicate_ids(tmp_path):
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    (tmp_path / "c.yaml").write_text("id: [")
    (tmp_path / "notes.txt").write_text("not an instrument")
    problems = check_paths([tmp_path])
    assert sorted(Path(p.file).name for p in problems) == ["b.yaml", "c.yaml"]
    duplicate = next(p for p in problems if p.file.endswith("b.yaml"))
    assert "already used" in duplicate.message and duplicate.line == 2


# --- Library -------------------------------------------------------------


def test_library_keeps_broken_files_out_and_logs_them(tmp_path, caplog):
    (tmp_path / "tiny.yaml").write_text(VALID)
    (tmp_path / "other.yaml").write_text(
        VALID.replace("id: tiny", "id: other").replace("Tiny instrument", "Another")
    )
    (tmp_path / "broken.yaml").write_text(VALID.replace("format: 1", "format: 2"))
    with caplog.at_level("ERROR", logger="peerreview.instruments.loader"):
        library = Library(tmp_path)
    assert [i.id for i in library.all()] == ["other", "tiny"]
    assert library.get("tiny").title == "Tiny instrument"
    assert library.get("missing") is None
    assert [Path(p.file).name for p in library.problems] == ["broken.yaml"]
    assert any("broken.yaml:1:" in record.getMessage() for record in caplog.records)


def test_library_reloads_a_changed_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(VALID)
    library = Library(tmp_path)
    assert library.get("tiny").title == "Tiny instrument"
    path.write_text(VALID.replace("Tiny instrument", "Renamed"))
    stat = path.stat()
    # Make sure the change is visible even on a coarse-grained clock.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert library.get("tiny").title == "Renamed"
    path.write_text("broken: [")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 20_000_000))
    assert library.get("tiny") is None
    assert library.problems


def test_library_of_missing_folder_is_empty(tmp_path):
    library = Library(tmp_path / "nowhere")
    assert library.all() == [] and library.problems == []


# --- version changes ------------------------------------------------------


def bump(text: str, version: str) -> str:
    return text.replace("version: 1.2.3", f"version: {version}")


OLD = parse_text(VALID, "tiny.yaml").snapshot()


def check(text: str) -> list[Problem]:
    return check_version_change(OLD, parse_text(text, "tiny.yaml"))


def test_identical_content_needs_no_bump():
    assert check(VALID) == []


def test_wording_change_is_a_patch():
    text = VALID.replace("title: Tiny instrument", "title: Tiny instrument, renamed")
    assert check(bump(text, "1.2.4")) == []
    (problem,) = check(text)
    assert "not above" in problem.message
    assert problem.line == line_of(text, "version:")


def test_reworded_statement_is_major_and_needs_a_new_item_id():
    text = VALID.replace("Statement A.", "Statement A, reworded.")
    (problem,) = check(bump(text, "1.3.0"))
    assert problem.item_id == "item-a"
    assert problem.message == (
        "statement reworded: needs a MAJOR version change, but 1.2.3 -> 1.3.0 is MINOR"
    )
    assert [p.item_id for p in check(bump(text, "2.0.0"))] == ["item-a"]
    assert check(bump(text.replace("item-a", "item-a2"), "2.0.0")) == []


def test_reworded_descriptors_need_at_least_a_minor_bump():
    text = VALID.replace('"2": a2', '"2": a2 reworded')
    (problem,) = check(bump(text, "1.2.4"))
    assert problem.message == (
        "descriptors reworded: needs a MINOR version change, but 1.2.3 -> 1.2.4 is PATCH"
    )
    assert problem.line == line_of(text, "a2 reworded")
    assert check(bump(text, "1.3.0")) == []


def test_version_must_increase():
    text = VALID.replace("title: Tiny instrument", "title: Tiny instrument, renamed")
    assert check(bump(text, "1.2.2"))
    assert check(bump(text, "0.9.9"))


def test_added_item_needs_a_minor_bump():
    text = VALID.replace(
        "scoring:",
        "      - id: item-c\n        statement: New.\n"
        '        descriptors: {"1": c1, "2": c2, "3": c3}\nscoring:',
    )
    problems = check(bump(text, "1.2.4"))
    assert [p.item_id for p in problems] == ["item-c"]
    assert "MINOR" in problems[0].message
    assert problems[0].line == line_of(text, "id: item-c")
    assert check(bump(text, "1.3.0")) == []
    assert check(bump(text, "2.0.0")) == []


def test_removed_item_needs_a_major_bump():
    start = VALID.index("      - id: item-b")
    end = VALID.index("scoring:")
    text = VALID[:start] + VALID[end:]
    problems = check(bump(text, "1.3.0"))
    assert [p.item_id for p in problems] == ["item-b"]
    assert "MAJOR" in problems[0].message
    assert check(bump(text, "2.0.0")) == []


def test_weight_change_needs_major_and_a_new_item_id():
    text = VALID.replace("weight: 2", "weight: 3")
    minor = check(bump(text, "1.3.0"))
    assert any("MAJOR" in p.message and p.item_id == "item-b" for p in minor)
    # A MAJOR bump is not enough while the changed item keeps its old id.
    major = check(bump(text, "2.0.0"))
    assert [p.item_id for p in major] == ["item-b"]
    assert "reuse" in major[0].message
    assert major[0].line == line_of(text, "id: item-b")
    renamed = text.replace("id: item-b", "id: item-b2")
    assert check(bump(renamed, "2.0.0")) == []


def test_scale_change_is_major_and_no_old_id_may_be_reused():
    text = VALID.replace('{code: "3", value: 3', '{code: "3", value: 4')
    problems = check(bump(text, "2.0.0"))
    assert {p.item_id for p in problems} == {"item-a", "item-b"}
    renamed = text.replace("item-a", "item-a2").replace("item-b", "item-b2")
    assert check(bump(renamed, "2.0.0")) == []


def test_unchanged_items_keep_their_ids_across_a_major_bump():
    text = VALID.replace("priority: {at_or_below: 1}", "priority: {at_or_below: 2}")
    assert any("MAJOR" in p.message for p in check(bump(text, "1.3.0")))
    assert check(bump(text, "2.0.0")) == []


def test_tag_wording_is_a_patch_but_labels_and_retagging_are_minor():
    tag = VALID.replace("{label: High social capital}", "{label: Trust}")
    assert check(bump(tag, "1.2.4")) == []
    label = VALID.replace("label: Embedding", "label: Embedded")
    assert check(bump(label, "1.2.4"))
    assert check(bump(label, "1.3.0")) == []
    retagged = VALID.replace("tags: [trust]", "tags: []")
    assert check(bump(retagged, "1.2.4"))
    assert check(bump(retagged, "1.3.0")) == []


def test_old_snapshot_must_be_the_same_instrument():
    other = dict(OLD, id="other")
    (problem,) = check_version_change(other, parse_text(VALID, "tiny.yaml"))
    assert "not 'tiny'" in problem.message


# --- documentation and command line -----------------------------------------


def test_every_schema_field_is_documented():
    docs = (ROOT / "docs" / "instruments.md").read_text(encoding="utf-8")
    missing = sorted(name for name in field_names() if f"`{name}`" not in docs)
    assert not missing, f"fields not documented in docs/instruments.md: {missing}"


def test_documented_example_is_valid():
    docs = (ROOT / "docs" / "instruments.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
    complete = [block for block in blocks if block.startswith("format: 1")]
    assert complete, "docs/instruments.md needs a complete example"
    for block in complete:
        assert parse_text(block, "docs/instruments.md").item_count >= 1


def test_cli_check_reports_problems_and_exits_1(tmp_path):
    broken = tmp_path / "broken.yaml"
    text = VALID.replace("tags: [trust]", "tags: [glue]")
    broken.write_text(text)
    result = CliRunner().invoke(instruments_cli, ["check", str(broken)])
    assert result.exit_code == 1
    expected = f"{broken}:{line_of(text, 'tags: [glue]')}: item-a: "
    assert expected in result.output


def test_cli_check_passes_good_files_with_a_summary(tmp_path):
    (tmp_path / "tiny.yaml").write_text(VALID)
    result = CliRunner().invoke(instruments_cli, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "OK: 1 instrument file(s), 2 items, no problems"
    ]


def test_cli_check_defaults_to_the_shipped_folder():
    result = CliRunner().invoke(instruments_cli, ["check"])
    assert result.exit_code == 0, result.output
    shipped = len(list((ROOT / "instruments").glob("*.yaml")))
    assert f"OK: {shipped} instrument file(s)" in result.output
