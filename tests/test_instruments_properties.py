"""Whatever the input, parse_text loads it or raises InstrumentInvalid with lines."""

import copy
import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerreview.instruments import Instrument, InstrumentInvalid, parse_text

ROOT = Path(__file__).resolve().parents[1]
REAL = (ROOT / "instruments" / "partnership-health-check.yaml").read_text(
    encoding="utf-8"
)
REAL_DATA = yaml.safe_load(REAL)

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_loads_or_is_located(text: str) -> None:
    """Parse `text` and check that only the documented outcomes happen."""
    try:
        instrument = parse_text(text, "fuzz.yaml")
    except InstrumentInvalid as invalid:
        assert invalid.problems
        line_count = text.count("\n") + 1
        for problem in invalid.problems:
            assert problem.file == "fuzz.yaml"
            assert 1 <= problem.line <= line_count + 1, problem
            assert not problem.message.startswith("internal error"), problem
            assert "\n" not in str(problem)
        return
    assert isinstance(instrument, Instrument)
    json.dumps(instrument.snapshot())
    assert len(instrument.content_hash) == 64


@FAST
@given(st.text(max_size=400))
def test_random_text(text):
    assert_loads_or_is_located(text)


@FAST
@given(
    st.text(
        alphabet=st.sampled_from(list("{}[]:-,'\"&*!|>%@` \n\t#?abc1.")), max_size=200
    )
)
def test_random_yaml_punctuation(text):
    assert_loads_or_is_located(text)


@FAST
@given(st.integers(min_value=0, max_value=len(REAL)))
def test_truncated_real_file(length):
    assert_loads_or_is_located(REAL[:length])


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["replace", "insert", "delete"]),
            st.integers(min_value=0, max_value=len(REAL.encode("utf-8")) - 1),
            st.integers(min_value=0, max_value=255),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_byte_mutations_of_real_file(mutations):
    raw = bytearray(REAL.encode("utf-8"))
    for operation, position, byte in mutations:
        position %= max(len(raw), 1)
        if operation == "replace" and raw:
            raw[position] = byte
        elif operation == "insert":
            raw.insert(position, byte)
        elif raw:
            del raw[position]
    assert_loads_or_is_located(raw.decode("utf-8", errors="replace"))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["na", "ne", "1", "1.0.0", "maturity", "item-a", "", " "]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=8), children, max_size=3),
    ),
    max_leaves=6,
)


def containers(node, path=()):
    """Yield (path, container) for every dict and list inside `node`."""
    if isinstance(node, dict | list):
        yield path, node
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            yield from containers(child, path + (key,))


@FAST
@given(st.data())
def test_mangled_but_well_formed_documents(data):
    document = copy.deepcopy(REAL_DATA)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        targets = list(containers(document))
        _, container = data.draw(st.sampled_from(targets))
        keys = (
            list(container)
            if isinstance(container, dict)
            else list(range(len(container)))
        )
        if not keys:
            continue
        key = data.draw(st.sampled_from(keys))
        action = data.draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del container[key]
        elif action == "replace":
            container[key] = data.draw(values)
        elif isinstance(container, dict):
            container[data.draw(st.text(min_size=1, max_size=10))] = data.draw(values)
        else:
            container.append(data.draw(values))
    assert_loads_or_is_located(
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    )


def test_unmangled_document_round_trips():
    text = yaml.safe_dump(REAL_DATA, allow_unicode=True, sort_keys=False)
    assert (
        parse_text(text, "x.yaml").snapshot() == parse_text(REAL, "y.yaml").snapshot()
    )
