"""The JSON Schema of the format: generated from the models, shipped, in step."""

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from peerreview.instruments.schema import json_schema_text

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "instruments"
SCHEMA_FILE = FOLDER / "instrument.schema.json"
SHIPPED = sorted(FOLDER.glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_shipped_schema_is_generated_from_the_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "instruments/instrument.schema.json is out of step with schema.py: "
        "run `flask instruments schema`"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_file_is_valid_against_the_schema(validator, path):
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text("utf-8"))))
    assert errors == []


def test_documented_example_is_valid_against_the_schema(validator):
    docs = (ROOT / "docs" / "instruments.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
    complete = [yaml.safe_load(b) for b in blocks if b.startswith("format: 1")]
    assert complete
    for document in complete:
        assert list(validator.iter_errors(document)) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"colour": "red"}, "Additional properties are not allowed"),
        ({"audience": "parents"}, "is not one of"),
        ({"version": "1.0"}, "does not match"),
        ({"format": 2}, "1 was expected"),
    ],
)
def test_schema_refuses_what_the_format_refuses(validator, change, words):
    document = yaml.safe_load(SHIPPED[0].read_text("utf-8"))
    document.update(change)
    messages = [error.message for error in validator.iter_errors(document)]
    assert any(words in message for message in messages), messages


def test_schema_refuses_an_unknown_descriptor_key_and_takes_numeric_codes(validator):
    document = yaml.safe_load((FOLDER / "partnership-maturity.yaml").read_text("utf-8"))
    document["scale"]["points"][0]["code"] = 1
    assert list(validator.iter_errors(document)) == []
    document["sections"][0]["items"][0]["descriptors"]["not a code!"] = "x"
    assert list(validator.iter_errors(document))
