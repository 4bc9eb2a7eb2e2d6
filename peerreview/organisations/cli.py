"""``flask schools import FILE`` and ``flask schools locate``."""

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import connect
from . import gias, service

schools_cli = AppGroup("schools", help="Import schools and look up their positions.")


def _find_partnership(db, ref: str) -> dict | None:
    rows = list(
        db.query(
            "SELECT * FROM partnerships WHERE CAST(id AS TEXT) = ? OR name = ?",
            [ref, ref],
        )
    )
    return rows[0] if rows else None


@schools_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--partnership",
    "ref",
    help="Also add every school to this partnership (id or name).",
)
@click.option("--dry-run", is_flag=True, help="Say what would change, change nothing.")
def import_command(path, ref, dry_run):
    """Import schools from a GIAS extract (CSV), keyed by URN."""
    db = connect(current_app.config["DATABASE"])
    partnership = None
    if ref:
        partnership = _find_partnership(db, ref)
        if partnership is None:
            raise click.ClickException(f"No partnership {ref!r}.")
    with open(path, "rb") as f:
        text = gias.decode(f.read())
    lines = text.count("\n")
    with click.progressbar(
        length=lines, label="Reading and locating", file=None
    ) as bar:
        try:
            payload = gias.read(text, progress=bar.update)
        except gias.GiasRefused as refused:
            raise click.ClickException(str(refused)) from None
    for e in payload["problems"]:
        click.echo(f"{path}:{e['line']}: {e['reason']}", err=True)
    pid = partnership["id"] if partnership else None
    plan = gias.plan(db, payload, partnership_id=pid)
    for r in plan["not_found"]:
        click.echo(f"{path}:{r['line']}: postcode {r['postcode']} not found", err=True)
    if dry_run:
        click.echo(
            f"Would create {len(plan['create'])}, update {len(plan['update'])}, "
            f"leave {len(plan['unchanged'])} unchanged; "
            f"{len(plan['problems'])} lines cannot be used."
        )
        return
    with click.progressbar(length=plan["usable"], label="Writing schools") as bar:
        counts = gias.apply(
            db,
            payload,
            actor_id=None,
            partnership_id=pid,
            add_urns=[r["urn"] for r in payload["rows"]] if pid else (),
            progress=bar.update,
        )
    click.echo(
        f"Created {counts['created']}, updated {counts['updated']}, "
        f"unchanged {counts['unchanged']}"
        + (f", added {counts['added']} to {partnership['name']}" if pid else "")
        + f"; {len(plan['problems'])} lines could not be used, "
        f"{len(plan['not_found'])} postcodes not found."
    )


@schools_cli.command("locate")
def locate_command():
    """Look up the position of every school that has none (from its postcode)."""
    db = connect(current_app.config["DATABASE"])
    found, missing = service.locate_schools(db)
    click.echo(f"Located {found} schools; {missing} postcodes not found.")
