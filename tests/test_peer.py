"""Peer review: assignment rules, the peer cycle flow, visibility order, gaps."""

import logging
import re
from html import unescape

import pytest
from cycle_support import ASCL
from support import HEAD, TRUST_LEAD, user_id

from peerreview.cycles import service as cycles
from peerreview.cycles.service import Snapshot
from peerreview.instruments import load_file
from peerreview.peer import service as peer

TRUST = 1
NORTHFIELD = 1  # school 1, team 1
RIVERSIDE_HEAD = "headteacher@riversideinfant.example.org"
CASTLE_HEAD = "headteacher@castlehillacademy.example.org"
KIRKBY_HEAD = "headteacher@kirkbylonsdaleprimar.example.org"  # cluster only


@pytest.fixture
def ascl():
    return load_file(ASCL)


def _plan(db, ascl, reviewers, lead=None, school_id=NORTHFIELD, title="Spring visits"):
    ids = [user_id(db, e) for e in reviewers]
    return peer.plan_round(
        db,
        partnership_id=TRUST,
        instrument=ascl,
        title=title,
        starts_on="2027-02-01",
        ends_on="2027-02-28",
        hosts=[
            {
                "school_id": school_id,
                "reviewer_ids": ids,
                "lead_id": user_id(db, lead) if lead else ids[0],
            }
        ],
        actor_id=user_id(db, TRUST_LEAD),
    )


def _peer_cycle(db, round_id):
    cid = db.execute(
        "SELECT cycle_id FROM peer_reviews WHERE round_id = ?", [round_id]
    ).fetchone()[0]
    return cycles.get_cycle(db, cid)


def _complete(db, cycle, value="2", rationale="Seen in books"):
    """Rate every item by every reviewer, moderate and agree (through cycles.service)."""
    for uid in sorted(cycle["respondent_ids"]):
        for item_id in cycle["snapshot"].item_ids:
            cycles.save_answer(
                db,
                cycle,
                uid,
                item_id,
                value=value,
                evidence="Book look",
                base_revision=0,
            )
        cycles.submit(db, cycle, uid)
    lead = cycle["lead_id"]
    cycles.transition(db, cycle, "moderation", actor_id=lead)
    for item_id in cycle["snapshot"].item_ids:
        cycles.record_agreed(
            db,
            cycle,
            item_id,
            value=value,
            rationale=rationale,
            deferred=False,
            actor_id=lead,
        )
    cycles.transition(db, cycle, "agreed", actor_id=lead)


# Assignment rules ------------------------------------------------------------------


def test_a_peer_review_is_titled_by_its_round_and_names_the_school_once(
    demo_full, ascl, client, auth
):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD])
    cycle = _peer_cycle(db, rid)
    assert cycle["title"] == "Spring visits"
    auth.login(RIVERSIDE_HEAD)
    for url in (f"/cycles/{cycle['id']}", f"/cycles/{cycle['id']}/rate"):
        html = client.get(url).get_data(as_text=True)
        top = html.split('<span class="govuk-caption-l">', 1)[1].split("</h1>", 1)[0]
        assert top.count("Northfield Primary School") == 1, url
        assert "Spring visits" in top


def test_reviews_titled_before_lose_the_school_from_their_title(demo_full):
    from migrations.migrations import m016_peer_titles_without_school

    db = demo_full
    db.execute(
        "UPDATE cycles SET title = title || ': peer review of Northfield Primary "
        "School' WHERE id = 21"
    )
    m016_peer_titles_without_school(db)
    (title,) = db.execute("SELECT title FROM cycles WHERE id = 21").fetchone()
    assert title == peer.get_round(db, 1)["title"]


def test_a_planned_round_opens_a_peer_cycle_for_the_host(demo_full, ascl):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD, CASTLE_HEAD], lead=CASTLE_HEAD)
    cycle = _peer_cycle(db, rid)
    assert cycle["kind"] == "peer"
    assert cycle["state"] == "open"
    assert cycle["team_id"] == 1
    assert cycle["partnership_id"] == TRUST
    assert cycle["peer_round_id"] == rid
    assert cycle["lead_id"] == user_id(db, CASTLE_HEAD)
    assert cycle["respondent_ids"] == {
        user_id(db, RIVERSIDE_HEAD),
        user_id(db, CASTLE_HEAD),
    }
    review = peer.review_of_cycle(db, cycle["id"])
    own = peer.latest_self_cycle(db, 1, ascl.id)
    assert review["self_cycle_id"] == own["id"]


