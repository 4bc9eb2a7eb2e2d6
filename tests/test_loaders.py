"""peerreview/loaders.py loads what a page names (404 when there is none) and
runs its one permission check; pages get plain flags from permissions.py."""

import pytest
from flask_login import login_user
from support import ADMIN, DEPUTY, GOVERNOR, HEAD, TRUST_LEAD, user_id
from werkzeug.exceptions import NotFound

from peerreview import loaders
from peerreview import permissions as perm
from peerreview.accounts import service as accounts
from peerreview.cycles import service as cycles


def _person(db, email):
    return accounts.load_account(db, user_id(db, email))


def test_load_person_answers_404_for_no_such_account(app, demo, db):
    with app.test_request_context():
        assert loaders.load_person(db, user_id(db, HEAD))["email"] == HEAD
        with pytest.raises(NotFound):
            loaders.load_person(db, 9999)


def test_an_account_that_does_not_exist_is_still_refused_to_non_admins(
    demo, client, auth
):
    # The check comes first: a 404 would tell a stranger which ids exist.
    auth.login(DEPUTY)
    assert client.get("/admin/accounts/9999").status_code == 403
    auth.logout()
    auth.login(ADMIN)
    assert client.get("/admin/accounts/9999").status_code == 404


def test_load_action_answers_404_for_an_action_of_another_plan(app, demo_full, db):
    cycle = cycles.get_cycle(db, 2)
    with app.test_request_context():
        plan = loaders.plans.get_plan(db, cycle)
        first = plan["actions"][0]
        assert loaders.load_action(db, cycle, first["id"])["id"] == first["id"]
        with pytest.raises(NotFound):
            loaders.load_action(db, cycle, 99999)
        with pytest.raises(NotFound):  # cycle 1's plan does not hold it
            loaders.load_action(db, cycles.get_cycle(db, 1), first["id"])


def test_load_people_scope_hides_what_the_person_may_not_invite_into(app, demo, db):
    with app.test_request_context():
        login_user(_person(db, DEPUTY))
        with pytest.raises(NotFound):
            loaders.load_people_scope(db, "partnership", 1)
        with pytest.raises(NotFound):
            loaders.load_people_scope(db, "team", 1)
        login_user(_person(db, HEAD))
        assert loaders.load_people_scope(db, "team", 1)["id"] == 1
        login_user(_person(db, TRUST_LEAD))
        assert loaders.load_people_scope(db, "partnership", 1)["id"] == 1


def test_load_results_cycle_waits_for_agreement_except_for_the_lead(app, demo_full, db):
    # Cycle 9 is Northfield's open self-evaluation, cycle 1 its agreed one.
    with app.test_request_context():
        login_user(_person(db, DEPUTY))
        cycle, team = loaders.load_results_cycle(db, 1)
        assert (cycle["id"], team["id"]) == (1, 1)
        with pytest.raises(NotFound):
            loaders.load_results_cycle(db, 9)
        with pytest.raises(NotFound):
            loaders.load_results_cycle(db, 99999)


def test_the_admin_page_offers_to_reset_anothers_second_factor_not_ones_own(
    demo, db, client, auth
):
    auth.login(ADMIN)
    own = client.get(f"/admin/accounts/{user_id(db, ADMIN)}").get_data(as_text=True)
    lead = client.get(f"/admin/accounts/{user_id(db, TRUST_LEAD)}").get_data(
        as_text=True
    )
    assert "Reset two-step sign-in" not in own
    assert "Reset two-step sign-in" in lead


def test_reset_second_factor_permission(demo, db):
    admin, lead = _person(db, ADMIN), _person(db, TRUST_LEAD)
    assert perm.can_reset_second_factor(admin, {"id": lead.id})
    assert not perm.can_reset_second_factor(admin, {"id": admin.id})
    assert not perm.can_reset_second_factor(lead, {"id": admin.id})


def test_peer_review_is_in_the_navigation_of_those_who_take_part(
    demo, db, client, auth
):
    assert perm.takes_part_in_peer_review(_person(db, DEPUTY))
    assert perm.takes_part_in_peer_review(_person(db, TRUST_LEAD))
    assert not perm.takes_part_in_peer_review(_person(db, GOVERNOR))
    auth.login(GOVERNOR)
    assert 'href="/peer/"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(DEPUTY)
    assert 'href="/peer/"' in client.get("/").get_data(as_text=True)


def test_home_tags_the_teams_a_person_leads(demo, client, auth):
    auth.login(HEAD)
    assert "Team lead</strong>" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(DEPUTY)
    assert "Team lead</strong>" not in client.get("/").get_data(as_text=True)


def test_load_invite_scope_gives_the_roles_this_person_may_give(app, demo, db):
    with app.test_request_context():
        login_user(_person(db, TRUST_LEAD))
        scope, roles = loaders.load_invite_scope(db, "partnership", 1)
        assert (scope["id"], roles) == (1, ["partnership_lead", "governor"])
        login_user(_person(db, HEAD))
        assert loaders.load_invite_scope(db, "team", 1)[1] == [
            "team_lead",
            "team_member",
        ]
        with pytest.raises(NotFound):  # no such kind of organisation
            loaders.load_invite_scope(db, "board", 1)
        with pytest.raises(NotFound):  # nothing the head may give there
            loaders.load_invite_scope(db, "partnership", 1)
