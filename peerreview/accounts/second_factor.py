"""Two-step sign-in: time-based one-time codes (TOTP) and recovery codes. No Flask.

A person who has set it up signs in with their password, then a six-digit
code from an authenticator app, or one of ten single-use recovery codes.
Platform admins and partnership leads must set it up; everyone may.
"""

import datetime
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

import pyotp

from .. import audit
from ..db import immediate, now
from ..security import (
    CODE_LIMIT,
    address_lock_remaining,
    check_password,
    code_failures,
    hash_password,
    record_attempt,
)
from . import second_factor_key

ISSUER = "peerreview"
RECOVERY_CODES = 10
# A code from the step before or after the current one is accepted too, for
# a phone clock a little out.
VALID_WINDOW = 1
CHALLENGE_SECONDS = 10 * 60
# Wrong codes one password sign-in may try before it must start again.
GUESSES_PER_CHALLENGE = 5
# Recovery codes: 12 letters and digits of an alphabet without look-alikes
# (about 60 bits), shown as three groups of four.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


log = logging.getLogger(__name__)

# Set in the session, to the person's id, when they signed in through a
# provider that vouched for a second factor; cleared by any other sign-in.
SECOND_FACTOR_AT_PROVIDER = "second_factor_at_provider"


class SecondFactorError(ValueError):
    """A second-factor request that cannot be carried out."""


def _box(box):
    """The box that seals secrets: the one given (tests), else the configured one."""
    return box or second_factor_key.box()


def required(account) -> bool:
    """Whether a person must use a second factor: platform admins and partnership leads."""
    return bool(account.is_admin) or any(
        r.role == "partnership_lead" for r in account.roles
    )


def is_enrolled(db, user_id: int) -> bool:
    row = db.execute("SELECT totp_secret FROM users WHERE id = ?", [user_id]).fetchone()
    return bool(row and row[0])


def status(db, user_id: int) -> dict:
    """Return whether a person has set up a second factor, when, and codes left."""
    row = db.execute(
        "SELECT totp_secret, totp_enrolled_at FROM users WHERE id = ?", [user_id]
    ).fetchone()
    left = db.execute(
        "SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
        [user_id],
    ).fetchone()[0]
    return {
        "enrolled": bool(row and row[0]),
        "enrolled_at": row[1] if row else None,
        "recovery_left": left,
    }


def pending_secret(db, user_id: int, box=None) -> str:
    """Return the secret being set up for a person, making one if there is none.

    It is stored sealed, as the confirmed secret is.
    """
    box = _box(box)
    row = db.execute(
        "SELECT totp_pending FROM users WHERE id = ?", [user_id]
    ).fetchone()
    if row and row[0]:
        return box.open(row[0])
    secret = pyotp.random_base32()
    with immediate(db):
        db.execute(
            "UPDATE users SET totp_pending = ? WHERE id = ? AND totp_pending IS NULL",
            [box.seal(secret), user_id],
        )
    # Two tabs may race: whichever secret was stored first is the one.
    return box.open(
        db.execute("SELECT totp_pending FROM users WHERE id = ?", [user_id]).fetchone()[
            0
        ]
    )


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Return the QR code of an address as inline SVG markup (nothing fetched)."""
    import segno  # only the set-up page draws a code: kept out of start-up

    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#0b0c0c", light="#ffffff", omitsize=False, svgclass="app-qr"
    )
    # Named as one image; the key printed beside it is its text alternative.
    return svg.replace(
        "<svg ",
        '<svg role="img" aria-label="QR code to scan with an authenticator app" ',
        1,
    )


def group(secret: str) -> str:
    """Return a secret in groups of four, easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def looks_like_totp(code: str) -> bool:
    text = _clean(code)
    return len(text) == 6 and text.isdigit()


def _matching_step(secret: str, code: str, after: int | None, at: float) -> int | None:
    """Return the time step a code belongs to (one not used yet), or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(_datetime(at))
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _datetime(at: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(at, datetime.UTC)


def enrol(
    db, user_id: int, code: str, *, actor_id, at=None, box=None
) -> list[str] | None:
    """Confirm the pending secret with a code from the app; return new recovery codes.

    Returns None when the code does not match.
    """
    at = time.time() if at is None else at
    row = db.execute(
        "SELECT totp_pending FROM users WHERE id = ?", [user_id]
    ).fetchone()
    if not row or not row[0]:
        raise SecondFactorError("Start setting up two-step sign-in again.")
    step = _matching_step(_box(box).open(row[0]), _clean(code), None, at)
    if step is None:
        return None
    codes = _new_codes()
    hashes = [hash_password(c) for c in codes]
    with immediate(db):
        db.execute(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, "
            "totp_enrolled_at = ?, totp_last_step = ? WHERE id = ?",
            [now(), step, user_id],
        )
        _store_codes(db, user_id, hashes)
        audit.record(db, actor_id, "user.second_factor.enrol", "user", user_id)
    return codes


def enrol_with_secret(
    db, user_id: int, secret: str, *, actor_id, box=None
) -> list[str]:
    """Set a person's second factor to a known secret (the demo); return recovery codes."""
    sealed = _box(box).seal(secret)
    codes = _new_codes()
    hashes = [hash_password(c) for c in codes]
    with immediate(db):
        db.execute(
            "UPDATE users SET totp_secret = ?, totp_pending = NULL, "
            "totp_enrolled_at = ?, totp_last_step = NULL WHERE id = ?",
            [sealed, now(), user_id],
        )
        _store_codes(db, user_id, hashes)
        audit.record(db, actor_id, "user.second_factor.enrol", "user", user_id)
    return codes