@pytest.mark.parametrize(
    "reviewers, lead, message",
    [
        ([HEAD], None, "own school"),  # the host's own head
        ([RIVERSIDE_HEAD, HEAD], RIVERSIDE_HEAD, "own school"),
        ([KIRKBY_HEAD], None, "other schools in this partnership"),
        (["admin@peerreview.example.org"], None, "other schools in this partnership"),
        ([RIVERSIDE_HEAD], CASTLE_HEAD, "lead reviewer"),
        ([], None, "at least one reviewer"),
    ],
)
def test_assignment_rules_refuse_and_change_nothing(
    demo_full, ascl, reviewers, lead, message
):
    db = demo_full
    before = db.execute("SELECT count(*) FROM cycles").fetchone()[0]
    ids = [user_id(db, e) for e in reviewers]
    with pytest.raises(peer.PeerError, match=message):
        peer.plan_round(
            db,
            partnership_id=TRUST,
            instrument=ascl,
            title="Bad",
            starts_on=None,
            ends_on=None,
            hosts=[
                {
                    "school_id": NORTHFIELD,
                    "reviewer_ids": ids,
                    "lead_id": user_id(db, lead) if lead else (ids[0] if ids else None),
                }
            ],
            actor_id=user_id(db, TRUST_LEAD),
        )
    assert db.execute("SELECT count(*) FROM cycles").fetchone()[0] == before
    assert db.execute("SELECT count(*) FROM peer_rounds").fetchone()[0] == 2


def test_host_must_be_in_the_partnership(demo_full, ascl):
    db = demo_full
    kirkby = db.execute("SELECT id FROM schools WHERE urn = '119007'").fetchone()[0]
    with pytest.raises(peer.PeerError, match="schools of this partnership"):
        _plan(db, ascl, [RIVERSIDE_HEAD], school_id=kirkby)


def test_eligible_reviewers_are_other_schools_leaders_only(demo_full):
    db = demo_full
    people = peer.eligible_reviewers(db, TRUST, NORTHFIELD)
    emails = {
        r[0]
        for r in db.execute(
            f"SELECT email FROM users WHERE id IN ({','.join(str(p['id']) for p in people)})"
        )
    }
    assert RIVERSIDE_HEAD in emails
    assert HEAD not in emails
    assert KIRKBY_HEAD not in emails
    assert all(p["school_id"] != NORTHFIELD for p in people)


def test_plan_page_refuses_a_self_review_with_a_message(
    demo_full, auth, client, caplog
):
    db = demo_full
    auth.login(TRUST_LEAD)
    head = user_id(db, HEAD)
    before = db.execute("SELECT count(*) FROM peer_rounds").fetchone()[0]
    with caplog.at_level(logging.WARNING):
        response = auth.post(
            "/partnerships/1/peer-rounds/new",
            {
                "title": "Spring visits",
                "instrument": "ascl-closing-gaps",
                "host_1": "y",
                "reviewers_1": [str(head)],
                "lead_1": str(head),
            },
        )
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)
    assert "own school" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM peer_rounds").fetchone()[0] == before
    assert "refused peer round" in caplog.text


def test_plan_page_creates_the_round(demo_full, auth, client):
    db = demo_full
    auth.login(TRUST_LEAD)
    page = client.get("/partnerships/1/peer-rounds/new").get_data(as_text=True)
    assert "Plan a peer-review round" in page
    riverside = user_id(db, RIVERSIDE_HEAD)
    response = auth.post(
        "/partnerships/1/peer-rounds/new",
        {
            "title": "Spring visits",
            "instrument": "ascl-closing-gaps",
            "host_1": "y",
            "reviewers_1": [str(riverside)],
            "lead_1": str(riverside),
        },
    )
    assert response.status_code == 302
    rid = int(response.headers["Location"].rsplit("/", 1)[1])
    round_page = client.get(f"/peer-rounds/{rid}").get_data(as_text=True)
    assert "Northfield Primary School" in round_page
    assert "Open for ratings" in round_page


