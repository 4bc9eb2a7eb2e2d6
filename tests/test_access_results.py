"""Who may reach each results page and download. In the whole demo, cycle 2 is
Northfield Primary's agreed (anonymous) self-evaluation, where the member and
the governor belong; cycle 3 Riverside Infant's (led by the other team lead);
cycle 9 Northfield's open cycle; cycle 10 the trust board's, in moderation."""

import pytest
from access_table import ORDER, get_statuses, row, sign_in_as
from cycle_support import make_cycle
from support import CHAIR

NOBODY = row(302, 404, 404, 404, 404, 404)
NORTHFIELD = row(302, 200, 404, 404, 200, 404)
RIVERSIDE_LEAD = row(302, 404, 200, 404, 404, 404)
GET_ROUTES = {
    "/cycles/2/results": NORTHFIELD,
    "/cycles/2/results.csv": NORTHFIELD,
    "/cycles/2/results.xlsx": NORTHFIELD,
    "/cycles/2/ratings.csv": NOBODY,  # the member is not the lead
    "/cycles/2/ratings.xlsx": NOBODY,
    "/cycles/3/results": RIVERSIDE_LEAD,
    "/cycles/3/ratings.xlsx": RIVERSIDE_LEAD,
    "/cycles/9/results": NOBODY,  # open: nothing to show yet
    "/cycles/9/results.csv": NOBODY,
    "/cycles/10/results": NOBODY,
    "/cycles/999/results": NOBODY,
    "/cycles/2/results.pdf": row(404, 404, 404, 404, 404, 404),  # no such format
}
TRUST_GOVERNOR = "member@northfieldtrust.example.org"


@pytest.mark.parametrize("who", ORDER)
def test_results_pages(demo_full, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


def test_lead_sees_provisional_results_in_moderation(demo_full, client, auth):
    auth.login(CHAIR)
    page = client.get("/cycles/10/results")
    assert page.status_code == 200
    assert "Provisional results" in page.get_data(as_text=True)
    assert client.get("/cycles/10/ratings.csv").status_code == 200
    auth.logout()
    auth.login(TRUST_GOVERNOR)
    assert client.get("/cycles/10/results").status_code == 404


def test_trust_governors_see_an_agreed_board_cycle_but_no_ratings(
    demo_full, db, client, auth
):
    cycle = make_cycle(db, team_id=8, state="agreed")
    cid = cycle["id"]
    auth.login(TRUST_GOVERNOR)
    page = client.get(f"/cycles/{cid}/results")
    assert page.status_code == 200
    assert client.get(f"/cycles/{cid}/results.xlsx").status_code == 200
    assert client.get(f"/cycles/{cid}/ratings.csv").status_code == 404
    assert client.get(f"/cycles/{cid}/ratings.xlsx").status_code == 404
    assert client.get(f"/cycles/{cid}/moderate").status_code == 404
    html = page.get_data(as_text=True)
    names = [r[0] for r in db.execute("SELECT name FROM users").fetchall()]
    assert not [n for n in names if n in html.split("Signed in as", 1)[-1][200:]]


def test_school_governor_sees_no_names_in_results(demo_full, db, client, auth):
    auth.login("governor@northfieldprimary.example.org")
    names = [
        r[0]
        for r in db.execute(
            "SELECT u.name FROM users u JOIN cycle_respondents c ON c.user_id = u.id "
            "WHERE c.cycle_id = 2"
        ).fetchall()
    ]
    for url in ("/cycles/2/results", "/cycles/2/results.csv"):
        body = client.get(url).get_data().decode("utf-8-sig")
        # Action owners are named on purpose (governors hold them to account);
        # nothing before the plan, where the ratings are, names anyone.
        ratings = body.split('id="plan"', 1)[0]
        assert not [n for n in names if n in ratings]
