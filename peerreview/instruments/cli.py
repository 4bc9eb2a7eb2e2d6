"""Command line for instruments: `flask instruments check` and `flask instruments lock`."""

from dataclasses import replace
from pathlib import Path

import click

from .loader import read_paths

# The instruments folder at the repository root, next to the package.
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "instruments"
SCHEMA_NAME = "instrument.schema.json"

instruments_cli = click.Group(
    "instruments", help="Check and release the instrument files."
)


def _shown(problem) -> str:
    """Return a problem's line, its file named from the current folder when inside it."""
    try:
        relative = Path(problem.file).resolve().relative_to(Path.cwd())
    except (ValueError, OSError):
        return str(problem)
    return str(replace(problem, file=str(relative)))


def _database() -> str | None:
    """Return the app's database file, when a `flask` command runs in an app."""
    from flask import current_app, has_app_context

    return current_app.config.get("DATABASE") if has_app_context() else None


@instruments_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate instrument files (default: every file in instruments/).

    Shipped files are checked against instruments/versions.lock as well: a
    released version may not change, and a shipped id belongs to its file.
    """
    instruments, problems, count = read_paths(
        list(paths) or [DEFAULT_FOLDER], lock_folder=DEFAULT_FOLDER
    )
    from .versions import upload_conflicts

    problems += upload_conflicts(_database(), instruments)
    for problem in problems:
        click.echo(_shown(problem))
    if problems:
        broken = len({problem.file for problem in problems})
        click.echo(
            f"{len(problems)} problem(s) in {broken} of {count} file(s)", err=True
        )
        raise click.exceptions.Exit(1)
    items = sum(instrument.item_count for instrument in instruments)
    click.echo(f"OK: {count} instrument file(s), {items} items, no problems")


@instruments_cli.command("lock")
def lock() -> None:
    """Record each new version of the shipped instruments in versions.lock."""
    from .versions import LockError, lock_instruments, read_lock

    instruments, problems, _ = read_paths([DEFAULT_FOLDER])
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo("Nothing recorded: fix the problems above first", err=True)
        raise click.exceptions.Exit(1)
    try:
        recorded = lock_instruments(instruments, read_lock(DEFAULT_FOLDER))
    except LockError as error:
        click.echo(str(error))
        click.echo("Nothing recorded: fix the problems above first", err=True)
        raise click.exceptions.Exit(1) from None
    for line in recorded:
        click.echo(f"recorded {line}")
    if not recorded:
        click.echo("Nothing new: every version is already recorded")


@instruments_cli.command("schema")
def schema() -> None:
    """Write instruments/instrument.schema.json, the format's JSON Schema."""
    from .schema import json_schema_text

    path = DEFAULT_FOLDER / SCHEMA_NAME
    path.write_text(json_schema_text(), encoding="utf-8")
    click.echo(f"wrote {path}")


@instruments_cli.command("to-csv")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def to_csv(path: Path) -> None:
    """Print an instrument's items as CSV, one row per item, to draft in a spreadsheet."""
    from .loader import InstrumentInvalid, load_file
    from .spreadsheet import items_csv

    try:
        instrument = load_file(path)
    except InstrumentInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(1) from None
    click.echo(items_csv(instrument), nl=False)


@instruments_cli.command("from-csv")
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--into",
    "base",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The instrument file whose id, scale, scoring and actions the items join.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the YAML here (default: print it).",
)
def from_csv(csv_path: Path, base: Path, out: Path | None) -> None:
    """Make an instrument's YAML from a CSV of its items and the file named by --into.

    Nothing is written unless the result passes the check; every problem is
    printed as file:line: item: problem.
    """
    import yaml

    from .loader import InstrumentInvalid, parse_text
    from .spreadsheet import CsvInvalid, document_from_csv, to_yaml

    try:
        text = csv_path.read_text(encoding="utf-8-sig")
        document = yaml.safe_load(base.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise click.ClickException(str(error)) from None
    if not isinstance(document, dict):
        raise click.ClickException(f"{base} is not an instrument file")
    try:
        result = to_yaml(document_from_csv(text, str(csv_path), document))
        parse_text(result, str(out or csv_path.with_suffix(".yaml")))
    except (CsvInvalid, InstrumentInvalid) as invalid:
        for problem in invalid.problems:
            click.echo(str(problem))
        click.echo("Nothing written: fix the problems above first", err=True)
        raise click.exceptions.Exit(1) from None
    if out is None:
        click.echo(result, nl=False)
    else:
        out.write_text(result, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
