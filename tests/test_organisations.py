"""A platform admin creates partnerships, schools and teams; bad input is refused."""

from support import ADMIN, HEAD


def test_admin_creates_partnership_school_team(demo, client, auth, db):
    auth.login(ADMIN)
    response = auth.post(
        "/admin/partnerships/new", {"name": "Bay Federation", "kind": "federation"}
    )
    assert response.status_code == 302
    pid = db.execute(
        "SELECT id FROM partnerships WHERE name='Bay Federation'"
    ).fetchone()[0]
    assert response.headers["Location"] == f"/partnerships/{pid}"

    response = auth.post(
        "/admin/schools/new",
        {
            "name": "Sandside Primary",
            "urn": "150001",
            "phase": "primary",
            "pupils": "210",
            "postcode": "la5 0aa",
        },
    )
    assert response.status_code == 302
    school = db.execute(
        "SELECT id, postcode, pupils, easting, northing FROM schools WHERE urn='150001'"
    ).fetchone()
    # The position is looked up from the postcode once, in Code-Point Open.
    assert school[1:] == ("LA5 0AA", 210, 345592, 478718)

    response = auth.post(
        f"/partnerships/{pid}/schools",
        {"school": str(school[0])},
        page=f"/partnerships/{pid}",
    )
    assert response.status_code == 302
    assert "Sandside Primary" in client.get(f"/partnerships/{pid}").get_data(
        as_text=True
    )

    response = auth.post(
        f"/schools/{school[0]}/teams", {"name": "Senior leadership team"}, page="/"
    )
    assert response.status_code == 302
    assert db.execute(
        "SELECT kind FROM teams WHERE school_id = ?", [school[0]]
    ).fetchone() == ("slt",)
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log").fetchall()]
    assert {"partnership.create", "school.create", "team.create"} <= set(actions)


def test_school_in_two_partnerships(demo, db):
    rows = db.execute(
        "SELECT school_id FROM partnership_schools GROUP BY school_id HAVING count(*) > 1"
    ).fetchall()
    assert len(rows) == 2


def test_duplicate_urn_is_refused(demo, client, auth, db):
    auth.login(ADMIN)
    before = db["schools"].count
    response = auth.post(
        "/admin/schools/new",
        {"name": "Copy", "urn": "119001", "phase": "primary", "postcode": "LA1 1AA"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "URN 119001 already exists" in html
    assert db["schools"].count == before


def test_over_long_name_and_bad_fields_are_refused(demo, client, auth, db):
    auth.login(ADMIN)
    response = auth.post(
        "/admin/schools/new",
        {"name": "x" * 121, "urn": "12", "phase": "", "postcode": "nowhere"},
    )
    html = response.get_data(as_text=True)
    for message in (
        "The school name must be 120 characters or fewer",
        "Enter a URN of six or seven digits",
        "Choose a phase",
        "Enter a full UK postcode",
    ):
        assert message in html
    assert db.execute("SELECT count(*) FROM schools WHERE urn='12'").fetchone() == (0,)
    response = auth.post("/admin/partnerships/new", {"name": "", "kind": "nonsense"})
    assert "Enter the name of the partnership" in response.get_data(as_text=True)


def test_duplicate_partnership_name(demo, client, auth):
    auth.login(ADMIN)
    response = auth.post(
        "/admin/partnerships/new", {"name": "Northfield Learning Trust", "kind": "mat"}
    )
    assert "already a partnership called" in response.get_data(as_text=True)


def test_navigation_follows_roles(demo, client, auth):
    auth.login(HEAD)
    html = client.get("/").get_data(as_text=True)
    assert "Organisations" not in html and "Accounts" not in html
    auth.logout()
    auth.login(ADMIN)
    html = client.get("/").get_data(as_text=True)
    assert "Organisations" in html and "Accounts" in html


def test_demo_shape(demo, db):
    kinds = dict(db.execute("SELECT name, kind FROM partnerships").fetchall())
    assert kinds == {
        "Northfield Learning Trust": "mat",
        "Lune Valley Cluster": "cluster",
    }
    trust_schools = db.execute(
        "SELECT count(*), count(DISTINCT phase) FROM partnership_schools ps "
        "JOIN schools s ON s.id = ps.school_id WHERE partnership_id = 1"
    ).fetchone()
    assert trust_schools[0] == 6 and trust_schools[1] >= 3
    sizes = [
        r[0]
        for r in db.execute(
            "SELECT count(*) FROM roles r JOIN teams t ON t.id = r.scope_id "
            "WHERE r.scope_type='team' AND t.kind='slt' GROUP BY t.id"
        ).fetchall()
    ]
    assert all(5 <= n <= 8 for n in sizes) and len(sizes) == 7
    assert db.execute("SELECT count(*) FROM teams WHERE kind='board'").fetchone() == (
        1,
    )
    roles = {r[0] for r in db.execute("SELECT DISTINCT role FROM roles").fetchall()}
    assert roles == {"team_lead", "team_member", "partnership_lead", "governor"}


def test_demo_load_cli_prints_signins_and_refuses_twice(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "admin@peerreview.example.org" in result.output
    assert "peerreview-demo" in result.output
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "already has data" in again.output
