"""`flask second-factor`: check and rotate the key that seals two-step sign-in secrets."""

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import connect
from . import second_factor_key

second_factor_cli = AppGroup("second-factor", help="The key of two-step sign-in.")


def _database():
    return connect(current_app.config["DATABASE"])


@second_factor_cli.command("check-key")
def check_key_command():
    """Check that the key opens every sealed secret in the database (after a restore)."""
    db = _database()
    try:
        box = second_factor_key.box(current_app.instance_path)
        rows = db.execute(
            "SELECT email, totp_secret, totp_pending FROM users "
            "WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL"
        ).fetchall()
        for _email, secret, pending in rows:
            for value in (secret, pending):
                if value:
                    box.open(value)
    except second_factor_key.KeyProblem as e:
        raise click.ClickException(str(e)) from None
    finally:
        db.conn.close()
    click.echo(f"The key in {box.source} opens the secrets of all {len(rows)} people.")


@second_factor_cli.command("rotate-key")
def rotate_key_command():
    """Reseal every secret with a new key; the old key is kept in a file beside it."""
    db = _database()
    try:
        count, kept = second_factor_key.rotate(db, current_app.instance_path)
    except second_factor_key.KeyProblem as e:
        raise click.ClickException(str(e)) from None
    finally:
        db.conn.close()
    if kept is None:
        click.echo(
            f"Resealed the secrets of {count} people with the first key in "
            f"{second_factor_key.ENV}. Keep the old key with the backups made "
            "before now (they need it), and remove it from the variable."
        )
        return
    click.echo(
        f"Resealed the secrets of {count} people with a new key in "
        f"{second_factor_key.key_file(current_app.instance_path)}.\n"
        f"The old key is in {kept}: keep it with the backups made before now "
        "(they need it), then delete it here."
    )
