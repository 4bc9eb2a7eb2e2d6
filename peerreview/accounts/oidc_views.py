"""Sign in with Microsoft or Google: the OpenID Connect pages, through Authlib.

Authorization code flow with PKCE (S256); Authlib keeps the state, nonce and
code verifier in the session, refuses a callback whose state it does not
hold (a replay, or one this browser never started), and verifies the ID
token's signature against the provider's published keys (JWKS), its
issuer, audience, expiry and nonce. oidc.py then decides who it is.
"""

import logging
import threading

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user

from .. import security
from ..db import get_db
from ..security import safe_next
from . import oidc, second_factor, service
from .blueprint import bp
from .forms import EmptyForm, LoginForm

log = logging.getLogger(__name__)
_EXTENSION = "peerreview_oidc"
_REGISTRY_LOCK = threading.Lock()


def init_app(app) -> None:
    """Check the configured providers and offer their buttons.

    Authlib (with requests and joserfc) is imported only when someone signs
    in with a provider: it is slow to import, and no command needs it.
    """
    for name in app.config.get("OIDC_PROVIDERS") or {}:
        if name not in oidc.PROVIDERS:
            raise ValueError(f"Unknown sign-in provider {name!r}")
    app.add_template_global(shown_providers, "sign_in_providers")


def registry(app):
    """Return the app's Authlib client registry, made on first use."""
    with _REGISTRY_LOCK:
        if _EXTENSION not in app.extensions:
            app.extensions[_EXTENSION] = _register(app)
    return app.extensions[_EXTENSION]


def _register(app):
    """Register the configured providers with an Authlib client of this app's own."""
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    for name, conf in (app.config.get("OIDC_PROVIDERS") or {}).items():
        oauth.register(
            name,
            client_id=conf["client_id"],
            client_secret=conf["client_secret"],
            server_metadata_url=conf["issuer"].rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": "openid email profile",
                "code_challenge_method": "S256",
                # A provider that does not answer must not hold a web
                # worker: discovery, keys and the token each wait 10 s at most.
                "default_timeout": 10,
            },
        )
    return oauth


def shown_providers() -> list[tuple[str, str]]:
    """The providers configured on this app: (name, label), for the buttons."""
    providers = current_app.config.get("OIDC_PROVIDERS") or {}
    return [
        (name, label) for name, label in oidc.PROVIDERS.items() if name in providers
    ]


def _client(provider: str):
    conf = (current_app.config.get("OIDC_PROVIDERS") or {}).get(provider)
    if conf is None:
        abort(404)
    app = current_app._get_current_object()
    return registry(app).create_client(provider), conf


def _issuer(client, conf) -> str:
    """The provider's issuer from its discovery document, which must be the configured one."""
    issuer = client.load_server_metadata().get("issuer") or ""
    if issuer.rstrip("/") != conf["issuer"].rstrip("/"):
        raise ValueError(
            f"the provider says its issuer is {issuer!r}, not {conf['issuer']!r}"
        )
    return issuer


def _failed(provider, why: str, status=400):
    log.warning("sign-in with %s failed: %s", provider, why)
    return (
        render_template(
            "auth/oidc_refused.html",
            reason="failed",
            label=oidc.PROVIDERS[provider],
        ),
        status,
    )


@bp.route("/sign-in/with/<provider>", methods=["POST"])
def oidc_start(provider):
    """Send the person to their provider to sign in."""
    import requests

    client, conf = _client(provider)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    if not EmptyForm().validate_on_submit():
        abort(400)
    # The same per-address limit as passwords: an address locked out by its
    # failures (wrong passwords or codes, failed provider sign-ins) starts
    # no new sign-in with a provider either.
    waiting = security.address_wait(get_db(), _address())
    if waiting:
        form = LoginForm()
        form.form_errors.append(waiting)
        return render_template("auth/login.html", form=form), 429
    try:
        _issuer(client, conf)
        session["oidc_next"] = safe_next(request.form.get("next"))
        return client.authorize_redirect(
            url_for("auth.oidc_callback", provider=provider, _external=True)
        )
    except (requests.RequestException, ValueError) as e:
        return _failed(provider, f"discovery: {e}", status=502)


