"""Second-factor secrets are sealed at rest with a key kept out of the database."""

import logging
import os
import pathlib

import pyotp
import pytest
from cryptography.fernet import Fernet
from support import ADMIN, DEMO_PASSWORD, csrf_token, totp_code, user_id

from peerreview import create_app
from peerreview.accounts import second_factor, second_factor_key
from peerreview.db import connect, migrate

M022 = "m022_second_factor_secrets_sealed"


def _config(path):
    return {"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "k"}


def _sign_in(client, code):
    token = csrf_token(client)
    step = client.post(
        "/sign-in",
        data={"email": ADMIN, "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert step.headers["Location"] == "/sign-in/code"
    token = csrf_token(client, "/sign-in/code")
    return client.post("/sign-in/code", data={"code": code, "csrf_token": token})


def test_a_copy_of_the_database_does_not_give_the_secrets(demo, app, db):
    stored = db.execute(
        "SELECT totp_secret FROM users WHERE email = ?", [ADMIN]
    ).fetchone()[0]
    secret = second_factor.secret_of(db, user_id(db, ADMIN))
    assert second_factor_key.is_sealed(stored) and secret and stored != secret
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = pathlib.Path(app.config["DATABASE"]).read_bytes()
    # Not the secret, in any spelling an authenticator takes.
    for spelling in (secret, secret.lower(), second_factor.group(secret)):
        assert spelling.encode() not in raw
    # Sealed with a key of one's own, the stored value opens to nothing.
    with pytest.raises(second_factor_key.KeyProblem, match="does not open"):
        second_factor_key.SecretBox([Fernet.generate_key().decode()], "x").open(stored)


def test_an_existing_plain_secret_is_sealed_by_the_migration_and_still_signs_in(
    demo, app, db
):
    # The database as it was before m022: the admin's secret stored readable.
    plain = pyotp.random_base32()
    pending = pyotp.random_base32()
    db.execute(
        "UPDATE users SET totp_secret = ?, totp_last_step = NULL WHERE email = ?",
        [plain, ADMIN],
    )
    db.execute(
        "UPDATE users SET totp_pending = ? WHERE email = ?",
        [pending, "headteacher@northfieldprimary.example.org"],
    )
    db.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [M022])

    assert migrate(db) == [M022]

    stored, stored_pending = (
        db.execute("SELECT totp_secret FROM users WHERE email = ?", [ADMIN]).fetchone()[
            0
        ],
        db.execute(
            "SELECT totp_pending FROM users WHERE email = ?",
            ["headteacher@northfieldprimary.example.org"],
        ).fetchone()[0],
    )
    assert stored != plain and second_factor_key.is_sealed(stored)
    assert plain not in stored and stored_pending != pending
    assert second_factor_key.box().open(stored_pending) == pending
    # Every other secret was sealed already, and is left alone.
    assert migrate(db) == []
    # The admin's authenticator app, set up with the old secret, still works.
    client = app.test_client()
    signed_in = _sign_in(client, pyotp.TOTP(plain).now())
    assert signed_in.headers["Location"] == "/"
    assert client.get("/admin/accounts").status_code == 200


def test_the_key_file_is_made_once_on_first_run_readable_by_its_owner_only(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(second_factor_key.ENV)
    monkeypatch.setattr(
        "flask.Flask.auto_find_instance_path", lambda self: str(tmp_path)
    )
    path = tmp_path / "x.db"
    migrate(connect(path))
    create_app(_config(path))
    key_file = tmp_path / "second_factor_key"
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    first = key_file.read_text()
    create_app(_config(path))
    assert key_file.read_text() == first
    Fernet(first.strip().encode())  # a real Fernet key


def _demo_copy(tmp_path, demo_db_path):
    path = tmp_path / "restored.db"
    source = connect(demo_db_path)
    source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.conn.close()
    path.write_bytes(pathlib.Path(demo_db_path).read_bytes())
    return path


def test_a_database_whose_key_is_lost_is_refused_naming_the_key(
    demo, app, tmp_path, monkeypatch, caplog
):
    # A backup restored on a machine without the key (no file, no variable).
    path = _demo_copy(tmp_path, app.config["DATABASE"])
    instance = tmp_path / "instance"
    monkeypatch.delenv(second_factor_key.ENV)
    monkeypatch.setattr(
        "flask.Flask.auto_find_instance_path", lambda self: str(instance)
    )
    with pytest.raises(second_factor_key.KeyProblem) as refused:
        create_app(_config(path))
    message = str(refused.value)
    assert "key is missing" in message
    assert second_factor_key.ENV in message
    assert str(instance / "second_factor_key") in message
    # No new key was made: it would open nothing, and hide what is missing.
    assert not (instance / "second_factor_key").exists()


def test_a_key_lost_while_serving_gives_a_page_not_a_traceback(
    demo, app, db, monkeypatch, caplog
):
    client = app.test_client()
    code = totp_code(db, ADMIN)
    # The platform now has another key than the one the secrets were sealed with.
    monkeypatch.setenv(second_factor_key.ENV, Fernet.generate_key().decode())
    with caplog.at_level(logging.ERROR):
        response = _sign_in(client, code)
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "missing the key that its two-step sign-in secrets are kept with" in text
    assert "Traceback" not in text and second_factor_key.ENV not in text
    assert "does not open the secrets in the database" in caplog.text
    assert client.get("/").status_code == 302  # nobody signed in
    # No key at all.
    monkeypatch.delenv(second_factor_key.ENV)
    monkeypatch.setattr(second_factor_key, "_instance", str(os.devnull) + "-none")
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = _sign_in(client, code)
    assert response.status_code == 503
    assert "its key is missing" in caplog.text and second_factor_key.ENV in caplog.text


def test_rotating_the_key_reseals_every_secret_and_keeps_the_old_key(
    demo, app, db, tmp_path, monkeypatch, runner
):
    old_key = os.environ[second_factor_key.ENV]
    monkeypatch.delenv(second_factor_key.ENV)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "second_factor_key").write_text(old_key + "\n")
    monkeypatch.setattr(app, "instance_path", str(instance))
    monkeypatch.setattr(second_factor_key, "_instance", str(instance))
    before = dict(
        db.execute(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL"
        ).fetchall()
    )
    secrets = {uid: second_factor.secret_of(db, uid) for uid in before}

    result = runner.invoke(args=["second-factor", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert f"Resealed the secrets of {len(before)} people" in result.output

    new_key = (instance / "second_factor_key").read_text().strip()
    assert new_key != old_key and "\n" not in new_key
    assert oct((instance / "second_factor_key").stat().st_mode)[-3:] == "600"
    kept = [p for p in instance.iterdir() if p.name.startswith("second_factor_key.")]
    assert len(kept) == 1 and kept[0].read_text().strip() == old_key
    assert oct(kept[0].stat().st_mode)[-3:] == "600"
    after = dict(
        db.execute(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL"
        ).fetchall()
    )
    new_box = second_factor_key.SecretBox([new_key], "new")
    for uid, sealed in after.items():
        assert sealed != before[uid] and new_box.open(sealed) == secrets[uid]
    # The check after a restore says whether the key fits.
    checked = runner.invoke(args=["second-factor", "check-key"])
    assert checked.exit_code == 0 and "opens the secrets of all" in checked.output
    (instance / "second_factor_key").write_text(old_key + "\n")
    refused = runner.invoke(args=["second-factor", "check-key"])
    assert refused.exit_code == 1 and "does not open" in refused.output
    # With the new key the admin still signs in with their app.
    (instance / "second_factor_key").write_text(new_key + "\n")
    client = app.test_client()
    assert _sign_in(client, totp_code(db, ADMIN)).headers["Location"] == "/"
