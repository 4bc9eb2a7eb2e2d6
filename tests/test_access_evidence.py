"""Who may reach each evidence page. In the whole demo, cycle 9 is Northfield
Primary's open self-evaluation (the member rates in it), cycle 2 its agreed
one, cycle 10 the trust board's; cycle 27 is the November peer review of
Northfield Primary, agreed, reviewed by the other team lead. Downloads of existing files are proven in
test_evidence.py (every role, another school's file)."""

import pytest
from access_table import ORDER, get_statuses, post_statuses, row, sign_in_as

NORTHFIELD_TEAM = row(302, 200, 404, 404, 404, 404)
NOBODY = row(302, 404, 404, 404, 404, 404)
GET_ROUTES = {
    "/cycles/9/evidence": NORTHFIELD_TEAM,
    "/cycles/2/evidence": NORTHFIELD_TEAM,
    "/cycles/10/evidence": NOBODY,
    "/cycles/9/evidence/new/note": NORTHFIELD_TEAM,
    "/cycles/9/evidence/new/file": NORTHFIELD_TEAM,
    "/cycles/10/evidence/new/link": NOBODY,
    "/cycles/9/evidence/new/nonsense": NOBODY,
    "/cycles/9/evidence/999/download": NOBODY,
    "/cycles/9/evidence/reuse": NORTHFIELD_TEAM,
    "/cycles/9/evidence/999/edit": NOBODY,
    "/cycles/2/evidence/1/edit": NOBODY,  # the lead's or its adder's (the demo's)
    "/cycles/10/evidence/reuse": NOBODY,
    # The host's team and the reviewers see what the host shows them.
    "/cycles/27/evidence/peer": row(302, 200, 200, 404, 404, 404),
    "/cycles/9/evidence/peer": NOBODY,  # not a peer review
    "/cycles/27/evidence/share": NOBODY,  # the host's team lead only
    "/cycles/27/evidence": NOBODY,  # a self-evaluation's page
    # Findings: the reviewers, and the host's team once agreed.
    "/cycles/27/findings": row(302, 200, 200, 404, 404, 404),
    "/cycles/9/findings": NOBODY,  # not a peer review
}
POST_ROUTES = {
    "/cycles/9/evidence/999/remove": NOBODY,
    "/cycles/9/evidence/999/edit": NOBODY,
    "/cycles/10/evidence/new/note": NOBODY,
    "/cycles/10/evidence/reuse": NOBODY,
    "/cycles/27/evidence/peer": NOBODY,  # agreed: marks no longer change
    "/cycles/27/evidence/share": NOBODY,
    "/cycles/27/findings": NOBODY,  # agreed: findings no longer change
    "/cycles/27/excellence": NOBODY,
    "/cycles/27/excellence/high-expectations": NOBODY,
}


@pytest.mark.parametrize("who", ORDER)
def test_evidence_pages(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_evidence_actions(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES)
    assert got == want
