"""Signing in and out, lockout, invitations, resets and open redirects."""

import datetime

import pytest
from support import ADMIN, DEPUTY, HEAD, csrf_token, user_id

from peerreview.accounts import service


def test_sign_in_and_out(demo, client, auth):
    response = auth.login(HEAD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Welcome," in page and "Senior leadership team" in page
    response = auth.logout()
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 302


def test_password_is_argon2id_at_owasp_minimum(demo, db):
    stored = db.execute("SELECT password_hash FROM users LIMIT 1").fetchone()[0]
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2


@pytest.mark.parametrize(
    "email,password",
    [("nobody@example.org", "whatever-123"), (HEAD, "wrong-password")],
)
def test_wrong_credentials_get_one_clear_message(demo, client, auth, email, password):
    response = auth.login(email, password)
    assert response.status_code == 200
    assert "The email address or password is not right" in response.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302


def test_lockout_after_ten_failures_per_account(demo, client, auth, db):
    for _ in range(10):
        auth.login(HEAD, "wrong-password")
    response = auth.login(HEAD)  # the right password, but locked
    text = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in text and "try again in" in text
    assert client.get("/").status_code == 302
    # Another account from another address is not locked.
    db.execute("UPDATE login_attempts SET ip = 'elsewhere'")
    assert auth.login(DEPUTY).status_code == 302


def test_lockout_per_address(demo, client, auth):
    for n in range(10):
        auth.login(f"guess{n}@example.org", "wrong-password")
    assert auth.login(HEAD).status_code == 429


def test_lockout_ends_after_the_window(demo, client, auth, db):
    for _ in range(10):
        auth.login(HEAD, "wrong-password")
    db.execute("UPDATE login_attempts SET at = at - 16 * 60")
    assert auth.login(HEAD).status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(demo, client, target):
    token = csrf_token(client)
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": HEAD, "password": "peerreview-demo", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_inside_the_site_is_followed(demo, client):
    token = csrf_token(client)
    response = client.post(
        "/sign-in",
        query_string={"next": "/teams/1"},
        data={"email": HEAD, "password": "peerreview-demo", "csrf_token": token},
    )
    assert response.headers["Location"] == "/teams/1"


def test_forged_csrf_token_is_refused_and_changes_nothing(demo, client, auth, db):
    auth.login(ADMIN)
    before = db["partnerships"].count
    response = client.post(
        "/admin/partnerships/new",
        data={"name": "Forged", "kind": "cluster", "csrf_token": "forged"},
    )
    assert response.status_code == 400
    assert "The form" in response.get_data(as_text=True)
    assert db["partnerships"].count == before


def test_sign_out_ends_other_sessions(demo, app):
    first, second = app.test_client(), app.test_client()
    from support import Auth

    Auth(first).login(HEAD)
    Auth(second).login(HEAD)
    assert second.get("/").status_code == 200
    Auth(first).logout()
    assert second.get("/").status_code == 302


def test_changing_password_ends_other_sessions(demo, app):
    from support import Auth

    here, there = app.test_client(), app.test_client()
    Auth(here).login(HEAD)
    Auth(there).login(HEAD)
    response = Auth(here).post(
        "/account/password",
        {
            "current": "peerreview-demo",
            "password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert there.get("/").status_code == 302


def test_disabled_account_is_signed_out_and_cannot_sign_in(demo, app, db):
    from support import Auth

    member, admin = app.test_client(), app.test_client()
    Auth(member).login(DEPUTY)
    Auth(admin).login(ADMIN)
    uid = user_id(db, DEPUTY)
    assert (
        Auth(admin).post(f"/admin/accounts/{uid}/active", page="/").status_code == 302
    )
    assert member.get("/").status_code == 302
    assert Auth(member).login(DEPUTY).status_code == 200


def _invite(auth, email="new.person@example.org"):
    auth.login(HEAD)
    response = auth.post(
        "/invite/team/1",
        {"name": "New Person", "email": email, "role": "team_member"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing has been emailed" in html
    link = html.split('value="')[-1].split('"')[0]
    assert "/invitations/" in link
    auth.logout()
    return link.split("localhost")[-1]


def test_invitation_creates_account_once(demo, client, auth, db):
    path = _invite(auth)
    page = client.get(path)
    assert page.status_code == 200 and "Accept your invitation" in page.get_data(
        as_text=True
    )
    # It says which team, school and role it is for.
    assert (
        "as <strong>team member</strong> of <strong>the Senior leadership team "
        "of Northfield Primary School</strong>"
    ) in page.get_data(as_text=True)
    data = {
        "name": "New Person",
        "password": "a-long-password",
        "confirm": "a-long-password",
    }
    response = auth.post(path, data)
    assert response.status_code == 302
    uid = user_id(db, "new.person@example.org")
    roles = service.roles_of(db, uid)
    assert [(r["role"], r["scope_id"]) for r in roles] == [("team_member", 1)]
    auth.logout()
    # Single use: the same link again is refused and changes nothing.
    again = client.get(path)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_expired_invitation_is_refused(demo, client, auth, db):
    path = _invite(auth)
    past = (
        datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    ).isoformat(timespec="seconds")
    db.execute("UPDATE invitations SET expires_at = ?", [past])
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert db.execute(
        "SELECT count(*) FROM users WHERE email='new.person@example.org'"
    ).fetchone() == (0,)


def test_unknown_invitation_token(demo, client):
    response = client.get("/invitations/not-a-real-token")
    assert response.status_code == 410
    assert "not valid" in response.get_data(as_text=True)


def test_admin_reset_link_sets_a_new_password_once(demo, client, auth, db):
    auth.login(ADMIN)
    uid = user_id(db, DEPUTY)
    response = auth.post(f"/admin/accounts/{uid}/reset", page=f"/admin/accounts/{uid}")
    link = response.get_data(as_text=True).split('value="')[-1].split('"')[0]
    path = link.split("localhost")[-1]
    auth.logout()
    data = {"password": "brand-new-password", "confirm": "brand-new-password"}
    assert auth.post(path, data).status_code == 302
    assert auth.login(DEPUTY, "brand-new-password").status_code == 302
    auth.logout()
    assert client.get(path).status_code == 410


def test_invitation_mismatched_passwords_show_errors(demo, client, auth):
    path = _invite(auth)
    response = auth.post(
        path, {"name": "N", "password": "a-long-password", "confirm": "different-one"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "The passwords do not match" in html


def test_security_headers(demo, client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_session_cookie_flags(demo, client, auth):
    response = auth.login(HEAD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_request_body_is_capped(demo, client):
    response = client.post("/sign-in", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
