"""Cycles: the CSRF token's lifetime, and saves racing a change of state."""

import json
import time

import pytest
from cycle_support import make_cycle, team_people
from support import DEPUTY, csrf_token, user_id

from peerreview.cycles import service


def _save(client, cid, token, **body):
    return client.post(
        f"/cycles/{cid}/answers",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": token,
        },
    )


def test_expired_token_is_refused_and_the_refresh_path_gives_a_working_one(
    app, demo, db, client, auth
):
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    cycle = make_cycle(db)
    item = cycle["snapshot"].item_ids[0]
    auth.login(DEPUTY)
    token = csrf_token(client, f"/cycles/{cycle['id']}/rate")
    assert _save(client, cycle["id"], token, item_id=item, value="3").status_code == 200
    time.sleep(2.1)

    refused = _save(client, cycle["id"], token, item_id=item, value="4", revision=1)
    assert refused.status_code == 400
    assert refused.is_json and refused.json["error"] == (
        "csrf: The CSRF token has expired."
    )
    row = service.my_answers(db, cycle["id"], user_id(db, DEPUTY))[item]
    assert (row["value"], row["revision"]) == ("3", 1)

    # What autosave.js does on a "csrf" error: fetch a fresh token and retry.
    fresh = client.get("/csrf-token", headers={"Accept": "application/json"})
    assert fresh.status_code == 200 and fresh.json["token"] != token
    saved = _save(
        client, cycle["id"], fresh.json["token"], item_id=item, value="4", revision=1
    )
    assert saved.status_code == 200 and saved.json["revision"] == 2


def test_refreshing_does_not_weaken_csrf(app, demo, db, client, auth):
    """The refresh path needs the session; a token is bound to its session."""
    cycle = make_cycle(db)
    item = cycle["snapshot"].item_ids[0]
    # Signed out: no token to be had.
    signed_out = client.get("/csrf-token")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/sign-in")
    auth.login(DEPUTY)
    token = client.get("/csrf-token").json["token"]
    # Another browser (another session) cannot use this session's token.
    other = app.test_client()
    from support import Auth

    Auth(other).login(DEPUTY)
    stolen = _save(other, cycle["id"], token, item_id=item, value="3")
    assert stolen.status_code == 400 and stolen.json["error"].startswith("csrf")
    # A GET cannot change anything, and a forged token is refused.
    forged = _save(client, cycle["id"], token[:-4] + "abcd", item_id=item, value="3")
    assert forged.status_code == 400 and forged.json["error"].startswith("csrf")
    assert db["responses"].count_where("cycle_id = ?", [cycle["id"]]) == 0


def test_a_save_racing_the_move_to_moderation_is_refused(demo, db):
    """The state is checked inside the write transaction, not only before it."""
    cycle = make_cycle(db)
    loaded = service.get_cycle(db, cycle["id"])  # as the save request loaded it
    lead, _ = team_people(db)
    service.transition(db, cycle, "moderation", actor_id=lead)
    assert loaded["state"] == "open"
    with pytest.raises(service.CycleError, match="no longer open"):
        service.save_answer(
            db,
            loaded,
            user_id(db, DEPUTY),
            loaded["snapshot"].item_ids[0],
            value="3",
            base_revision=0,
        )
    assert db["responses"].count_where("cycle_id = ?", [cycle["id"]]) == 0
