"""Who may reach each action plan page. In the whole demo, cycle 2 is
Northfield Primary's agreed cycle with a demo plan (its actions start at
id 4; cycle 1's plan holds 1-3); cycle 10 is the trust board's. Only the
cycle's lead edits (proven in test_plans.py); the team and the school's
governors read."""

import pytest
from access_table import ORDER, get_statuses, post_statuses, row, sign_in_as

READERS = row(302, 200, 404, 404, 200, 200)
NOBODY = row(302, 404, 404, 404, 404, 404)
GET_ROUTES = {
    "/cycles/2/plan": READERS,
    "/cycles/10/plan": row(302, 404, 404, 404, 404, 200),
    "/cycles/2/plan/actions/new": NOBODY,
    "/cycles/2/plan/actions/4": NOBODY,
}
POST_ROUTES = {
    "/cycles/2/plan": NOBODY,
    "/cycles/2/plan/actions/new": NOBODY,
    "/cycles/2/plan/actions/4": NOBODY,
    "/cycles/2/plan/actions/4/notes": NOBODY,
    "/cycles/2/plan/actions/4/drop": NOBODY,
    "/cycles/2/plan/merge": NOBODY,
}


@pytest.mark.parametrize("who", ORDER)
def test_plan_pages(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_plan_actions(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES)
    assert got == want