@bp.route("/sign-in/with/<provider>/callback")
def oidc_callback(provider):
    """Come back from the provider: check the ID token, find the person, sign in."""
    client, conf = _client(provider)
    db = get_db()
    # A way back that fails (a forged, replayed or stale state, a token
    # that does not check out) or names nobody here counts against the
    # address like a wrong password. One that signs someone in is never
    # refused for others' failures: the provider has checked the person.
    try:
        issuer, claims = _id_token(client, conf)
    except _NoToken as e:
        security.record_attempt(db, "", _address(), False, kind="oidc")
        return _failed(provider, str(e))
    try:
        user_id = oidc.sign_in(db, provider, issuer, claims)
    except oidc.Refused as refused:
        security.record_attempt(db, refused.email or "", _address(), False, "oidc")
        return _refused(provider, refused)
    email = db.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()
    security.record_attempt(db, email[0], _address(), True, kind="oidc")
    return _after_provider(db, user_id, provider, claims)


def _address() -> str:
    return request.remote_addr or "-"


class _NoToken(Exception):
    """The provider's answer gave no ID token this app accepts: why, for the log."""


def _id_token(client, conf) -> tuple[str, dict]:
    """The issuer and the checked claims of the ID token the provider sent back."""
    import requests
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.base_client import MismatchingStateError, OAuthError
    from joserfc.errors import JoseError

    try:
        issuer = _issuer(client, conf)
        # Authlib checks `aud` only through `azp` unless told: a token made
        # for another app that names this one as `azp` would pass. Say both.
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [issuer]},
                "aud": {"essential": True, "values": [conf["client_id"]]},
                "exp": {"essential": True},
            }
        )
    except MismatchingStateError:
        raise _NoToken("state not held by this session (replayed or stale)") from None
    except OAuthError as e:
        raise _NoToken(f"{e.error}: {e.description}") from None
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as e:
        raise _NoToken(f"{type(e).__name__}: {e}") from None
    claims = token.get("userinfo")
    if not claims:
        raise _NoToken("no ID token in the token response")
    return issuer, dict(claims)


def _refused(provider, refused):
    """The page for a person the provider vouched for but the platform refuses."""
    log.info(
        "sign-in with %s refused (%s) for %s", provider, refused.reason, refused.email
    )
    return (
        render_template(
            "auth/oidc_refused.html",
            reason=refused.reason,
            email=refused.email,
            label=oidc.PROVIDERS[provider],
        ),
        403,
    )


def _after_provider(db, user_id, provider, claims):
    """Sign in, or go on to the platform's own second step when the provider did not vouch for one."""
    account = service.load_account(db, user_id)
    nxt = session.pop("oidc_next", None)
    ip = request.remote_addr or "-"
    vouched = oidc.second_factor_vouched(claims)
    if vouched or not (account.second_factor or second_factor.required(account)):
        login_user(account)
        if vouched:
            session[second_factor.SECOND_FACTOR_AT_PROVIDER] = user_id
        else:
            session.pop(second_factor.SECOND_FACTOR_AT_PROVIDER, None)
        log.info(
            "user %s signed in with %s%s",
            user_id,
            provider,
            " (second factor at the provider)" if vouched else "",
        )
        return redirect(nxt or url_for("main.home"))
    purpose = "code" if account.second_factor else "enrol"
    session["challenge"] = second_factor.start_challenge(
        db, user_id, purpose, password_ok=True, slowed=False, ip=ip
    )
    session["next"] = nxt
    return redirect(
        url_for("auth.second_step" if purpose == "code" else "auth.set_up_at_sign_in")
    )
