"""Helpers and demo sign-ins shared by the tests."""

import re
from html.parser import HTMLParser

TOKEN = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
DEMO_PASSWORD = "peerreview-demo"


def csrf_token(client, url="/sign-in") -> str:
    """Return a CSRF token from a page's form."""
    html = client.get(url).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


class _Tags(HTMLParser):
    def __init__(self, tag):
        super().__init__()
        self.tag, self.found = tag, []

    def handle_starttag(self, tag, attrs):
        if tag == self.tag:
            self.found.append({k: "" if v is None else v for k, v in attrs})

    handle_startendtag = handle_starttag


def tags(html: str, tag: str, **attrs: str) -> list[dict]:
    """Return the attributes of every `tag` element that has `attrs`, whatever
    their order, with character references undone. Write `class_` for class,
    `for_` for for, and `_` for `-` (`aria_describedby`)."""
    want = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    parser = _Tags(tag)
    parser.feed(html)
    return [a for a in parser.found if all(a.get(k) == v for k, v in want.items())]


def checked(html: str, name: str) -> list:
    """Return the values of the checked inputs called name."""
    return [a.get("value") for a in tags(html, "input", name=name) if "checked" in a]


def totp_code(db, email) -> str:
    """Return a code an authenticator app would show for an account, not used yet.

    A code is accepted once per 30-second step, and tests sign in more often
    than that: take the current step, or the next one if it is used (the
    server allows one step either side of now); when both are used, forget
    the last one. Never the step before: the clock may leave its window
    before the server checks it.
    """
    import time

    import pyotp

    from peerreview.accounts import second_factor_key

    sealed, last = db.execute(
        "SELECT coalesce(totp_secret, totp_pending), totp_last_step FROM users "
        "WHERE email = ?",
        [email],
    ).fetchone()
    totp = pyotp.TOTP(second_factor_key.box().open(sealed))
    now = int(time.time()) // totp.interval
    step = now if last is None else max(now, last + 1)
    if step > now + 1:
        db.execute("UPDATE users SET totp_last_step = NULL WHERE email = ?", [email])
        step = now
    return totp.generate_otp(step)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email, password=DEMO_PASSWORD, follow=False):
        """Sign in through the forms, with the second step when there is one.

        An account that has a second factor gets its current code from the
        database; one that must set it up sets it up (and the response is the
        page of recovery codes).
        """
        token = csrf_token(self.client, "/sign-in")
        response = self.client.post(
            "/sign-in",
            data={"email": email, "password": password, "csrf_token": token},
        )
        step = response.headers.get("Location", "")
        if step == "/sign-in/set-up" or (
            step == "/sign-in/code" and self._has_secret(email)
        ):
            # (After many wrong passwords every sign-in meets the code page,
            # with or without an account: without a secret, it stops there.)
            response = self.second_step(email, step)
        if follow and response.status_code in (302, 303):
            response = self.client.get(
                response.headers["Location"], follow_redirects=True
            )
        return response

    def _has_secret(self, email):
        from peerreview.db import connect

        db = connect(self.client.application.config["DATABASE"])
        try:
            row = db.execute(
                "SELECT coalesce(totp_secret, totp_pending) FROM users WHERE email = ?",
                [email],
            ).fetchone()
        finally:
            db.conn.close()
        return bool(row and row[0])

    def second_step(self, email, url="/sign-in/code"):
        """Post the code an authenticator app would show now."""
        from peerreview.db import connect

        html = self.client.get(url).get_data(as_text=True)
        match = TOKEN.search(html)
        assert match, f"no form on {url}"
        db = connect(self.client.application.config["DATABASE"])
        try:
            code = totp_code(db, email)
        finally:
            db.conn.close()
        response = self.client.post(
            url, data={"code": code, "csrf_token": match.group(1) or match.group(2)}
        )
        return response

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/sign-out", data={"csrf_token": token})

    def post(self, url, data=None, page=None, **kw):
        """POST a form with a valid CSRF token taken from page (default: url)."""
        token = csrf_token(self.client, page or url)
        return self.client.post(url, data={**(data or {}), "csrf_token": token}, **kw)


def user_id(db, email) -> int:
    return db.execute("SELECT id FROM users WHERE email = ?", [email]).fetchone()[0]


ADMIN = "admin@peerreview.example.org"
HEAD = "headteacher@northfieldprimary.example.org"
DEPUTY = "deputy.headteacher@northfieldprimary.example.org"
TRUST_LEAD = "director@northfieldtrust.example.org"
CLUSTER_LEAD = "lead@lunevalley.example.org"
GOVERNOR = "governor@northfieldprimary.example.org"
CHAIR = "chair@northfieldtrust.example.org"


def tagged_pdf(pdf: bytes, title: str, author: str):
    """Check a PDF is tagged, in en-GB, with this title and author; return its reader."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert reader.metadata.title == title
    assert reader.metadata.author == author
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    return reader


def count_renders(monkeypatch) -> list:
    """Count the report worker's PDF renders: the list grows by one each."""
    from peerreview.reports import jobs

    calls = []
    real = jobs.render_pdf
    monkeypatch.setattr(
        jobs, "render_pdf", lambda html, **kw: calls.append(1) or real(html, **kw)
    )
    return calls


def ready_pdf(client, status_url: str) -> bytes:
    """Check a report's status JSON says ready, download the PDF it names, return it."""
    status = client.get(status_url).get_json()
    assert status["state"] == "ready", status
    download = client.get(status["download"])
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")
    return download.data
