"""Every kind of page is valid HTML: the W3C Nu HTML checker finds no error.

One page of each kind is fetched as the demo role who sees it (the Flask test
client), saved to a file, and the checker (npm's vnu-jar, on Java) runs once
over all the files. Warnings are left to review; errors fail.
"""

import io
import json
import pathlib
import re
import shutil
import subprocess

import pytest
from support import (
    ADMIN,
    CHAIR,
    DEPUTY,
    GOVERNOR,
    HEAD,
    TRUST_LEAD,
    Auth,
)

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parent.parent
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
REVIEWER = "headteacher@riversideinfant.example.org"
EXTRACT = pathlib.Path(__file__).parent / "data" / "gias_extract.csv"

CANARY = (
    '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
    '<body><p id="twice"></p><p id="twice"></p></body></html>'
)
# One page of each kind, by who sees it.
# Pages that answer other than 200: a missing page, a link that cannot be used.
GONE_OR_MISSING = {"/no-such-page": 404, "/invitations/not-a-real-token": 410}
PAGES = {
    None: ["/sign-in", "/invitations/not-a-real-token"],
    HEAD: [
        "/",
        "/teams/1",
        "/teams/1/cycles/new",
        "/cycles/9",
        "/cycles/2/results",
        "/cycles/2/moderate",
        "/cycles/2/plan",
        "/cycles/2/plan/actions/new",
        "/cycles/2/reports",
        "/cycles/2/reports/team.html",
        "/cycles/2/reports/governors.html",
        "/cycles/2/reports/team/status",
        "/cycles/27/self-vs-peer",
        "/peer/",
        "/invite/team/1",
        "/teams/1/people/import",
        "/account/password",
        "/account/reminders",
        "/account/calendar",
        "/account/security",
        "/account/security/set-up",
        "/no-such-page",
    ],
    DEPUTY: ["/cycles/9/rate"],
    CHAIR: ["/cycles/10/moderate"],
    GOVERNOR: ["/cycles/2/results", "/cycles/2/plan"],
    TRUST_LEAD: [
        "/partnerships/1",
        "/partnerships/1/comparison",
        "/partnerships/1/peer-rounds/new",
        "/partnerships/1/reports",
        "/partnerships/1/reports/partnership.html",
        "/partnerships/1/schools/import",
        "/peer-rounds/2",
        "/peer-rounds/2/change",
        "/peer-rounds/2/reviews/27/reviewers",
        "/schools/1",
    ],
    REVIEWER: ["/peer/", "/cycles/26/rate", "/cycles/26/self-vs-peer"],
    ADMIN: [
        "/admin/",
        "/admin/accounts",
        "/admin/accounts/2",
        "/admin/partnerships/new",
        "/admin/schools/new",
        "/admin/schools/import",
        "/partnerships/1",
        "/schools/1",
        "/teams/1",
        "/instruments",
        "/instruments/ascl-closing-gaps",
        "/instruments/ascl-closing-gaps/print",
        "/instruments/upload",
    ],
}


def _first_action(db, cycle_id):
    row = db.execute(
        "SELECT a.id FROM plan_actions a JOIN action_plans p ON p.id = a.plan_id "
        "WHERE p.cycle_id = ? ORDER BY a.id LIMIT 1",
        [cycle_id],
    ).fetchone()
    return row[0]


def _pages(app, db):
    """Yield (name, html) for every page of every kind."""
    for email, paths in PAGES.items():
        client = app.test_client()
        if email:
            assert Auth(client).login(email).status_code == 302
        for path in paths:
            response = client.get(path)
            expected = GONE_OR_MISSING.get(path, 200)
            assert response.status_code == expected, path
            yield f"{email}{path}", response.get_data(as_text=True)

    client = app.test_client()
    auth = Auth(client)
    auth.login(HEAD)
    action = _first_action(db, 2)
    yield "action", client.get(f"/cycles/2/plan/actions/{action}").get_data(True)
    # A form sent back with its errors, and an invitation's link.
    bad = auth.post("/invite/team/1", {"name": "", "email": "not-an-email"})
    yield "invite-errors", bad.get_data(as_text=True)
    sent = auth.post(
        "/invite/team/1",
        {"name": "New Person", "email": "new@example.org", "role": "team_member"},
    ).get_data(as_text=True)
    yield "invite-sent", sent
    link = re.search(r'value="http://localhost(/invitations/[^"]+)"', sent).group(1)
    auth.logout()
    yield "invitation", client.get(link).get_data(as_text=True)

    auth.login(ADMIN)
    yield "import-preview", _upload(client, "/admin/schools/import")
    yield from _two_step_pages(app, db)
    yield from _big_partnership_pages(app, db)


def _big_partnership_pages(app, db):
    """The comparison past twelve schools: the school typed, fitting several, or none."""
    from many_schools import add_reviewed_schools

    add_reviewed_schools(db)
    client = app.test_client()
    Auth(client).login(TRUST_LEAD)
    for name, typed in (("several", "st mary"), ("unknown", "Hogwarts")):
        url = f"/partnerships/1/comparison?round=2&school={typed}"
        yield f"big-comparison-{name}", client.get(url).get_data(as_text=True)


def _two_step_pages(app, db):
    """The second step of signing in, and setting it up to its recovery codes."""
    from support import csrf_token, totp_code

    client = app.test_client()
    client.post(
        "/sign-in",
        data={
            "email": ADMIN,
            "password": "peerreview-demo",
            "csrf_token": csrf_token(client),
        },
    )
    yield "second-step", client.get("/sign-in/code").get_data(as_text=True)
    recovery = "/sign-in/code?recovery=1"
    yield "second-step-recovery", client.get(recovery).get_data(as_text=True)
    wrong = client.post(
        "/sign-in/code", data={"code": "x", "csrf_token": csrf_token(client, recovery)}
    )
    yield "second-step-wrong", wrong.get_data(as_text=True)

    client = app.test_client()
    Auth(client).login(DEPUTY)
    url = "/account/security/set-up"
    token = csrf_token(client, url)  # the page makes the secret to set up
    done = client.post(url, data={"code": totp_code(db, DEPUTY), "csrf_token": token})
    assert "Save your recovery codes" in done.get_data(as_text=True)
    yield "recovery-codes", done.get_data(as_text=True)


def _upload(client, url):
    from support import csrf_token

    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "file": (io.BytesIO(EXTRACT.read_bytes()), "extract.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_every_kind_of_page_is_valid_html(demo_full, app, tmp_path):
    java = shutil.which("java")
    if not java:
        pytest.fail("Java is missing: apt-get install default-jre-headless")
    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run `npm install` in {ROOT}")
    files = {}
    for name, html in _pages(app, demo_full):
        path = tmp_path / (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") + ".html")
        path.write_text(html, encoding="utf-8")
        files[f"file:{path}"] = name
    # A page known to be wrong proves the checker read the files.
    canary = tmp_path / "canary.html"
    canary.write_text(CANARY, encoding="utf-8")
    done = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json"]
        + [url.removeprefix("file:") for url in files]
        + [str(canary)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(done.stderr or done.stdout)["messages"]
    assert [m["message"] for m in messages if m["url"] == f"file:{canary}"] == [
        "Duplicate ID “twice”."
    ]
    errors = [
        f"{files.get(m['url'], m['url'])}:{m.get('lastLine', '?')}: {m['message']}"
        f"\n    {m.get('extract', '').strip()}"
        for m in messages
        if m["url"] != f"file:{canary}"
    ]
    assert len(files) > 40
    assert not errors, f"{len(errors)} error(s):\n" + "\n".join(errors)
