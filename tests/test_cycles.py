"""Self-evaluation cycles: states, blind ratings, autosave rules, moderation."""

import json
import re

import pytest
from cycle_support import ASCL, agree_all, answer_all, make_cycle, team_people
from support import DEPUTY, HEAD, csrf_token, user_id

from peerreview.cycles import service


def _save(client, cid, token, **body):
    return client.post(
        f"/cycles/{cid}/answers",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )


LEGAL = {
    ("draft", "open"),
    ("open", "moderation"),
    ("moderation", "agreed"),
    ("agreed", "closed"),
    ("moderation", "open"),
    ("agreed", "moderation"),
    ("closed", "agreed"),
}


@pytest.mark.parametrize("frm", service.STATES)
@pytest.mark.parametrize("to", service.STATES)
def test_state_machine(demo, db, frm, to):
    cycle = make_cycle(db, state=frm)
    lead, _ = team_people(db)
    if (frm, to) == ("moderation", "agreed"):
        agree_all(db, cycle, lead)
    if (frm, to) in LEGAL:
        service.transition(db, cycle, to, actor_id=lead, reason="Because")
        assert service.get_cycle(db, cycle["id"])["state"] == to
    else:
        with pytest.raises(service.CycleError):
            service.transition(db, cycle, to, actor_id=lead, reason="Because")
        assert service.get_cycle(db, cycle["id"])["state"] == frm


def test_reopen_needs_a_reason_and_is_audited(demo, db):
    cycle = make_cycle(db, state="moderation")
    lead, _ = team_people(db)
    with pytest.raises(service.CycleError, match="reason"):
        service.transition(db, cycle, "open", actor_id=lead)
    service.transition(db, cycle, "open", actor_id=lead, reason="Two people were ill")
    detail = db.execute(
        "SELECT detail FROM audit_log WHERE action = 'cycle.reopen'"
    ).fetchone()[0]
    assert json.loads(detail)["reason"] == "Two people were ill"


def test_cannot_mark_agreed_with_unresolved_items(demo, db):
    cycle = make_cycle(db, state="moderation")
    lead, _ = team_people(db)
    first, *rest = cycle["snapshot"].item_ids
    service.record_agreed(
        db,
        cycle,
        first,
        value="4",
        rationale="Clear evidence",
        deferred=False,
        actor_id=lead,
    )
    with pytest.raises(service.CycleError, match=f"{len(rest)} item"):
        service.transition(db, cycle, "agreed", actor_id=lead)
    for item_id in rest:
        service.record_agreed(
            db,
            cycle,
            item_id,
            value=None,
            rationale="Next term",
            deferred=True,
            actor_id=lead,
        )
    service.transition(db, cycle, "agreed", actor_id=lead)


