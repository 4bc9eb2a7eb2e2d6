"""The key that seals two-step sign-in secrets in the database. No Flask.

Each person's TOTP secret is stored sealed with Fernet (from the
`cryptography` package: AES-128-CBC with an HMAC-SHA256, a random IV and a
timestamp), under a key that is not in the database: the environment
variable PEERREVIEW_SECOND_FACTOR_KEY, or else the file
instance/second_factor_key, made with 0600 permissions on first run. A copy
of the database alone (a backup, a replica, a stolen file) does not give
anyone's authenticator codes; restoring one needs the key as well.

Several keys may be given, newest first (comma-separated in the variable,
one a line in the file): the first seals, any opens. `flask second-factor
rotate-key` makes a new key, reseals every secret with it and keeps the old
key in a file of its own, for the backups made before.
"""

import datetime
import os
import pathlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV = "PEERREVIEW_SECOND_FACTOR_KEY"
FILE_NAME = "second_factor_key"
INSTANCE = pathlib.Path(__file__).resolve().parent.parent.parent / "instance"
# Every Fernet token starts with its version byte and a timestamp: "gAAAAA"
# in base64; a plain base32 TOTP secret never has a lower-case letter.
SEALED_PREFIX = "gAAAAA"


class KeyProblem(RuntimeError):
    """The key is missing, unreadable or not the one the secrets were sealed with."""


# The app's instance folder, once create_app() has said (ensure()).
_instance = None


def key_file(instance_path=None) -> pathlib.Path:
    return pathlib.Path(instance_path or _instance or INSTANCE) / FILE_NAME


def where(instance_path=None) -> str:
    """Where the key is taken from, in words, for messages."""
    if os.environ.get(ENV):
        return f"the environment variable {ENV}"
    return f"the key file {key_file(instance_path)}"