def _new_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def _store_codes(db, user_id: int, hashes: list[str]) -> None:
    db.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user_id])
    created = now()
    for code_hash in hashes:
        db["recovery_codes"].insert(
            {"user_id": user_id, "code_hash": code_hash, "created_at": created}
        )


def new_recovery_codes(db, user_id: int, *, actor_id) -> list[str]:
    """Replace a person's recovery codes with ten new ones; return them."""
    if not is_enrolled(db, user_id):
        raise SecondFactorError("Set up two-step sign-in first.")
    codes = _new_codes()
    hashes = [hash_password(c) for c in codes]
    with immediate(db):
        _store_codes(db, user_id, hashes)
        audit.record(db, actor_id, "user.second_factor.recovery_codes", "user", user_id)
    return codes


def verify(db, user_id: int, code: str, at=None, box=None) -> str | None:
    """Check a second-step code and use it up; return "totp", "recovery" or None.

    A one-time code is accepted once: a later code must belong to a later
    time step. A recovery code is marked used.
    """
    at = time.time() if at is None else at
    text = _clean(code)
    if not text or len(text) > 40:
        return None
    row = db.execute(
        "SELECT totp_secret, totp_last_step FROM users WHERE id = ?", [user_id]
    ).fetchone()
    if not row or not row[0]:
        return None
    if looks_like_totp(text):
        step = _matching_step(_box(box).open(row[0]), text, row[1], at)
        if step is None:
            return None
        with immediate(db):
            cur = db.execute(
                "UPDATE users SET totp_last_step = ? WHERE id = ? "
                "AND (totp_last_step IS NULL OR totp_last_step < ?)",
                [step, user_id, step],
            )
        return "totp" if cur.rowcount == 1 else None
    wanted = f"{text[:4]}-{text[4:8]}-{text[8:]}"
    for code_id, code_hash in db.execute(
        "SELECT id, code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
        [user_id],
    ).fetchall():
        if check_password(code_hash, wanted):
            with immediate(db):
                cur = db.execute(
                    "UPDATE recovery_codes SET used_at = ? WHERE id = ? "
                    "AND used_at IS NULL",
                    [now(), code_id],
                )
                if cur.rowcount == 1:
                    audit.record(
                        db, user_id, "user.second_factor.recovery_used", "user", user_id
                    )
            return "recovery" if cur.rowcount == 1 else None
    return None


def reset(db, user_id: int, *, actor_id) -> None:
    """Remove a person's second factor and recovery codes, and end their sessions.

    They set it up again at their next sign-in (if it is required of them) or
    on their account's security page.
    """
    with immediate(db):
        db.execute(
            "UPDATE users SET totp_secret = NULL, totp_enrolled_at = NULL, "
            "totp_last_step = NULL, totp_pending = NULL, "
            "session_version = session_version + 1 WHERE id = ?",
            [user_id],
        )
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user_id])
        db.execute(
            "UPDATE sign_in_challenges SET done_at = ? WHERE user_id = ? "
            "AND done_at IS NULL",
            [time.time(), user_id],
        )
        audit.record(db, actor_id, "user.second_factor.reset", "user", user_id)


def current_code(db, user_id: int, at=None, box=None) -> str | None:
    """Return the code an authenticator app would show now (the demo's `flask demo code`)."""
    secret = secret_of(db, user_id, box)
    if secret is None:
        return None
    return pyotp.TOTP(secret).at(_datetime(time.time() if at is None else at))


def secret_of(db, user_id: int, box=None) -> str | None:
    """Return a person's confirmed secret, opened (the demo prints it), or None."""
    row = db.execute("SELECT totp_secret FROM users WHERE id = ?", [user_id]).fetchone()
    if not row or not row[0]:
        return None
    return _box(box).open(row[0])


