"""What the check says, word for word: positions in words, every problem at once."""

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from peerreview.instruments import InstrumentInvalid, parse_text
from peerreview.instruments.cli import instruments_cli
from peerreview.instruments.loader import check_paths, where

ROOT = Path(__file__).resolve().parents[1]

VALID = textwrap.dedent(
    """\
    format: 1
    id: prr
    version: 1.0.0
    title: Peer review readiness
    purpose: Exercise the messages.
    audience: school_leadership_team
    source: {citation: Test suite, licence: CC0}
    scale:
      kind: agreement
      points:
        - {code: "1", value: 1, label: Disagree}
        - {code: "2", value: 2, label: Unsure}
        - {code: "3", value: 3, label: Agree}
    sections:
      - id: first
        title: First section
        items:
          - id: prr-01
            statement: Statement one.
          - id: prr-02
            statement: Statement two.
    scoring:
      bands:
        - {name: Low, min: 1}
        - {name: High, min: 2}
      priority: {at_or_below: 1}
    """
)


def messages(text: str) -> list[str]:
    with pytest.raises(InstrumentInvalid) as caught:
        parse_text(text, "mine.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_valid_document_is_valid():
    assert parse_text(VALID, "mine.yaml").item_count == 2


@pytest.mark.parametrize(
    ("loc", "words"),
    [
        (("sections", 0, "items", 1, "id"), "section 1, item 2"),
        (("sections", 2, "items", 0, "tags", 1), "section 3, item 1, tag 2"),
        (("scale", "points", 0, "code"), "scale, point 1, code"),
        (("scoring", "bands", 1, "min"), "scoring, band 2, min"),
        (("scoring", "priority", "at_or_below"), "scoring.priority.at_or_below"),
        (("actions", 0, "items", 2), "action 1, item listed 3"),
        (("source", "coverage", 2), "source, coverage entry 3"),
        (
            ("source", "coverage", 0, "items", 1),
            "source, coverage entry 1, item listed 2",
        ),
        (
            ("sections", 0, "items", 0, "descriptors", "7"),
            "section 1, item 1, descriptor '7'",
        ),
        (
            ("sections", 0, "items", 0, "evidence_prompts", 0),
            "section 1, item 1, evidence prompt 1",
        ),
        (("tags", "glue", "label"), "tags.glue.label"),
        (("source", "colour", "[key]"), "source.colour (the key)"),
    ],
)
def test_positions_are_counted_from_one_in_words(loc, words):
    assert where(loc) == words


def test_duplicate_item_id():
    text = VALID.replace("id: prr-02", "id: prr-01")
    assert messages(text) == [
        "mine.yaml:20: prr-01: section 1, item 2: the id 'prr-01' is used twice"
    ]


COVERAGE = """\
source:
  citation: Test suite
  licence: CC0
  provenance: seed 001, lines 1-9
  coverage:
    - element: Principle 1
      items: [prr-01, prr-09]
    - element: Principle 2
      items: []
    - element: Principle 1
      items: [prr-02]
"""


def with_source(block: str) -> str:
    return VALID.replace("source: {citation: Test suite, licence: CC0}\n", block)


def test_source_coverage_names_items_that_exist_or_says_why_none():
    assert messages(with_source(COVERAGE)) == [
        "mine.yaml:13: prr-09: source, coverage entry 1, item listed 2: "
        "the coverage names the item 'prr-09', which does not exist",
        "mine.yaml:14: -: source, coverage entry 2: an element with no items "
        "needs a note saying why no item covers it",
        "mine.yaml:16: -: source, coverage entry 3, element: the element "
        "'Principle 1' is listed twice",
    ]


def test_source_coverage_and_provenance_are_kept():
    fixed = (
        COVERAGE.replace("prr-01, prr-09", "prr-01")
        .replace(
            "Principle 1\n      items: [prr-02]", "Principle 3\n      items: [prr-02]"
        )
        .replace("items: []\n", "items: []\n      note: Addressed to the government.\n")
    )
    source = parse_text(with_source(fixed), "mine.yaml").source
    assert source.provenance == "seed 001, lines 1-9"
    assert [(c.element, c.items, c.note) for c in source.coverage] == [
        ("Principle 1", ["prr-01"], None),
        ("Principle 2", [], "Addressed to the government."),
        ("Principle 3", ["prr-02"], None),
    ]


def test_an_instrument_without_provenance_or_coverage_keeps_its_hash():
    snapshot = parse_text(VALID, "mine.yaml").snapshot()
    assert set(snapshot["source"]) == {"citation", "url", "licence"}


def test_band_errors_show_the_values():
    text = VALID.replace("{name: Low, min: 1}", "{name: Low, min: 0}").replace(
        "{name: High, min: 2}", "{name: High, min: 4}"
    )
    assert messages(text) == [
        "mine.yaml:24: -: scoring, band 1, min: the first band starts at 0; it "
        "must start at the lowest scale value, 1",
        "mine.yaml:25: -: scoring, band 2, min: the band starts at 4, above the "
        "highest scale value 3",
    ]
    falling = VALID.replace("{name: High, min: 2}", "{name: High, min: 1}")
    assert messages(falling) == [
        "mine.yaml:25: -: scoring, band 2, min: band minimums must rise strictly: "
        "1 follows 1",
    ]
    priority = VALID.replace("at_or_below: 1", "at_or_below: 5")
    assert messages(priority) == [
        "mine.yaml:26: -: scoring.priority.at_or_below: the priority threshold 5 "
        "must lie within the scale (1 to 3)"
    ]


def test_a_tab_says_indent_with_spaces():
    text = VALID.replace("  kind: agreement", "\tkind: agreement")
    (message,) = messages(text)
    assert message.startswith("mine.yaml:9: -: YAML syntax error: ")
    assert message.endswith("; the line holds a tab: indent with spaces, not tabs")


@pytest.mark.parametrize("word", ["yes", "No", "on", "off", "true"])
def test_unquoted_yes_and_no_get_a_hint(word):
    text = VALID.replace("label: Unsure", f"label: {word}")
    value = "true" if word.lower() in ("yes", "on", "true") else "false"
    assert messages(text) == [
        f"mine.yaml:12: -: scale, point 2, label: '{word}' was read as {value}, "
        "not as text: YAML reads unquoted yes, no, on, off, true and false as true "
        f'or false; put it in quotes, such as "{word}"'
    ]


def test_every_problem_is_reported_in_one_run():
    # Four mistakes of different kinds: a type, a missing key, a duplicate id
    # and a band; one run reports all four.
    text = (
        VALID.replace("label: Unsure", "label: no")
        .replace("        statement: Statement two.\n", "")
        .replace("id: prr-02", "id: prr-01")
        .replace("{name: High, min: 2}", "{name: High, min: 9}")
    )
    assert messages(text) == [
        "mine.yaml:12: -: scale, point 2, label: 'no' was read as false, not as "
        "text: YAML reads unquoted yes, no, on, off, true and false as true or "
        'false; put it in quotes, such as "no"',
        "mine.yaml:20: prr-01: section 1, item 2: the required key 'statement' is missing",
        "mine.yaml:20: prr-01: section 1, item 2: the id 'prr-01' is used twice",
        "mine.yaml:24: -: scoring, band 2, min: the band starts at 9, above the "
        "highest scale value 3",
    ]


def test_other_messages_in_words():
    cases = {
        ("id: prr\n", "id: PRR\n"): "mine.yaml:2: -: id: 'PRR' must be a lowercase "
        "slug: a-z, 0-9 and single hyphens",
        (
            "    statement: Statement one.\n",
            "    statement: Statement one.\n        colour: red\n",
        ): "mine.yaml:20: prr-01: section 1, item 1, colour: unknown key",
        (
            "statement: Statement one.",
            "statement: Statement one.\n        weight: 0",
        ): "mine.yaml:20: prr-01: section 1, item 1, "
        "weight: input should be greater than 0 (it is 0)",
    }
    for (old, new), expected in cases.items():
        assert old in VALID
        assert messages(VALID.replace(old, new)) == [expected]


def test_yml_files_are_checked(tmp_path):
    (tmp_path / "one.yml").write_text(VALID.replace("id: prr-02", "id: prr-01"))
    (tmp_path / "two.yaml").write_text(VALID.replace("id: prr\n", "id: prr-two\n"))
    problems = [str(p) for p in check_paths([tmp_path])]
    assert problems == [
        f"{tmp_path / 'one.yml'}:20: prr-01: section 1, item 2: the id 'prr-01' "
        "is used twice"
    ]


def test_a_folder_without_instrument_files_is_a_problem(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing")
    result = CliRunner().invoke(instruments_cli, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path}:1: -: no instrument files (*.yaml, *.yml) here" in (
        result.output
    )


def test_check_prints_only_its_findings_and_starts_fast():
    # The command as a user runs it, in a fresh interpreter: no log lines
    # from WeasyPrint or the instrument library, and no slow imports.
    import subprocess
    import sys

    env = {"FLASK_APP": "wsgi", "PATH": "/usr/bin:/bin", "PEERREVIEW_SECRET_KEY": "x"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "instruments", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        f"OK: {len(list((ROOT / 'instruments').glob('*.yaml')))} instrument "
        "file(s), "
        f"{result.stdout.split(', ')[1].split()[0]} items, no problems"
    ]
    # No wall-clock bound here: on a shared machine it only makes the test
    # flaky. What made the command slow (WeasyPrint, openpyxl, reading the
    # library at start; numpy through sqlite-utils and the scoring, Authlib
    # with requests, email-validator) must stay out of the app's start-up:
    # tests/bench/bench_check_startup.py prints the time it takes.
    slow = (
        "weasyprint",
        "openpyxl",
        "numpy",
        "sqlite_utils",
        "krippendorff",
        "authlib",
        "requests",
        "email_validator",
        "segno",
    )
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; SLOW = {slow!r}; from peerreview import create_app; "
            "create_app({'CHECK_MIGRATIONS': False, 'SECRET_KEY': 'x', "
            "'DATABASE': ':memory:'}); "
            "print(sorted(m for m in SLOW if m in sys.modules))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.stdout.strip().splitlines()[-1:] == ["[]"], imported


def test_check_names_files_from_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text("format: 1\nid: x\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(instruments_cli, ["check", str(tmp_path / "mine.yaml")])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "mine.yaml:1: -: the required key 'version' is missing"
    )
