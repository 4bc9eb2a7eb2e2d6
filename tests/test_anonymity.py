"""The proof that below three ratings nothing lets a person's rating be worked out.

Anonymous self-evaluations rated by 1, 2 and 3 people, and named peer
reviews by 1, 2 and 3 reviewers, get unique ratings and unique comments.
Every GET route of the app that can show something of those cycles is
fetched as every kind of person, exports are read cell by cell, and then
the other people's ratings and comments are changed and everything is
fetched again. Where the rule promises protection, nothing may change and
no one else's comment may appear. The same crawl run with the rule
switched off must find the leaks, and must see the ratings of the
three-rater cycle, or it would prove nothing.
"""

import csv
import io
import re

import pytest
from cycle_support import ASCL, make_cycle, team_people
from flask import url_for
from openpyxl import load_workbook
from support import Auth

from peerreview import anonymity
from peerreview.cycles import service as cycles
from peerreview.instruments import load_file
from peerreview.peer import service as peer

VOLATILE = re.compile(
    r'(name="csrf_token"[^>]*value=")[^"]+|(data-csrf=")[^"]+|(nonce=")[^"]+'
    r'|("token":\s*")[^"]+'
)
FILLED = {"cid", "fmt", "kind", "tid", "sid", "pid", "rid"}


