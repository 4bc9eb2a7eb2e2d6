"""Sign in with Microsoft or Google against a real OpenID Connect provider.

The provider is oidc-provider-mock, a real provider (Authlib's server side)
listening on a local port: discovery, JWKS, authorize and token endpoints,
RS256-signed ID tokens. The tests set each person's claims on it, then sign
in as a person would: the button, the provider's page, the way back.
"""

import shutil
import time
from urllib.parse import urlsplit

import pytest
import requests
from bench.bench_saves import free_port
from oidc_provider_mock import run_server_in_thread
from support import ADMIN, HEAD, TOKEN, csrf_token, totp_code, user_id

from peerreview import create_app
from peerreview.accounts import service
from peerreview.db import connect

# The provider (test support only) calls Authlib's server side in ways Authlib
# 1.9 deprecates; those warnings are its own. The client side is not excused.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.oidc.core.grants"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.oauth2.rfc6749"),
]

# A free port, not a fixed one: several checkouts may run this at once.
PORT = free_port()
ISSUER = f"http://localhost:{PORT}"
CLIENT_ID = "peerreview-test"


@pytest.fixture(scope="module")
def provider():
    with run_server_in_thread(port=PORT):
        yield ISSUER


@pytest.fixture
def oidc_app(tmp_path, _templates, provider):
    path = tmp_path / "test.db"
    shutil.copy(_templates["demo"], path)
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(path),
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": "localhost",
            "OIDC_PROVIDERS": {
                name: {
                    "issuer": provider,
                    "client_id": CLIENT_ID,
                    "client_secret": "not-so-secret",
                }
                for name in ("microsoft", "google")
            },
        }
    )


@pytest.fixture
def browser(oidc_app):
    return oidc_app.test_client()


@pytest.fixture
def db(oidc_app):
    database = connect(oidc_app.config["DATABASE"])
    yield database
    database.conn.close()


def set_claims(sub, **claims):
    """Say who `sub` is at the provider: the claims its ID token will carry."""
    reply = requests.put(f"{ISSUER}/users/{sub}", json=claims, timeout=5)
    assert reply.status_code == 204, reply.text


def start(browser, provider="microsoft", next_page=None):
    """Press "Sign in with …": the app sends the browser to the provider."""
    data = {"csrf_token": csrf_token(browser, "/sign-in")}
    if next_page:
        data["next"] = next_page
    reply = browser.post(f"/sign-in/with/{provider}", data=data)
    assert reply.status_code == 302
    return reply.headers["Location"]


def at_provider(authorize_url, sub):
    """Sign in at the provider as `sub`; return the URL it sends the browser back to."""
    reply = requests.post(
        authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5
    )
    assert reply.status_code == 302, reply.text
    back = urlsplit(reply.headers["Location"])
    assert back.netloc == "localhost"
    return f"{back.path}?{back.query}"


def sign_in(browser, sub, provider="microsoft", next_page=None):
    """The whole round trip; return the app's answer to the way back and its URL."""
    callback = at_provider(start(browser, provider, next_page), sub)
    return browser.get(callback), callback


def invite(db, email, role="team_member"):
    team = db.execute("SELECT id FROM teams ORDER BY id LIMIT 1").fetchone()[0]
    admin = user_id(db, ADMIN)
    return service.create_invitation(
        db, email, "Sam Okafor", role, "team", team, actor_id=admin
    )


def signed_in_as(browser):
    page = browser.get("/")
    return page.status_code == 200 and "Sign out" in page.get_data(as_text=True)


def test_the_buttons_show_only_for_configured_providers(browser, client):
    page = browser.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Microsoft" in page and "Sign in with Google" in page
    plain = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Microsoft" not in plain and "Sign in with Google" not in plain
    token = csrf_token(client, "/sign-in")
    assert (
        client.post("/sign-in/with/microsoft", data={"csrf_token": token}).status_code
        == 404
    )


def test_the_request_uses_pkce_state_and_nonce(browser, provider):
    query = urlsplit(start(browser)).query
    for part in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce="):
        assert part in query
    assert f"client_id={CLIENT_ID}" in query


