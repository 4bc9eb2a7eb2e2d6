"""Who may reach the import pages. The cluster's lead leads partnership 2."""

import pytest
from access_table import ADMIN_ONLY, ORDER, get_statuses, post_statuses, row, sign_in_as

GET_ROUTES = {
    "/admin/schools/import": ADMIN_ONLY,
    "/partnerships/1/schools/import": row(302, 404, 404, 404, 404, 200),
    "/partnerships/2/schools/import": row(302, 404, 404, 200, 404, 200),
    "/schools/import/no-such-token": row(302, 404, 404, 404, 404, 404),
}
# An empty upload is refused with the form shown again.
POST_ROUTES = {
    "/admin/schools/import": ADMIN_ONLY,
    "/partnerships/1/schools/import": row(302, 404, 404, 404, 404, 200),
    "/partnerships/2/schools/import": row(302, 404, 404, 200, 404, 200),
    "/schools/import/no-such-token": row(302, 404, 404, 404, 404, 404),
}


@pytest.mark.parametrize("who", ORDER)
def test_get_routes(demo, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_post_routes(demo, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES)
    assert got == want


# People from a list: team 1 is Northfield Primary's (the member's team), team 2
# Riverside Infant's (the other team lead's).
PEOPLE_GET = {
    "/partnerships/1/people/import": row(302, 404, 404, 404, 404, 200),
    "/partnerships/2/people/import": row(302, 404, 404, 200, 404, 200),
    "/teams/1/people/import": row(302, 404, 404, 404, 404, 200),
    "/teams/2/people/import": row(302, 404, 200, 404, 404, 200),
    "/people/import/no-such-token": row(302, 404, 404, 404, 404, 404),
}
GET_ROUTES |= PEOPLE_GET
POST_ROUTES |= PEOPLE_GET
