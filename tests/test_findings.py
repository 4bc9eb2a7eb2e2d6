"""Reviewers' findings and areas of excellence through HTTP (who may reach
each page: test_access_evidence.py). In the whole demo,
cycle 27 is the November peer review of Northfield Primary (its self-evaluation
is cycle 2), agreed, reviewed by the other team lead and Bay View's head; its
reviewers wrote findings and decided the area of excellence the host
nominated."""

import pytest
from access_table import OTHER_LEAD
from support import HEAD

from peerreview.cycles import service as cycles
from peerreview.peer import findings


def test_the_host_reads_the_demo_findings_and_the_team_report_has_them(
    demo_full, app, client, auth
):
    from peerreview.reports.views import build_html

    auth.login(HEAD)
    page = client.get("/cycles/27/findings").get_data(as_text=True)
    assert "What went well" in page and "Even better if the" in page
    assert "Nominated as an area of excellence" in page
    vs = client.get("/cycles/27/self-vs-peer").get_data(as_text=True)
    assert 'href="/cycles/27/findings"' in vs
    with app.test_request_context():
        html = build_html(demo_full, cycles.get_cycle(demo_full, 2), "team")
    assert "The reviewers&#39; findings" in html or "The reviewers' findings" in html
    assert "Evidence coverage by section" in html
    assert "Governors&#39; pupil premium review" in html  # a title, nothing more
    assert "/evidence/" not in html and "example.org/northfield" not in html


@pytest.fixture
def reopened(demo_full):
    cycle = cycles.get_cycle(demo_full, 27)
    cycles.transition(
        demo_full, cycle, "moderation", actor_id=cycle["lead_id"], reason="test"
    )
    demo_full.execute("DELETE FROM peer_findings")
    demo_full.execute("DELETE FROM excellence_nominations")
    return cycle


def test_reviewers_write_and_the_host_waits(demo_full, client, auth, reopened):
    auth.login(HEAD)
    got = auth.post(
        "/cycles/27/excellence",
        {"section": "high-expectations", "case": "Visited by three schools."},
        page="/cycles/27/findings",
    )
    assert got.status_code == 302
    auth.logout()

    auth.login(OTHER_LEAD)
    data = {f"{s['id']}__well": "" for s in reopened["snapshot"].sections}
    data["high-expectations__well"] = "Every adult named the same three groups."
    data["high-expectations__better"] = "Even better if pupils were asked too."
    got = auth.post("/cycles/27/findings", data)
    assert got.status_code == 302
    got = auth.post(
        "/cycles/27/excellence/high-expectations",
        {"verdict": "confirmed", "reason": "Seen in every class."},
        page="/cycles/27/findings",
    )
    assert got.status_code == 302
    auth.logout()
    saved = findings.findings(demo_full, 27)["high-expectations"]
    assert saved["went_well"] == "Every adult named the same three groups."
    assert findings.nominations(demo_full, 27)["high-expectations"]["verdict"] == (
        "confirmed"
    )

    # Before the reviewers agree, the host sees its nomination, not the findings.
    auth.login(HEAD)
    page = client.get("/cycles/27/findings").get_data(as_text=True)
    assert "once they have agreed their scores" in page
    assert "Every adult named" not in page and "Seen in every class" not in page


def test_findings_refuse_too_long_text(demo_full, client, auth, reopened):
    auth.login(OTHER_LEAD)
    got = auth.post("/cycles/27/findings", {"high-expectations__well": "x" * 4001})
    assert got.status_code == 400
    assert "4000 characters at most" in got.get_data(as_text=True)