def test_an_invited_person_links_on_first_sign_in_and_signs_in_again(browser, db):
    email = "sam.okafor@school.example.org"
    invite(db, email)
    set_claims("ms-sam", email=email, email_verified=True, name="Sam Okafor")
    reply, _ = sign_in(browser, "ms-sam", next_page="/account/security")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/account/security"
    assert signed_in_as(browser)

    sam = user_id(db, email)
    link = db.execute(
        "SELECT provider, issuer, subject, email FROM sign_in_links WHERE user_id = ?",
        [sam],
    ).fetchall()
    assert link == [("microsoft", ISSUER, "ms-sam", email)]
    assert db.execute("SELECT role FROM roles WHERE user_id = ?", [sam]).fetchall() == [
        ("team_member",)
    ]
    assert db.execute(
        "SELECT used_at IS NOT NULL FROM invitations WHERE email = ?", [email]
    ).fetchone() == (1,)
    assert db.execute(
        "SELECT actor_id FROM audit_log WHERE action = 'user.sign_in_link' "
        "AND object_id = ?",
        [sam],
    ).fetchall() == [(sam,)]
    assert db.execute(
        "SELECT password_hash FROM users WHERE id = ?", [sam]
    ).fetchone() == (None,)

    security = browser.get("/account/security").get_data(as_text=True)
    assert f"Microsoft account {email}, linked on" in security
    assert "You have no password" in security

    # Later: the link is by subject, so a changed email still signs in.
    browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/")})
    assert not signed_in_as(browser)
    set_claims("ms-sam", email="s.okafor@school.example.org", email_verified=True)
    reply, _ = sign_in(browser, "ms-sam")
    assert reply.status_code == 302 and reply.headers["Location"] == "/"
    assert signed_in_as(browser)
    assert db.execute("SELECT count(*) FROM sign_in_links").fetchone() == (1,)


def test_an_existing_account_links_by_its_verified_email(browser, db):
    set_claims("g-head", email=HEAD.upper(), email_verified=True)
    reply, _ = sign_in(browser, "g-head", provider="google")
    assert reply.status_code == 302
    assert signed_in_as(browser)
    assert db.execute("SELECT user_id, provider FROM sign_in_links").fetchall() == [
        (user_id(db, HEAD), "google")
    ]
    browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/")})
    set_claims("ms-admin", email=ADMIN, email_verified=True, amr=["mfa"])
    sign_in(browser, "ms-admin")
    page = browser.get(f"/admin/accounts/{user_id(db, HEAD)}").get_data(as_text=True)
    assert f"Google ({HEAD}), linked" in page


def test_an_unverified_email_is_refused(browser, db):
    invite(db, "pat@school.example.org")
    set_claims("g-pat", email="pat@school.example.org", email_verified=False)
    reply, _ = sign_in(browser, "g-pat", provider="google")
    assert reply.status_code == 403
    assert "has not verified your email address" in reply.get_data(as_text=True)
    assert not signed_in_as(browser)
    assert db.execute("SELECT count(*) FROM sign_in_links").fetchone() == (0,)
    assert service.find_user(db, "pat@school.example.org") is None
    # Entra's xms_edov counts for Microsoft only.
    set_claims("g-pat", email="pat@school.example.org", xms_edov=True)
    assert sign_in(browser, "g-pat", provider="google")[0].status_code == 403
    reply, _ = sign_in(browser, "g-pat", provider="microsoft")
    assert reply.status_code == 302 and signed_in_as(browser)


def test_an_email_that_matches_nobody_is_told_to_ask_for_an_invitation(browser, db):
    set_claims(
        "ms-stranger", email="stranger@elsewhere.example.org", email_verified=True
    )
    reply, _ = sign_in(browser, "ms-stranger")
    assert reply.status_code == 403
    page = reply.get_data(as_text=True)
    assert "Ask for an invitation first" in page
    assert "stranger@elsewhere.example.org" in page
    assert service.find_user(db, "stranger@elsewhere.example.org") is None
    assert not signed_in_as(browser)


def test_a_token_for_another_audience_is_refused(browser, db):
    invite(db, "ali@school.example.org")
    set_claims(
        "ms-ali", email="ali@school.example.org", email_verified=True, aud="another-app"
    )
    reply, _ = sign_in(browser, "ms-ali")
    assert reply.status_code == 400
    assert "did not work" in reply.get_data(as_text=True)
    assert not signed_in_as(browser)
    # Made for another app that says it was on this one's behalf (`azp`):
    # still not for this app.
    set_claims(
        "ms-ali",
        email="ali@school.example.org",
        email_verified=True,
        aud=["another-app"],
        azp=CLIENT_ID,
    )
    assert sign_in(browser, "ms-ali")[0].status_code == 400
    assert not signed_in_as(browser)
    assert service.find_user(db, "ali@school.example.org") is None


def test_an_expired_token_or_another_issuer_is_refused(browser, db):
    invite(db, "jo@school.example.org")
    set_claims(
        "ms-jo",
        email="jo@school.example.org",
        email_verified=True,
        exp=int(time.time()) - 3600,
    )
    assert sign_in(browser, "ms-jo")[0].status_code == 400
    set_claims(
        "ms-jo",
        email="jo@school.example.org",
        email_verified=True,
        iss="https://login.example.org/other",
    )
    assert sign_in(browser, "ms-jo")[0].status_code == 400
    assert not signed_in_as(browser)
    assert service.find_user(db, "jo@school.example.org") is None