def test_respondent_answers_autosave_and_come_back(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    item = cycle["snapshot"].item_ids[0]
    response = _save(
        client,
        cycle["id"],
        token,
        item_id=item,
        value="4",
        comment="Strong culture",
        evidence="Parent survey",
        revision=0,
    )
    assert response.status_code == 200 and response.json["revision"] == 1
    # Another device: a new session sees the answer as it was.
    other = client.application.test_client()
    from support import Auth, checked

    Auth(other).login(DEPUTY)
    html = other.get(f"/cycles/{cycle['id']}/rate").get_data(as_text=True)
    assert "Strong culture" in html and "Parent survey" in html
    assert checked(html, f"{item}__value") == ["4"]
    assert "1 of 11 answered" in re.sub(r"<[^>]+>", "", html)


def test_stale_revision_is_refused_with_the_newer_answer(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    item = cycle["snapshot"].item_ids[0]
    assert (
        _save(
            client, cycle["id"], token, item_id=item, value="2", revision=0
        ).status_code
        == 200
    )
    # A second tab still at revision 0 tries to save.
    response = _save(client, cycle["id"], token, item_id=item, value="5", revision=0)
    assert response.status_code == 409
    assert response.json["current"]["value"] == "2"
    assert response.json["current"]["revision"] == 1
    uid = user_id(db, DEPUTY)
    assert service.my_answers(db, cycle["id"], uid)[item]["value"] == "2"


def test_a_retried_save_whose_reply_was_lost_is_saved(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    item = cycle["snapshot"].item_ids[0]
    body = {"item_id": item, "value": "3", "comment": "Seen", "revision": 0}
    first = _save(client, cycle["id"], token, **body)
    assert first.status_code == 200 and first.json["revision"] == 1
    # The reply was lost; the page still holds revision 0 and sends it again.
    retry = _save(client, cycle["id"], token, **body)
    assert retry.status_code == 200
    assert retry.json == {
        "saved": True,
        "revision": 1,
        "updated_at": first.json["updated_at"],
    }
    # A different answer from revision 0 is still another tab's change.
    other = _save(client, cycle["id"], token, **{**body, "comment": "Not seen"})
    assert other.status_code == 409 and other.json["current"]["comment"] == "Seen"
    uid = user_id(db, DEPUTY)
    answer = service.my_answers(db, cycle["id"], uid)[item]
    assert (answer["comment"], answer["revision"]) == ("Seen", 1)


def test_save_revisions_unchanged_ahead_and_closed(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    first, second = cycle["snapshot"].item_ids[:2]
    # A client claiming a revision of an answer that was never saved is stale.
    ahead = _save(client, cycle["id"], token, item_id=first, value="2", revision=3)
    assert ahead.status_code == 409 and ahead.json["current"]["revision"] == 0
    saved = _save(client, cycle["id"], token, item_id=first, value="2", comment="x")
    assert saved.json["revision"] == 1
    # The same answer again writes nothing and keeps its revision.
    again = _save(
        client, cycle["id"], token, item_id=first, value="2", comment="x", revision=1
    )
    assert again.status_code == 200 and again.json["revision"] == 1
    changed = _save(
        client, cycle["id"], token, item_id=first, value="2", comment="y", revision=1
    )
    assert changed.json["revision"] == 2
    db.execute("UPDATE cycles SET state = 'moderation' WHERE id = ?", [cycle["id"]])
    late = _save(client, cycle["id"], token, item_id=second, value="4")
    assert late.status_code == 422 and "no longer open" in late.json["error"]
    uid = user_id(db, DEPUTY)
    answers = service.my_answers(db, cycle["id"], uid)
    assert answers[first]["comment"] == "y" and second not in answers


@pytest.mark.parametrize(
    "body,status,message",
    [
        ({"item_id": "not-an-item", "value": "3"}, 422, "not part of this cycle"),
        ({"item_id": "FIRST", "value": "9"}, 422, "Choose one of the answers"),
        ({"item_id": "FIRST", "value": 3}, 422, "could not be read"),
        ({"value": "3"}, 400, "could not be read"),
    ],
)
def test_bad_answers_are_refused(demo, db, client, auth, body, status, message):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    if body.get("item_id") == "FIRST":
        body = {**body, "item_id": cycle["snapshot"].item_ids[0]}
    response = _save(client, cycle["id"], token, revision=0, **body)
    assert response.status_code == status
    assert message in response.json["error"]
    assert db["responses"].count == 0


def test_answers_refused_once_moderation_starts(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    lead, _ = team_people(db)
    service.transition(db, cycle, "moderation", actor_id=lead)
    response = _save(
        client,
        cycle["id"],
        token,
        item_id=cycle["snapshot"].item_ids[0],
        value="3",
        revision=0,
    )
    assert response.status_code == 422 and "no longer open" in response.json["error"]
    assert db["responses"].count == 0


def test_non_respondent_and_missing_csrf_are_refused(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login("headteacher@riversideinfant.example.org")
    token = csrf_token(client, "/")
    response = _save(
        client,
        cycle["id"],
        token,
        item_id=cycle["snapshot"].item_ids[0],
        value="3",
        revision=0,
    )
    assert response.status_code == 404
    auth.logout()
    auth.login(DEPUTY)
    response = client.post(
        f"/cycles/{cycle['id']}/answers",
        data=json.dumps({"item_id": cycle["snapshot"].item_ids[0], "value": "3"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json["error"].startswith("csrf")
    assert db["responses"].count == 0


def test_json_save_takes_its_token_from_the_header_only(demo, db, client, auth):
    # A JSON body is not a form: a token inside it does not count, and a
    # form-encoded post still needs its csrf_token field.
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    item_id = cycle["snapshot"].item_ids[0]
    in_body = client.post(
        f"/cycles/{cycle['id']}/answers",
        data=json.dumps({"item_id": item_id, "value": "3", "csrf_token": token}),
        headers={"Content-Type": "application/json"},
    )
    assert in_body.status_code == 400 and in_body.json["error"].startswith("csrf")
    # Six characters of the signature changed (two could differ only in the
    # padding bits of its last base64 character, and still be valid).
    spoilt = token[:-6] + ("AAAAAA" if token[-6:] != "AAAAAA" else "BBBBBB")
    wrong = _save(client, cycle["id"], spoilt, item_id=item_id, value="3")
    assert wrong.status_code == 400 and wrong.json["error"].startswith("csrf")
    as_form = client.post(
        f"/cycles/{cycle['id']}/answers",
        data={"item_id": item_id, "value": "3"},
        headers={"Accept": "application/json"},
    )
    assert as_form.status_code == 400
    assert db["responses"].count == 0
    assert (
        _save(client, cycle["id"], token, item_id=item_id, value="3").status_code == 200
    )


def test_signed_out_save_gets_json_401(demo, db, client):
    cycle = make_cycle(db)
    response = client.post(
        f"/cycles/{cycle['id']}/answers",
        json={"item_id": "x"},
        headers={"Accept": "application/json"},
    )
    # CSRF is checked first for every POST; the token refresh needs a session.
    assert response.status_code == 400
    assert (
        client.get("/csrf-token", headers={"Accept": "application/json"}).status_code
        == 401
    )


def test_token_refresh_gives_a_working_token(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    token = client.get("/csrf-token").json["token"]
    response = _save(
        client,
        cycle["id"],
        token,
        item_id=cycle["snapshot"].item_ids[0],
        value="3",
        revision=0,
    )
    assert response.status_code == 200


def test_section_saves_without_javascript(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    section = cycle["snapshot"].sections[0]
    data = {}
    for item in section["items"]:
        data[f"{item['id']}__value"] = "5"
        data[f"{item['id']}__comment"] = "Seen in lessons"
        data[f"{item['id']}__evidence"] = ""
        data[f"{item['id']}__revision"] = "0"
    response = auth.post(
        f"/cycles/{cycle['id']}/rate/{section['id']}",
        data,
        page=f"/cycles/{cycle['id']}/rate",
    )
    assert response.status_code == 302
    uid = user_id(db, DEPUTY)
    answers = service.my_answers(db, cycle["id"], uid)
    assert {i["id"] for i in section["items"]} == set(answers)
    assert all(
        a["value"] == "5" and a["comment"] == "Seen in lessons"
        for a in answers.values()
    )


def test_section_save_out_of_range_shows_error_summary(demo, db, client, auth):
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    section = cycle["snapshot"].sections[0]
    item = section["items"][0]["id"]
    response = auth.post(
        f"/cycles/{cycle['id']}/rate/{section['id']}",
        {f"{item}__value": "7", f"{item}__revision": "0"},
        page=f"/cycles/{cycle['id']}/rate",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and "Not a valid choice" in html
    assert db["responses"].count == 0


def test_submit_needs_every_item(demo, db, client, auth):
    cycle = make_cycle(db)
    uid = user_id(db, DEPUTY)
    auth.login(DEPUTY)
    response = auth.post(
        f"/cycles/{cycle['id']}/submit", page=f"/cycles/{cycle['id']}/rate"
    )
    assert response.status_code == 400
    assert "11 still to answer" in response.get_data(as_text=True)
    answer_all(db, cycle, uid, value="na")
    response = auth.post(
        f"/cycles/{cycle['id']}/submit", page=f"/cycles/{cycle['id']}/rate"
    )
    assert response.status_code == 302
    assert db.execute(
        "SELECT count(*) FROM audit_log WHERE action='cycle.submit'"
    ).fetchone() == (1,)


def test_ratings_are_blind_until_moderation(demo, db, client, auth):
    cycle = make_cycle(db)
    lead, members = team_people(db)
    answer_all(db, cycle, user_id(db, DEPUTY), value="2")
    for viewer in (HEAD, DEPUTY):
        auth.login(viewer)
        assert client.get(f"/cycles/{cycle['id']}/moderate").status_code == 404
        auth.logout()
    auth.login(HEAD)
    html = client.get(f"/cycles/{cycle['id']}").get_data(as_text=True)
    assert "11 of 11" in html  # the lead sees who finished...
    assert "Disagree" not in html  # ...never what they answered
    rate = client.get(f"/cycles/{cycle['id']}/rate").get_data(as_text=True)
    assert "checked" not in rate  # the lead's own, empty form


def test_moderation_orders_by_disagreement_and_hides_names(demo, db, client, auth):
    cycle = make_cycle(db, anonymous=True)
    lead, members = team_people(db)
    items = cycle["snapshot"].item_ids
    people = [lead, *members]
    for n, uid in enumerate(people):
        for i, item in enumerate(items):
            # item 3: ratings 1..5 (widest); item 7: 2 and 4; the rest all agree.
            value = "4"
            if i == 3:
                value = str(1 + n % 5)
            elif i == 7:
                value = "2" if n % 2 else "4"
            service.save_answer(
                db,
                cycle,
                uid,
                item,
                value=value,
                comment=f"c{n}",
                evidence="",
                base_revision=0,
            )
    service.transition(db, cycle, "moderation", actor_id=lead)
    auth.login(HEAD)
    html = client.get(f"/cycles/{cycle['id']}/moderate").get_data(as_text=True)
    first = html.index(f'id="item-{items[3]}"')
    second = html.index(f'id="item-{items[7]}"')
    third = html.index(f'id="item-{items[0]}"')
    assert first < second < third
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM users WHERE id IN ({})".format(
                ",".join("?" * len(people))
            ),
            people,
        ).fetchall()
    ]
    assert not any(name in html.split("Moderation meeting")[1] for name in names)
    assert '<td class="govuk-table__cell">A</td>' in html


def test_agreed_scores_keep_history_and_audit(demo, db, client, auth):
    cycle = make_cycle(db, state="moderation")
    item = cycle["snapshot"].item_ids[0]
    auth.login(HEAD)
    page = f"/cycles/{cycle['id']}/moderate"
    auth.post(
        f"/cycles/{cycle['id']}/agree/{item}",
        {"value": "3", "rationale": "Mixed"},
        page=page,
    )
    auth.post(
        f"/cycles/{cycle['id']}/agree/{item}",
        {"value": "4", "rationale": "Better", "revision": "1"},
        page=page,
    )
    history = service.agreed_history(db, cycle["id"])[item]
    assert [(h["old_value"], h["new_value"]) for h in history] == [
        (None, "3"),
        ("3", "4"),
    ]
    assert service.agreed_scores(db, cycle["id"])[item]["rationale"] == "Better"
    assert db.execute(
        "SELECT count(*) FROM audit_log WHERE action='cycle.agree'"
    ).fetchone() == (2,)
    html = client.get(page).get_data(as_text=True)
    assert "Agreed: Agree" in html and "Changes to this agreed score" in html
    # The lead's cycle page tells the story in words, newest first.
    history = client.get(f"/cycles/{cycle['id']}").get_data(as_text=True)
    history = history.split("History", 1)[1]
    statement = cycle["snapshot"].items[item]["statement"][:30]
    assert "agreed Agree for “" + statement in history
    assert "(was Not sure)" in history
    assert "cycle.agree" not in history


def test_only_the_lead_records_agreed_scores(demo, db, client, auth):
    cycle = make_cycle(db, state="moderation")
    item = cycle["snapshot"].item_ids[0]
    auth.login(DEPUTY)
    response = auth.post(
        f"/cycles/{cycle['id']}/agree/{item}",
        {"value": "3"},
        page=f"/cycles/{cycle['id']}/moderate",
    )
    assert response.status_code == 404
    assert db["agreed_scores"].count == 0


def test_lead_opens_a_cycle_in_the_browser_flow(demo, db, client, auth):
    auth.login(HEAD)
    response = auth.post(
        "/teams/1/cycles/new",
        {
            "instrument": "ascl-closing-gaps",
            "respondents": [str(u) for u in [team_people(db)[0], *team_people(db)[1]]],
            "closes_on": "2027-03-14",
            "anonymous": "anonymous",
            "title": "  Closing gaps, spring 2027 ",
        },
    )
    assert response.status_code == 302
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    cycle = service.get_cycle(db, cid)
    assert cycle["state"] == "draft" and cycle["anonymous"] == 1
    assert cycle["title"] == "Closing gaps, spring 2027"
    assert len(cycle["snapshot"].item_ids) == 11
    auth.post(f"/cycles/{cid}/state", {"to": "open"}, page=f"/cycles/{cid}")
    assert service.get_cycle(db, cid)["state"] == "open"
    auth.logout()
    auth.login(DEPUTY)
    home = client.get("/").get_data(as_text=True)
    assert "0 of 11 answered, closes 14 March" in home


def test_snapshot_survives_edits_to_the_file(demo, db, tmp_path):
    import shutil

    copy = tmp_path / "ascl.yaml"
    shutil.copy(ASCL, copy)
    cycle = make_cycle(db, path=copy)
    before = cycle["snapshot"].data
    copy.write_text(
        copy.read_text()
        .replace("version: 1.0.", "version: 1.9.")
        .replace("Strongly agree", "Agree strongly")
    )
    service._SNAPSHOTS.clear()
    after = service.get_cycle(db, cycle["id"])["snapshot"].data
    assert after == before
    assert "Strongly agree" in json.dumps(after)


def test_history_says_what_happened_in_words():
    from peerreview.audit import describe

    def entry(action, **detail):
        return {"action": action, "detail": json.dumps(detail)}

    assert describe(entry("cycle.moderation")) == (
        "closed ratings and started moderation"
    )
    assert describe(entry("cycle.reopen", to="open", reason="Two missed it")) == (
        "reopened the cycle to open for ratings: “Two missed it”"
    )
    assert describe(entry("cycle.submit")) == "submitted their ratings"
    assert describe(entry("cycle.create", respondents=[1, 2, 3])) == (
        "created the cycle with 3 respondents"
    )
    assert describe(entry("cycle.defer", item="a1")) == "deferred item a1"


def test_a_refused_agreed_score_shows_an_error_summary(demo, db, client, auth):
    cycle = make_cycle(db, state="moderation")
    item = cycle["snapshot"].item_ids[0]
    auth.login(HEAD)
    page = f"/cycles/{cycle['id']}/moderate"
    response = auth.post(
        f"/cycles/{cycle['id']}/agree/{item}",
        {"defer": "y", "rationale": ""},
        page=page,
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "There is a problem" in summary
    assert f'href="#rationale-{item}"' in summary
    assert "Say why the item is deferred." in summary
    assert service.agreed_scores(db, cycle["id"]) == {}