def test_plan_page_offers_only_instruments_for_a_school_and_refuses_others(
    demo_full, auth, client, caplog
):
    db = demo_full
    auth.login(TRUST_LEAD)
    page = unescape(client.get("/partnerships/1/peer-rounds/new").get_data(True))
    listed = set(re.findall(r'<option value="([a-z0-9-]+)"', page))
    assert "ascl-closing-gaps" in listed and "partnership-maturity" in listed
    assert "mat-governance" not in listed  # for a trust board
    assert "Instruments for a trust board are not." in page
    # A trust board's instrument posted by hand is refused, said and logged.
    riverside = user_id(db, RIVERSIDE_HEAD)
    before = db.execute("SELECT count(*) FROM peer_rounds").fetchone()[0]
    with caplog.at_level(logging.WARNING):
        response = auth.post(
            "/partnerships/1/peer-rounds/new",
            {
                "title": "Spring visits",
                "instrument": "mat-governance",
                "host_1": "y",
                "reviewers_1": [str(riverside)],
                "lead_1": str(riverside),
            },
        )
    text = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "There is a problem" in text
    assert (
        "“MAT governance self-assessment” is for a trust board, not for a peer "
        "review of a school" in text
    )
    assert db.execute("SELECT count(*) FROM peer_rounds").fetchone()[0] == before
    assert "refused peer round" in caplog.text and "mat-governance" in caplog.text


# The peer cycle runs on the cycles code, and the visibility order --------------------


def test_visibility_order(demo_full, ascl, auth, client):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD, CASTLE_HEAD], lead=CASTLE_HEAD)
    cycle = _peer_cycle(db, rid)
    cid = cycle["id"]
    url = f"/cycles/{cid}/self-vs-peer"

    # A reviewer rates through the ordinary rating page and cannot see the
    # host's self-evaluation, nor the moderation before it starts.
    auth.login(RIVERSIDE_HEAD)
    assert client.get(f"/cycles/{cid}/rate").status_code == 200
    assert client.get("/cycles/2").status_code == 404  # host's own agreed cycle
    assert client.get("/cycles/2/moderate").status_code == 404
    page = client.get(url).get_data(as_text=True)
    assert "have not agreed" in page and "Agreed self score" not in page
    auth.logout()

    # The host sees neither the peer cycle nor the peer scores.
    auth.login(HEAD)
    assert client.get(f"/cycles/{cid}").status_code == 404
    assert client.get(f"/cycles/{cid}/moderate").status_code == 404
    page = client.get(url).get_data(as_text=True)
    assert "have not agreed" in page and "Agreed peer score" not in page
    auth.logout()

    # In moderation the reviewers see each other's ratings, still not the host's.
    for uid in sorted(cycle["respondent_ids"]):
        for item_id in cycle["snapshot"].item_ids:
            cycles.save_answer(db, cycle, uid, item_id, value="2", base_revision=0)
    cycles.transition(db, cycle, "moderation", actor_id=cycle["lead_id"])
    auth.login(RIVERSIDE_HEAD)
    assert client.get(f"/cycles/{cid}/moderate").status_code == 200
    assert "Agreed self score" not in client.get(url).get_data(as_text=True)
    auth.logout()
    auth.login(HEAD)
    assert "Agreed peer score" not in client.get(url).get_data(as_text=True)
    auth.logout()

    # The lead reviewer agrees through the ordinary moderation page.
    auth.login(CASTLE_HEAD)
    for item_id in cycle["snapshot"].item_ids:
        response = auth.post(
            f"/cycles/{cid}/agree/{item_id}",
            {"value": "2", "rationale": "Seen in books"},
            page=f"/cycles/{cid}/moderate",
        )
        assert response.status_code == 302
    response = auth.post(
        f"/cycles/{cid}/state", {"to": "agreed"}, page=f"/cycles/{cid}"
    )
    assert cycles.get_cycle(db, cid)["state"] == "agreed"
    auth.logout()

    for who in (HEAD, RIVERSIDE_HEAD, TRUST_LEAD):
        auth.login(who)
        page = client.get(url).get_data(as_text=True)
        assert "Agreed self score" in page and "Agreed peer score" in page
        assert "Seen in books" in page
        auth.logout()


# Gaps and calibration on hand-worked data ---------------------------------------------


def _snapshot(reverse=False):
    return Snapshot(
        {
            "scale": {
                "kind": "agreement",
                "points": [
                    {"code": str(n), "value": n, "label": f"L{n}"} for n in range(1, 6)
                ],
                "not_applicable": True,
            },
            "sections": [
                {
                    "id": "s",
                    "title": "S",
                    "items": [
                        {"id": "a", "statement": "A"},
                        {"id": "b", "statement": "B"},
                        {"id": "c", "statement": "C"},
                        {"id": "d", "statement": "D"},
                        {"id": "e", "statement": "E", "reverse": reverse},
                    ],
                }
            ],
        }
    )


