"""People from a list: preview with per-row errors, invitations in one step, no repeats."""

import io
import re
from html import unescape

from support import CLUSTER_LEAD, DEPUTY, HEAD, TRUST_LEAD, csrf_token

LIST = """email,name,urn,team,role
nina.new@northfieldprimary.example.org,Nina New,,,Team member
gus.gov@example.org,Gus Gov,119001,,Governor
pat.lead@example.org,Pat Lead,,,Partnership lead
ola@example.org,Ola Other,119002,,Team member
not-an-email,Nobody,,,Team member
{deputy},Deputy Again,,,team member
hal@example.org,Hal Head,,,Head
"""


def upload(client, url, text, name="people.csv"):
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    preview = response.headers["Location"]
    return preview, page_text(client.get(preview).get_data(as_text=True))


def page_text(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def invitations(db):
    return {
        (r["email"], r["role"], r["scope_type"], r["scope_id"])
        for r in db.query("SELECT * FROM invitations WHERE purpose = 'invite'")
    }


def test_team_lead_previews_sends_and_is_not_repeated(demo, db, client, auth):
    auth.login(HEAD)
    assert "/teams/1/people/import" in client.get("/teams/1").get_data(as_text=True)
    text = LIST.format(deputy=DEPUTY)
    preview, page = upload(client, "/teams/1/people/import", text)
    assert "2 people to invite" in page
    assert "1 already invited or in the role" in page
    assert "4 lines that cannot be used" in page
    for line, reason in [
        (4, "A partnership lead is invited from the partnership's page"),
        (5, "You may not invite a team member to Senior leadership team"),
        (6, "“not-an-email” is not an email address"),
        (8, "“Head” is not a role"),
    ]:
        assert re.search(rf"{line} \S+ {re.escape(reason)}", page), reason
    assert "Already has this role" in page
    assert invitations(db) == set()

    token = csrf_token(client, preview)
    response = client.post(preview, data={"csrf_token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2 invitations made" in html
    assert len(re.findall(r'value="http://localhost/invitations/[^"]+"', html)) == 2
    assert invitations(db) == {
        ("nina.new@northfieldprimary.example.org", "team_member", "team", 1),
        ("gus.gov@example.org", "governor", "school", 1),
    }
    # The same batch cannot be sent twice, and the same list again invites nobody.
    assert client.post(preview, data={"csrf_token": token}).status_code == 404
    preview, page = upload(client, "/teams/1/people/import", text)
    assert "0 people to invite" in page
    assert page.count("Already invited (the invitation is still waiting)") == 2
    assert "Nobody on the list is left to invite." in page
    assert len(invitations(db)) == 2


def test_partnership_lead_invites_across_the_partnership(demo, db, client, auth):
    auth.login(TRUST_LEAD)
    text = (
        "Email,Name,URN,Team,Role\n"
        "tia@example.org,Tia Lead,119002,Senior leadership team,Team lead\n"
        "pam@example.org,Pam Partner,,,Partnership lead\n"
        "tom@example.org,Tom Trustee,,,Trustee\n"
        "kim@example.org,Kim Cluster,119007,,Team lead\n"
        "zed@example.org,Zed Zero,999999,,Team member\n"
    )
    preview, page = upload(client, "/partnerships/1/people/import", text)
    assert "3 people to invite" in page
    # Kirkby Lonsdale Primary is in the cluster, not the trust.
    assert re.search(r"5 \S+ You may not invite a team lead to", page)
    assert "No school on the platform has URN 999999" in page
    token = csrf_token(client, preview)
    client.post(preview, data={"csrf_token": token})
    got = invitations(db)
    assert ("pam@example.org", "partnership_lead", "partnership", 1) in got
    assert ("tom@example.org", "governor", "partnership", 1) in got
    assert {r[0] for r in got} == {
        "tia@example.org",
        "pam@example.org",
        "tom@example.org",
    }


def test_list_without_the_columns_is_refused(demo, db, client, auth):
    auth.login(TRUST_LEAD)
    url = "/partnerships/1/people/import"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(b"who,what\na,b\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "“email” is missing" in page_text(response.get_data(as_text=True))


def test_others_cannot_upload_or_send(demo, db, client, auth):
    auth.login(HEAD)
    preview, _ = upload(client, "/teams/1/people/import", LIST.format(deputy=DEPUTY))
    auth.logout()
    auth.login(CLUSTER_LEAD)
    assert client.get("/partnerships/1/people/import").status_code == 404
    assert client.get(preview).status_code == 404


def test_people_invitations_are_emailed_where_smtp_is_set(
    demo, app, db, client, auth, monkeypatch
):
    from peerreview.accounts import mail

    sent = []
    monkeypatch.setattr(
        mail.smtplib, "SMTP", lambda *a, **kw: _FakeSMTP(sent), raising=True
    )
    app.config["MAIL_SERVER"] = "127.0.0.1"
    auth.login(HEAD)
    url = "/teams/1/people/import"
    token = csrf_token(client, url)
    raw = b"email,name,urn,team,role\nnina@example.org,Nina New,,,Team member\n"
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(raw), "people.csv")},
        content_type="multipart/form-data",
    )
    preview = response.headers["Location"]
    token = csrf_token(client, preview)
    response = client.post(preview, data={"csrf_token": token})
    page = page_text(response.get_data(as_text=True))
    assert "1 was emailed: Nina New (nina@example.org)." in page
    assert "Links to copy" not in page
    assert [m["To"] for m in sent] == ["nina@example.org"]
    assert "/invitations/" in sent[0].get_content()


class _FakeSMTP:
    def __init__(self, sent):
        self.sent = sent

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, msg):
        self.sent.append(msg)


def test_a_long_list_of_unusable_lines_shows_the_first_500(demo, db, client, auth):
    auth.login(HEAD)
    text = "email,name,role\n" + "not-an-email,Nobody,Team member\n" * 502
    _, page = upload(client, "/teams/1/people/import", text)
    assert "502 lines that cannot be used" in page
    assert "501 not-an-email" in page and "502 not-an-email" not in page
    assert "and 2 more lines." in page
