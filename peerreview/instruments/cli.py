"""Command line for instruments: `flask instruments check [PATH...]`."""

from pathlib import Path

import click

from .loader import check_paths, load_file

# The instruments folder at the repository root, next to the package.
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "instruments"

instruments_cli = click.Group("instruments", help="Check the instrument files.")


@instruments_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate instrument files (default: every file in instruments/)."""
    targets = list(paths) or [DEFAULT_FOLDER]
    files = [
        file
        for target in targets
        for file in (sorted(target.glob("*.yaml")) if target.is_dir() else [target])
    ]
    problems = check_paths(files)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        broken = len({problem.file for problem in problems})
        click.echo(
            f"{len(problems)} problem(s) in {broken} of {len(files)} file(s)", err=True
        )
        raise click.exceptions.Exit(1)
    items = sum(load_file(file).item_count for file in files)
    click.echo(f"OK: {len(files)} instrument file(s), {items} items, no problems")
