"""Account operations: plain functions over the database, no Flask."""

import datetime
import hashlib
import logging
import secrets
from dataclasses import dataclass, field

from .. import audit, security
from ..db import immediate, now
from ..security import hash_password

ROLES = {
    "partnership_lead": "Partnership lead",
    "team_lead": "Team lead",
    "team_member": "Team member",
    "governor": "Governor or trustee",
}
# Which kind of organisation each role is scoped to.
ROLE_SCOPES = {
    "partnership_lead": ("partnership",),
    "team_lead": ("team",),
    "team_member": ("team",),
    "governor": ("school", "partnership"),
}
INVITE_DAYS = 7
RESET_HOURS = 24


log = logging.getLogger(__name__)


class AccountError(ValueError):
    """A request about an account that cannot be carried out."""


@dataclass
class PasswordCheck:
    """What a sign-in with a password comes to."""

    user: dict | None
    # Why the password was not checked: the address is locked out (a 429).
    waiting: str | None = None
    # The password is right, the account active, and sign-in goes on now
    # (in, to the code page, or to setting up a second factor).
    ok: bool = False
    # The email address has had many wrong passwords lately.
    slowed: bool = False
    # Sign-in goes on to another page: when not ok, to a code page that no
    # code opens, whatever the account (none, with a second factor or not).
    goes_on: bool = False


@dataclass
class Role:
    role: str
    scope_type: str
    scope_id: int


@dataclass
class Account:
    """The signed-in person as the permission predicates see them."""

    id: int
    email: str
    name: str
    is_admin: bool
    active: bool
    session_version: int
    roles: list[Role] = field(default_factory=list)
    # Whether they have set up a second factor (two-step sign-in).
    second_factor: bool = False

    def scopes(self, role: str, scope_type: str) -> set[int]:
        """Return the ids of the organisations where this person holds a role."""
        return {
            r.scope_id
            for r in self.roles
            if r.role == role and r.scope_type == scope_type
        }

    # Flask-Login's user protocol. The session carries the session version,
    # so bumping it (sign-out, new password, disabling) ends every session.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Anonymous:
    """The visitor who has not signed in."""

    id = None
    second_factor = False
    name = ""
    is_admin = False
    is_authenticated = False
    is_active = False
    is_anonymous = True
    roles: list = []

    def scopes(self, role: str, scope_type: str) -> set[int]:
        return set()

    def get_id(self):
        return None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def load_account(db, user_id: int) -> Account | None:
    """Return a user with their roles, or None."""
    # One query: the user loader runs it on every signed-in request.
    rows = db.execute(
        "SELECT u.id, u.email, u.name, u.is_admin, u.active, u.session_version, "
        "r.role, r.scope_type, r.scope_id, u.totp_secret IS NOT NULL FROM users u "
        "LEFT JOIN roles r ON r.user_id = u.id WHERE u.id = ?",
        [user_id],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    roles = [Role(r[6], r[7], r[8]) for r in rows if r[6] is not None]
    return Account(
        row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5], roles, bool(row[9])
    )


def find_user(db, email: str) -> dict | None:
    rows = list(
        db.query("SELECT * FROM users WHERE email = ?", [normalise_email(email)])
    )
    return rows[0] if rows else None


def check_sign_in(db, email: str, password: str, ip: str) -> PasswordCheck:
    """Check a password under the sign-in throttling rules, and record the try.

    The answer to a wrong password is the same whether the account exists,
    and whether it has a second factor, at every count of failures: below
    SLOW_AFTER wrong passwords for the address, "not right"; from then on,
    the code page, which no code opens. The password is always checked (the
    same argon2 work for an address without an account) and a wrong one
    always counted. From then on a right password goes on at once for an
    account with a second factor (the code still stands between a guesser
    and it, and nobody else's failures keep its owner out), and for others
    once the wait since the last failure is over; until then they too get the
    code page, which says how long to wait.
    """
    waiting = security.address_wait(db, ip)
    if waiting:
        return PasswordCheck(None, waiting=waiting)
    user = find_user(db, email)
    has_code = bool(user and user["totp_secret"] and user["active"])
    failures, _ = security.account_failures(db, email)
    slowed = failures >= security.SLOW_AFTER
    wait = security.account_wait(db, email) if slowed else 0
    right = security.check_password(user and user["password_hash"], password)
    right = right and bool(user["active"])
    security.record_attempt(db, email, ip, right)
    if not right:
        log.info("failed sign-in for %s from %s", email, ip)
    ok = right and (has_code or not wait)
    return PasswordCheck(user, ok=ok, slowed=slowed, goes_on=ok or slowed)


