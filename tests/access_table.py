"""The people of the access tables, and the check every table runs.

Each area keeps its own table in a tests/test_access*.py module: GET_ROUTES
and POST_ROUTES map a URL to the status each person gets, and
COVERED_ELSEWHERE names endpoints proven by other tests (token links, JSON).
test_access.py fails when any endpoint of the app is in no table.
"""

from support import ADMIN, CLUSTER_LEAD, DEPUTY, GOVERNOR, csrf_token

OTHER_LEAD = "headteacher@riversideinfant.example.org"
PEOPLE = {
    "anonymous": None,
    "member": DEPUTY,
    "other_team_lead": OTHER_LEAD,
    "other_partnership_lead": CLUSTER_LEAD,
    "governor": GOVERNOR,
    "admin": ADMIN,
}
ORDER = list(PEOPLE)


def row(*codes):
    """Return {person: status} from statuses in the order of PEOPLE."""
    return dict(zip(ORDER, codes, strict=True))


ADMIN_ONLY = row(302, 403, 403, 403, 403, 200)
NOBODY_BUT = {}


def sign_in_as(auth, who):
    if PEOPLE[who]:
        response = auth.login(PEOPLE[who])
        assert response.status_code == 302, f"{who} could not sign in"


def get_statuses(client, who, routes):
    got = {url: client.get(url).status_code for url in routes}
    return got, {url: codes[who] for url, codes in routes.items()}


def post_statuses(client, who, routes, data=None):
    token = csrf_token(client, "/" if PEOPLE[who] else "/sign-in")
    got = {
        url: client.post(url, data={**(data or {}), "csrf_token": token}).status_code
        for url in routes
    }
    return got, {url: codes[who] for url, codes in routes.items()}