def _agreed(**codes):
    return {
        k: {"value": v, "deferred": v is None, "rationale": f"why {k}"}
        for k, v in codes.items()
    }


def test_gaps_directions_and_order():
    rows = peer.compare_items(
        _snapshot(),
        _agreed(a="3", b="4", c="3", d="na", e="1"),
        _agreed(a="3", b="2", c="4", d="4", e="4"),
    )
    by_id = {r["item_id"]: r for r in rows}
    # self minus peer
    assert by_id["a"]["gap"] == 0 and by_id["a"]["direction"] == "same"
    assert by_id["b"]["gap"] == 2 and by_id["b"]["direction"] == "self higher"
    assert by_id["c"]["gap"] == -1 and by_id["c"]["direction"] == "peer higher"
    assert by_id["d"]["gap"] is None and by_id["d"]["direction"] == "not comparable"
    assert by_id["e"]["gap"] == -3
    # gaps of two or more first, largest first, then the instrument's order
    assert [r["item_id"] for r in rows] == ["e", "b", "a", "c", "d"]
    assert [r["big"] for r in rows] == [True, True, False, False, False]
    assert by_id["b"]["rationale"] == "why b"
    # mean signed gap over the four comparable items: (0 + 2 - 1 - 3) / 4
    assert peer.calibration(rows) == {"mean": -0.5, "n": 4}


def test_reverse_items_compare_on_the_effective_value():
    rows = peer.compare_items(_snapshot(reverse=True), _agreed(e="2"), _agreed(e="4"))
    e = next(r for r in rows if r["item_id"] == "e")
    # reversed: self 2 -> 4, peer 4 -> 2, so the school rated itself higher
    assert (e["self_value"], e["peer_value"], e["gap"]) == (4, 2, 2)


def test_no_comparable_items_has_no_calibration():
    rows = peer.compare_items(_snapshot(), _agreed(a="na"), _agreed(a="3"))
    assert peer.calibration(rows) == {"mean": None, "n": 0}


def test_sql_calibration_matches_the_item_by_item_figures(demo_full, ascl):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD], title="Hand-worked")
    cycle = _peer_cycle(db, rid)
    _complete(db, cycle, value="2")
    review = peer.review_of_cycle(db, cycle["id"])
    own = cycles.agreed_scores(db, review["self_cycle_id"])
    expected = sum(int(own[i]["value"]) - 2 for i in own) / len(own)
    figures = peer.self_vs_peer(db, cycle, review)
    assert figures["calibration"]["mean"] == pytest.approx(expected)
    history = peer.calibration_history(db, NORTHFIELD, ascl.id)
    # rounds in date order: June 2026, November 2026, this one (February 2027)
    assert [h["round_id"] for h in history] == [1, 2, rid]
    mine = history[2]
    assert mine["mean"] == pytest.approx(expected)
    assert mine["n"] == len(own)


# The demo ----------------------------------------------------------------------------


def test_demo_has_an_over_rater_and_an_under_rater(demo_full):
    db = demo_full
    rounds = peer.rounds_of(db, TRUST)
    assert len(rounds) == 2 and all(r["agreed"] == r["hosts"] == 6 for r in rounds)
    figures = {
        r[0]: peer.calibration_history(db, r[1], "ascl-closing-gaps")
        for r in db.execute("SELECT urn, id FROM schools")
    }
    assert figures["119001"][0]["mean"] >= 0.5  # Northfield over-rates itself
    assert figures["119004"][0]["mean"] <= -0.5  # Moorside under-rates itself
    big_gaps = db.execute(
        "SELECT count(*) FROM peer_reviews pr JOIN agreed_scores pa "
        "ON pa.cycle_id = pr.cycle_id JOIN agreed_scores sa "
        "ON sa.cycle_id = pr.self_cycle_id AND sa.item_id = pa.item_id "
        "WHERE abs(CAST(pa.value AS INT) - CAST(sa.value AS INT)) >= 2"
    ).fetchone()[0]
    assert big_gaps >= 5


def test_hub_lists_reviews_and_reviews_of_my_school(demo_full, auth, client):
    auth.login(RIVERSIDE_HEAD)
    page = client.get("/peer/").get_data(as_text=True)
    assert "Self vs peer: Northfield Primary School" in page
    assert "Peer reviews of your school" in page
    nav = client.get("/").get_data(as_text=True)
    assert 'href="/peer/"' in nav


