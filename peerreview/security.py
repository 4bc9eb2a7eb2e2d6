"""Password hashing, sign-in throttling and response security headers."""

import logging
import time
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, request

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

LOCK_WINDOW = 15 * 60
# Failures (wrong passwords and wrong codes) from one address in the window
# lock that address out.
LOCK_THRESHOLD = 10
# Wrong passwords for one account, from anywhere, before its sign-ins slow
# down: each further one doubles the wait after the last, up to MAX_DELAY.
# Accounts are never locked: a stranger could keep their owner out.
SLOW_AFTER = 5
MAX_DELAY = 5 * 60
# Wrong one-time codes for one account in the window before only a recovery
# code is accepted (someone has the password and is guessing codes).
CODE_LIMIT = 20
MIN_PASSWORD_LENGTH = 10

log = logging.getLogger(__name__)


def hash_password(password: str) -> str:
    """Return an argon2id hash of a password."""
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Tell whether a password matches a stored hash."""
    if not stored:
        # Spend the same time as a real check so that unknown accounts
        # cannot be told apart by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def address_lock_remaining(db, ip: str, at: float | None = None) -> int:
    """Return the seconds until sign-in from an address may be tried again (0: now)."""
    at = time.time() if at is None else at
    rows = db.execute(
        "SELECT at FROM login_attempts WHERE ip = ? AND at > ? AND success = 0 "
        "ORDER BY at DESC LIMIT ?",
        [ip, at - LOCK_WINDOW, LOCK_THRESHOLD],
    ).fetchall()
    if len(rows) < LOCK_THRESHOLD:
        return 0
    # Locked until the oldest of the last ten failures leaves the window.
    return int(rows[-1][0] + LOCK_WINDOW - at) + 1


def account_failures(db, email: str, at: float | None = None) -> tuple[int, float]:
    """Return the wrong passwords for an account in the window, and when the last was."""
    at = time.time() if at is None else at
    count, last = db.execute(
        "SELECT count(*), max(at) FROM login_attempts WHERE email = ? "
        "AND kind = 'password' AND success = 0 AND at > ?",
        [email, at - LOCK_WINDOW],
    ).fetchone()
    return count, last or 0.0


def account_delay(failures: int) -> int:
    """Return the wait after the last of so many wrong passwords for one account."""
    if failures < SLOW_AFTER:
        return 0
    return min(2 ** (failures - SLOW_AFTER), MAX_DELAY)


def account_wait(db, email: str, at: float | None = None) -> int:
    """Return the seconds before a password for this account is checked again (0: now)."""
    at = time.time() if at is None else at
    failures, last = account_failures(db, email, at)
    delay = account_delay(failures)
    return max(0, int(last + delay - at + 0.999)) if delay else 0


def address_wait(db, ip: str) -> str | None:
    """Why no sign-in is checked from this address now (it is locked out), or None."""
    remaining = address_lock_remaining(db, ip)
    if not remaining:
        return None
    minutes = max(1, (remaining + 59) // 60)
    log.warning("sign-in locked from %s", ip)
    return (
        "Too many failed sign-in attempts. For your security, sign-in is "
        f"locked: try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def slowed_message(wait: int) -> str:
    """What the code page says after many wrong passwords for an email address.

    Every sign-in to that address sees it, whether the account exists or has
    a second factor, so it says nothing about either.
    """
    if wait <= 0:
        when = "now"
    elif wait >= 90:
        when = f"in {(wait + 59) // 60} minutes"
    else:
        when = f"in {wait} second{'s' if wait != 1 else ''}"
    return (
        "There have been many failed attempts to sign in to this account. If "
        "you use two-step sign-in, enter the code from your authenticator app. "
        "If you do not, you need no code: sign in again with your password "
        f"{when}. With two-step sign-in turned on (under Sign-in and security), "
        "nobody else's attempts can make you wait."
    )


def code_failures(db, email: str, at: float | None = None) -> int:
    """Return the wrong second-step codes for an account in the window."""
    at = time.time() if at is None else at
    return db.execute(
        "SELECT count(*) FROM login_attempts WHERE email = ? AND kind = 'code' "
        "AND success = 0 AND at > ?",
        [email, at - LOCK_WINDOW],
    ).fetchone()[0]


def record_attempt(
    db, email: str, ip: str, success: bool, kind: str = "password"
) -> None:
    """Record one sign-in attempt: a password, or a second-step code."""
    db["login_attempts"].insert(
        {
            "email": email,
            "ip": ip,
            "at": time.time(),
            "success": int(success),
            "kind": kind,
        }
    )


SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


# A year, as browsers' preload lists ask; subdomains are left to their owners.
HSTS = "max-age=31536000"


def set_security_headers(response):
    """Add the security headers every response carries, unless a view set its own.

    Every page but the static files is private to its viewer (results,
    moderation, plans, report previews, the codes of two-step sign-in):
    none is kept by the browser or a proxy. Over HTTPS (seen by the request,
    or PEERREVIEW_HTTPS=1 behind a proxy that does not say), browsers are
    told to use nothing else.
    """
    headers = response.headers
    # One pass over the response's few headers: Headers.setdefault raises and
    # catches an exception for each header that is missing.
    present = {name.lower() for name, _ in headers}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.endpoint != "static":
        headers["Cache-Control"] = "private, no-store"
    if request.is_secure or current_app.config.get("HTTPS"):
        headers["Strict-Transport-Security"] = HSTS
    return response


def safe_next(target: str | None) -> str | None:
    """Return target if it stays on this site, else None."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return None
    return target
