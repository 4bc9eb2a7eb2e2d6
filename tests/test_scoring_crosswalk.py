"""Change across a major version: the crosswalk keeps it where the meaning is kept."""

import re
import textwrap

import pytest
from scoring_support import score_cycle
from test_scoring import agreed, item, snapshot

from peerreview.instruments import InstrumentInvalid, check_version_change, parse_text
from peerreview.scoring.crosswalk import compare_versions


def crosswalked():
    """Version 1: a, b, c, d, e. Version 2 keeps a, rewords b, splits c, merges
    d and e, and adds f with no crosswalk."""
    previous = snapshot({"s": [item("a"), item("b"), item("c"), item("d"), item("e")]})
    current = snapshot(
        {
            "s": [
                item("a"),
                item("b2", statement="Statement b, reworded", replaces=["b"]),
                item("c1", replaces=["c"]),
                item("c2", replaces=["c"]),
            ],
            "t": [item("de", replaces=["d", "e"]), item("f")],
        },
        version="2.0.0",
    )
    return previous, current


def test_crosswalked_major_version_shows_change_on_mapped_items_only():
    previous, current = crosswalked()
    result = score_cycle(
        current,
        [],
        agreed(dict(a="4", b2="4", c1="3", c2="5", de="4", f="5")),
        previous={
            "snapshot": previous,
            "agreed": agreed(dict(a="2", b="3", c="3", d="2", e="4")),
        },
    )
    change = result["change"]
    assert change["comparable"] is True
    assert change["crosswalk"] is True
    assert change["mapped"] == ["a", "b2", "c1", "c2", "de"]
    assert change["not_comparable"] == ["f"]
    items = change["items"]
    # a: kept unchanged under its id, 2 -> 4.
    assert items["a"]["delta"] == 2.0
    assert items["a"]["how"] == "kept"
    # b2: reworded from b, 3 -> 4.
    assert items["b2"]["delta"] == 1.0
    assert items["b2"]["how"] == "reworded"
    assert items["b2"]["from"] == [{"id": "b", "statement": "Statement b", "number": 2}]
    # c split in two: each half is measured from c's 3.
    assert (items["c1"]["delta"], items["c2"]["delta"]) == (0.0, 2.0)
    assert items["c1"]["how"] == items["c2"]["how"] == "split"
    # d and e merged: measured from their mean (2 + 4) / 2 = 3, now 4: +1.
    assert items["de"]["previous"] == 3.0
    assert items["de"]["delta"] == 1.0
    assert items["de"]["how"] == "merged"
    assert [f["id"] for f in items["de"]["from"]] == ["d", "e"]
    # f: not comparable, plainly, and not a "new item" of the same version.
    assert items["f"] == {
        "previous": None,
        "current": 5.0,
        "delta": None,
        "new": False,
        "comparable": False,
        "how": None,
        "from": [],
    }
    # Sections and overall are made of other items now: not compared.
    assert change["sections"] == {}
    assert change["overall"] is None
    assert change["removed_items"] == []


def test_a_major_version_without_a_crosswalk_is_not_compared():
    previous, current = crosswalked()
    for section in current["sections"]:
        for entry in section["items"]:
            entry.pop("replaces", None)
    links = compare_versions(previous, current)
    assert links["kind"] is None
    assert links["not_comparable"] == ["a", "b2", "c1", "c2", "de", "f"]


def test_a_crosswalk_across_two_majors_or_a_new_scale_is_not_compared():
    previous, current = crosswalked()
    assert compare_versions(previous, dict(current, version="3.0.0"))["kind"] is None
    scale = dict(current["scale"])
    scale["points"] = [dict(p, value=p["value"] * 2) for p in scale["points"]]
    assert compare_versions(previous, dict(current, scale=scale))["kind"] is None


def test_merged_item_needs_every_source_scored():
    previous, current = crosswalked()
    result = score_cycle(
        current,
        [],
        agreed(dict(de="4")),
        previous={"snapshot": previous, "agreed": agreed(dict(d="2"))},
    )
    assert result["change"]["items"]["de"]["previous"] is None
    assert result["change"]["items"]["de"]["comparable"] is True


