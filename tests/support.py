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


class _Checked(HTMLParser):
    def __init__(self, name):
        super().__init__()
        self.name, self.values = name, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == self.name and "checked" in attrs:
            self.values.append(attrs.get("value"))


def checked(html: str, name: str) -> list:
    """Return the values of the checked inputs called name, whatever the
    order of their attributes."""
    parser = _Checked(name)
    parser.feed(html)
    return parser.values


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email, password=DEMO_PASSWORD, follow=False):
        token = csrf_token(self.client, "/sign-in")
        return self.client.post(
            "/sign-in",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow,
        )

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
