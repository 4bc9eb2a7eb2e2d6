"""Private pages are never cached; over HTTPS, browsers are told to keep to it."""

from support import CHAIR, HEAD, Auth


def _cycle(db, state, team_kind="slt"):
    return db.execute(
        "SELECT c.id FROM cycles c JOIN teams t ON t.id = c.team_id "
        "WHERE c.state = ? AND t.kind = ? ORDER BY c.id LIMIT 1",
        [state, team_kind],
    ).fetchone()[0]


def _private_urls(db):
    agreed = db.execute(
        "SELECT c.id FROM cycles c JOIN action_plans p ON p.cycle_id = c.id "
        "JOIN roles r ON r.scope_type = 'team' AND r.scope_id = c.team_id "
        "JOIN users u ON u.id = r.user_id AND u.email = ? "
        "WHERE c.state IN ('agreed', 'closed') ORDER BY c.id LIMIT 1",
        [HEAD],
    ).fetchone()[0]
    return {
        HEAD: [
            "/",
            f"/cycles/{agreed}/results",
            f"/cycles/{agreed}/plan",
            f"/cycles/{agreed}/reports/team.html",
            f"/cycles/{agreed}/results.csv",
            "/account/security",
        ],
        CHAIR: [f"/cycles/{_cycle(db, 'moderation', 'board')}/moderate"],
    }


def test_private_pages_are_not_stored(demo_full, app, db):
    for email, urls in _private_urls(db).items():
        client = app.test_client()
        Auth(client).login(email)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (email, url, response.status_code)
            assert "no-store" in response.headers["Cache-Control"], url
            assert "Strict-Transport-Security" not in response.headers, url


def test_sign_in_and_its_second_step_are_not_stored(demo, client):
    assert "no-store" in client.get("/sign-in").headers["Cache-Control"]


def test_static_files_may_be_cached(demo, client, auth):
    auth.login(HEAD)
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_https_requests_get_strict_transport_security(demo, client):
    response = client.get("/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_https_setting_sends_it_behind_a_proxy_that_does_not_say(demo, app):
    app.config["HTTPS"] = True
    response = app.test_client().get("/sign-in")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_forwarded_https_from_a_trusted_proxy_counts(app):
    from peerreview import create_app

    proxied = create_app({**app.config, "PROXY_COUNT": "1"})
    response = proxied.test_client().get(
        "/sign-in", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
    )
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Without a proxy to trust, the header is the client's word: ignored.
    plain = app.test_client().get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers
