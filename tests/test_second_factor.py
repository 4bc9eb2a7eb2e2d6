"""Two-step sign-in: the code after the password, setting it up, recovery codes, resets."""

import re

import pyotp
from support import (
    ADMIN,
    DEPUTY,
    HEAD,
    TOKEN,
    TRUST_LEAD,
    Auth,
    tags,
    totp_code,
    user_id,
)

from peerreview.accounts import second_factor, second_factor_key


def _token(html):
    match = TOKEN.search(html)
    return match.group(1) or match.group(2)


def _password(client, email, password="peerreview-demo"):
    page = client.get("/sign-in").get_data(as_text=True)
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": _token(page)},
    )


def _code(client, code, url="/sign-in/code"):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(
        url, data={"code": code, "csrf_token": _token(page.get_data(as_text=True))}
    )


def test_admin_needs_a_code_after_the_password(demo, client, db):
    response = _password(client, ADMIN)
    assert response.headers["Location"] == "/sign-in/code"
    # The password alone has not signed anyone in.
    assert client.get("/").status_code == 302

    page = client.get("/sign-in/code").get_data(as_text=True)
    assert tags(page, "label", for_="code")
    assert tags(
        page, "input", id="code", autocomplete="one-time-code", inputmode="numeric"
    )

    guess = "000000" if totp_code(db, ADMIN) != "000000" else "111111"
    wrong = _code(client, guess)
    text = wrong.get_data(as_text=True)
    assert f'value="{guess}"' not in text  # the field is emptied for the next
    assert wrong.status_code == 200
    assert "There is a problem" in text and 'href="#code"' in text
    assert "The code is not right" in text and "4 more times" in text

    right = _code(client, totp_code(db, ADMIN))
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert client.get("/admin/accounts").status_code == 200


def test_a_code_signs_in_once(demo, app, db):
    first, second = app.test_client(), app.test_client()
    code = totp_code(db, ADMIN)
    _password(first, ADMIN)
    assert _code(first, code).headers["Location"] == "/"
    _password(second, ADMIN)
    again = _code(second, code)
    assert again.status_code == 200
    assert "The code is not right" in again.get_data(as_text=True)


def test_the_next_page_is_kept_through_the_second_step(demo, client, db):
    page = client.get("/sign-in").get_data(as_text=True)
    client.post(
        "/sign-in?next=/admin/accounts",
        data={
            "email": ADMIN,
            "password": "peerreview-demo",
            "csrf_token": _token(page),
        },
    )
    assert _code(client, totp_code(db, ADMIN)).headers["Location"] == "/admin/accounts"


def test_guesses_are_limited_in_the_database_not_the_cookie(demo, client, db):
    _password(client, ADMIN)
    for _ in range(4):
        assert _code(client, "12345x").status_code == 200
    fifth = _code(client, "12345x")
    assert fifth.headers["Location"] == "/sign-in"
    guesses = db.execute(
        "SELECT guesses FROM sign_in_challenges WHERE user_id = ?",
        [user_id(db, ADMIN)],
    ).fetchone()[0]
    assert guesses == second_factor.GUESSES_PER_CHALLENGE
    # The same session, even with the right code now, must start again.
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"
    # Each wrong code counts against the address like a wrong password.
    rows = db.execute(
        "SELECT count(*) FROM login_attempts WHERE kind = 'code' AND success = 0"
    ).fetchone()[0]
    assert rows == 5


def test_second_step_without_a_password_goes_back_to_sign_in(demo, client):
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"
    assert client.get("/sign-in/set-up").headers["Location"] == "/sign-in"


