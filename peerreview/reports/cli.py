"""``flask reports governors --partnership …``: every school's summary in one zip."""

import concurrent.futures
import multiprocessing
import os
import time
import zipfile

import click
from flask import current_app
from flask.cli import AppGroup

from ..cycles import service as cycles
from ..db import connect
from .cache import ReportCache, report_key
from .jobs import cache_folder
from .render import preload, render_pdf

reports_cli = AppGroup("reports", help="Render reports from the command line.")


def latest_agreed_cycles(db, partnership) -> list[int]:
    """Return each team's latest agreed self-evaluation under a partnership."""
    rows = db.execute(
        """
        SELECT c.team_id, max(c.id) FROM cycles c JOIN teams t ON t.id = c.team_id
        WHERE c.kind = 'self' AND c.state IN ('agreed', 'closed') AND (
          t.partnership_id = :p OR t.school_id IN
            (SELECT school_id FROM partnership_schools WHERE partnership_id = :p))
        GROUP BY c.team_id ORDER BY c.team_id
        """,
        {"p": partnership["id"]},
    ).fetchall()
    return [r[1] for r in rows]


def _find_partnership(db, ref: str) -> dict | None:
    rows = list(
        db.query(
            "SELECT * FROM partnerships WHERE CAST(id AS TEXT) = ? OR name = ?",
            [ref, ref],
        )
    )
    return rows[0] if rows else None


def _render(args):
    html, title, author = args
    return render_pdf(html, title=title, author=author)


@reports_cli.command("governors")
@click.option("--partnership", "ref", required=True, help="Partnership id or name.")
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="Zip file to write."
)
@click.option(
    "--jobs", type=int, default=min(4, os.cpu_count() or 1), show_default=True
)
def governors_command(ref, out, jobs):
    """Write the governors' summary of every team's latest agreed cycle to a zip."""
    from .views import build_html

    db = connect(current_app.config["DATABASE"])
    partnership = _find_partnership(db, ref)
    if partnership is None:
        raise click.BadParameter(f"no partnership {ref!r}", param_hint="--partnership")
    cycle_ids = latest_agreed_cycles(db, partnership)
    if not cycle_ids:
        raise click.ClickException("No team in that partnership has an agreed cycle.")
    out = out or f"governors-summaries-partnership-{partnership['id']}.zip"
    cache = ReportCache(cache_folder(current_app))
    started = time.perf_counter()
    work, names = {}, {}
    with current_app.test_request_context():
        for cid in cycle_ids:
            cycle = cycles.get_cycle(db, cid)
            html = build_html(db, cycle, "governors")
            org = cycle["school_name"] or cycle["team_name"]
            key = report_key("governors", html)
            work[key] = (html, f"Governors' summary: {org}", org)
            safe = "".join(c if c.isalnum() else "-" for c in org).strip("-").lower()
            names[key] = f"{safe}-cycle-{cid}-governors-summary.pdf"
    todo = [k for k in work if cache.get(k) is None]
    # Forked renderers start with WeasyPrint imported and the stylesheet parsed.
    preload()
    fork = multiprocessing.get_context("fork")
    with (
        concurrent.futures.ProcessPoolExecutor(
            max_workers=max(1, jobs), mp_context=fork
        ) as pool,
        click.progressbar(length=len(work), label="Rendering summaries") as bar,
    ):
        bar.update(len(work) - len(todo))
        futures = {pool.submit(_render, work[k]): k for k in todo}
        for future in concurrent.futures.as_completed(futures):
            cache.put(futures[future], future.result())
            bar.update(1)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for key, name in names.items():
            archive.writestr(name, cache.get(key))
    click.echo(
        f"Wrote {len(names)} summaries ({len(todo)} rendered, "
        f"{len(names) - len(todo)} from the cache) to {out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
