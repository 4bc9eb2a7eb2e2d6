"""Who may reach each peer-review and partnership-comparison page.

In the whole demo, partnership 1 is the trust (not the cluster lead's) and
peer round 1 its first round; cycle 21 is that round's peer review of
Northfield Primary (the member's school), reviewed by the heads of Riverside
Infant (the other team lead) and Bay View. test_demo_ids_hold checks this.
"""

import pytest
from access_table import ORDER, OTHER_LEAD, get_statuses, post_statuses, row, sign_in_as

NOBODY = row(302, 404, 404, 404, 404, 404)
CLUSTER_ONLY = row(302, 404, 404, 200, 404, 404)
GET_ROUTES = {
    "/peer/": row(302, 200, 200, 200, 200, 200),
    "/partnerships/1/peer-rounds/new": NOBODY,
    "/partnerships/2/peer-rounds/new": CLUSTER_ONLY,
    "/peer-rounds/1": NOBODY,
    "/peer-rounds/999": NOBODY,
    "/peer-rounds/1/change": NOBODY,
    "/peer-rounds/999/change": NOBODY,
    "/peer-rounds/1/reviews/21/reviewers": NOBODY,
    # host team member and reviewer: yes; governor, other lead, admin: no
    "/cycles/21/self-vs-peer": row(302, 200, 200, 404, 404, 404),
    "/cycles/2/self-vs-peer": NOBODY,  # a self-evaluation has no such page
    "/partnerships/1/comparison": NOBODY,
    "/partnerships/1/comparison.csv": NOBODY,
    "/partnerships/1/comparison.xlsx": NOBODY,
    "/partnerships/2/comparison": CLUSTER_ONLY,
    "/partnerships/2/comparison.csv": CLUSTER_ONLY,
    "/partnerships/2/comparison.xlsx": CLUSTER_ONLY,
}
POST_ROUTES = {
    "/partnerships/1/peer-rounds/new": NOBODY,
    # an empty plan is refused with the error summary
    "/partnerships/2/peer-rounds/new": row(302, 404, 404, 400, 404, 404),
    "/peer-rounds/1/change": NOBODY,
    "/peer-rounds/1/reviews/21/reviewers": NOBODY,
}


def test_demo_ids_hold(demo_full):
    db = demo_full
    row_ = db.execute(
        "SELECT s.urn, pr.round_id FROM peer_reviews pr JOIN schools s "
        "ON s.id = pr.school_id WHERE pr.cycle_id = 21"
    ).fetchone()
    assert tuple(row_) == ("119001", 1)
    reviewers = {
        r[0]
        for r in db.execute(
            "SELECT u.email FROM cycle_respondents cr JOIN users u ON u.id = cr.user_id "
            "WHERE cr.cycle_id = 21"
        )
    }
    assert OTHER_LEAD in reviewers


@pytest.mark.parametrize("who", ORDER)
def test_peer_pages(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_peer_actions(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES)
    assert got == want
