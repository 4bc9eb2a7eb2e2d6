"""The instrument library in the browser: list, preview, download and upload."""

import io
import logging
import pathlib
import re

import pytest
from cycle_support import make_cycle
from support import (
    ADMIN,
    CLUSTER_LEAD,
    DEPUTY,
    GOVERNOR,
    HEAD,
    TRUST_LEAD,
    csrf_token,
    user_id,
)

from peerreview.instruments import load_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "instruments").glob("*.yaml"))
ASCL = ROOT / "instruments" / "ascl-closing-gaps.yaml"
MATURITY = ROOT / "instruments" / "partnership-maturity.yaml"
RIVERSIDE_HEAD = "headteacher@riversideinfant.example.org"  # team 2, in the trust

OWN = """\
format: 1
id: {id}
version: {version}
title: {title}
purpose: A short check of how a school welcomes new staff.
audience: school_leadership_team
source:
  citation: Written by the partnership for its own schools (2026).
  licence: For use within the partnership.
scale:
  kind: yes_no
  points:
    - {{code: "N", value: 0, label: "No"}}
    - {{code: "P", value: 1, label: In part}}
    - {{code: "Y", value: 2, label: "Yes"}}
  not_applicable: true
sections:
  - id: induction
    title: Induction
    items:
      - id: ind-01
        statement: Every new member of staff has a named mentor from day one.
        guidance: Count the staff who joined this year.
        evidence_prompts:
          - The list of mentors and mentees.
      - id: ind-02
        statement: New staff visit a partner school in their first term.
{extra}scoring:
  bands:
    - {{name: Not yet, min: 0}}
    - {{name: Secure, min: 1.5}}
  priority: {{at_or_below: 1}}
actions:
  - items: [ind-01]
    text: Pair every new member of staff with a mentor before they start.
"""
EXTRA_ITEM = """\
      - id: ind-03
        statement: New staff are asked after a term what would have helped.
"""


def own(id="welcome-check", version="1.0.0", title="Welcome check", extra=""):
    return OWN.format(id=id, version=version, title=title, extra=extra)


def upload(auth, text, filename="mine.yaml", owner=None, raw=None):
    """POST an instrument file to the upload form."""
    data = {"file": (io.BytesIO(raw if raw is not None else text.encode()), filename)}
    if owner is not None:
        data["owner"] = owner
    return auth.post(
        "/instruments/upload",
        data,
        page="/instruments/upload",
        content_type="multipart/form-data",
    )


def uploads(db):
    return list(db.query("SELECT * FROM instrument_uploads ORDER BY id"))


def summary(html: str) -> list[str]:
    """Return the error summary's messages."""
    match = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert match, "no error summary"
    return [
        re.sub(r"<[^>]+>", "", m).strip()
        for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    ]


def unescape(text: str) -> str:
    return (
        text.replace("&#39;", "'")
        .replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
    )


# The library ------------------------------------------------------------------


def test_library_lists_every_shipped_instrument(demo, client, auth):
    auth.login(GOVERNOR)
    html = unescape(client.get("/instruments").get_data(as_text=True))
    assert len(FILES) == 6
    for path in FILES:
        instrument = load_file(path)
        card = html.split(f'id="instrument-{instrument.id}"')[1].split(
            'class="govuk-summary-card"'
        )[0]
        assert instrument.title in card
        assert instrument.purpose.split()[0] in card
        assert instrument.source.citation in card
        assert f"{instrument.item_count} in {len(instrument.sections)} section" in card
        assert instrument.version in card
        assert instrument.scale.points[0].label in card
        assert f"{len(instrument.scale.points)} points" in card
    assert 'href="/instruments"' in html  # the navigation item


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/instruments")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_download_is_the_exact_file(demo, client, auth):
    auth.login(DEPUTY)
    for path in FILES:
        instrument = load_file(path)
        response = client.get(f"/instruments/{instrument.id}.yaml")
        assert response.status_code == 200
        assert response.data == path.read_bytes()
        assert response.mimetype == "text/yaml"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert (
            f"{instrument.id}-{instrument.version}.yaml"
            in (response.headers["Content-Disposition"])
        )