def test_the_lead_changes_a_rounds_title_and_dates(demo_full, ascl, client, auth):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD], title="Spring visits")
    cycle = _peer_cycle(db, rid)
    auth.login(TRUST_LEAD)
    page = f"/peer-rounds/{rid}/change"
    form = client.get(page).get_data(as_text=True)
    assert 'value="Spring visits"' in form and 'value="2027-02-28"' in form

    refused = auth.post(
        page,
        {"title": "Spring visits", "starts_on": "2027-03-10", "ends_on": "2027-03-01"},
        page=page,
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html
    assert "The end date must be on or after the start date." in html
    assert peer.get_round(db, rid)["ends_on"] == "2027-02-28"

    done = auth.post(
        page,
        {"title": "Summer visits", "starts_on": "2027-05-03", "ends_on": "2027-05-21"},
        page=page,
    )
    assert done.status_code == 302
    changed = peer.get_round(db, rid)
    assert (changed["title"], changed["starts_on"], changed["ends_on"]) == (
        "Summer visits",
        "2027-05-03",
        "2027-05-21",
    )
    again = cycles.get_cycle(db, cycle["id"])
    assert again["closes_on"] == "2027-05-21"
    assert again["title"] == "Summer visits"
    assert db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'peer.round.change'"
    ).fetchone() == (1,)
    # An agreed review keeps the closing date it had.
    agreed = cycles.get_cycle(db, 21)
    first = peer.get_round(db, 1)
    peer.change_round(
        db,
        first,
        title=first["title"],
        starts_on=first["starts_on"],
        ends_on="2026-12-31",
        actor_id=user_id(db, TRUST_LEAD),
    )
    assert cycles.get_cycle(db, 21)["closes_on"] == agreed["closes_on"]


def test_the_lead_adds_and_withdraws_reviewers_while_the_review_is_open(
    demo_full, ascl, client, auth
):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD], title="Spring visits")
    cycle = _peer_cycle(db, rid)
    riverside, castle = user_id(db, RIVERSIDE_HEAD), user_id(db, CASTLE_HEAD)
    auth.login(TRUST_LEAD)
    page = f"/peer-rounds/{rid}/reviews/{cycle['id']}/reviewers"
    assert "Change reviewers" in client.get(f"/peer-rounds/{rid}").get_data(
        as_text=True
    )
    # Castle Hill's head joins and leads.
    done = auth.post(
        page, {"reviewers": [riverside, castle], "lead": castle}, page=page
    )
    assert done.status_code == 302
    again = cycles.get_cycle(db, cycle["id"])
    assert again["respondent_ids"] == {riverside, castle}
    assert again["lead_id"] == castle
    assert [c["id"] for c in peer.reviewing(db, castle)].count(cycle["id"]) == 1

    # Nobody from the host school, and nobody who has rated, can be dropped in
    # or withdrawn.
    refused = auth.post(
        page, {"reviewers": [castle, user_id(db, HEAD)], "lead": castle}, page=page
    )
    assert refused.status_code == 400
    assert "nobody reviews their own school" in refused.get_data(as_text=True)
    item = again["snapshot"].item_ids[0]
    cycles.save_answer(db, again, riverside, item, value="3", base_revision=0)
    refused = auth.post(page, {"reviewers": [castle], "lead": castle}, page=page)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html and "already rated this school" in html
    assert cycles.get_cycle(db, cycle["id"])["respondent_ids"] == {riverside, castle}
    assert db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'peer.reviewers.change'"
    ).fetchone() == (1,)

    # Once moderation starts, the team is fixed.
    cycles.transition(db, again, "moderation", actor_id=castle)
    with pytest.raises(peer.PeerError, match="only while the review is open"):
        peer.change_reviewers(
            db,
            peer.get_round(db, rid),
            cycle["id"],
            [riverside],
            riverside,
            actor_id=user_id(db, TRUST_LEAD),
        )


def test_reviewers_of_a_review_in_another_round_are_not_reachable(
    demo_full, ascl, client, auth
):
    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD])
    auth.login(TRUST_LEAD)
    # Cycle 21 belongs to round 1, not to this round.
    assert client.get(f"/peer-rounds/{rid}/reviews/21/reviewers").status_code == 404
    with pytest.raises(peer.PeerError, match="not part of this round"):
        peer.change_reviewers(
            db,
            peer.get_round(db, rid),
            21,
            [user_id(db, RIVERSIDE_HEAD)],
            user_id(db, RIVERSIDE_HEAD),
            actor_id=user_id(db, TRUST_LEAD),
        )


