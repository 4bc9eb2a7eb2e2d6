"""Action plans: proposals, ownership by team members, edits, carry-over."""

import datetime
from html import unescape

import pytest
from markupsafe import escape
from support import DEPUTY, GOVERNOR, HEAD, user_id

from peerreview.cycles import service as cycles
from peerreview.plans import service as plans

# In the whole demo, cycle 1 is Northfield Primary's 2025 agreed cycle and
# cycle 2 this year's, each with a demo plan; cycle 9 is open.


def _fresh(db, cid=2):
    """Return cycle cid with its demo plan removed."""
    db.execute(
        "DELETE FROM plan_carries WHERE plan_id IN "
        "(SELECT id FROM action_plans WHERE cycle_id = ?)",
        [cid],
    )
    db.execute(
        "DELETE FROM action_notes WHERE action_id IN (SELECT a.id FROM plan_actions a "
        "JOIN action_plans p ON p.id = a.plan_id WHERE p.cycle_id = ?)",
        [cid],
    )
    db.execute(
        "DELETE FROM plan_actions WHERE plan_id IN "
        "(SELECT id FROM action_plans WHERE cycle_id = ?)",
        [cid],
    )
    db.execute("DELETE FROM action_plans WHERE cycle_id = ?", [cid])
    return cycles.get_cycle(db, cid)


def test_proposals_are_the_priorities_with_suggested_actions(demo_full):
    cycle = cycles.get_cycle(demo_full, 2)
    results = plans.results_of(demo_full, cycle)
    proposed = plans.proposals(results, cycle["snapshot"])
    assert [p["item_id"] for p in proposed] == [
        p["item_id"] for p in results["priorities"]
    ]
    with_peers = [p["item_id"] for p in plans.proposals_for(demo_full, cycle)]
    assert with_peers[: len(proposed)] == [p["item_id"] for p in proposed]
    assert proposed and all(p["suggested"] for p in proposed)
    assert proposed[0]["title"] == results["priorities"][0]["actions"][0]
    assert {r for p in proposed for r in p["reasons"]} <= {"low score", "split"}


def test_create_keeps_only_chosen_proposals(demo_full):
    cycle = _fresh(demo_full)
    head = user_id(demo_full, HEAD)
    proposed = plans.proposals(plans.results_of(demo_full, cycle), cycle["snapshot"])
    keep = [proposed[2]["item_id"], proposed[0]["item_id"]]
    plans.create_plan(demo_full, cycle, keep, actor_id=head)
    plan = plans.get_plan(demo_full, cycle)
    drafted = [a for a in plan["actions"] if a["source"] == "proposed"]
    assert [a["item_ids"] for a in drafted] == [[k] for k in keep]
    assert drafted[0]["title"] == proposed[2]["title"]
    with pytest.raises(plans.PlanError, match="already has"):
        plans.create_plan(demo_full, cycle, keep, actor_id=head)


def test_unknown_proposal_and_open_cycle_refused(demo_full):
    head = user_id(demo_full, HEAD)
    cycle = _fresh(demo_full)
    with pytest.raises(plans.PlanError, match="proposed"):
        plans.create_plan(demo_full, cycle, ["no-such-item"], actor_id=head)
    with pytest.raises(plans.PlanError, match="agreed"):
        plans.create_plan(demo_full, cycles.get_cycle(demo_full, 9), [], actor_id=head)
    assert plans.get_plan(demo_full, cycle) is None


def _fields(cycle, **over):
    return {
        "title": "Coach subject leaders",
        "item_ids": [cycle["snapshot"].item_ids[0]],
        "owner_id": None,
        "starts_on": "2026-11-01",
        "due_on": "2027-01-31",
        "resources": "£400 supply cover",
        "success_criteria": "All leaders observed twice",
        "impact_measure": "Spring data",
        "status": "on_track",
        **over,
    }