def configured_keys(instance_path=None) -> list[str]:
    value = os.environ.get(ENV)
    if value:
        return [k.strip() for k in value.split(",") if k.strip()]
    path = key_file(instance_path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise KeyProblem(
            f"The two-step sign-in key file {path} cannot be read: {e}"
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def is_sealed(value) -> bool:
    return bool(value) and str(value).startswith(SEALED_PREFIX)


class SecretBox:
    """Seals and opens second-factor secrets with the configured keys."""

    def __init__(self, keys: list[str], source: str):
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as e:
            raise KeyProblem(
                f"The two-step sign-in key in {source} is not a Fernet key "
                f"(32 bytes, url-safe base64): {e}"
            ) from None
        self.source = source

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        if not is_sealed(sealed):
            raise KeyProblem(
                "A two-step sign-in secret in the database is not sealed: "
                "run `flask db migrate`."
            )
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise KeyProblem(
                f"The two-step sign-in key in {self.source} does not open the "
                "secrets in the database: it is not the key they were sealed "
                "with. Put back the key kept with this database's backups."
            ) from None

    def reseal(self, sealed: str) -> str:
        """Seal again with the newest key (for a rotation)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise KeyProblem(
                f"The two-step sign-in keys in {self.source} do not open a "
                "secret in the database: rotation stopped, nothing changed."
            ) from None


def box(instance_path=None) -> SecretBox:
    """Return the configured box; KeyProblem, saying what is missing, when there is no key."""
    keys = configured_keys(instance_path)
    if not keys:
        raise KeyProblem(
            f"Two-step sign-in cannot be checked: its key is missing. Set {ENV}, "
            f"or put back the key file {key_file(instance_path)} (kept apart "
            "from the database's backups)."
        )
    return SecretBox(keys, where(instance_path))


def create_file(instance_path=None) -> pathlib.Path:
    """Make a new key file (0600), refusing to overwrite one."""
    path = key_file(instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(Fernet.generate_key().decode() + "\n")
    return path


def count_sealed(db) -> int:
    return db.execute(
        "SELECT count(*) FROM users WHERE substr(totp_secret, 1, 6) = ? "
        "OR substr(totp_pending, 1, 6) = ?",
        [SEALED_PREFIX, SEALED_PREFIX],
    ).fetchone()[0]


def ensure(database_path, instance_path=None) -> None:
    """At start-up: make the key on first run; refuse when it is lost.

    A database that holds sealed secrets without its key is refused with a
    message naming the missing key, rather than a new key being made that
    opens nothing (everyone's second factor would stop working).
    """
    global _instance
    _instance = instance_path or _instance
    if configured_keys(instance_path):
        box(instance_path)  # a malformed key is refused now, not at a sign-in
        return
    if _database_has_sealed(database_path):
        raise KeyProblem(
            f"peerreview will not serve {database_path}: it holds two-step "
            f"sign-in secrets sealed with a key, and the key is missing. Set "
            f"{ENV}, or put back the key file {key_file(instance_path)} from "
            "where you keep it apart from the backups."
        )
    create_file(instance_path)


def _database_has_sealed(path) -> bool:
    import sqlite3

    if str(path) == ":memory:" or not os.path.exists(path):
        return False
    conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(users)")}
        if "totp_secret" not in columns:
            return False
        return bool(
            conn.execute(
                "SELECT 1 FROM users WHERE substr(totp_secret, 1, 6) = ? "
                "OR substr(totp_pending, 1, 6) = ? LIMIT 1",
                [SEALED_PREFIX, SEALED_PREFIX],
            ).fetchone()
        )
    finally:
        conn.close()


def seal_plain(db, the_box: SecretBox) -> int:
    """Seal every secret still stored plain; return how many people had one."""
    rows = db.execute(
        "SELECT id, totp_secret, totp_pending FROM users "
        "WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL"
    ).fetchall()
    done = 0
    for uid, secret, pending in rows:
        change = {}
        if secret and not is_sealed(secret):
            change["totp_secret"] = the_box.seal(secret)
        if pending and not is_sealed(pending):
            change["totp_pending"] = the_box.seal(pending)
        if change:
            db["users"].update(uid, change)
            done += 1
    return done


def _reseal_all(db, the_box: SecretBox) -> int:
    count = 0
    for uid, secret, pending in db.execute(
        "SELECT id, totp_secret, totp_pending FROM users "
        "WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL"
    ).fetchall():
        change = {}
        for column, value in (("totp_secret", secret), ("totp_pending", pending)):
            if value:
                change[column] = (
                    the_box.reseal(value) if is_sealed(value) else the_box.seal(value)
                )
        db["users"].update(uid, change)
        count += 1
    return count


def _write_private(path: pathlib.Path, text: str) -> None:
    """Write a file readable by its owner only, replacing it in one step."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(partial, path)


def rotate(db, instance_path=None) -> tuple[int, pathlib.Path | None]:
    """Reseal every secret with a new key; return how many, and where the old key is kept.

    With the key in the file: a new key is made, and the old one kept in a
    file beside it (0600) for the backups made before. With the key in the
    variable: the operator puts the new key first (NEW,OLD) and this reseals
    everything with it; then they drop OLD.
    """
    from ..db import immediate

    old = configured_keys(instance_path)
    if os.environ.get(ENV):
        if len(old) < 2:
            raise KeyProblem(
                f"The key comes from {ENV}: set it to NEW,OLD (make NEW with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`), run this again, "
                "then set it to NEW alone."
            )
        with immediate(db):
            count = _reseal_all(db, SecretBox(old, where(instance_path)))
        return count, None
    path = key_file(instance_path)
    if not old:
        raise KeyProblem(f"There is no key in {path} to rotate.")
    new = Fernet.generate_key().decode()
    both = SecretBox([new, *old], where(instance_path))
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{FILE_NAME}.before-{stamp}")
    _write_private(kept, "\n".join(old) + "\n")
    with immediate(db):
        count = _reseal_all(db, both)
        # Written before the commit, new key first: a crash in between
        # leaves a file that opens the secrets either way.
        _write_private(path, new + "\n" + "\n".join(old) + "\n")
    # Committed: the new key alone opens every secret now.
    _write_private(path, new + "\n")
    return count, kept