def test_a_replayed_state_is_refused(browser, oidc_app, db):
    set_claims("g-head", email=HEAD, email_verified=True)
    reply, callback = sign_in(browser, "g-head", provider="google")
    assert reply.status_code == 302 and signed_in_as(browser)
    browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/")})
    # The same way back again, in this browser and in another one.
    again = browser.get(callback)
    assert again.status_code == 400 and not signed_in_as(browser)
    other = oidc_app.test_client()
    assert other.get(callback).status_code == 400 and not signed_in_as(other)


def test_a_second_factor_at_the_provider_skips_the_platforms_own(browser, db):
    # The admin has two-step sign-in: without `amr` saying a second factor
    # was used, the code is still asked for.
    set_claims("ms-admin", email=ADMIN, email_verified=True, amr=["pwd"])
    reply, _ = sign_in(browser, "ms-admin")
    assert reply.headers["Location"] == "/sign-in/code"
    assert not signed_in_as(browser)
    html = browser.get("/sign-in/code").get_data(as_text=True)
    token = TOKEN.search(html)
    code = browser.post(
        "/sign-in/code",
        data={
            "code": totp_code(db, ADMIN),
            "csrf_token": token.group(1) or token.group(2),
        },
    )
    assert code.status_code == 302 and signed_in_as(browser)
    browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/")})

    set_claims("ms-admin", email=ADMIN, email_verified=True, amr=["pwd", "mfa"])
    reply, _ = sign_in(browser, "ms-admin")
    assert reply.status_code == 302 and reply.headers["Location"] == "/"
    assert signed_in_as(browser)


def test_a_lead_without_a_second_factor_sets_one_up_unless_the_provider_vouched(
    browser, db
):
    email = "lead@trust.example.org"
    partnership = db.execute("SELECT id FROM partnerships LIMIT 1").fetchone()[0]
    service.create_invitation(
        db,
        email,
        "Lee Lead",
        "partnership_lead",
        "partnership",
        partnership,
        actor_id=user_id(db, ADMIN),
    )
    set_claims("g-lead", email=email, email_verified=True)
    reply, _ = sign_in(browser, "g-lead", provider="google")
    assert reply.headers["Location"] == "/sign-in/set-up"
    assert not signed_in_as(browser)
    set_claims("g-lead", email=email, email_verified=True, amr=["hwk"])
    reply, _ = sign_in(browser, "g-lead", provider="google")
    assert reply.headers["Location"] == "/"
    assert signed_in_as(browser)
    # Signing in again without the provider's word asks for set-up again.
    browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/")})
    set_claims("g-lead", email=email, email_verified=True, amr=["pwd"])
    reply, _ = sign_in(browser, "g-lead", provider="google")
    assert reply.headers["Location"] == "/sign-in/set-up"


def test_a_token_not_signed_by_the_providers_published_key_is_refused(
    browser, oidc_app, db
):
    invite(db, "kit@school.example.org")
    set_claims("ms-kit", email="kit@school.example.org", email_verified=True)
    authorize = start(browser)
    # The keys the app holds for the provider become another key under the
    # same key id: the provider's real signature no longer verifies.
    from joserfc.jwk import KeySet, RSAKey

    published = requests.get(f"{ISSUER}/jwks", timeout=5).json()["keys"][0]
    impostor = RSAKey.generate_key(2048, parameters={"kid": published.get("kid")})
    with oidc_app.app_context():
        client = oidc_app.extensions["peerreview_oidc"].create_client("microsoft")
        client.server_metadata["jwks"] = KeySet([impostor]).as_dict(private=False)
    reply = browser.get(at_provider(authorize, "ms-kit"))
    assert reply.status_code == 400
    assert not signed_in_as(browser)
    assert service.find_user(db, "kit@school.example.org") is None


def test_a_provider_is_configured_only_when_its_settings_are_complete():
    from peerreview.accounts.oidc import settings_from_env

    env = {
        "PEERREVIEW_OIDC_GOOGLE_CLIENT_ID": "g-id",
        "PEERREVIEW_OIDC_GOOGLE_CLIENT_SECRET": "g-secret",
        # Microsoft has no default issuer: each tenant has its own.
        "PEERREVIEW_OIDC_MICROSOFT_CLIENT_ID": "m-id",
        "PEERREVIEW_OIDC_MICROSOFT_CLIENT_SECRET": "m-secret",
    }
    assert settings_from_env(env) == {
        "google": {
            "issuer": "https://accounts.google.com",
            "client_id": "g-id",
            "client_secret": "g-secret",
        }
    }
    tenant = "https://login.microsoftonline.com/0b1c2d3e/v2.0"
    env["PEERREVIEW_OIDC_MICROSOFT_ISSUER"] = tenant
    assert settings_from_env(env)["microsoft"]["issuer"] == tenant