def test_owner_must_be_a_team_member(demo_full):
    cycle = cycles.get_cycle(demo_full, 2)
    head = user_id(demo_full, HEAD)
    governor = user_id(demo_full, GOVERNOR)
    with pytest.raises(plans.PlanError, match="member of the team"):
        plans.add_action(
            demo_full, cycle, _fields(cycle, owner_id=governor), actor_id=head
        )
    deputy = user_id(demo_full, DEPUTY)
    aid = plans.add_action(
        demo_full, cycle, _fields(cycle, owner_id=deputy), actor_id=head
    )
    action = next(
        a for a in plans.get_plan(demo_full, cycle)["actions"] if a["id"] == aid
    )
    assert action["owner_id"] == deputy and action["source"] == "own"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"title": " "}, "Say what"),
        ({"item_ids": []}, "at least one item"),
        ({"item_ids": ["zz"]}, "this cycle"),
        ({"due_on": "2026-10-01"}, "on or after"),
        ({"starts_on": "2026-13-40"}, "real date"),
        ({"status": "finished"}, "status"),
    ],
)
def test_bad_action_changes_nothing(demo_full, over, message):
    cycle = cycles.get_cycle(demo_full, 2)
    before = plans.get_plan(demo_full, cycle)
    with pytest.raises(plans.PlanError, match=message):
        plans.add_action(
            demo_full, cycle, _fields(cycle, **over), actor_id=user_id(demo_full, HEAD)
        )
    assert plans.get_plan(demo_full, cycle)["actions"] == before["actions"]


def test_merge_update_note_drop_and_overdue(demo_full):
    cycle = cycles.get_cycle(demo_full, 2)
    head = user_id(demo_full, HEAD)
    first, second = plans.get_plan(demo_full, cycle)["actions"][:2]
    kept = plans.merge_actions(
        demo_full, cycle, [second["id"], first["id"]], actor_id=head
    )
    plan = plans.get_plan(demo_full, cycle)
    merged = plan["actions"][0]
    assert kept == first["id"] == merged["id"]
    assert merged["item_ids"] == first["item_ids"] + second["item_ids"]
    assert first["title"] in merged["title"] and second["title"] in merged["title"]
    assert len(merged["notes"]) == len(first["notes"]) + len(second["notes"])
    assert second["id"] not in [a["id"] for a in plan["actions"]]

    plans.update_action(
        demo_full,
        cycle,
        kept,
        _fields(cycle, due_on="2026-11-02", starts_on="2026-11-01", status="at_risk"),
        actor_id=head,
    )
    plans.add_note(demo_full, cycle, kept, "2026-11-20", "Cover booked.", actor_id=head)
    later = plans.get_plan(demo_full, cycle, today=datetime.date(2026, 11, 3))
    action = later["actions"][0]
    assert action["overdue"] and action in later["overdue"]
    assert action["notes"][-1]["note"] == "Cover booked."
    plans.update_action(
        demo_full,
        cycle,
        kept,
        _fields(cycle, due_on="2026-11-02", status="done"),
        actor_id=head,
    )
    done = plans.get_plan(demo_full, cycle, today=datetime.date(2026, 11, 3))
    assert not done["actions"][0]["overdue"]
    plans.drop_action(demo_full, cycle, kept, actor_id=head)
    assert kept not in [a["id"] for a in plans.get_plan(demo_full, cycle)["actions"]]
    with pytest.raises(plans.PlanError, match="two or more"):
        plans.merge_actions(demo_full, cycle, [kept], actor_id=head)


def test_carry_over_shows_change_in_addressed_items(demo_full):
    cycle = cycles.get_cycle(demo_full, 2)
    last_year = plans.get_plan(demo_full, cycles.get_cycle(demo_full, 1))
    carried = plans.actions_for_results(demo_full, cycle)
    assert [c["title"] for c in carried] == [a["title"] for a in last_year["actions"]]
    changes = plans.results_of(demo_full, cycle)["change"]["items"]
    for entry in carried:
        assert entry["from_cycle_id"] == 1
        for item in entry["items"]:
            assert item["delta"] == changes[item["id"]]["delta"]
            assert item["previous"] == changes[item["id"]]["previous"]
    # The first cycle has nothing before it.
    assert plans.actions_for_results(demo_full, cycles.get_cycle(demo_full, 1)) == []


# Pages ------------------------------------------------------------------------


def test_governor_and_member_read_only_lead_edits(demo_full, client, auth):
    auth.login(GOVERNOR)
    page = client.get("/cycles/2/plan").get_data(as_text=True)
    assert "Action plan" in page and "Overdue" in page
    assert "Add your own action" not in page and "Drop action" not in page
    assert client.get("/cycles/2/plan/actions/new").status_code == 404
    auth.logout()
    auth.login(DEPUTY)
    assert "Add your own action" not in client.get("/cycles/2/plan").get_data(
        as_text=True
    )
    auth.logout()
    auth.login(HEAD)
    page = client.get("/cycles/2/plan").get_data(as_text=True)
    assert "Add your own action" in page and "Drop action 1" in page


