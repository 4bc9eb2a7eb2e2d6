"""Password hashing, sign-in throttling and response security headers."""

import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

LOCK_WINDOW = 15 * 60
LOCK_THRESHOLD = 10
MIN_PASSWORD_LENGTH = 10


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


def lockout_remaining(db, email: str, ip: str, at: float | None = None) -> int:
    """Return the seconds until sign-in may be tried again (0: not locked)."""
    at = time.time() if at is None else at
    since = at - LOCK_WINDOW
    remaining = 0
    for column, value in (("email", email), ("ip", ip)):
        rows = db.execute(
            f"SELECT at FROM login_attempts WHERE {column} = ? AND at > ? "
            "AND success = 0 ORDER BY at DESC LIMIT ?",
            [value, since, LOCK_THRESHOLD],
        ).fetchall()
        if len(rows) >= LOCK_THRESHOLD:
            # Locked until the oldest of the last ten failures leaves the window.
            remaining = max(remaining, int(rows[-1][0] + LOCK_WINDOW - at) + 1)
    return remaining


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


def set_security_headers(response):
    """Add the security headers every response carries, unless a view set its own."""
    headers = response.headers
    # One pass over the response's few headers: Headers.setdefault raises and
    # catches an exception for each header that is missing.
    present = {name.lower() for name, _ in headers}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    return response