def test_results_say_when_descriptors_changed():
    previous = snapshot({"s": [item("x", descriptors={"1": "old"}), item("y")]})
    current = snapshot(
        {"s": [item("x", descriptors={"1": "new"}), item("y")]}, version="1.1.0"
    )
    result = score_cycle(
        current,
        [],
        agreed(dict(x="3", y="3")),
        previous={"snapshot": previous, "agreed": agreed(dict(x="2", y="2"))},
    )
    change = result["change"]
    assert change["descriptors_changed"] == ["x"]
    assert change["items"]["x"]["descriptors_changed"] is True
    assert "descriptors_changed" not in change["items"]["y"]


# --- the crosswalk in the file -------------------------------------------------

V1 = textwrap.dedent(
    """\
    format: 1
    id: walk
    version: 1.2.0
    title: Walk
    purpose: Exercise the crosswalk.
    audience: school_leadership_team
    source: {citation: Test suite, licence: CC0}
    scale:
      kind: agreement
      points:
        - {code: "1", value: 1, label: Disagree}
        - {code: "2", value: 2, label: Agree}
    sections:
      - id: s
        title: S
        items:
          - id: one
            statement: One.
          - id: two
            statement: Two.
    scoring:
      bands: [{name: All, min: 1}]
      priority: {at_or_below: 1}
    """
)


def version_two(replaces: str) -> str:
    return (
        V1.replace("version: 1.2.0", "version: 2.0.0")
        .replace("id: two", "id: two-b")
        .replace(
            "statement: Two.",
            f"statement: Two, reworded.\n        replaces: {replaces}",
        )
    )


def test_a_crosswalk_names_items_of_the_previous_version():
    old = parse_text(V1, "walk.yaml").snapshot()
    good = parse_text(version_two("[two]"), "walk.yaml")
    assert check_version_change(old, good) == []
    assert good.item("two-b").replaces == ["two"]
    bad = parse_text(version_two("[three]"), "walk.yaml")
    (problem,) = check_version_change(old, bad)
    assert str(problem) == (
        "walk.yaml:21: two-b: replaces 'three', which version 1.2.0 does not have"
    )


def test_a_first_major_version_has_nothing_to_replace():
    text = version_two("[two]").replace("version: 2.0.0", "version: 1.3.0")
    with pytest.raises(InstrumentInvalid) as caught:
        parse_text(text, "walk.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "walk.yaml:21: two-b: section 1, item 2, replaces: only a new major "
        "version (2.0.0 or later) can replace items of the version before it"
    ]


def test_an_empty_crosswalk_leaves_the_content_hash_alone():
    instrument = parse_text(V1, "walk.yaml")
    assert "replaces" not in str(instrument.snapshot())


# --- on the results page --------------------------------------------------------


def test_results_page_shows_mapped_items_and_not_comparable(
    demo, db, client, auth, tmp_path
):
    from cycle_support import ASCL, agree_all, make_cycle, team_people
    from support import HEAD

    from peerreview.cycles import service as cycles

    lead, _ = team_people(db)
    first = make_cycle(db, state="moderation")
    agree_all(db, first, lead, value="2")
    cycles.transition(db, first, "agreed", actor_id=lead)
    db.execute("UPDATE cycles SET agreed_at = '2000-01-01' WHERE id = ?", [first["id"]])
    # Version 2.0.0 rewords ascl-01 (crosswalked) and replaces ascl-10 with an
    # item of a new meaning (no crosswalk); the rest are kept unchanged.
    text = ASCL.read_text(encoding="utf-8")
    released = re.search(r"(?m)^version: (.*)$", text).group(1)
    text = re.sub(r"(?m)^version: .*$", "version: 2.0.0", text, count=1)
    # Every list that names an old id (actions, the source's coverage) follows.
    text = text.replace("[ascl-01]", "[ascl-01b]").replace("[ascl-01,", "[ascl-01b,")
    text = text.replace(
        "      - id: ascl-01\n",
        "      - id: ascl-01b\n        replaces: [ascl-01]\n",
    )
    text = text.replace(
        '"The school/college has a strong high expectations culture',
        '"The school has a strong culture of high expectations',
    )
    text = (
        text.replace("id: ascl-10\n", "id: ascl-10-new\n")
        .replace("[ascl-10]", "[ascl-10-new]")
        .replace(" ascl-10]", " ascl-10-new]")
    )
    v2 = tmp_path / "ascl-closing-gaps.yaml"
    v2.write_text(text, encoding="utf-8")
    later = make_cycle(db, state="moderation", path=v2)
    agree_all(db, later, lead, value="4")
    cycles.transition(db, later, "agreed", actor_id=lead)

    auth.login(HEAD)
    html = client.get(f"/cycles/{later['id']}/results").get_data(as_text=True)
    assert (
        "through the crosswalk: 10 of 11 items compared; the other 1 are not "
        "comparable" in html
    )
    row = html.split('id="item-ascl-01b"')[1].split("</tr>")[0]
    assert "+2.0 (up)" in row
    assert (
        f"Reworded from version {released}: item 1, “The school/college has a strong"
        in row
    )
    row = html.split('id="item-ascl-10-new"')[1].split("</tr>")[0]
    assert "Not comparable" in row
    assert f"The crosswalk maps no item of version {released} to this one." in row
    row = html.split('id="item-ascl-03"')[1].split("</tr>")[0]
    assert "+2.0 (up)" in row and f"version {released}" not in row