def test_lead_drafts_edits_and_is_told_what_is_wrong(demo_full, client, auth):
    cycle = _fresh(demo_full)
    auth.login(HEAD)
    page = client.get("/cycles/2/plan").get_data(as_text=True)
    assert "Proposed actions to keep" in page
    first = plans.proposals(plans.results_of(demo_full, cycle), cycle["snapshot"])[0]
    response = auth.post(
        "/cycles/2/plan", {"keep": [first["item_id"]]}, page="/cycles/2/plan"
    )
    assert response.status_code == 302
    action = plans.get_plan(demo_full, cycle)["actions"][0]
    url = f"/cycles/2/plan/actions/{action['id']}"
    governor = str(user_id(demo_full, GOVERNOR))
    bad = auth.post(
        url,
        {
            "title": "X",
            "item_ids": action["item_ids"],
            "owner_id": governor,
            "status": "on_track",
        },
    )
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "govuk-error-summary" in text and "Not a valid choice" in text
    assert plans.get_plan(demo_full, cycle)["actions"][0]["title"] == action["title"]
    deputy = str(user_id(demo_full, DEPUTY))
    good = auth.post(
        url,
        {
            "title": "Pilot the survey",
            "item_ids": action["item_ids"],
            "owner_id": deputy,
            "starts_on": "2026-11-01",
            "due_on": "2027-01-15",
            "status": "on_track",
            "success_criteria": "Survey returned by 80%",
            "revision": str(action["revision"]),
        },
    )
    assert good.status_code == 302
    saved = plans.get_plan(demo_full, cycle)["actions"][0]
    assert (saved["title"], saved["owner_id"], saved["due_on"]) == (
        "Pilot the survey",
        int(deputy),
        "2027-01-15",
    )
    note = auth.post(
        f"{url}/notes", {"noted_on": "2026-11-20", "note": "Piloted"}, page=url
    )
    assert note.status_code == 302
    assert (
        plans.get_plan(demo_full, cycle)["actions"][0]["notes"][0]["note"] == "Piloted"
    )
    empty = auth.post(f"{url}/notes", {"noted_on": "", "note": ""}, page=url)
    assert empty.status_code == 400 and "govuk-error-summary" in empty.get_data(
        as_text=True
    )


def test_results_page_shows_last_cycles_actions_beside_change(demo_full, client, auth):
    auth.login(GOVERNOR)
    page = client.get("/cycles/2/results").get_data(as_text=True)
    assert 'id="plan"' in page
    last_year = plans.get_plan(demo_full, cycles.get_cycle(demo_full, 1))
    for action in last_year["actions"]:
        assert str(escape(action["title"])) in page
    carried = plans.actions_for_results(demo_full, cycles.get_cycle(demo_full, 2))
    delta = carried[0]["items"][0]["delta"]
    assert (
        f"+{delta:.1f} (up)" in page
        or f"−{-delta:.1f} (down)" in page
        or (round(delta, 2) == 0 and "No change" in page)
    )
    assert "/cycles/2/plan" in page


def test_widest_self_vs_peer_gaps_are_proposed(demo_full):
    """Items the team rated two or more points above its peer reviewers."""
    cycle = cycles.get_cycle(demo_full, 2)
    comparison = plans.peer_comparison(demo_full, cycle)
    assert comparison is not None and comparison["peer_cycle"]["state"] == "agreed"
    overrated = {r["item_id"] for r in comparison["rows"] if r["big"] and r["gap"] > 0}
    assert overrated  # the demo's peer review finds some
    proposed = {p["item_id"]: p for p in plans.proposals_for(demo_full, cycle)}
    for item_id in overrated:
        assert "self vs peer gap" in proposed[item_id]["reasons"]
        assert proposed[item_id]["peer_label"]
    results = plans.results_of(demo_full, cycle)
    extra = overrated - {p["item_id"] for p in results["priorities"]}
    assert len(proposed) == len(results["priorities"]) + len(extra)
    # Last year's self-evaluation is the one the June round compared with.
    before = cycles.get_cycle(demo_full, 1)
    assert plans.peer_comparison(demo_full, before)["round_closed_on"] == "2026-06-19"
    # With no peer review (the cluster's school outside the trust) only the
    # priorities are proposed.
    unreviewed = demo_full.execute(
        "SELECT c.id FROM cycles c JOIN teams t ON t.id = c.team_id "
        "WHERE c.kind = 'self' AND c.state = 'agreed' AND t.school_id NOT IN "
        "(SELECT school_id FROM peer_reviews) ORDER BY c.id LIMIT 1"
    ).fetchone()[0]
    alone = cycles.get_cycle(demo_full, unreviewed)
    assert plans.peer_comparison(demo_full, alone) is None
    assert len(plans.proposals_for(demo_full, alone)) == len(
        plans.results_of(demo_full, alone)["priorities"]
    )