def has_password(db, user_id: int) -> bool:
    """Whether a person has a password (one who joined by Microsoft or Google may not)."""
    row = db.execute(
        "SELECT password_hash IS NOT NULL FROM users WHERE id = ?", [user_id]
    ).fetchone()
    return bool(row and row[0])


def create_user(
    db, email: str, name: str, password: str | None, *, is_admin=False, actor_id=None
) -> int:
    """Create a user; refuse a duplicate email."""
    email = normalise_email(email)
    with immediate(db):
        if find_user(db, email):
            raise AccountError(f"There is already an account for {email}.")
        user_id = (
            db["users"]
            .insert(
                {
                    "email": email,
                    "name": name.strip(),
                    "password_hash": hash_password(password) if password else None,
                    "is_admin": int(is_admin),
                    "active": 1,
                    "session_version": 1,
                    "created_at": now(),
                }
            )
            .last_pk
        )
        audit.record(db, actor_id, "user.create", "user", user_id, email=email)
    return user_id


def grant_role(
    db, user_id: int, role: str, scope_type: str, scope_id: int, *, actor_id
):
    """Give a user a role in one organisation (idempotent)."""
    if role not in ROLES or scope_type not in ROLE_SCOPES[role]:
        raise AccountError("That role cannot be given in that organisation.")
    with immediate(db):
        exists = db.execute(
            "SELECT 1 FROM roles WHERE user_id=? AND role=? AND scope_type=? "
            "AND scope_id=?",
            [user_id, role, scope_type, scope_id],
        ).fetchone()
        if not exists:
            db["roles"].insert(
                {
                    "user_id": user_id,
                    "role": role,
                    "scope_type": scope_type,
                    "scope_id": scope_id,
                    "created_at": now(),
                }
            )
            audit.record(
                db,
                actor_id,
                "role.grant",
                "user",
                user_id,
                role=role,
                scope_type=scope_type,
                scope_id=scope_id,
            )


def set_password(db, user_id: int, password: str, *, actor_id) -> None:
    """Set a new password and end every other session of that person."""
    with immediate(db):
        db.execute(
            "UPDATE users SET password_hash = ?, session_version = session_version + 1 "
            "WHERE id = ?",
            [hash_password(password), user_id],
        )
        audit.record(db, actor_id, "user.password", "user", user_id)


def end_sessions(db, user_id: int) -> None:
    """Invalidate every session of a user (sign-out everywhere)."""
    with immediate(db):
        db.execute(
            "UPDATE users SET session_version = session_version + 1 WHERE id = ?",
            [user_id],
        )