def test_unknown_instrument_is_404(demo, client, auth):
    auth.login(DEPUTY)
    assert client.get("/instruments/no-such").status_code == 404
    assert client.get("/instruments/no-such.yaml").status_code == 404


# The preview ------------------------------------------------------------------

CONTROL = re.compile(r"<(input|textarea)\b([^>]*)>")


def controls(html: str) -> list[dict]:
    """Return the item controls of a page: their id, name, type and value."""
    found = []
    for tag, attrs in CONTROL.findall(html):
        fields = dict(re.findall(r'([a-z-]+)="([^"]*)"', attrs))
        if "__" not in fields.get("name", ""):
            continue
        found.append(
            {
                "tag": tag,
                "id": fields.get("id"),
                "name": fields["name"],
                "type": fields.get("type"),
                "value": fields.get("value") if tag == "input" else None,
                "described": fields.get("aria-describedby"),
                "disabled": bool(re.search(r"\sdisabled(\s|$|/)", attrs + " ")),
            }
        )
    return found


@pytest.mark.parametrize("path", [ASCL, MATURITY], ids=["agreement", "maturity"])
def test_preview_has_the_rating_page_markup(demo, db, client, auth, path):
    cid = make_cycle(db, team_id=1, state="open", path=path)["id"]
    auth.login(DEPUTY)
    rate = client.get(f"/cycles/{cid}/rate").get_data(as_text=True)
    instrument = load_file(path)
    preview = client.get(f"/instruments/{instrument.id}").get_data(as_text=True)

    def shape(html):
        return [
            {k: v for k, v in c.items() if k != "disabled"}
            for c in controls(html)
            if c["type"] != "hidden"
        ]

    assert shape(preview) == shape(rate)
    assert len(shape(preview)) == instrument.item_count * (
        len(instrument.scale.points)
        + int(instrument.scale.not_applicable)
        + int(instrument.scale.no_evidence)
        + 2
    )
    assert all(c["disabled"] for c in controls(preview) if c["type"] != "hidden")
    assert "<form" not in preview.split('id="preview"')[1]
    for item in instrument.items():
        assert f'id="item-{item.id}"' in preview
        for text in item.descriptors.values():
            assert unescape(text).split()[0] in unescape(preview)


def test_preview_shows_scale_guidance_actions_source(demo, client, auth):
    auth.login(GOVERNOR)
    instrument = load_file(MATURITY)
    html = unescape(client.get(f"/instruments/{instrument.id}").get_data(as_text=True))
    for point in instrument.scale.points:
        assert point.label in html
    for section in instrument.sections:
        assert section.title in html
    for item in instrument.items():
        assert item.statement in html
        if item.guidance:
            assert item.guidance in html
        for prompt in item.evidence_prompts:
            assert prompt in html
    for action in instrument.actions:
        assert action.text in html
    assert instrument.source.citation in html
    assert instrument.source.licence in html
    assert "Leading" in html and "Suggested" in html


# Uploads ----------------------------------------------------------------------


