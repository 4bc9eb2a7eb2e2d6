"""Demo data: organisations and people, cycles, evidence, peer review rounds and action plans.

`flask demo load` and the tests use `load` (everything) and `load_organisations`
(the organisations and people only).
"""

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup

from ..accounts import second_factor
from ..accounts import service as accounts
from ..catalogue import library as app_library
from ..db import ROOT, connect
from ..instruments import Library
from . import cycles, evidence, peer, plans
from .organisations import DEMO_PASSWORD, load_organisations

__all__ = ["DEMO_PASSWORD", "demo_cli", "is_empty", "load", "load_organisations"]


def is_empty(db) -> bool:
    """Tell whether the database has no accounts yet."""
    return db["users"].count == 0


def load(db, library=None) -> dict[str, list[str]]:
    """Create the demo organisations, people and cycles.

    Return the recovery codes of the accounts that have two-step sign-in.
    """
    codes = load_organisations(db)
    library = library or Library(ROOT / "instruments")
    cycles.load(db, library)
    evidence.load(db)
    peer.load(db, library)
    plans.load(db)
    return codes


demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when there are accounts already."
)
def load_command(if_empty):
    """Load the demo data and print the demo sign-ins."""
    db = connect(current_app.config["DATABASE"])
    if not is_empty(db):
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            print_signins(db)
            return
        raise click.ClickException("The database is not empty; demo data not loaded.")
    # The app's INFO lines (instruments loaded, each audit entry, evidence
    # stored, plans drafted) would bury the sign-ins printed below.
    app_log = logging.getLogger("peerreview")
    level = app_log.level
    app_log.setLevel(logging.WARNING)
    try:
        codes = load(db, app_library())
    finally:
        app_log.setLevel(level)
    click.echo("Demo data loaded.")
    print_signins(db, codes)


@demo_cli.command("code")
@click.argument("email")
def code_command(email):
    """Print the code an authenticator app would show now for a demo account."""
    db = connect(current_app.config["DATABASE"])
    user = accounts.find_user(db, email)
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    code = second_factor.current_code(db, user["id"])
    if code is None:
        raise click.ClickException(f"{email} has not set up two-step sign-in.")
    left = 30 - int(time.time()) % 30
    click.echo(code)
    click.echo(f"(changes in {left} s; each code signs in once)", err=True)


def print_signins(db, codes=None):
    """Print the demo accounts a visitor can sign in with.

    ``codes`` are the recovery codes just made by `load`; once loaded they
    are stored only as hashes, so later runs print the authenticator key.
    """
    if not db.execute(
        "SELECT 1 FROM users WHERE email = 'admin@peerreview.example.org'"
    ).fetchone():
        return
    click.echo(f"\nDemo sign-ins (password for every demo account: {DEMO_PASSWORD}):")
    rows = [
        ("Platform admin", "admin@peerreview.example.org"),
        (
            "Headteacher, Northfield Primary School",
            "headteacher@northfieldprimary.example.org",
        ),
        (
            "Deputy headteacher, Northfield Primary School",
            "deputy.headteacher@northfieldprimary.example.org",
        ),
        ("Chair of the trust board", "chair@northfieldtrust.example.org"),
        (
            "Partnership lead, Northfield Learning Trust",
            "director@northfieldtrust.example.org",
        ),
        ("Partnership lead, Lune Valley Cluster", "lead@lunevalley.example.org"),
        (
            "Governor, Northfield Primary School",
            "governor@northfieldprimary.example.org",
        ),
    ]
    for who, email in rows:
        click.echo(f"  {who:48} {email}")
    enrolled = [
        (email, second_factor.secret_of(db, uid))
        for uid, email in db.execute(
            "SELECT id, email FROM users WHERE totp_secret IS NOT NULL ORDER BY id"
        ).fetchall()
    ]
    if not enrolled:
        return
    click.echo(
        "\nThe platform admin and the partnership leads also need a code after "
        "their password (two-step sign-in). Use a recovery code below (each "
        "works once), or print the current code with `flask demo code EMAIL`, "
        "or add the key to an authenticator app (time-based, 6 digits, 30 s):"
    )
    for email, secret in enrolled:
        click.echo(f"  {email}")
        click.echo(f"    authenticator key: {secret}")
        if codes and codes.get(email):
            click.echo(f"    recovery codes:    {', '.join(codes[email][:3])}")
