"""Signing in and out, lockout, invitations, resets and open redirects."""

import datetime
import re
import time

import pytest
from support import ADMIN, DEPUTY, HEAD, csrf_token, totp_code, user_id

from peerreview import security
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


def _attempt(client, email, password, address):
    """Post the sign-in form as if from one address."""
    token = csrf_token(client)
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def _post_code(client, code, url="/sign-in/code", address="127.0.0.1"):
    token = csrf_token(client, url)
    return client.post(
        url,
        data={"code": code, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_strangers_failures_never_keep_out_the_right_password_and_code(
    demo, client, db
):
    # Ten wrong passwords from ten addresses used to lock the admin out.
    # The first wrong passwords are refused on the form; after that, an account
    # with a second factor goes on to the code page either way (a guesser
    # cannot tell a right password from a wrong one).
    for n in range(10):
        response = _attempt(client, ADMIN, "wrong-password", f"203.0.113.{n}")
        if n < security.SLOW_AFTER:
            assert response.status_code == 200
            assert "The email address or password is not right" in response.text
        else:
            assert response.status_code == 302
            assert response.headers["Location"] == "/sign-in/code"
    response = _attempt(client, ADMIN, "peerreview-demo", "198.51.100.7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/code"
    signed_in = _post_code(client, totp_code(db, ADMIN))
    assert signed_in.headers["Location"] == "/"
    assert client.get("/admin/accounts").status_code == 200


def test_after_many_failures_a_wrong_password_is_not_told_apart(demo, client, db):
    for n in range(security.SLOW_AFTER):
        _attempt(client, ADMIN, "wrong-password", f"203.0.113.{n}")
    # A guesser now always meets the code page, so it cannot learn whether
    # the password was right; with a wrong one even the right code fails.
    response = _attempt(client, ADMIN, "still-wrong", "198.51.100.7")
    assert response.headers["Location"] == "/sign-in/code"
    refused = _post_code(client, totp_code(db, ADMIN))
    assert refused.headers["Location"] == "/sign-in"
    text = client.get("/sign-in").get_data(as_text=True)
    assert "The password or the code was not right" in text
    assert client.get("/").status_code == 302
    # The owner, with both right, is in.
    _attempt(client, ADMIN, "peerreview-demo", "198.51.100.8")
    assert _post_code(client, totp_code(db, ADMIN)).headers["Location"] == "/"


def test_without_a_second_factor_failures_bring_growing_delays(demo, client, db):
    for n in range(security.SLOW_AFTER - 1):
        _attempt(client, HEAD, "wrong-password", f"203.0.113.{n}")
    # Below the threshold nothing waits.
    assert security.account_wait(db, HEAD) == 0
    wrong = _attempt(client, HEAD, "wrong-password", "203.0.113.4")
    assert "The email address or password is not right" in wrong.get_data(as_text=True)
    # From now on every sign-in to the address meets the code page (as it
    # would for any account or none); until the wait after the last failure
    # is over, even the right password goes no further, and is not counted.
    too_soon = _attempt(client, HEAD, "peerreview-demo", "198.51.100.7")
    assert too_soon.headers["Location"] == "/sign-in/code"
    text = client.get("/sign-in/code").get_data(as_text=True)
    assert "many failed attempts to sign in to this account" in text
    assert "sign in again with your password in 1 second" in text
    assert client.get("/").status_code == 302
    assert security.account_failures(db, HEAD)[0] == security.SLOW_AFTER
    # Each wrong password is counted, and each wait is longer.
    waits = []
    for n in range(security.SLOW_AFTER, 10):
        failures = security.account_failures(db, HEAD)[0]
        waits.append(security.account_delay(failures))
        db.execute("UPDATE login_attempts SET at = at - ?", [waits[-1] + 1])
        response = _attempt(client, HEAD, "wrong-password", f"203.0.113.{n}")
        assert response.headers["Location"] == "/sign-in/code"
    assert waits == sorted(waits) and waits[-1] > waits[0]
    response = _attempt(client, HEAD, "peerreview-demo", "198.51.100.7")
    assert response.headers["Location"] == "/sign-in/code"
    text = client.get("/sign-in/code").get_data(as_text=True)
    wait = int(re.search(r"password in (\d+) seconds?", text).group(1))
    assert 2 < wait <= security.account_delay(10) == 32
    assert security.account_failures(db, HEAD)[0] == 10
    # Waiting is enough: then the right password signs in.
    db.execute("UPDATE login_attempts SET at = at - 33")
    assert (
        _attempt(client, HEAD, "peerreview-demo", "198.51.100.7").headers["Location"]
        == "/"
    )


def test_account_delays_grow_and_stop_growing():
    delays = [security.account_delay(n) for n in range(25)]
    assert delays[: security.SLOW_AFTER] == [0] * security.SLOW_AFTER
    growing = delays[security.SLOW_AFTER :]
    assert growing == sorted(growing) and growing[0] >= 1
    assert max(growing) == security.MAX_DELAY < security.LOCK_WINDOW


def test_lockout_per_address(demo, client, auth):
    for n in range(10):
        auth.login(f"guess{n}@example.org", "wrong-password")
    response = auth.login(HEAD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)


def test_wrong_codes_count_against_the_address(demo, client, db):
    for _ in range(2):
        _attempt(client, ADMIN, "peerreview-demo", "203.0.113.9")
        for _ in range(5):
            _post_code(client, "00000x", address="203.0.113.9")
    response = _attempt(client, HEAD, "peerreview-demo", "203.0.113.9")
    assert response.status_code == 429


def test_when_codes_are_being_guessed_a_recovery_code_still_works(demo, client, db):
    from peerreview.accounts import second_factor

    admin = user_id(db, ADMIN)
    recovery = second_factor.new_recovery_codes(db, admin, actor_id=admin)
    db["login_attempts"].insert_all(
        {
            "email": ADMIN,
            "ip": f"203.0.113.{n}",
            "at": time.time(),
            "success": 0,
            "kind": "code",
        }
        for n in range(security.CODE_LIMIT)
    )
    _attempt(client, ADMIN, "peerreview-demo", "198.51.100.7")
    refused = _post_code(client, totp_code(db, ADMIN))
    assert refused.status_code == 200
    assert "Use one of your recovery codes" in refused.get_data(as_text=True)
    used = _post_code(client, recovery[0], url="/sign-in/code?recovery=1")
    assert used.headers["Location"] == "/"


def test_lockout_ends_after_the_window(demo, client, auth, db):
    for _ in range(10):
        auth.login(HEAD, "wrong-password")
    assert auth.login(HEAD).status_code == 429
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


def _reset_link(auth, uid):
    response = auth.post(f"/admin/accounts/{uid}/reset", page=f"/admin/accounts/{uid}")
    link = response.get_data(as_text=True).split('value="')[-1].split('"')[0]
    return link.split("localhost")[-1]


def test_a_new_reset_link_makes_the_older_ones_invalid(demo, app, client, auth, db):
    auth.login(ADMIN)
    uid = user_id(db, DEPUTY)
    first, second = _reset_link(auth, uid), _reset_link(auth, uid)
    newest = _reset_link(auth, uid)
    assert len({first, second, newest}) == 3
    auth.logout()
    for old in (first, second):
        response = client.get(old)
        assert response.status_code == 410
        assert "A newer link has been issued" in response.get_data(as_text=True)
    # Posting to an old link changes nothing.
    other = app.test_client()
    token = csrf_token(other, newest)
    data = {"password": "old-link-password", "confirm": "old-link-password"}
    assert other.post(first, data={**data, "csrf_token": token}).status_code == 410
    assert auth.login(DEPUTY, "old-link-password").status_code == 200
    # The newest works, once.
    data = {"password": "brand-new-password", "confirm": "brand-new-password"}
    assert auth.post(newest, data).status_code == 302
    assert auth.login(DEPUTY, "brand-new-password").status_code == 302
    assert db.execute(
        "SELECT count(*) FROM invitations WHERE purpose = 'reset' AND user_id = ? "
        "AND replaced_at IS NOT NULL",
        [uid],
    ).fetchone() == (2,)


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