def _normal(response) -> str:
    """Return what a person gets from a URL, as text that can be compared."""
    head = f"{response.status_code} {response.headers.get('Location', '')}\n"
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        cells = [
            repr(row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        ]
        return head + "\n".join(cells)
    text = response.get_data(as_text=True)
    return head + VOLATILE.sub(lambda m: next(g for g in m.groups() if g), text)


def _urls(app, cycle: dict, ids: dict) -> list[str]:
    """Every GET route of the app that takes only ids this cycle has, filled in."""
    values = {
        "cid": [cycle["id"]],
        "fmt": ["csv", "xlsx"],
        "kind": ["team", "governors"],
        "tid": [cycle["team_id"]],
        "sid": [ids["school"]],
        "pid": [ids["partnership"]],
        "rid": [ids["round"]] if ids.get("round") else [],
    }
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.endpoint == "auth.login" or rule.rule.endswith(".pdf"):
            continue  # the PDFs are read in test_pdf_text_keeps_small_groups_out
        if not set(rule.arguments) <= FILLED:
            continue
        combos = [{}]
        for arg in sorted(rule.arguments):
            combos = [{**c, arg: v} for c in combos for v in values[arg]]
        with app.test_request_context():
            for args in combos:
                try:
                    urls.add(url_for(rule.endpoint, **args))
                except Exception:  # a converter refused the value
                    continue
    return sorted(urls)


def _crawl(client, urls) -> dict[str, str]:
    return {url: _normal(client.get(url)) for url in urls}


def _answers(db, cycle_id):
    return db.execute(
        "SELECT respondent_id, item_id, value, comment, evidence FROM responses "
        "WHERE cycle_id = ?",
        [cycle_id],
    ).fetchall()


def _change_others(db, cycle, viewer_id, points):
    """Move everyone else's ratings one point round the scale; reword their notes."""
    for uid, item_id, value, comment, evidence in _answers(db, cycle["id"]):
        if uid == viewer_id or value not in points:
            continue
        moved = points[(points.index(value) + 1) % len(points)]
        db.execute(
            "UPDATE responses SET value = ?, comment = ?, evidence = ? "
            "WHERE cycle_id = ? AND respondent_id = ? AND item_id = ?",
            [
                moved,
                comment + " (reworded)",
                evidence + " (reworded)",
                cycle["id"],
                uid,
                item_id,
            ],
        )


def _restore(db, cycle, rows):
    for uid, item_id, value, comment, evidence in rows:
        db.execute(
            "UPDATE responses SET value = ?, comment = ?, evidence = ? "
            "WHERE cycle_id = ? AND respondent_id = ? AND item_id = ?",
            [value, comment, evidence, cycle["id"], uid, item_id],
        )


def _plant(db, cycle, raters):
    """Give each rater unique ratings and unique comments on every item."""
    points = [p["code"] for p in cycle["snapshot"].points]
    for r, uid in enumerate(raters):
        for i, item_id in enumerate(cycle["snapshot"].item_ids):
            cycles.save_answer(
                db,
                cycle,
                uid,
                item_id,
                value=points[(2 * r + i) % len(points)],
                comment=f"planted-comment-c{cycle['id']}-u{uid}-{item_id}",
                evidence=f"planted-evidence-c{cycle['id']}-u{uid}-{item_id}",
                base_revision=0,
            )


def _email(db, uid):
    return db.execute("SELECT email FROM users WHERE id = ?", [uid]).fetchone()[0]


@pytest.fixture
def world(demo, db):
    """Anonymous self cycles and named peer cycles of 1, 2 and 3 raters."""
    lead, members = team_people(db, 1)
    school = db.execute("SELECT school_id FROM teams WHERE id = 1").fetchone()[0]
    partnership = db.execute(
        "SELECT partnership_id FROM partnership_schools WHERE school_id = ? "
        "ORDER BY partnership_id LIMIT 1",
        [school],
    ).fetchone()[0]
    governor = db.execute(
        "SELECT user_id FROM roles WHERE role = 'governor' AND scope_type = 'school' "
        "AND scope_id = ?",
        [school],
    ).fetchone()[0]
    director = db.execute(
        "SELECT user_id FROM roles WHERE role = 'partnership_lead' AND scope_id = ?",
        [partnership],
    ).fetchone()[0]
    admin = db.execute("SELECT id FROM users WHERE is_admin = 1").fetchone()[0]
    outside = {"governor": governor, "partnership lead": director, "admin": admin}
    cases = []
    # Self-evaluations: the whole team is asked, 1, 2 or 3 of them rate.
    for k in (1, 2, 3):
        for state in ("moderation", "agreed"):
            cycle = make_cycle(db, 1, state="open", anonymous=True)
            raters = members[:k]
            _plant(db, cycle, raters)
            cycles.transition(db, cycle, "moderation", actor_id=lead)
            if state == "agreed":
                for item_id in cycle["snapshot"].item_ids:
                    cycles.record_agreed(
                        db,
                        cycle,
                        item_id,
                        value="3",
                        rationale="agreed reasons",
                        deferred=False,
                        actor_id=lead,
                    )
                cycles.transition(db, cycle, "agreed", actor_id=lead)
            viewers = {
                "lead": lead,
                "rater": raters[0],
                "respondent who did not rate": members[-1],
                **outside,
            }
            cases.append(
                {
                    "name": f"anonymous self-evaluation, {k} rater(s), {state}",
                    "cycle": cycles.get_cycle(db, cycle["id"]),
                    "k": k,
                    "viewers": viewers,
                    # Anonymous: everyone is protected.
                    "protected": set(viewers),
                    "ids": {"school": school, "partnership": partnership},
                }
            )
    # Peer reviews of this school (named): 1, 2 or 3 reviewers from elsewhere.
    own = make_cycle(db, 1, state="agreed")
    assert own["state"] == "agreed"
    eligible = [r["id"] for r in peer.eligible_reviewers(db, partnership, school)]
    instrument = load_file(ASCL)
    for k in (1, 2, 3):
        reviewers = eligible[:k]
        rid = peer.plan_round(
            db,
            partnership_id=partnership,
            instrument=instrument,
            title=f"Round of {k}",
            starts_on=None,
            ends_on=None,
            hosts=[
                {
                    "school_id": school,
                    "reviewer_ids": reviewers,
                    "lead_id": reviewers[0],
                }
            ],
            actor_id=director,
        )
        cid = peer.round_reviews(db, rid)[0]["cycle_id"]
        cycle = cycles.get_cycle(db, cid)
        _plant(db, cycle, reviewers)
        cycles.transition(db, cycle, "moderation", actor_id=reviewers[0])
        for item_id in cycle["snapshot"].item_ids:
            cycles.record_agreed(
                db,
                cycle,
                item_id,
                value="2",
                rationale="the reviewers' reasons",
                deferred=False,
                actor_id=reviewers[0],
            )
        cycles.transition(db, cycle, "agreed", actor_id=reviewers[0])
        viewers = {
            "lead reviewer": reviewers[0],
            "host lead": lead,
            "host member": members[0],
            **outside,
        }
        cases.append(
            {
                "name": f"named peer review, {k} reviewer(s)",
                "cycle": cycles.get_cycle(db, cid),
                "k": k,
                "viewers": viewers,
                # Named: the reviewers see each other; everyone else is protected.
                "protected": set(viewers) - {"lead reviewer"},
                "ids": {"school": school, "partnership": partnership, "round": rid},
            }
        )
    return cases


def _leaks(app, db, case) -> list[str]:
    """Return what each protected viewer could learn of someone else's ratings."""
    cycle = case["cycle"]
    points = [p["code"] for p in cycle["snapshot"].points]
    urls = _urls(app, cycle, case["ids"])
    original = _answers(db, cycle["id"])
    found = []
    for who in sorted(case["protected"]):
        uid = case["viewers"][who]
        client = app.test_client()
        assert Auth(client).login(_email(db, uid)).status_code == 302
        before = _crawl(client, urls)
        secrets = [
            text
            for rater, _, _, comment, evidence in original
            if rater != uid
            for text in (comment, evidence)
        ]
        _change_others(db, cycle, uid, points)
        try:
            after = _crawl(client, urls)
        finally:
            _restore(db, cycle, original)
        for url in urls:
            if before[url] != after[url]:
                found.append(f"{who}: {url} changes with others' ratings")
            if any(s in before[url] for s in secrets):
                found.append(f"{who}: {url} shows someone else's comment")
    return found


def test_nothing_below_three_ratings_reaches_anyone(app, db, world):
    crawled = 0
    for case in world:
        if case["k"] >= anonymity.MIN_GROUP:
            continue
        leaks = _leaks(app, db, case)
        assert not leaks, case["name"] + ":\n" + "\n".join(leaks)
        crawled += 1
    assert crawled == 6


@pytest.mark.slow
def test_the_same_crawl_finds_the_leaks_with_the_rule_off(app, db, world, monkeypatch):
    monkeypatch.setattr(anonymity, "ENFORCED", False)
    for case in world:
        if case["k"] >= anonymity.MIN_GROUP:
            continue
        leaks = _leaks(app, db, case)
        assert leaks, f"the crawl found nothing in {case['name']} with the rule off"
    by_name = {c["name"]: c for c in world}
    two = _leaks(app, db, by_name["anonymous self-evaluation, 2 rater(s), moderation"])
    assert any("/moderate" in leak for leak in two)
    assert any("/ratings.csv" in leak for leak in two)
    peer_two = _leaks(app, db, by_name["named peer review, 2 reviewer(s)"])
    assert any(
        leak.startswith("host lead:") and "/results" in leak for leak in peer_two
    )


@pytest.mark.slow
def test_the_crawl_sees_ratings_where_three_people_rated(app, db, world):
    # With three raters the ratings are shown, so the crawl sees them change:
    # proof that a silent crawl below three means they are not there.
    for case in world:
        if case["k"] < anonymity.MIN_GROUP:
            continue
        leaks = _leaks(app, db, case)
        if case["cycle"]["kind"] == "self":
            assert any("/moderate" in leak for leak in leaks), case["name"]
        assert any("/results" in leak for leak in leaks), case["name"]


def test_an_anonymous_cycle_needs_three_people(demo, db):
    lead, members = team_people(db, 1)
    with pytest.raises(cycles.CycleError, match="at least 3 people"):
        cycles.create_cycle(
            db,
            instrument=load_file(ASCL),
            team_id=1,
            respondent_ids=[lead, members[0]],
            closes_on=None,
            anonymous=True,
            actor_id=lead,
        )
    # A named cycle of two is the lead's choice.
    assert cycles.create_cycle(
        db,
        instrument=load_file(ASCL),
        team_id=1,
        respondent_ids=[lead, members[0]],
        closes_on=None,
        anonymous=False,
        actor_id=lead,
    )


def test_letters_are_shuffled_per_cycle_and_kept(demo, db):
    lead, members = team_people(db, 1)
    people = sorted([lead, *members])
    from peerreview.cycles.moderation import letters

    seen = set()
    for _ in range(12):
        cycle = make_cycle(db, 1, state="open", anonymous=True)
        given = letters(db, cycle)
        assert sorted(given.values()) == [chr(65 + n) for n in range(len(people))]
        assert letters(db, cycle) == given  # kept
        seen.add(tuple(given[uid] for uid in people))
    # Twelve cycles of 5+ people in account order would give one pattern.
    assert len(seen) > 1


def test_comments_of_an_anonymous_cycle_carry_no_letter(app, db, world):
    case = next(c for c in world if c["name"].startswith("anonymous") and c["k"] == 3)
    cycle = case["cycle"]
    client = app.test_client()
    Auth(client).login(_email(db, case["viewers"]["lead"]))
    page = client.get(f"/cycles/{cycle['id']}/moderate").get_data(as_text=True)
    assert "planted-comment" in page
    assert "Not attributed, in no particular order." in page
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/cycles/{cycle['id']}/ratings.csv").get_data(as_text=True)
            )
        )
    )
    for row in rows[1:]:
        if "planted-comment" in row[7]:
            assert row[0] == "Not attributed" and row[5] == ""