def test_health_check_2_shows_change_since_a_1_0_1_cycle_on_split_items(
    demo, db, client, auth
):
    """A team that answered the 1.0.1 health check sees, on 2.0.0, each split
    item's change measured from the item it was split from."""
    from cycle_support import ROOT, agree_all, make_cycle, team_people
    from support import HEAD

    from peerreview.cycles import service as cycles

    released = ROOT / "tests" / "data" / "released"
    lead, _ = team_people(db)
    first = make_cycle(
        db, state="moderation", path=released / "partnership-health-check-1.0.1.yaml"
    )
    agree_all(db, first, lead, value="part")
    cycles.transition(db, first, "agreed", actor_id=lead)
    db.execute("UPDATE cycles SET agreed_at = '2000-01-01' WHERE id = ?", [first["id"]])
    later = make_cycle(
        db,
        state="moderation",
        path=ROOT / "instruments" / "partnership-health-check.yaml",
    )
    agree_all(db, later, lead, value="yes")
    cycles.transition(db, later, "agreed", actor_id=lead)

    auth.login(HEAD)
    html = client.get(f"/cycles/{later['id']}/results").get_data(as_text=True)
    assert "through the crosswalk: 16 of 16 items compared" in html
    for item_id in ("heads-meet-regularly", "new-heads-welcomed", "governors-involved"):
        row = html.split(f'id="item-{item_id}"')[1].split("</tr>")[0]
        assert "+1.0 (up)" in row, item_id
        assert "Split from version 1.0.1" in row, item_id
    row = html.split('id="item-impact-evaluated"')[1].split("</tr>")[0]
    assert "+1.0 (up)" in row and "version 1.0.1" not in row


def test_maturity_2_shows_change_since_a_1_1_0_cycle_on_split_strands(
    demo, db, client, auth
):
    """A team that rated the 1.1.0 maturity model sees, on the next major
    version, each split strand's statements measured from the strand."""
    from cycle_support import ROOT, agree_all, make_cycle, team_people
    from support import HEAD

    from peerreview.cycles import service as cycles

    released = ROOT / "tests" / "data" / "released"
    lead, _ = team_people(db)
    first = make_cycle(
        db, state="moderation", path=released / "partnership-maturity-1.1.0.yaml"
    )
    agree_all(db, first, lead, value="2")
    cycles.transition(db, first, "agreed", actor_id=lead)
    db.execute("UPDATE cycles SET agreed_at = '2000-01-01' WHERE id = ?", [first["id"]])
    later = make_cycle(
        db, state="moderation", path=ROOT / "instruments" / "partnership-maturity.yaml"
    )
    agree_all(db, later, lead, value="3")
    cycles.transition(db, later, "agreed", actor_id=lead)

    auth.login(HEAD)
    html = client.get(f"/cycles/{later['id']}/results").get_data(as_text=True)
    assert "through the crosswalk: 15 of 15 items compared" in html
    for item_id in (
        "fit-governance-arrangements",
        "fit-governance-with-governors",
        "evaluation-by-peer-review",
        "challenge-with-honesty",
        "action-on-review-findings",
    ):
        row = html.split(f'id="item-{item_id}"')[1].split("</tr>")[0]
        assert "+1.0 (up)" in row, item_id
        assert "Split from version 1.1.0" in row, item_id
    row = html.split('id="item-high-social-capital"')[1].split("</tr>")[0]
    assert "+1.0 (up)" in row and "version 1.1.0" not in row