def test_anyone_can_turn_it_on_and_use_a_recovery_code_once(demo, client, auth, db):
    auth.login(HEAD)
    security = client.get("/account/security").get_data(as_text=True)
    assert "Two-step sign-in is off" in security
    page = client.get("/account/security/set-up")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "<img" not in html  # the QR code is inline
    assert 'autocomplete="one-time-code"' in html

    bad = _code(client, "99999", url="/account/security/set-up")
    assert "The code is not right" in bad.get_data(as_text=True)
    assert not second_factor.is_enrolled(db, user_id(db, HEAD))

    done = _code(client, totp_code(db, HEAD), url="/account/security/set-up")
    codes = re.findall(r"<code>([a-z0-9-]{14})</code>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.execute(
        "SELECT code_hash FROM recovery_codes WHERE user_id = ?", [user_id(db, HEAD)]
    ).fetchall()
    assert len(stored) == 10
    assert all(h.startswith("$argon2id$") for (h,) in stored)
    assert not any(c in h for (h,) in stored for c in codes)
    audit = db.execute(
        "SELECT actor_id FROM audit_log WHERE action = 'user.second_factor.enrol' "
        "AND object_id = ?",
        [user_id(db, HEAD)],
    ).fetchall()
    assert audit == [(user_id(db, HEAD),)]

    auth.logout()
    assert _password(client, HEAD).headers["Location"] == "/sign-in/code"
    recovery = client.get("/sign-in/code?recovery=1").get_data(as_text=True)
    assert "Recovery code" in recovery
    used = _code(client, codes[3].upper(), url="/sign-in/code?recovery=1")
    assert used.headers["Location"] == "/"
    assert "9 left" in client.get("/").get_data(as_text=True)

    auth.logout()
    _password(client, HEAD)
    again = _code(client, codes[3], url="/sign-in/code?recovery=1")
    assert again.status_code == 200
    assert "has been used" in again.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_new_recovery_codes_replace_the_old(demo, client, auth, db):
    auth.login(ADMIN)
    before = db.execute("SELECT code_hash FROM recovery_codes").fetchall()
    response = auth.post("/account/security/recovery-codes", page="/account/security")
    codes = re.findall(r"<code>([a-z0-9-]{14})</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    uid = user_id(db, ADMIN)
    after = db.execute(
        "SELECT code_hash FROM recovery_codes WHERE user_id = ?", [uid]
    ).fetchall()
    assert len(after) == 10 and not set(after) & set(before)


def test_admin_reset_is_audited_and_the_lead_sets_it_up_again(demo, app, db):
    admin, lead = app.test_client(), app.test_client()
    Auth(lead).login(TRUST_LEAD)
    assert lead.get("/").status_code == 200
    Auth(admin).login(ADMIN)
    lead_id = user_id(db, TRUST_LEAD)
    page = admin.get(f"/admin/accounts/{lead_id}").get_data(as_text=True)
    assert "Reset two-step sign-in" in page
    response = Auth(admin).post(
        f"/admin/accounts/{lead_id}/second-factor/reset",
        page=f"/admin/accounts/{lead_id}",
    )
    assert response.status_code == 302
    assert not second_factor.is_enrolled(db, lead_id)
    assert db.execute(
        "SELECT count(*) FROM recovery_codes WHERE user_id = ?", [lead_id]
    ).fetchone() == (0,)
    entry = db.execute(
        "SELECT actor_id, object_type, object_id, ip FROM audit_log "
        "WHERE action = 'user.second_factor.reset'"
    ).fetchall()
    assert entry == [(user_id(db, ADMIN), "user", lead_id, "127.0.0.1")]
    # Their session has ended.
    assert lead.get("/").status_code == 302

    # Signing in again, they must set it up before anything else.
    assert _password(lead, TRUST_LEAD).headers["Location"] == "/sign-in/set-up"
    assert lead.get("/").status_code == 302
    page = lead.get("/sign-in/set-up").get_data(as_text=True)
    assert "Your role needs two-step sign-in" in page and "<svg" in page
    sealed = db.execute(
        "SELECT totp_pending FROM users WHERE id = ?", [lead_id]
    ).fetchone()[0]
    secret = second_factor_key.box().open(sealed)
    assert secret.replace(" ", "")[:4] in page.replace(" ", "")
    done = _code(lead, pyotp.TOTP(secret).now(), url="/sign-in/set-up")
    assert done.status_code == 200
    assert "Save your recovery codes" in done.get_data(as_text=True)
    assert lead.get("/").status_code == 200
    assert second_factor.is_enrolled(db, lead_id)


def test_admin_cannot_reset_without_the_admin_role(demo, client, auth, db):
    auth.login(HEAD)
    response = auth.post(
        f"/admin/accounts/{user_id(db, ADMIN)}/second-factor/reset", page="/"
    )
    assert response.status_code == 403
    assert second_factor.is_enrolled(db, user_id(db, ADMIN))


def test_a_new_lead_is_sent_to_set_it_up(demo, client, auth, db):
    from peerreview.accounts import service

    auth.login(DEPUTY)
    assert client.get("/").status_code == 200
    service.grant_role(
        db, user_id(db, DEPUTY), "partnership_lead", "partnership", 1, actor_id=1
    )
    response = client.get("/")
    assert response.headers["Location"] == "/account/security/set-up"
    assert client.get("/account/security/set-up").status_code == 200
    saves = client.post(
        "/cycles/1/answers", json={}, headers={"Accept": "application/json"}
    )
    assert saves.status_code == 400


def test_demo_load_prints_how_to_sign_in_as_the_admin(app, runner, client, db):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "flask demo code EMAIL" in out
    block = out[out.index(ADMIN, out.index("two-step")) :]
    recovery = re.search(r"recovery codes:\s+([a-z0-9-]{14})", block).group(1)
    _password(client, ADMIN)
    assert (
        _code(client, recovery, url="/sign-in/code?recovery=1").headers["Location"]
        == "/"
    )
    Auth(client).logout()

    code = runner.invoke(args=["demo", "code", ADMIN])
    assert code.exit_code == 0 and re.fullmatch(r"\d{6}", code.stdout.strip())
    _password(client, ADMIN)
    assert _code(client, code.stdout.strip()).headers["Location"] == "/"
    assert runner.invoke(args=["demo", "code", HEAD]).exit_code != 0