def set_active(db, user_id: int, active: bool, *, actor_id) -> None:
    """Enable or disable an account; disabling ends its sessions."""
    with immediate(db):
        db.execute(
            "UPDATE users SET active = ?, session_version = session_version + 1 "
            "WHERE id = ?",
            [int(active), user_id],
        )
        audit.record(
            db, actor_id, "user.enable" if active else "user.disable", "user", user_id
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(delta: datetime.timedelta) -> str:
    return (datetime.datetime.now(datetime.UTC) + delta).isoformat(timespec="seconds")


def create_invitation(
    db, email: str, name: str, role: str, scope_type: str, scope_id: int, *, actor_id
) -> str:
    """Create a single-use invitation into a role; return its secret token."""
    if role not in ROLES or scope_type not in ROLE_SCOPES[role]:
        raise AccountError("That role cannot be given in that organisation.")
    token = secrets.token_urlsafe(32)
    with immediate(db):
        inv_id = (
            db["invitations"]
            .insert(
                {
                    "token_hash": _token_hash(token),
                    "purpose": "invite",
                    "email": normalise_email(email),
                    "name": name.strip(),
                    "role": role,
                    "scope_type": scope_type,
                    "scope_id": scope_id,
                    "created_by": actor_id,
                    "created_at": now(),
                    "expires_at": _expiry(datetime.timedelta(days=INVITE_DAYS)),
                }
            )
            .last_pk
        )
        audit.record(
            db,
            actor_id,
            "invitation.create",
            "invitation",
            inv_id,
            email=normalise_email(email),
            role=role,
            scope_type=scope_type,
            scope_id=scope_id,
        )
    return token


def create_reset(db, user_id: int, *, actor_id) -> str:
    """Create a single-use password-reset link for a user; return its token.

    Any older reset link of that user stops working.
    """
    user = db["users"].get(user_id)
    token = secrets.token_urlsafe(32)
    with immediate(db):
        db.execute(
            "UPDATE invitations SET replaced_at = ? WHERE purpose = 'reset' "
            "AND user_id = ? AND used_at IS NULL AND replaced_at IS NULL",
            [now(), user_id],
        )
        db["invitations"].insert(
            {
                "token_hash": _token_hash(token),
                "purpose": "reset",
                "email": user["email"],
                "name": user["name"],
                "user_id": user_id,
                "created_by": actor_id,
                "created_at": now(),
                "expires_at": _expiry(datetime.timedelta(hours=RESET_HOURS)),
            }
        )
        audit.record(db, actor_id, "user.reset_link", "user", user_id)
    return token


def find_invitation(db, token: str, purpose: str) -> dict:
    """Return a usable invitation for a token, or raise AccountError saying why not."""
    rows = list(
        db.query(
            "SELECT * FROM invitations WHERE token_hash = ? AND purpose = ?",
            [_token_hash(token or ""), purpose],
        )
    )
    if not rows:
        raise AccountError("This link is not valid. Ask for a new one.")
    inv = rows[0]
    if inv["used_at"]:
        raise AccountError("This link has already been used. Ask for a new one.")
    if inv.get("replaced_at"):
        raise AccountError(
            "A newer link has been issued since this one, so this one no longer "
            "works. Use the newest link, or ask for a new one."
        )
    if inv["expires_at"] < now():
        raise AccountError("This link has expired. Ask for a new one.")
    return inv


def _use(db, inv_id: int) -> None:
    cur = db.execute(
        "UPDATE invitations SET used_at = ? WHERE id = ? AND used_at IS NULL "
        "AND replaced_at IS NULL",
        [now(), inv_id],
    )
    if cur.rowcount != 1:
        raise AccountError("This link has already been used. Ask for a new one.")


def take_up_invitation(db, inv: dict, user_id: int, **details) -> None:
    """Use an invitation for an account: mark it used, grant its role, audit it.

    Inside the caller's write transaction; ``details`` go into the audit
    entry (``via=`` a sign-in provider, say).
    """
    _use(db, inv["id"])
    grant_role(
        db,
        user_id,
        inv["role"],
        inv["scope_type"],
        inv["scope_id"],
        actor_id=inv["created_by"],
    )
    audit.record(db, user_id, "invitation.accept", "invitation", inv["id"], **details)


def accept_invitation(db, token: str, name: str, password: str | None) -> int:
    """Accept an invitation: create the account (or use the existing one) and grant the role."""
    with immediate(db):
        inv = find_invitation(db, token, "invite")
        user = find_user(db, inv["email"])
        if user is None:
            if not password:
                raise AccountError("Choose a password.")
            user_id = create_user(db, inv["email"], name or inv["name"], password)
        else:
            user_id = user["id"]
        take_up_invitation(db, inv, user_id)
    return user_id


def use_reset(db, token: str, password: str) -> int:
    """Set a new password through a reset link."""
    with immediate(db):
        inv = find_invitation(db, token, "reset")
        _use(db, inv["id"])
        set_password(db, inv["user_id"], password, actor_id=inv["user_id"])
    return inv["user_id"]


def list_users(db) -> list[dict]:
    return list(
        db.query(
            "SELECT id, email, name, is_admin, active, created_at FROM users ORDER BY name"
        )
    )


def roles_of(db, user_id: int) -> list[dict]:
    """Return a user's roles with the organisation's name."""
    return list(
        db.query(
            """
            SELECT r.role, r.scope_type, r.scope_id,
              CASE r.scope_type
                WHEN 'partnership' THEN (SELECT name FROM partnerships WHERE id = r.scope_id)
                WHEN 'team' THEN (SELECT name FROM teams WHERE id = r.scope_id)
                WHEN 'school' THEN (SELECT name FROM schools WHERE id = r.scope_id)
              END AS scope_name
            FROM roles r WHERE r.user_id = ? ORDER BY r.role
            """,
            [user_id],
        )
    )