def test_admin_uploads_a_good_file(demo, db, client, auth):
    auth.login(ADMIN)
    response = upload(auth, own(), owner="platform")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/instruments/welcome-check")
    [row] = uploads(db)
    assert row["instrument_id"] == "welcome-check"
    assert row["version"] == "1.0.0"
    assert row["partnership_id"] is None
    assert row["yaml"] == own()
    assert row["filename"] == "mine.yaml"
    assert row["uploaded_by"] == user_id(db, ADMIN)
    from peerreview.instruments import parse_text

    assert row["content_hash"] == parse_text(own(), "x.yaml").content_hash
    [entry] = db.query(
        "SELECT * FROM audit_log WHERE action = 'instrument.upload' AND object_id = ?",
        [row["id"]],
    )
    assert '"instrument": "welcome-check"' in entry["detail"]
    page = client.get("/instruments/welcome-check").get_data(as_text=True)
    assert "Welcome check" in page and "named mentor" in page
    assert client.get("/instruments/welcome-check.yaml").data == own().encode()
    # Platform-wide: a lead of another partnership sees it and may use it.
    auth.logout()
    auth.login(CLUSTER_LEAD)
    assert "Welcome check" in client.get("/instruments").get_data(as_text=True)
    assert client.get("/instruments/welcome-check").status_code == 200


def test_broken_file_lists_every_problem_by_line(demo, db, client, auth):
    auth.login(ADMIN)
    broken = own().replace("audience: school_leadership_team", "audience: everyone")
    broken = broken.replace("      - id: ind-02", "      - id: Ind 02")
    broken = broken.replace("purpose:", "colour: blue\npurpose:")
    lines = broken.splitlines()
    response = upload(auth, broken, filename="welcome.yaml", owner="platform")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    messages = [unescape(m) for m in summary(html)]
    found = {}
    for message in messages:
        match = re.match(r"welcome\.yaml:(\d+): ([^:]+): (.*)", message)
        assert match, message
        found[lines[int(match.group(1)) - 1].strip()] = (match.group(2), match.group(3))
    assert found["audience: everyone"][1].startswith("audience:")
    assert found["colour: blue"][1] == "colour: unknown key"
    assert found["- id: Ind 02"][0] == "Ind 02"
    assert len(messages) == 3
    assert uploads(db) == []
    assert "Error: Upload an instrument" in html
    # Each message is also next to the file field.
    assert html.count("unknown key") == 2


def test_yaml_syntax_error_is_located(demo, db, client, auth):
    auth.login(ADMIN)
    text = own().replace("title: Welcome check", "title: [Welcome check")
    response = upload(auth, text, filename="bad.yaml", owner="platform")
    [message] = summary(response.get_data(as_text=True))
    assert re.match(r"bad\.yaml:\d+: -: YAML syntax error", unescape(message))
    assert uploads(db) == []


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"x" * (256 * 1024 + 1), "The file must be 256 KB or smaller"),
        (b"format: 1\nid: caf\xe9\n", "w.yaml:2: -: not valid UTF-8 (byte 17)"),
        (b"", "w.yaml:1: -: the file is empty"),
        (b"- just\n- a list\n", "the document must be a mapping"),
    ],
    ids=["too-large", "not-utf8", "empty", "not-a-mapping"],
)
def test_unusable_files_are_refused_clearly(demo, db, client, auth, raw, message):
    auth.login(ADMIN)
    response = upload(auth, None, filename="w.yaml", owner="platform", raw=raw)
    assert response.status_code == 200
    assert any(message in unescape(m) for m in summary(response.get_data(as_text=True)))
    assert uploads(db) == []


def test_no_file_chosen(demo, db, client, auth):
    auth.login(ADMIN)
    response = auth.post(
        "/instruments/upload", {"owner": "platform"}, content_type="multipart/form-data"
    )
    assert summary(response.get_data(as_text=True)) == [
        "Choose an instrument file to upload"
    ]