def test_the_form_refuses_an_anonymous_cycle_of_two(demo, db, client):
    lead, members = team_people(db, 1)
    auth = Auth(client)
    auth.login(_email(db, lead))
    response = auth.post(
        "/teams/1/cycles/new",
        {
            "instrument": "ascl-closing-gaps",
            "respondents": [lead, members[0]],
            "anonymous": "anonymous",
        },
    )
    assert response.status_code == 400
    assert "Choose at least 3 people to rate an anonymous cycle" in response.get_data(
        as_text=True
    )
    assert db.execute("SELECT count(*) FROM cycles").fetchone()[0] == 0


def test_respondents_see_the_kind_of_cycle_before_rating(demo, db, client):
    lead, members = team_people(db, 1)
    cycle = make_cycle(db, 1, state="open", anonymous=True)
    auth = Auth(client)
    auth.login(_email(db, members[0]))
    page = client.get(f"/cycles/{cycle['id']}/rate").get_data(as_text=True)
    assert "Anonymous cycle" in page and "a letter drawn at random" in page


@pytest.mark.slow
def test_pdf_text_keeps_small_groups_out(app, db, world):
    from pypdf import PdfReader

    from peerreview.reports.render import render_pdf
    from peerreview.reports.views import build_html

    def texts(cycle):
        out = {}
        for viewer in (anonymity.INSIDE, anonymity.OUTSIDE):
            for kind in ("team", "governors"):
                with app.test_request_context():
                    html = build_html(
                        db, cycles.get_cycle(db, cycle["id"]), kind, viewer=viewer
                    )
                pdf = PdfReader(io.BytesIO(render_pdf(html)))
                out[(viewer, kind)] = "\n".join(p.extract_text() for p in pdf.pages)
        return out

    for case in world:
        cycle = case["cycle"]
        if case["k"] >= 3 or cycle["kind"] != "self" or cycle["state"] != "agreed":
            continue
        original = _answers(db, cycle["id"])
        before = texts(cycle)
        _change_others(db, cycle, None, [p["code"] for p in cycle["snapshot"].points])
        try:
            after = texts(cycle)
        finally:
            _restore(db, cycle, original)
        assert before == after, case["name"]
        assert "planted-" not in "".join(before.values())
