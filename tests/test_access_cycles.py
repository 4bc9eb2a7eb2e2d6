"""Who may reach each cycle page. In the whole demo, cycle 9 is Northfield
Primary's open self-evaluation, cycle 2 its agreed one (team 1: the member
rates in both), cycle 10 the trust board's, in moderation."""

import pytest
from access_table import ORDER, get_statuses, post_statuses, row, sign_in_as

ONLY_MEMBER = row(302, 200, 404, 404, 404, 404)
NOBODY = row(302, 404, 404, 404, 404, 404)
GET_ROUTES = {
    "/teams/1/cycles/new": NOBODY,  # the member is not the team lead
    "/teams/2/cycles/new": row(302, 404, 200, 404, 404, 404),
    "/cycles/9": ONLY_MEMBER,
    "/cycles/9/rate": ONLY_MEMBER,
    "/cycles/9/moderate": NOBODY,  # blind until moderation
    "/cycles/2/moderate": ONLY_MEMBER,
    "/cycles/10": NOBODY,
    "/cycles/10/moderate": NOBODY,
    "/csrf-token": row(302, 200, 200, 200, 200, 200),
}
POST_ROUTES = {
    "/cycles/9/state": NOBODY,
    "/cycles/2/agree/ascl-01": NOBODY,
    "/cycles/10/rate/values": NOBODY,
    "/cycles/10/submit": NOBODY,
}
# The JSON save is proven in test_cycles.py (refusals, stale saves, CSRF).
COVERED_ELSEWHERE = {"cycles.save_answer", "cycles.save_section", "cycles.submit"}


@pytest.mark.parametrize("who", ORDER)
def test_cycle_pages(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_cycle_actions(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES)
    assert got == want