def test_body_over_the_app_cap_is_refused(demo, db, client, auth):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    auth.login(ADMIN)
    # Encoded here: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/instruments/upload"),
            "owner": "platform",
            "file": FileStorage(io.BytesIO(b"x" * (2 * 1024 * 1024 + 10)), "big.yaml"),
        }
    )
    response = client.post(
        "/instruments/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert uploads(db) == []


def test_new_version_must_match_its_change(demo, db, client, auth):
    auth.login(ADMIN)
    assert upload(auth, own(), owner="platform").status_code == 302
    # An added item is a MINOR change; a PATCH bump is too small.
    patch = own(version="1.0.1", extra=EXTRA_ITEM)
    response = upload(auth, patch, filename="v101.yaml", owner="platform")
    messages = [unescape(m) for m in summary(response.get_data(as_text=True))]
    assert messages and all(m.startswith("v101.yaml:") for m in messages)
    assert any("ind-03" in m and "MINOR" in m for m in messages), messages
    # The same version again, changed, or a lower one, is refused too.
    for version in ("1.0.0", "0.9.0"):
        text = own(version=version, title="Welcome check (new)")
        messages = summary(upload(auth, text, owner="platform").get_data(as_text=True))
        assert any("is not above" in unescape(m) for m in messages), messages
    same = summary(upload(auth, own(), owner="platform").get_data(as_text=True))
    assert any("already stored" in m for m in same)
    assert len(uploads(db)) == 1
    # A MINOR bump is right, and the library then offers the new version.
    new = own(version="1.1.0", extra=EXTRA_ITEM)
    assert upload(auth, new, owner="platform").status_code == 302
    assert [r["version"] for r in uploads(db)] == ["1.0.0", "1.1.0"]
    page = client.get("/instruments").get_data(as_text=True)
    card = page.split('id="instrument-welcome-check"')[1]
    assert "1.1.0" in card and "3 in 1 section" in card


def test_admin_may_publish_a_valid_new_version_of_a_shipped_instrument(
    demo, db, client, auth
):
    auth.login(ADMIN)
    text = ASCL.read_text()
    shipped = load_file(ASCL)
    major, minor, patch = (int(n) for n in shipped.version.split("."))
    patch_1, patch_2 = (f"{major}.{minor}.{patch + n}" for n in (1, 2))
    reworded = text.replace(
        f"version: {shipped.version}", f"version: {patch_1}"
    ).replace("title: " + shipped.title, "title: " + shipped.title + " (revised)")
    assert reworded != text
    # Rewording a title is a PATCH: right.
    response = upload(auth, reworded, filename="ascl.yaml", owner="platform")
    assert response.status_code == 302
    html = unescape(client.get("/instruments").get_data(as_text=True))
    assert shipped.title + " (revised)" in html
    auth.logout()
    auth.login(DEPUTY)
    assert client.get("/instruments/ascl-closing-gaps.yaml").data == reworded.encode()
    # A MAJOR change in a PATCH bump is refused.
    scale_change = reworded.replace(
        f"version: {patch_1}", f"version: {patch_2}"
    ).replace("Strongly agree", "Agree strongly")
    auth.logout()
    auth.login(ADMIN)
    bigger = scale_change.replace("value: 5", "value: 6")
    messages = summary(upload(auth, bigger, owner="platform").get_data(as_text=True))
    assert any("MAJOR" in m for m in messages), messages
    assert len(uploads(db)) == 1


def test_partnership_lead_may_not_take_a_shipped_id(demo, db, client, auth):
    auth.login(TRUST_LEAD)
    text = ASCL.read_text().replace(
        f"version: {load_file(ASCL).version}", "version: 1.0.1"
    )
    messages = summary(upload(auth, text, owner="1").get_data(as_text=True))
    assert any("shipped with the platform" in unescape(m) for m in messages)
    assert uploads(db) == []


def test_partnership_lead_uploads_for_own_partnership_only(demo, db, client, auth):
    auth.login(TRUST_LEAD)
    page = client.get("/instruments/upload").get_data(as_text=True)
    assert "Northfield Learning Trust only" in page
    assert 'name="owner" value="1"' in page  # only one choice: no radios
    # A partnership the lead does not lead, or the platform, is not a choice.
    for owner in ("2", "platform"):
        response = upload(auth, own(), owner=owner)
        assert response.status_code == 200
        assert "Not a valid choice" in response.get_data(as_text=True)
    assert uploads(db) == []
    assert upload(auth, own(), owner="1").status_code == 302
    [row] = uploads(db)
    assert row["partnership_id"] == 1


def test_lead_of_several_partnerships_chooses(demo, db, client, auth):
    from peerreview.accounts import service as accounts

    accounts.grant_role(
        db,
        user_id(db, TRUST_LEAD),
        "partnership_lead",
        "partnership",
        2,
        actor_id=user_id(db, ADMIN),
    )
    auth.login(TRUST_LEAD)
    page = client.get("/instruments/upload").get_data(as_text=True)
    assert 'type="radio" value="1"' in page and 'type="radio" value="2"' in page
    response = upload(auth, own(), owner=None)
    assert "Choose who may use the instrument" in summary(
        response.get_data(as_text=True)
    ) or "Not a valid choice" in response.get_data(as_text=True)
    assert upload(auth, own(), owner="2").status_code == 302
    assert uploads(db)[0]["partnership_id"] == 2


@pytest.mark.parametrize("who", [DEPUTY, HEAD, GOVERNOR])
def test_people_who_lead_no_partnership_cannot_upload(demo, db, client, auth, who):
    auth.login(who)
    assert client.get("/instruments/upload").status_code == 403
    token = csrf_token(client, "/")
    response = client.post(
        "/instruments/upload",
        data={"csrf_token": token, "owner": "1", "file": (io.BytesIO(b"x"), "a.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert uploads(db) == []
    assert "Upload an instrument" not in client.get("/instruments").get_data(
        as_text=True
    )


# Isolation of a partnership's own instruments ------------------------------------


@pytest.fixture
def trust_instrument(demo, db, client, auth):
    """The trust's lead has uploaded "welcome-check" for the trust only."""
    auth.login(TRUST_LEAD)
    assert upload(auth, own(), owner="1").status_code == 302
    auth.logout()
    return "welcome-check"


KIRKBY = "SELECT u.email FROM users u JOIN roles r ON r.user_id = u.id WHERE r.role = 'team_lead' AND r.scope_id = 7 AND r.scope_type = 'team'"


@pytest.mark.parametrize(
    "who, sees",
    [
        (TRUST_LEAD, True),
        (DEPUTY, True),  # a team member of a school in the trust
        (GOVERNOR, True),  # a governor of a school in the trust
        ("chair@northfieldtrust.example.org", True),  # the trust board
        ("member@northfieldtrust.example.org", True),  # a trustee (governor)
        (ADMIN, True),
        (CLUSTER_LEAD, False),
        ("kirkby", False),  # a head in the cluster only
    ],
)
def test_own_instrument_is_seen_only_in_its_partnership(
    db, client, auth, trust_instrument, who, sees
):
    if who == "kirkby":
        who = db.execute(KIRKBY).fetchone()[0]
    auth.login(who)
    listed = "Welcome check" in client.get("/instruments").get_data(as_text=True)
    assert listed is sees
    expected = 200 if sees else 404
    assert client.get("/instruments/welcome-check").status_code == expected
    assert client.get("/instruments/welcome-check.yaml").status_code == expected


def test_own_instrument_in_the_cycle_form_only_for_its_teams(
    db, client, auth, trust_instrument
):
    # Riverside Infant (team 2) is in the trust: its head may use it.
    auth.login(RIVERSIDE_HEAD)
    page = client.get("/teams/2/cycles/new").get_data(as_text=True)
    assert "Welcome check (2 items)" in page
    auth.logout()
    # Kirkby Lonsdale (team 7) is in the cluster only.
    auth.login(db.execute(KIRKBY).fetchone()[0])
    page = client.get("/teams/7/cycles/new").get_data(as_text=True)
    assert "Welcome check" not in page
    members = [
        r[0]
        for r in db.execute(
            "SELECT user_id FROM roles WHERE scope_type='team' AND scope_id=7"
        ).fetchall()
    ]
    before = db.execute("SELECT count(*) FROM cycles").fetchone()[0]
    response = auth.post(
        "/teams/7/cycles/new",
        {"instrument": "welcome-check", "respondents": members, "anonymous": "named"},
    )
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM cycles").fetchone()[0] == before
    # Another partnership's instrument is refused without a word of it.
    refused = response.get_data(as_text=True)
    assert "Welcome check" not in refused and "Not a valid choice" not in refused
    assert "There is a problem" in refused
    auth.logout()
    # The trust's school can run a cycle with it.
    auth.login(RIVERSIDE_HEAD)
    members = [
        r[0]
        for r in db.execute(
            "SELECT user_id FROM roles WHERE scope_type='team' AND scope_id=2"
        ).fetchall()
    ]
    response = auth.post(
        "/teams/2/cycles/new",
        {"instrument": "welcome-check", "respondents": members, "anonymous": "named"},
    )
    assert response.status_code == 302
    cycle = db.execute(
        "SELECT v.instrument_id FROM cycles c JOIN instrument_versions v "
        "ON v.id = c.instrument_version_id ORDER BY c.id DESC LIMIT 1"
    ).fetchone()
    assert cycle[0] == "welcome-check"


def test_another_partnership_cannot_take_the_id(db, client, auth, trust_instrument):
    auth.login(CLUSTER_LEAD)
    text = own(version="2.0.0", title="Our welcome")
    messages = summary(upload(auth, text, owner="2").get_data(as_text=True))
    assert any("another organisation" in unescape(m) for m in messages)
    auth.logout()
    auth.login(ADMIN)
    messages = summary(upload(auth, text, owner="platform").get_data(as_text=True))
    assert any("another organisation" in unescape(m) for m in messages)
    assert len(uploads(db)) == 1


def test_a_stored_upload_that_no_longer_parses_is_left_out(demo, db, client, auth):
    db["instrument_uploads"].insert(
        {
            "instrument_id": "ghost",
            "version": "1.0.0",
            "partnership_id": None,
            "filename": "ghost.yaml",
            "yaml": "format: 1\nid: ghost\n",
            "content_hash": "not-a-real-hash",
        }
    )
    auth.login(DEPUTY)
    response = client.get("/instruments")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="govuk-summary-card"') == 6
    assert client.get("/instruments/ghost").status_code == 404


# Provenance -------------------------------------------------------------------

PROVENANCE = "seed file 999_0123abcd.txt, lines 9001-9002"


@pytest.mark.parametrize("who", [HEAD, DEPUTY, GOVERNOR, TRUST_LEAD, CLUSTER_LEAD])
def test_provenance_is_never_shown_to_readers(demo, db, client, auth, who):
    auth.login(ADMIN)
    with_provenance = own().replace(
        "  licence: For use within the partnership.\n",
        "  licence: For use within the partnership.\n"
        f"  provenance: {PROVENANCE}\n"
        "  coverage:\n"
        "    - element: Welcoming new staff\n"
        "      items: [ind-01, ind-02]\n",
    )
    assert upload(auth, with_provenance, owner="platform").status_code == 302
    preview = client.get("/instruments/welcome-check").get_data(as_text=True)
    assert PROVENANCE in preview  # admins may see where the text came from
    assert 'href="#item-ind-02"' in preview  # coverage links its items
    auth.logout()
    auth.login(who)
    for url in (
        "/instruments",
        "/instruments/welcome-check",
        "/instruments/welcome-check/print",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert "Written by the partnership for its own schools (2026)." in text, url
        assert "9001-9002" not in text and "999_0123abcd" not in text, url


# Audience ---------------------------------------------------------------------

BOARD_LEAD = (
    "SELECT t.id, u.email FROM teams t JOIN roles r ON r.scope_type = 'team' "
    "AND r.scope_id = t.id AND r.role = 'team_lead' JOIN users u ON u.id = r.user_id "
    "WHERE t.kind = 'board' ORDER BY t.id LIMIT 1"
)


def offered(page: str) -> set[str]:
    """Return the instrument ids the cycle form offers."""
    return set(re.findall(r'<option value="([a-z0-9-]+)"', page))


def cycles_count(db) -> int:
    return db.execute("SELECT count(*) FROM cycles").fetchone()[0]


def team_members(db, tid) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT user_id FROM roles WHERE scope_type='team' AND scope_id=?", [tid]
        )
    ]


def test_a_school_team_is_offered_only_instruments_meant_for_it(
    demo, db, client, auth, caplog
):
    by_audience = {load_file(p).id: load_file(p).audience for p in FILES}
    auth.login(RIVERSIDE_HEAD)
    page = client.get("/teams/2/cycles/new").get_data(as_text=True)
    assert offered(page) == {
        i
        for i, a in by_audience.items()
        if a in ("school_leadership_team", "partnership")
    }
    assert "mat-governance" not in offered(page)
    assert "Instruments for a trust board are not." in unescape(page)
    # A trust board's instrument posted by hand is refused, said and logged,
    # and nothing is created.
    before = cycles_count(db)
    with caplog.at_level(logging.WARNING):
        response = auth.post(
            "/teams/2/cycles/new",
            {
                "instrument": "mat-governance",
                "respondents": team_members(db, 2),
                "anonymous": "named",
            },
            page="/teams/2/cycles/new",
        )
    text = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "There is a problem" in text and "Not a valid choice" not in text
    assert (
        "“MAT governance self-assessment” is for a trust board, not for a "
        "self-evaluation by a school's leadership team: choose one of the "
        "instruments listed." in text
    )
    assert cycles_count(db) == before
    assert "refused new cycle at /teams/2/cycles/new" in caplog.text
    assert "'mat-governance' is not offered" in caplog.text


def test_a_trust_board_is_offered_only_board_instruments(
    demo, db, client, auth, caplog
):
    tid, lead = db.execute(BOARD_LEAD).fetchone()
    auth.login(lead)
    page = client.get(f"/teams/{tid}/cycles/new").get_data(as_text=True)
    boards = {load_file(p).id for p in FILES if load_file(p).audience == "trust_board"}
    assert offered(page) == boards and "mat-governance" in boards
    before = cycles_count(db)
    with caplog.at_level(logging.WARNING):
        refused = auth.post(
            f"/teams/{tid}/cycles/new",
            {
                "instrument": "ascl-closing-gaps",
                "respondents": team_members(db, tid),
                "anonymous": "named",
            },
            page=f"/teams/{tid}/cycles/new",
        )
    assert refused.status_code == 400 and cycles_count(db) == before
    assert (
        "is for a school's senior leadership team, not for a self-evaluation by "
        "a trust board" in unescape(refused.get_data(as_text=True))
    )
    assert "'ascl-closing-gaps' is not offered" in caplog.text
    created = auth.post(
        f"/teams/{tid}/cycles/new",
        {
            "instrument": "mat-governance",
            "respondents": team_members(db, tid),
            "anonymous": "named",
        },
        page=f"/teams/{tid}/cycles/new",
    )
    assert created.status_code == 302 and cycles_count(db) == before + 1


def test_the_library_says_who_each_instrument_is_for(demo, client, auth):
    auth.login(GOVERNOR)
    html = unescape(client.get("/instruments").get_data(as_text=True))

    def for_row(instrument_id: str) -> str:
        card = html.split(f'id="instrument-{instrument_id}"')[1]
        return card.split(">For<")[1].split("</dd>")[0]

    assert "trust board" in for_row("mat-governance")
    assert "rating their own school" in for_row("ascl-closing-gaps")
    assert "rating the partnership their school works in" in for_row(
        "partnership-maturity"
    )
