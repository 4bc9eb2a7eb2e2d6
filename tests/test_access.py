"""Every route, visited as each kind of person, gives the status it should."""

import importlib
import pathlib

import pytest
from access_table import (
    ADMIN_ONLY,
    ORDER,
    get_statuses,
    post_statuses,
    row,
    sign_in_as,
)

# In the demo: partnership 1 is the trust (not the cluster lead's), school 1
# and team 1 are Northfield Primary's, where the member and governor belong.
GET_ROUTES = {
    "/": row(302, 200, 200, 200, 200, 200),
    "/sign-in": row(200, 302, 302, 302, 302, 302),
    "/account/password": row(302, 200, 200, 200, 200, 200),
    "/account/reminders": row(302, 200, 200, 200, 200, 200),
    "/account/security": row(302, 200, 200, 200, 200, 200),
    # Those who have two-step sign-in already are sent back to the page above.
    "/account/security/set-up": row(302, 200, 200, 302, 200, 302),
    # Without a password just checked, the second step sends back to sign in.
    "/sign-in/code": row(302, 302, 302, 302, 302, 302),
    "/sign-in/set-up": row(302, 302, 302, 302, 302, 302),
    "/admin/": ADMIN_ONLY,
    "/admin/partnerships/new": ADMIN_ONLY,
    "/admin/schools/new": ADMIN_ONLY,
    "/admin/accounts": ADMIN_ONLY,
    "/admin/accounts/2": ADMIN_ONLY,
    "/partnerships/1": row(302, 404, 404, 404, 404, 200),
    "/partnerships/2": row(302, 404, 404, 200, 404, 200),
    "/schools/1": row(302, 200, 404, 404, 200, 200),
    "/schools/3": row(302, 404, 404, 200, 404, 200),
    "/teams/1": row(302, 200, 404, 404, 200, 200),
    "/teams/8": row(302, 404, 404, 404, 404, 200),
    "/invite/team/1": row(302, 404, 404, 404, 404, 200),
    "/invite/team/2": row(302, 404, 200, 404, 404, 200),
    "/invite/partnership/2": row(302, 404, 404, 200, 404, 200),
    "/invite/school/1": row(302, 404, 404, 404, 404, 200),
    "/invite/school/2": row(302, 404, 200, 404, 404, 200),
    "/no-such-page": row(404, 404, 404, 404, 404, 404),
    # Sign in with Microsoft or Google: no such page where it is not
    # configured (tests/test_oidc.py signs in where it is).
    "/sign-in/with/microsoft/callback": row(404, 404, 404, 404, 404, 404),
}
POST_ROUTES = {
    "/partnerships/1/schools": ADMIN_ONLY,
    "/partnerships/1/boards": ADMIN_ONLY,
    "/schools/1/teams": ADMIN_ONLY,
    "/admin/accounts/2/reset": ADMIN_ONLY,
    "/admin/accounts/2/active": ADMIN_ONLY,
    "/admin/accounts/2/second-factor/reset": ADMIN_ONLY,
    # New recovery codes are shown (200) to those with two-step sign-in.
    "/account/security/recovery-codes": row(302, 302, 302, 200, 302, 200),
    "/sign-in/with/google": row(404, 404, 404, 404, 404, 404),
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
    # An admin's empty form is refused with a message and a redirect back;
    # issuing a reset link needs no fields and shows the link.
    if who == "admin":
        want = {url: 302 for url in want} | {
            "/admin/accounts/2/reset": 200,
            "/account/security/recovery-codes": 200,
            "/sign-in/with/google": 404,
        }
    assert got == want


# Endpoints whose access is proven by their own tests (token links, sign-out).
COVERED_ELSEWHERE = {"auth.logout", "auth.accept", "auth.reset", "static"}


def _tables():
    here = pathlib.Path(__file__).parent
    for path in sorted(here.glob("test_access*.py")):
        yield importlib.import_module(path.stem)


def test_every_route_is_in_the_table(app):
    """Fail when a route is added without an entry in any access table."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for table in _tables():
        covered |= getattr(table, "COVERED_ELSEWHERE", set())
        for urls, method in (
            (getattr(table, "GET_ROUTES", {}), "GET"),
            (getattr(table, "POST_ROUTES", {}), "POST"),
        ):
            for url in urls:
                try:
                    covered.add(adapter.match(url, method)[0])
                except Exception:  # the deliberate 404 row
                    pass
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - covered == set()