def test_calibration_history_stays_within_the_partnership(demo_full):
    db = demo_full
    mine = peer.calibration_history(db, NORTHFIELD, "ascl-closing-gaps", TRUST)
    assert [h["round_id"] for h in mine] == [1, 2]
    assert peer.calibration_history(db, NORTHFIELD, "ascl-closing-gaps", 2) == []


def test_a_peer_reviews_change_compares_with_the_previous_peer_review(demo_full):
    from peerreview.results.service import previous_cycle

    db = demo_full
    second = cycles.get_cycle(db, 27)  # Northfield's review in round 2
    assert second["kind"] == "peer"
    before = previous_cycle(db, second)
    assert before is not None and before["id"] == 21  # round 1's review, not a self
    assert previous_cycle(db, cycles.get_cycle(db, 21)) is None


def test_planning_names_every_school_without_a_self_evaluation(demo_full, ascl):
    db = demo_full
    castle = db.execute(
        "SELECT s.id FROM schools s JOIN users u ON u.email = ? JOIN roles r "
        "ON r.user_id = u.id AND r.scope_type = 'team' JOIN teams t "
        "ON t.id = r.scope_id AND t.school_id = s.id",
        [CASTLE_HEAD],
    ).fetchone()[0]
    db.execute(
        "UPDATE cycles SET state = 'open' WHERE kind = 'self' AND team_id IN "
        "(SELECT id FROM teams WHERE school_id IN (?, ?))",
        [NORTHFIELD, castle],
    )
    reviewer = user_id(db, RIVERSIDE_HEAD)
    with pytest.raises(peer.PeerError) as refused:
        peer.plan_round(
            db,
            partnership_id=TRUST,
            instrument=ascl,
            title="Spring visits",
            starts_on=None,
            ends_on=None,
            hosts=[
                {"school_id": s, "reviewer_ids": [reviewer], "lead_id": reviewer}
                for s in (NORTHFIELD, castle)
            ],
            actor_id=user_id(db, TRUST_LEAD),
        )
    message = str(refused.value)
    assert "Northfield Primary School and Castle Hill Academy have no agreed" in message


def test_a_review_compares_with_the_self_evaluation_current_when_it_closed(
    demo_full, ascl, auth, client
):
    from cycle_support import make_cycle

    db = demo_full
    rid = _plan(db, ascl, [RIVERSIDE_HEAD, CASTLE_HEAD], lead=CASTLE_HEAD)
    cycle = _peer_cycle(db, rid)
    planned = peer.review_of_cycle(db, cycle["id"])["self_cycle_id"]
    # The school agrees a new self-evaluation while the review is open...
    during = make_cycle(db, team_id=1, state="agreed")
    db.execute(
        "UPDATE cycles SET title = 'Agreed during the review' WHERE id = ?",
        [during["id"]],
    )
    assert during["id"] != planned
    _complete(db, cycle)
    assert peer.review_of_cycle(db, cycle["id"])["self_cycle_id"] == during["id"]
    # ...and another after it closed, which changes nothing.
    later = make_cycle(db, team_id=1, state="agreed")
    assert peer.review_of_cycle(db, cycle["id"])["self_cycle_id"] == during["id"]
    assert later["id"] != during["id"]
    auth.login(HEAD)
    page = client.get(f"/cycles/{cycle['id']}/self-vs-peer").get_data(as_text=True)
    assert "Agreed during the review" in page
    agreed_on = cycles.get_cycle(db, during["id"])["agreed_at"]
    day = __import__("datetime").date.fromisoformat(agreed_on[:10])
    assert f"{day.day} {day:%B %Y}" in page
    assert "agreed after" not in page


def test_demo_reviews_compare_with_the_self_evaluation_held_at_the_time(demo_full):
    db = demo_full
    rows = db.execute(
        "SELECT r.title, s.title, s.agreed_at, c.moderation_at FROM peer_reviews pr "
        "JOIN peer_rounds r ON r.id = pr.round_id JOIN cycles c ON c.id = pr.cycle_id "
        "JOIN cycles s ON s.id = pr.self_cycle_id"
    ).fetchall()
    assert rows
    for round_title, self_title, agreed_at, closed_at in rows:
        assert agreed_at <= closed_at, (round_title, self_title)
        if "June 2026" in round_title:
            assert self_title.endswith("2025")
