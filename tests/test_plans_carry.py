"""The action plan carries into the next cycle: carry or close each unfinished action."""

import pytest
from markupsafe import escape
from support import GOVERNOR, HEAD, user_id
from test_plans import _fresh

from peerreview.cycles import service as cycles
from peerreview.plans import service as plans
from peerreview.reports.views import build_html

# In the whole demo, cycle 1 is Northfield Primary's 2025 agreed cycle (its
# plan: two actions done, one on track) and cycle 2 this year's.


@pytest.fixture
def last_year(demo_full):
    """Last year's plan with a second unfinished action, and a note on it."""
    plan = plans.get_plan(demo_full, cycles.get_cycle(demo_full, 1))
    done, unfinished = plan["actions"][0], plan["actions"][2]
    demo_full.execute(
        "UPDATE plan_actions SET status = 'at_risk' WHERE id = ?", [done["id"]]
    )
    plans.add_note(
        demo_full,
        cycles.get_cycle(demo_full, 1),
        unfinished["id"],
        "2026-05-04",
        "Timetable drafted.",
        actor_id=user_id(demo_full, HEAD),
    )
    return plans.get_plan(demo_full, cycles.get_cycle(demo_full, 1))


def test_unfinished_actions_are_proposed_with_everything_they_had(demo_full, last_year):
    cycle = _fresh(demo_full)
    candidates = plans.carry_candidates(demo_full, cycle)
    unfinished = [a for a in last_year["actions"] if a["status"] != "done"]
    assert [c["id"] for c in candidates] == [a["id"] for a in unfinished]
    assert all(c["from_cycle_id"] == 1 for c in candidates)
    head = user_id(demo_full, HEAD)
    keep_id, close_id = candidates[1]["id"], candidates[0]["id"]
    with pytest.raises(plans.PlanError, match="Say why"):
        plans.create_plan(
            demo_full, cycle, [], carry={close_id: ("close", " ")}, actor_id=head
        )
    assert plans.get_plan(demo_full, cycle) is None
    plans.create_plan(
        demo_full,
        cycle,
        [],
        carry={
            keep_id: ("carry", "The new timetable starts in January."),
            close_id: ("close", "Replaced by this year's survey."),
        },
        actor_id=head,
    )
    plan = plans.get_plan(demo_full, cycle)
    assert len(plan["actions"]) == 1
    new, old = plan["actions"][0], candidates[1]
    for key in ("title", "owner_id", "starts_on", "due_on", "status", "item_ids"):
        assert new[key] == old[key], key
    assert new["source"] == "carried"
    assert [(n["noted_on"], n["note"]) for n in new["notes"]] == [
        (n["noted_on"], n["note"]) for n in old["notes"]
    ]
    assert new["carried_from"][0]["cycle_id"] == 1
    # The old plan says where each went; nothing is proposed again.
    before = {
        a["id"]: a
        for a in plans.get_plan(demo_full, cycles.get_cycle(demo_full, 1))["actions"]
    }
    assert before[keep_id]["carried_to"]["decision"] == "carried"
    assert before[close_id]["carried_to"]["decision"] == "closed"
    assert plans.carry_candidates(demo_full, cycle) == []
    record = {r["from_action_id"]: r for r in plans.carry_record(demo_full, cycle)}
    assert record[keep_id]["number"] == 1
    assert record[close_id]["reason"] == "Replaced by this year's survey."
    # Finished actions keep their record of impact beside the new results.
    impact = {a["id"]: a for a in plans.actions_for_results(demo_full, cycle)}
    finished = [a for a in last_year["actions"] if a["status"] == "done"]
    assert finished and all(
        impact[a["id"]]["items"][0]["delta"] is not None for a in finished
    )


def test_merged_and_dropped_carried_actions_keep_their_record(demo_full, last_year):
    cycle = _fresh(demo_full)
    head = user_id(demo_full, HEAD)
    proposed = plans.proposals_for(demo_full, cycle)
    plans.create_plan(demo_full, cycle, [proposed[0]["item_id"]], actor_id=head)
    plan = plans.get_plan(demo_full, cycle)
    assert [a["source"] for a in plan["actions"]] == ["carried", "carried", "proposed"]
    first, second, third = (a["id"] for a in plan["actions"])
    plans.merge_actions(demo_full, cycle, [second, third], actor_id=head)
    merged = plans.get_plan(demo_full, cycle)["actions"][1]
    assert merged["id"] == second and len(merged["carried_from"]) == 1
    plans.drop_action(demo_full, cycle, first, actor_id=head)
    record = plans.carry_record(demo_full, cycle)
    assert [r["decision"] for r in record] == ["closed", "carried"]
    assert "Dropped" in record[0]["reason"]
    assert record[1]["number"] == 1


def test_lead_carries_and_closes_in_the_browser_and_governors_read_why(
    demo_full, app, client, auth, last_year
):
    cycle = _fresh(demo_full)
    candidates = plans.carry_candidates(demo_full, cycle)
    auth.login(HEAD)
    page = client.get("/cycles/2/plan").get_data(as_text=True)
    assert "Unfinished actions from" in page
    for c in candidates:
        assert str(escape(c["title"])) in page and f'name="carry_{c["id"]}"' in page
    a, b = (c["id"] for c in candidates)
    refused = auth.post(
        "/cycles/2/plan",
        {f"carry_{a}": "carry", f"carry_{b}": "close", f"why_{b}": ""},
        page="/cycles/2/plan",
    )
    assert refused.status_code == 400
    assert "Say why the action is closed" in refused.get_data(as_text=True)
    assert plans.get_plan(demo_full, cycle) is None
    done = auth.post(
        "/cycles/2/plan",
        {
            f"carry_{a}": "carry",
            f"why_{a}": "",
            f"carry_{b}": "close",
            f"why_{b}": "The trust runs this now.",
        },
        page="/cycles/2/plan",
    )
    assert done.status_code == 302
    page = client.get("/cycles/2/plan").get_data(as_text=True)
    assert "1 carried, 1 closed" in page and "The trust runs this now." in page
    assert "Carried from" in page
    auth.logout()
    auth.login(GOVERNOR)
    assert "The trust runs this now." in client.get("/cycles/2/plan").get_data(
        as_text=True
    )
    with app.test_request_context():
        html = build_html(demo_full, cycle, "governors")
    carried = html.split("Carried from the last plan", 1)[1]
    assert "The trust runs this now." in carried
    assert "Not finished by the end of" in carried  # the default reason