# Challenges: a sign-in between its password and its second step.


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_challenge(
    db,
    user_id: int | None,
    purpose: str,
    *,
    password_ok: bool,
    slowed: bool,
    ip: str,
    email: str | None = None,
) -> str:
    """Record a sign-in waiting for its second step; return its secret token.

    One with no account (user_id None, password_ok False) is the code page
    after many wrong passwords for an email address: no code opens it.
    """
    token = secrets.token_urlsafe(32)
    with immediate(db):
        # Old finished or expired challenges are of no further use.
        db.execute(
            "DELETE FROM sign_in_challenges WHERE created_at < ?",
            [time.time() - 24 * 3600],
        )
        db["sign_in_challenges"].insert(
            {
                "token_hash": _token_hash(token),
                "user_id": user_id,
                "email": email,
                "password_ok": int(password_ok),
                "slowed": int(slowed),
                "purpose": purpose,
                "guesses": 0,
                "ip": ip,
                "created_at": time.time(),
            }
        )
    return token


def find_challenge(db, token: str | None, purpose: str) -> dict | None:
    """Return a live challenge for a token (not finished, expired or used up), or None."""
    if not token:
        return None
    rows = list(
        db.query(
            "SELECT * FROM sign_in_challenges WHERE token_hash = ? AND purpose = ? "
            "AND done_at IS NULL AND created_at > ? AND guesses < ?",
            [
                _token_hash(token),
                purpose,
                time.time() - CHALLENGE_SECONDS,
                GUESSES_PER_CHALLENGE,
            ],
        )
    )
    return rows[0] if rows else None


def wrong_guess(db, challenge_id: int, *, last: bool = False) -> int:
    """Count a wrong code against a challenge; return the guesses it has left."""
    with immediate(db):
        db.execute(
            "UPDATE sign_in_challenges SET guesses = "
            "CASE WHEN ? THEN ? ELSE guesses + 1 END WHERE id = ?",
            [int(last), GUESSES_PER_CHALLENGE, challenge_id],
        )
        used = db.execute(
            "SELECT guesses FROM sign_in_challenges WHERE id = ?", [challenge_id]
        ).fetchone()[0]
    return max(0, GUESSES_PER_CHALLENGE - used)


def finish_challenge(db, challenge_id: int) -> bool:
    """Mark a challenge done; False when it was done already (a double submit)."""
    with immediate(db):
        cur = db.execute(
            "UPDATE sign_in_challenges SET done_at = ? WHERE id = ? AND done_at IS NULL",
            [time.time(), challenge_id],
        )
    return cur.rowcount == 1


@dataclass
class CodeCheck:
    """What a code entered at the second step of signing in comes to."""

    # "totp" or "recovery": the code was right and the sign-in is complete.
    used: str | None = None
    # Sign-in must start again, for this reason.
    start_again: str | None = None
    # The code was wrong and another may be tried: what to say under it.
    wrong: str | None = None


def check_code(
    db, challenge: dict, code: str, ip: str, *, recovery: bool, box=None
) -> CodeCheck:
    """Check the code for a sign-in's challenge, and record the try.

    A challenge without a right password (the code page after many wrong
    passwords) takes the same steps, and is opened by no code.
    """
    user = db["users"].get(challenge["user_id"]) if challenge["user_id"] else None
    email = challenge.get("email") or user["email"]
    if address_lock_remaining(db, ip):
        return CodeCheck(
            start_again="Too many failed sign-in attempts. For your security, "
            "sign-in is locked for a while: try again later."
        )
    # Someone holding the password is guessing codes: only the recovery
    # codes (too many to guess) still open the account, for a while.
    capped = looks_like_totp(code) and code_failures(db, email) >= CODE_LIMIT
    used = None
    if challenge["password_ok"] and user and not capped:
        used = verify(db, user["id"], code, box=box)
    if used and finish_challenge(db, challenge["id"]):
        record_attempt(db, email, ip, True, kind="code")
        return CodeCheck(used=used)
    record_attempt(db, email, ip, False, kind="code")
    log.info("wrong second-step code for %s from %s", email, ip)
    left = wrong_guess(db, challenge["id"], last=challenge["slowed"])
    if challenge["slowed"]:
        return CodeCheck(
            start_again="The password or the code was not right. "
            "Sign in again with both."
        )
    if not left:
        return CodeCheck(start_again="Too many wrong codes. Sign in again.")
    if capped:
        return CodeCheck(
            wrong="Too many wrong codes have been tried for this account lately. "
            "Use one of your recovery codes, or try again in 15 minutes."
        )
    return CodeCheck(
        wrong=(
            "That recovery code is not right or has been used."
            if recovery
            else "The code is not right. Enter the code the app shows now."
        )
        + f" You can try {left} more time{'s' if left != 1 else ''}."
    )