def test_a_provider_that_does_not_answer_gets_a_page_not_an_error(tmp_path, _templates):
    path = tmp_path / "down.db"
    shutil.copy(_templates["blank"], path)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(path),
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": "localhost",
            # Nothing listens on this port: it was free a moment ago.
            "OIDC_PROVIDERS": {
                "google": {
                    "issuer": f"http://localhost:{free_port()}",
                    "client_id": CLIENT_ID,
                    "client_secret": "s",
                }
            },
        }
    )
    browser = app.test_client()
    reply = browser.post(
        "/sign-in/with/google", data={"csrf_token": csrf_token(browser, "/sign-in")}
    )
    assert reply.status_code == 502
    assert "Signing in with Google did not work" in reply.get_data(as_text=True)


def _from(client, address):
    """Make every request of this client come from one address."""
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _password(client, email, password):
    token = csrf_token(client)
    return client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


def test_failed_provider_sign_ins_count_against_the_address(browser, oidc_app, db):
    from peerreview import security

    attacker = _from(browser, "203.0.113.20")
    # Ways back with a state this browser never had (forged, or replayed).
    for n in range(4):
        forged = attacker.get(f"/sign-in/with/microsoft/callback?state=f{n}&code=x")
        assert forged.status_code == 400
    # A real provider account that is nobody here.
    set_claims("ms-nobody", email="nobody@elsewhere.example.org", email_verified=True)
    for _ in range(3):
        assert sign_in(attacker, "ms-nobody")[0].status_code == 403
    counted = db.execute(
        "SELECT count(*) FROM login_attempts WHERE kind = 'oidc' AND success = 0 "
        "AND ip = '203.0.113.20'"
    ).fetchone()[0]
    assert counted == 7
    # With wrong passwords they make up the one limit per address.
    for n in range(security.LOCK_THRESHOLD - 7):
        assert _password(attacker, f"guess{n}@example.org", "wrong").status_code == 200
    locked = _password(attacker, HEAD, "peerreview-demo")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)
    # Nor does that address start a new sign-in with a provider.
    button = attacker.post(
        "/sign-in/with/google", data={"csrf_token": csrf_token(attacker)}
    )
    assert button.status_code == 429 and "Location" not in button.headers
    assert "Too many failed sign-in attempts" in button.get_data(as_text=True)
    assert not signed_in_as(attacker)
    # Another address is not held back.
    set_claims("g-head", email=HEAD, email_verified=True)
    other = _from(oidc_app.test_client(), "198.51.100.30")
    reply, _ = sign_in(other, "g-head", provider="google")
    assert reply.status_code == 302 and signed_in_as(other)


def test_a_stranger_cannot_keep_someone_from_signing_in_with_their_provider(
    browser, oidc_app, db
):
    from peerreview import security

    # A stranger fails, from many addresses, with the head's password, and
    # locks their own address out with failed provider sign-ins.
    stranger = oidc_app.test_client()
    for n in range(12):
        _password(_from(stranger, f"203.0.113.{100 + n}"), HEAD, "wrong-password")
    assert security.account_wait(db, HEAD) > 0
    _from(stranger, "203.0.113.99")
    for n in range(security.LOCK_THRESHOLD):
        stranger.get(f"/sign-in/with/google/callback?state=s{n}&code=x")
    assert security.address_lock_remaining(db, "203.0.113.99")
    # The head, at their own school, signs in with Google at once.
    set_claims("g-head", email=HEAD, email_verified=True)
    head = _from(browser, "198.51.100.40")
    reply, _ = sign_in(head, "g-head", provider="google")
    assert reply.status_code == 302 and signed_in_as(head)
    assert db.execute(
        "SELECT count(*) FROM login_attempts WHERE kind = 'oidc' AND success = 1 "
        "AND email = ?",
        [HEAD],
    ).fetchone() == (1,)
    # A sign-in started before an address is locked out still ends well: the
    # provider has checked the person.
    late = _from(oidc_app.test_client(), "203.0.113.200")
    authorize = start(late, "google")
    for n in range(security.LOCK_THRESHOLD):
        late.get(f"/sign-in/with/google/callback?state=x{n}&code=x")
    assert security.address_lock_remaining(db, "203.0.113.200")
    assert late.get(at_provider(authorize, "g-head")).status_code == 302
    assert signed_in_as(late)
