"""Peer verification of evidence through HTTP: the host chooses what its
reviewers see, reviewers mark each piece, the host sees the marks (as counts)
once the reviewers have agreed; coverage on the results and self vs peer pages.

The whole demo keeps four pieces of evidence on Northfield Primary's agreed
self-evaluation (cycle 2) and has its reviewers in the November round mark them."""

import pytest
from support import HEAD, TRUST_LEAD, user_id

from peerreview.cycles import service as cycles
from peerreview.evidence import service


def northfield_review(db):
    """Return (peer cycle id, self cycle id, a reviewer's email) of the latest round."""
    cid, self_cid = db.execute(
        "SELECT r.cycle_id, r.self_cycle_id FROM peer_reviews r "
        "JOIN schools s ON s.id = r.school_id WHERE s.name = 'Northfield Primary School' "
        "ORDER BY r.cycle_id DESC LIMIT 1"
    ).fetchone()
    email = db.execute(
        "SELECT u.email FROM cycle_respondents r JOIN users u ON u.id = r.user_id "
        "WHERE r.cycle_id = ? ORDER BY u.id LIMIT 1",
        [cid],
    ).fetchone()[0]
    return cid, self_cid, email


def test_the_demo_has_evidence_and_a_verification(demo_full):
    cid, self_cid, _ = northfield_review(demo_full)
    self_cycle = cycles.get_cycle(demo_full, self_cid)
    pieces = service.for_cycle(demo_full, self_cycle)
    assert sorted(p["kind"] for p in pieces) == ["file", "file", "link", "note"]
    assert {p["media_type"] for p in pieces if p["kind"] == "file"} == {
        "application/pdf",
        "text/csv",
    }
    peer_cycle = cycles.get_cycle(demo_full, cid)
    assert len(service.shown_to_reviewers(demo_full, peer_cycle, self_cid)) == 4
    counts = service.check_counts(demo_full, peer_cycle)
    assert sum(c["supports"] for c in counts.values()) >= 4
    assert service.confirmed_items(demo_full, self_cid)


def test_coverage_on_the_results_and_self_vs_peer_pages(demo_full, client, auth):
    cid, self_cid, _ = northfield_review(demo_full)
    auth.login(HEAD)
    results = client.get(f"/cycles/{self_cid}/results").get_data(as_text=True)
    assert "Evidence coverage" in results and "On evidence a peer confirmed" in results
    assert "No evidence linked" in results  # top-two agreed items without evidence
    page = client.get(f"/cycles/{cid}/self-vs-peer").get_data(as_text=True)
    assert "Evidence coverage of the self-evaluation" in page
    evidence = client.get(f"/cycles/{cid}/evidence/peer").get_data(as_text=True)
    assert "Reviewers' marks: " in evidence and "supports" in evidence


def test_unsupported_top_scores_are_flagged_in_moderation(demo_full, client, auth):
    auth.login(HEAD)
    page = client.get("/cycles/2/moderate").get_data(as_text=True)
    cycle = cycles.get_cycle(demo_full, 2)
    linked = service.by_item(service.for_cycle(demo_full, cycle))
    flagged = service.unsupported(
        cycle["snapshot"], cycles.agreed_scores(demo_full, 2), linked
    )
    assert flagged and not flagged & set(linked)
    assert page.count("No evidence linked</strong>") == len(flagged)
    assert "pupil premium review, autumn 2026" in page


@pytest.fixture
def reopened(demo_full):
    """Northfield's latest peer review, taken back to moderation, no marks yet."""
    cid, self_cid, email = northfield_review(demo_full)
    cycle = cycles.get_cycle(demo_full, cid)
    cycles.transition(
        demo_full, cycle, "moderation", actor_id=cycle["lead_id"], reason="test"
    )
    demo_full.execute("DELETE FROM evidence_checks")
    demo_full.execute("DELETE FROM peer_evidence")
    return cid, self_cid, email


def test_host_shows_and_reviewer_marks(demo_full, client, auth, reopened):
    cid, self_cid, reviewer = reopened
    self_cycle = cycles.get_cycle(demo_full, self_cid)
    pieces = service.for_cycle(demo_full, self_cycle)
    pdf = next(p for p in pieces if p["media_type"] == "application/pdf")
    note = next(p for p in pieces if p["kind"] == "note")
    # Nothing shown yet: the reviewer cannot download the school's file.
    auth.login(reviewer)
    assert client.get(f"/cycles/{cid}/evidence/{pdf['id']}/download").status_code == 404
    auth.logout()

    auth.login(HEAD)
    got = auth.post(f"/cycles/{cid}/evidence/share", {"shown": [pdf["id"], note["id"]]})
    assert got.status_code == 302
    auth.logout()

    auth.login(reviewer)
    rate = client.get(f"/cycles/{cid}/rate").get_data(as_text=True)
    assert "pupil premium review, autumn 2026" in rate  # under its items
    assert "Attendance by group" not in rate  # not shown to reviewers
    down = client.get(f"/cycles/{cid}/evidence/{pdf['id']}/download")
    assert down.status_code == 200 and down.data.startswith(b"%PDF-")
    assert down.headers["Content-Disposition"].startswith("attachment;")
    # Through the host's own cycle the reviewer still sees nothing.
    assert (
        client.get(f"/cycles/{self_cid}/evidence/{pdf['id']}/download").status_code
        == 404
    )
    got = auth.post(
        f"/cycles/{cid}/evidence/peer",
        {f"e{pdf['id']}": "supports", f"e{note['id']}": "not_seen"},
    )
    assert got.status_code == 302
    marks = demo_full.execute(
        "SELECT evidence_id, verdict, reviewer_id FROM evidence_checks ORDER BY 1"
    ).fetchall()
    assert (
        marks
        == [
            (note["id"], "not_seen", user_id(demo_full, reviewer)),
            (pdf["id"], "supports", user_id(demo_full, reviewer)),
        ][:: 1 if note["id"] < pdf["id"] else -1]
    )
    auth.logout()

    # The host does not see the marks before the reviewers have agreed.
    auth.login(HEAD)
    page = client.get(f"/cycles/{cid}/evidence/peer").get_data(as_text=True)
    assert "Reviewers' marks" not in page
    confirmed = service.confirmed_items(demo_full, self_cid)
    assert set(pdf["item_ids"]) <= confirmed


def test_only_the_host_lead_chooses_and_only_reviewers_mark(
    demo_full, client, auth, reopened
):
    cid, _, reviewer = reopened
    for who in (TRUST_LEAD, reviewer):
        auth.login(who)
        assert client.get(f"/cycles/{cid}/evidence/share").status_code == 404
        auth.logout()
    auth.login(HEAD)
    got = auth.post(f"/cycles/{cid}/evidence/peer", {"e1": "supports"}, page="/")
    assert got.status_code == 404
    assert demo_full.execute("SELECT count(*) FROM evidence_checks").fetchone()[0] == 0
