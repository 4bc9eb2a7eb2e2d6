"""Sign in with the school's own Microsoft or Google account (OpenID Connect). No Flask.

The ID token has been verified before anything here runs (signature against
the provider's keys, issuer, audience, expiry, nonce: oidc_views.py, through
Authlib). This module decides who the token is: a person already linked by
the provider's subject, or, on a first sign-in, the person whose verified
email matches an account or a pending invitation. Nobody is created by
signing in alone, and nobody is linked by an email the provider has not
verified.
"""

from .. import audit
from ..db import immediate, now, write_one
from . import service

PROVIDERS = {"microsoft": "Microsoft", "google": "Google"}
# Google has one issuer; a Microsoft Entra tenant has its own
# (https://login.microsoftonline.com/<tenant id>/v2.0), so it must be set.
DEFAULT_ISSUERS = {"google": "https://accounts.google.com"}

# `amr` values (RFC 8176) that say more than a password was used: several
# factors, or a factor the platform's own second step stands for (a code, a
# key, a smart card, a biometric).
SECOND_FACTOR_AMR = frozenset(
    {
        "mfa",
        "mca",
        "otp",
        "hwk",
        "swk",
        "sc",
        "sms",
        "tel",
        "fpt",
        "face",
        "iris",
        "retina",
        "vbm",
    }
)


class Refused(Exception):
    """A verified sign-in that links to nobody; `reason` names the page to show."""

    def __init__(self, reason: str, email: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.email = email


def settings_from_env(environ) -> dict:
    """Return the configured providers: name -> issuer, client id and secret.

    A provider is configured when its client id and secret are set (and,
    for Microsoft, its tenant's issuer).
    """
    providers = {}
    for name in PROVIDERS:
        prefix = f"PEERREVIEW_OIDC_{name.upper()}_"
        issuer = environ.get(prefix + "ISSUER") or DEFAULT_ISSUERS.get(name)
        client_id = environ.get(prefix + "CLIENT_ID")
        secret = environ.get(prefix + "CLIENT_SECRET")
        if issuer and client_id and secret:
            providers[name] = {
                "issuer": issuer,
                "client_id": client_id,
                "client_secret": secret,
            }
    return providers


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def verified_email(provider: str, claims: dict) -> str | None:
    """Return the token's email if the provider says it is verified, else None.

    `email_verified` true is enough (Google sends it). Microsoft Entra ID
    does not send `email_verified`; it sends `xms_edov` ("email domain owner
    verified") when the app registration asks for it as an optional claim,
    true when the email's domain is one the tenant has verified.
    """
    email = service.normalise_email(claims.get("email") or "")
    if not email or "@" not in email:
        return None
    if _true(claims.get("email_verified")):
        return email
    if provider == "microsoft" and _true(claims.get("xms_edov")):
        return email
    return None


def second_factor_vouched(claims: dict) -> bool:
    """Whether the token's `amr` says a second factor was used at the provider."""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return any(str(value).lower() in SECOND_FACTOR_AMR for value in amr)


def find_link(db, issuer: str, subject: str) -> dict | None:
    rows = list(
        db.query(
            "SELECT * FROM sign_in_links WHERE issuer = ? AND subject = ?",
            [issuer, subject],
        )
    )
    return rows[0] if rows else None


def links_of(db, user_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM sign_in_links WHERE user_id = ? ORDER BY provider",
            [user_id],
        )
    )


def _pending_invitations(db, email: str) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM invitations WHERE purpose = 'invite' AND email = ? "
            "AND used_at IS NULL AND replaced_at IS NULL AND expires_at > ? "
            "ORDER BY id",
            [email, now()],
        )
    )


def sign_in(db, provider: str, issuer: str, claims: dict) -> int:
    """Return the person a verified ID token signs in, linking them the first time.

    Raises Refused when the account is disabled, the email is not verified,
    the account is linked to another account of this provider already, or
    the email matches no account and no pending invitation.
    """
    subject = str(claims["sub"])
    link = find_link(db, issuer, subject)
    if link:
        user = db["users"].get(link["user_id"])
        if not user["active"]:
            raise Refused("disabled", user["email"])
        write_one(
            db,
            "UPDATE sign_in_links SET last_used_at = ? WHERE id = ?",
            [now(), link["id"]],
        )
        return user["id"]
    email = verified_email(provider, claims)
    if email is None:
        raise Refused("unverified", claims.get("email"))
    with immediate(db):
        link = find_link(db, issuer, subject)
        if link:
            # Linked meanwhile, by the same person signing in in another tab.
            return link["user_id"]
        user = service.find_user(db, email)
        if user:
            if not user["active"]:
                raise Refused("disabled", email)
            other = db.execute(
                "SELECT 1 FROM sign_in_links WHERE user_id = ? AND provider = ?",
                [user["id"], provider],
            ).fetchone()
            if other:
                raise Refused("linked_elsewhere", email)
            user_id = user["id"]
            invitations = []
        else:
            invitations = _pending_invitations(db, email)
            if not invitations:
                raise Refused("no_invitation", email)
            name = (claims.get("name") or "").strip() or invitations[0]["name"]
            user_id = service.create_user(
                db, email, name, None, actor_id=invitations[0]["created_by"]
            )
            for inv in invitations:
                service.take_up_invitation(db, inv, user_id, via=provider)
        at = now()
        db["sign_in_links"].insert(
            {
                "user_id": user_id,
                "provider": provider,
                "issuer": issuer,
                "subject": subject,
                "email": email,
                "linked_at": at,
                "last_used_at": at,
            }
        )
        audit.record(
            db,
            user_id,
            "user.sign_in_link",
            "user",
            user_id,
            provider=provider,
            issuer=issuer,
            subject=subject,
            email=email,
            invitations=[inv["id"] for inv in invitations],
        )
    return user_id
