"""Reports: PDF content, page counts, metadata, the queue, the cache, the CLI."""

import io
import zipfile

import pytest
from markupsafe import escape
from pypdf import PdfReader
from support import GOVERNOR, HEAD, count_renders, ready_pdf, tagged_pdf, tags

from peerreview.cycles import service as cycles
from peerreview.db import ROOT
from peerreview.demo import cycles as demo_cycles
from peerreview.instruments import Library
from peerreview.plans import service as plans
from peerreview.reports import jobs
from peerreview.reports.cache import ReportCache
from peerreview.reports.render import render_document
from peerreview.reports.views import build_html


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _pdf(client, auth, kind, cid=2):
    if client.get("/sign-in").status_code == 200:
        auth.login(HEAD)
    response = auth.post(
        f"/cycles/{cid}/reports/{kind}.pdf", page=f"/cycles/{cid}/reports"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cycles/{cid}/reports/{kind}/status")
    return ready_pdf(client, f"/cycles/{cid}/reports/{kind}/status?format=json")


def test_team_report_says_what_it_should(demo_full, client, auth):
    pdf = _pdf(client, auth, "team")
    text = _text(pdf)
    cycle = cycles.get_cycle(demo_full, 2)
    results = plans.results_of(demo_full, cycle)
    plan = plans.get_plan(demo_full, cycle)
    assert "Northfield Primary School" in text
    assert f"Overall score {results['overall']['score']:.1f} out of 5" in text
    for name in ("Who took part", "Summary of results", "Priorities", "Note on method"):
        assert name in text
    flat = " ".join(text.split())
    for action in plan["actions"]:
        assert action["title"][:40] in flat
        assert action["owner_name"] in flat
    assert "OVERDUE" in flat  # the demo's at-risk action is past its date
    assert "What last cycle's plan achieved" in flat
    comparison = plans.peer_comparison(demo_full, cycle)
    assert "Self and peer review" in flat
    assert comparison["review"]["round_title"] in flat
    assert f"{abs(comparison['calibration']['mean']):.1f} points higher" in flat
    assert "Page 1 of" in text


def test_pdf_is_tagged_with_metadata(demo_full, client, auth):
    reader = tagged_pdf(
        _pdf(client, auth, "governors"),
        "Governors' summary: Northfield Primary School",
        "Northfield Primary School",
    )
    fonts = {
        str(f["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for f in page["/Resources"]["/Font"].values()
    }
    assert fonts and all(
        f.startswith("DejaVuSans") or f.startswith("DejaVu-Sans") for f in fonts
    ), fonts


def test_governors_summary_content(demo_full, client, auth):
    flat = " ".join(_text(_pdf(client, auth, "governors")).split())
    for heading in (
        "Headline",
        "Strengths",
        "Priorities",
        "Action plan status",
        "Next review",
    ):
        assert heading in flat
    assert "1 overdue" in flat
    assert (
        "Closing gaps in attainment, spring 2027: ratings close 14 March 2027" in flat
    )


def _agreed_cycle_with_full_plan(db, instrument, team_id, seed):
    cid = demo_cycles._run(
        db,
        instrument,
        team_id,
        state="agreed",
        bias=-0.8,
        seed=seed,
        title=f"{instrument.title}, test",
        created="2026-11-01",
        closes="2026-11-10",
    )
    cycle = cycles.get_cycle(db, cid)
    proposed = plans.proposals(plans.results_of(db, cycle), cycle["snapshot"])
    lead = demo_cycles._members(db, team_id)[0]
    plans.create_plan(db, cycle, [p["item_id"] for p in proposed], actor_id=lead)
    return cycle


@pytest.mark.parametrize(
    "instrument_id", sorted(p.stem for p in (ROOT / "instruments").glob("*.yaml"))
)
def test_governors_summary_fits_four_pages(demo_full, app, instrument_id):
    """Every shipped instrument, a low-scoring team, every priority in the plan."""
    instrument = Library(ROOT / "instruments").get(instrument_id)
    cycle = _agreed_cycle_with_full_plan(demo_full, instrument, 1, seed=5)
    with app.test_request_context():
        governors = render_document(build_html(demo_full, cycle, "governors"))
        team = render_document(build_html(demo_full, cycle, "team"))
    assert len(governors.pages) <= 4
    assert len(team.pages) >= len(governors.pages)


def test_demo_page_counts(demo_full, app):
    cycle = cycles.get_cycle(demo_full, 2)
    with app.test_request_context():
        # Two pages of findings and the carried actions, then the glossary.
        assert (
            len(render_document(build_html(demo_full, cycle, "governors")).pages) == 3
        )
        # The team report: cover and summary (with whether each change is
        # clear and the agreement table), items, peer review, the reviewers'
        # findings, evidence coverage and titles, plan, method.
        assert (
            5 <= len(render_document(build_html(demo_full, cycle, "team")).pages) <= 11
        )


def test_cache_hit_and_fresh_render_after_a_change(
    demo_full, client, auth, monkeypatch
):
    calls = count_renders(monkeypatch)
    first = _pdf(client, auth, "governors")
    again = _pdf(client, auth, "governors")
    assert calls == [1] and first == again
    cycle = cycles.get_cycle(demo_full, 2)
    action = plans.get_plan(demo_full, cycle)["actions"][0]
    # A note is not in the governors' summary, so it keeps the cached file...
    plans.add_note(
        demo_full, cycle, action["id"], "2026-11-21", "Moved on.", actor_id=1
    )
    kept = client.get("/cycles/2/reports/governors/status?format=json").get_json()
    assert kept["state"] == "ready"
    # ...but a change of status is, so the summary renders afresh.
    plans.update_action(
        demo_full, cycle, action["id"], {**action, "status": "done"}, actor_id=1
    )
    status = client.get("/cycles/2/reports/governors/status?format=json").get_json()
    assert status["state"] == "none"
    assert client.get("/cycles/2/reports/governors.pdf").status_code == 302
    fresh = _pdf(client, auth, "governors")
    assert len(calls) == 2 and fresh != first


def test_web_request_only_queues_and_the_worker_renders(
    demo_full, app, client, auth, tmp_path
):
    """With the real queue, the page enqueues and returns; the consumer renders."""
    app.config["HUEY_FILE"] = str(tmp_path / "jobs.db")
    jobs.huey.immediate = False
    jobs.huey.storage_kwargs["filename"] = app.config["HUEY_FILE"]
    jobs.huey.storage = jobs.huey.create_storage()
    try:
        auth.login(HEAD)
        response = auth.post(
            "/cycles/2/reports/governors.pdf", page="/cycles/2/reports"
        )
        assert response.status_code == 302
        assert jobs.huey.pending_count() == 1
        page = client.get("/cycles/2/reports/governors/status").get_data(as_text=True)
        assert "Waiting for the render worker" in page and "js/reports.js" in page
        assert "<script>" not in page
        # A second press while queued does not queue it twice.
        auth.post("/cycles/2/reports/governors.pdf", page="/cycles/2/reports")
        assert jobs.huey.pending_count() == 1
        task = jobs.huey.dequeue()
        jobs.huey.execute(task)
        status = client.get("/cycles/2/reports/governors/status?format=json").get_json()
        assert status["state"] == "ready"
        assert client.get(status["download"]).data.startswith(b"%PDF-")
    finally:
        jobs.huey.immediate = True


def test_failed_render_is_reported(demo_full, client, auth, monkeypatch):
    def broken(html, **kw):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(jobs, "render_pdf", broken)
    auth.login(HEAD)
    auth.post("/cycles/2/reports/team.pdf", page="/cycles/2/reports")
    status = client.get("/cycles/2/reports/team/status?format=json").get_json()
    assert status == {
        "state": "failed",
        "message": "RuntimeError: no fonts",
        "size": 0,
        "download": None,
    }
    assert "could not be made" in client.get("/cycles/2/reports/team/status").get_data(
        as_text=True
    )


def test_preview_is_the_same_document(demo_full, client, auth):
    auth.login(HEAD)
    html = client.get("/cycles/2/reports/team.html").get_data(as_text=True)
    assert tags(html, "link", rel="stylesheet", href="/static/print/report.css")
    assert "Note on method" in html and "<style>" in html  # the chart's print rules


def test_cli_writes_a_zip_of_summaries(demo_full, app, runner, tmp_path):
    out = tmp_path / "summaries.zip"
    result = runner.invoke(
        args=[
            "reports",
            "governors",
            "--partnership",
            "1",
            "--out",
            str(out),
            "--jobs",
            "2",
        ]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert len(names) >= 6
        assert all(archive.read(n).startswith(b"%PDF-") for n in names)
    assert "Wrote" in result.output
    again = runner.invoke(
        args=["reports", "governors", "--partnership", "1", "--out", str(out)]
    )
    assert f"0 rendered, {len(names)} from the cache" in again.output
    bad = runner.invoke(args=["reports", "governors", "--partnership", "nope"])
    assert bad.exit_code != 0 and "no partnership" in bad.output


def test_cache_keeps_states(tmp_path):
    cache = ReportCache(tmp_path)
    assert cache.state("k")["state"] == "none"
    cache.mark("k", "queued")
    assert cache.state("k")["state"] == "queued"
    cache.put("k", b"%PDF-1.7")
    assert cache.state("k") == {"state": "ready", "message": "", "size": 8}


def test_governors_never_see_a_small_groups_ratings_in_a_report(
    demo_full, client, auth
):
    db = demo_full
    # A named (not anonymous) cycle where only two people rated the first item.
    db.execute("UPDATE cycles SET anonymous = 0 WHERE id = 2")
    first = cycles.get_cycle(db, 2)["snapshot"].item_ids[0]
    keep = [
        r[0]
        for r in db.execute(
            "SELECT respondent_id FROM responses WHERE cycle_id = 2 AND item_id = ? "
            "AND value IS NOT NULL ORDER BY respondent_id LIMIT 2",
            [first],
        )
    ]
    db.execute(
        "DELETE FROM responses WHERE cycle_id = 2 AND item_id = ? "
        f"AND respondent_id NOT IN ({','.join('?' * len(keep))})",
        [first, *keep],
    )
    db.conn.commit()

    def first_row(html):
        table = html.split("<h2>Item by item</h2>", 1)[1]
        return table.split('<td class="num">1</td>', 1)[1].split("</tr>", 1)[0]

    auth.login(GOVERNOR)
    team = client.get("/cycles/2/reports/team.html").get_data(as_text=True)
    row = first_row(team)
    assert row.count("—") >= 3  # median, spread, agreement all withheld
    auth.logout()
    auth.login(HEAD)
    mine = client.get("/cycles/2/reports/team.html").get_data(as_text=True)
    assert first_row(mine).count("—") < 3  # the team itself sees its figures


def test_team_report_ranks_its_first_ten_priorities(demo_full, app):
    """A low-scoring team: the report ranks ten and points to the rest."""
    instrument = Library(ROOT / "instruments").get("mat-governance")
    cycle = _agreed_cycle_with_full_plan(demo_full, instrument, 1, seed=5)
    with app.test_request_context():
        html = build_html(demo_full, cycle, "team")
        governors = build_html(demo_full, cycle, "governors")
    from peerreview.results.service import cycle_results

    every = cycle_results(demo_full, cycle)["priorities"]
    listed = html.split("<h2>Priorities</h2>", 1)[1].split("</ol>", 1)[0]
    assert listed.count("<li>") == min(10, len(every))
    assert str(escape(every[0]["statement"])) in listed
    assert len(every) > 10
    assert f"The first 10 of {len(every)}" in html
    assert (
        f"{len(every) - 5} further priorities are not listed here: the team report "
        f"lists the first 10 of all {len(every)}, and the results page in the "
        "platform every one" in governors
    )
    # A long plan: governors read its first actions and where the rest are.
    actions = len(plans.get_plan(demo_full, cycle)["actions"])
    assert actions > 20
    assert f"the first 20 of {actions} actions" in governors
    assert f"{actions - 20} further actions, numbers 21 to {actions}," in governors


def test_governors_summary_explains_its_words(demo_full, app):
    with app.test_request_context():
        html = build_html(demo_full, cycles.get_cycle(demo_full, 2), "governors")
    glossary = html.split("Words used in this summary", 1)[1]
    for word in ("Split", "Steps apart", "Agreement index", "FSM"):
        assert f"<dt>{word}</dt>" in glossary


def test_item_table_shows_change_only_against_an_earlier_cycle(demo_full, app):
    """A first cycle's item table has no Change column (it would be all dashes)."""
    instrument = Library(ROOT / "instruments").get("mat-governance")
    first = _agreed_cycle_with_full_plan(demo_full, instrument, 1, seed=5)
    later = cycles.get_cycle(demo_full, 2)
    assert plans.results_of(demo_full, later)["previous_cycle"]
    with app.test_request_context():
        items = {
            name: build_html(demo_full, cycle, "team")
            .split("<h2>Item by item</h2>", 1)[1]
            .split("</table>", 1)[0]
            for name, cycle in (("first", first), ("later", later))
        }
    assert "Change</th>" not in items["first"]
    assert "spread of the team's ratings for every item" in items["first"]
    assert "Change</th>" in items["later"]
    assert "and change for every item" in items["later"]
