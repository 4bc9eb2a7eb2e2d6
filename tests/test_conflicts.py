"""Two tabs editing one action or one agreed score: the later save is shown
beside the newer version, and the person chooses; nothing is lost silently."""

from support import HEAD, tags

from peerreview.cycles import service as cycles
from peerreview.plans import service as plans


def _hidden(html: str) -> list[tuple[str, str]]:
    """The hidden fields of the conflict page's "Keep my edit" form."""
    form = html[html.index("Which do you want to keep?") :]
    return [(a["name"], a["value"]) for a in tags(form, "input", type="hidden")]


def _action(db, number=1):
    return plans.get_plan(db, cycles.get_cycle(db, 2))["actions"][number - 1]


def _edit(action, **over):
    return {
        "title": action["title"],
        "item_ids": action["item_ids"],
        "owner_id": str(action["owner_id"] or ""),
        "status": action["status"],
        "resources": action["resources"],
        "success_criteria": action["success_criteria"],
        "impact_measure": action["impact_measure"],
        "revision": str(action["revision"]),
        **over,
    }


def test_a_stale_action_edit_shows_both_versions_and_keeps_mine_on_request(
    demo_full, client, auth
):
    auth.login(HEAD)
    action = _action(demo_full)
    url = f"/cycles/2/plan/actions/{action['id']}"
    page = client.get(url).get_data(as_text=True)
    assert f'name="revision" type="hidden" value="{action["revision"]}"' in page
    # Two tabs opened the action at the same revision; the first saves.
    first = auth.post(url, _edit(action, title="Weekly reading clinics"))
    assert first.status_code == 302
    assert _action(demo_full)["revision"] == action["revision"] + 1
    # The second tab's save is not applied: it gets both versions.
    second = auth.post(
        url, _edit(action, title="Daily phonics", impact_measure="Phonics check")
    )
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "was changed after you opened it" in html
    assert "Your edit has not been saved" in html
    assert "Weekly reading clinics" in html and "Daily phonics" in html
    assert "Phonics check" in html and "Different" in html
    assert "You saved this action in another tab or window" in html
    assert _action(demo_full)["title"] == "Weekly reading clinics"
    # Keep theirs: a link back to the action as saved, nothing posted.
    assert f'href="{url}">Keep the saved version</a>' in html
    # Keep mine: the page resubmits my edit from the current revision.
    fields = _hidden(html)
    assert ("revision", str(action["revision"] + 1)) in fields
    assert ("title", "Daily phonics") in fields
    data: dict = {}
    for k, v in fields:
        data.setdefault(k, []).append(v)
    kept = client.post(url, data=data)
    assert kept.status_code == 302
    saved = _action(demo_full)
    assert (saved["title"], saved["impact_measure"]) == (
        "Daily phonics",
        "Phonics check",
    )
    assert saved["item_ids"] == action["item_ids"]
    assert saved["revision"] == action["revision"] + 2


def test_a_refused_note_keeps_the_action_form_current(demo_full, client, auth):
    auth.login(HEAD)
    action = _action(demo_full)
    url = f"/cycles/2/plan/actions/{action['id']}"
    refused = auth.post(f"{url}/notes", {"noted_on": "", "note": ""}, page=url)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert f'name="revision" type="hidden" value="{action["revision"]}"' in html


def test_the_same_action_edit_sent_twice_is_not_a_conflict(demo_full, client, auth):
    auth.login(HEAD)
    action = _action(demo_full)
    url = f"/cycles/2/plan/actions/{action['id']}"
    edit = _edit(action, title="Weekly reading clinics")
    assert auth.post(url, edit).status_code == 302
    assert auth.post(url, edit).status_code == 302
    assert _action(demo_full)["revision"] == action["revision"] + 1


def test_an_action_edit_without_a_readable_revision_is_refused(demo_full, client, auth):
    auth.login(HEAD)
    action = _action(demo_full)
    url = f"/cycles/2/plan/actions/{action['id']}"
    missing = auth.post(
        url, {k: v for k, v in _edit(action, title="New").items() if k != "revision"}
    )
    assert missing.status_code == 409  # no revision: older than any saved one
    bad = auth.post(url, _edit(action, title="New", revision="1e30"))
    assert bad.status_code == 200
    assert "The form could not be read: reload the page" in bad.get_data(as_text=True)
    assert _action(demo_full)["title"] == action["title"]


def test_a_stale_agreed_score_shows_both_and_keeps_either(demo, db, client, auth):
    from cycle_support import make_cycle

    cycle = make_cycle(db, state="moderation")
    cid, item = cycle["id"], cycle["snapshot"].item_ids[0]
    auth.login(HEAD)
    page = f"/cycles/{cid}/moderate"
    url = f"/cycles/{cid}/agree/{item}"
    html = client.get(page).get_data(as_text=True)
    assert tags(html, "input", type="hidden", name="revision", value="0")
    # Two tabs open the meeting before any score is agreed; the first records.
    first = auth.post(
        url, {"value": "3", "rationale": "Mixed", "revision": "0"}, page=page
    )
    assert first.status_code == 302
    second = auth.post(
        url,
        {"value": "5", "rationale": "Strong\nin every class", "revision": "0"},
        page=page,
    )
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "was changed after you opened the page" in html
    assert "Yours has not been saved" in html
    assert "You recorded it in another tab or window" in html
    assert "Mixed" in html and "Strong<br>in every class" in html
    assert "Not sure" in html and "Strongly agree" in html
    stored = cycles.agreed_scores(db, cid)[item]
    assert (stored["value"], stored["rationale"], stored["revision"]) == (
        "3",
        "Mixed",
        1,
    )
    # Keep the saved one: back to the item, nothing posted.
    assert f'href="{page}#item-{item}">Keep the saved one</a>' in html
    # Keep mine: recorded from the current revision, both kept in the history.
    fields = dict(_hidden(html))
    assert fields["revision"] == "1" and fields["value"] == "5"
    kept = client.post(url, data=fields)
    assert kept.status_code == 302
    stored = cycles.agreed_scores(db, cid)[item]
    assert (stored["value"], stored["rationale"], stored["revision"]) == (
        "5",
        "Strong\nin every class",
        2,
    )
    history = cycles.agreed_history(db, cid)[item]
    assert [(h["old_value"], h["new_value"]) for h in history] == [
        (None, "3"),
        ("3", "5"),
    ]
    # The same record sent twice (a double click) is not a conflict.
    again = auth.post(
        url,
        {"value": "5", "rationale": "Strong\nin every class", "revision": "1"},
        page=page,
    )
    assert again.status_code == 302
    assert cycles.agreed_scores(db, cid)[item]["revision"] == 2
    bad = auth.post(
        url, {"value": "2", "revision": "x"}, page=page, follow_redirects=True
    )
    assert "could not be read: reload the page" in bad.get_data(as_text=True)
    assert cycles.agreed_scores(db, cid)[item]["revision"] == 2