def test_a_reopened_cycles_plan_waits_for_the_new_agreement(demo_full):
    db = demo_full
    cycle = cycles.get_cycle(db, 2)
    action = plans.get_plan(db, cycle)["actions"][0]
    lead = user_id(db, HEAD)
    cycles.transition(db, cycle, "moderation", actor_id=lead, reason="Recheck")
    cycle = cycles.get_cycle(db, 2)
    for change in (
        lambda: plans.add_note(
            db, cycle, action["id"], "2026-11-20", "x", actor_id=lead
        ),
        lambda: plans.drop_action(db, cycle, action["id"], actor_id=lead),
        lambda: plans.update_action(db, cycle, action["id"], {}, actor_id=lead),
    ):
        with pytest.raises(plans.PlanError, match="agreed its scores"):
            change()
    assert plans.get_plan(db, cycle)["actions"][0]["id"] == action["id"]


def test_items_sharing_a_suggested_action_get_one_action(demo_full, client, auth):
    """The health check suggests one heads' calendar for meeting, visiting and
    keeping in touch: drafted, it is one action linked to the three items."""
    from cycle_support import ROOT, make_cycle

    db = demo_full
    health = ROOT / "instruments" / "partnership-health-check.yaml"
    cycle = make_cycle(db, state="moderation", path=health)
    head = user_id(db, HEAD)
    for item_id in cycle["snapshot"].item_ids:
        cycles.record_agreed(
            db, cycle, item_id, value="no", rationale="", deferred=False, actor_id=head
        )
    cycles.transition(db, cycle, "agreed", actor_id=head)
    cycle = cycles.get_cycle(db, cycle["id"])
    proposed = plans.proposals_for(db, cycle)
    heads = ["heads-meet-regularly", "heads-visit-schools", "heads-frequent-contact"]
    assert set(heads) <= {p["item_id"] for p in proposed}
    # The draft page says which proposals become one action.
    auth.login(HEAD)
    page = unescape(client.get(f"/cycles/{cycle['id']}/plan").get_data(as_text=True))
    assert (
        "Drafted as one action with these items, if kept too: “The heads visit "
        "one another's schools.”; “Between meetings," in page
    )
    response = auth.post(
        f"/cycles/{cycle['id']}/plan",
        {"keep": [p["item_id"] for p in proposed]},
        page=f"/cycles/{cycle['id']}/plan",
    )
    assert response.status_code == 302
    drafted = plans.get_plan(db, cycle)["actions"]
    titles = [a["title"] for a in drafted]
    assert len(titles) == len(set(titles)) == len(cycle["snapshot"].data["actions"])
    calendar = next(a for a in drafted if set(heads) & set(a["item_ids"]))
    assert calendar["item_ids"] == heads
    assert calendar["title"].startswith("Agree a calendar of heads' meetings")
    # Every proposal kept is addressed by exactly one action.
    linked = [i for a in drafted for i in a["item_ids"]]
    assert sorted(linked) == sorted(p["item_id"] for p in proposed)
    page = client.get(f"/cycles/{cycle['id']}/plan").get_data(as_text=True)
    # Shown once, as any other action is (its heading and its edit link).
    assert page.count("Agree a calendar of heads&#39; meetings") == page.count(
        "Agree how the partnership welcomes a new head"
    )


def test_a_shared_action_is_one_action_only_for_the_items_kept(demo_full):
    proposals = [
        {"item_id": i, "title": t, "suggested": [t] if t else [], "statement": i}
        for i, t in [("a", "Do X"), ("b", "Do Y"), ("c", "Do X"), ("d", "")]
    ]
    proposals[3]["title"] = "Improve: d"
    groups = plans.action_groups(proposals)
    assert [(g["title"], g["item_ids"]) for g in groups] == [
        ("Do X", ["a", "c"]),
        ("Do Y", ["b"]),
        ("Improve: d", ["d"]),
    ]
    assert [g["item_ids"] for g in plans.action_groups(proposals[1:])] == [
        ["b"],
        ["c"],
        ["d"],
    ]
