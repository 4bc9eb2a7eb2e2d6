"""Who may reach each report page: the same people who read the action plan
(cycle 2: Northfield Primary's team and governors, and the admin). The
partnership report is its leads' alone, like the comparison: partnership 1
(the trust) is nobody's here; partnership 2 is the cluster lead's, with no
agreed round yet, so its report pages send the lead back to the choice."""

import pytest
from access_table import ORDER, get_statuses, post_statuses, row, sign_in_as

READERS = row(302, 200, 404, 404, 200, 200)
# Not rendered yet: the download sends a reader to the status page.
REDIRECTED = row(302, 302, 404, 404, 302, 302)
NOBODY = row(302, 404, 404, 404, 404, 404)
CLUSTER_REDIRECTED = row(302, 404, 404, 302, 404, 404)
GET_ROUTES = {
    "/cycles/2/reports": READERS,
    "/cycles/2/reports/team.html": READERS,
    "/cycles/2/reports/governors.html": READERS,
    "/cycles/2/reports/governors/status": READERS,
    "/cycles/2/reports/governors.pdf": REDIRECTED,
    # Before agreement a report would show figures drawn from blind ratings:
    # nobody, not even the admin, sees one (10 is in moderation, 9 is open).
    "/cycles/10/reports/team.html": row(302, 404, 404, 404, 404, 404),
    "/cycles/9/reports/team.html": row(302, 404, 404, 404, 404, 404),
    "/cycles/9/reports/governors.html": row(302, 404, 404, 404, 404, 404),
    "/partnerships/1/reports": NOBODY,
    "/partnerships/1/reports/partnership.html": NOBODY,
    "/partnerships/1/reports/partnership/status": NOBODY,
    "/partnerships/1/reports/partnership.pdf": NOBODY,
    "/partnerships/2/reports": row(302, 404, 404, 200, 404, 404),
    "/partnerships/2/reports/partnership.html": CLUSTER_REDIRECTED,
    "/partnerships/2/reports/partnership/status": CLUSTER_REDIRECTED,
    "/partnerships/2/reports/partnership.pdf": CLUSTER_REDIRECTED,
}
POST_ROUTES = {
    "/cycles/2/reports/governors.pdf": REDIRECTED,
    "/partnerships/1/reports/partnership.pdf": NOBODY,
    "/partnerships/2/reports/partnership.pdf": CLUSTER_REDIRECTED,
}


@pytest.mark.parametrize("who", ORDER)
def test_report_pages(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_report_actions(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES)
    assert got == want
