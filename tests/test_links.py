"""Every link leads somewhere: each demo role follows every link it is shown.

Breadth-first from the home page, bounded per role; every internal link a
page shows (``<a href>``) must answer without 403, 404 or 500. Sign-out is a
POST (a form, not a link), so the crawl never signs itself out.
"""

import collections
import re
from html.parser import HTMLParser

import pytest
from support import (
    ADMIN,
    CHAIR,
    CLUSTER_LEAD,
    DEPUTY,
    GOVERNOR,
    HEAD,
    TRUST_LEAD,
)

REVIEWER = "headteacher@riversideinfant.example.org"
MAX_PAGES = 250
# The same page for another cycle, school or item adds time, not coverage:
# at most this many URLs of one shape (numbers replaced) are followed.
PER_SHAPE = 6
SKIP = re.compile(r"^/(sign-out|static/)")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def internal_links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    out = []
    for href in parser.hrefs:
        href = href.split("#", 1)[0]
        if href.startswith("/") and not href.startswith("//") and not SKIP.match(href):
            out.append(href)
    return out


def crawl(client, start="/"):
    """Return ({url: status}, {url: the page it was found on}) for one sign-in."""
    seen, found_on = {}, {start: "(start)"}
    shapes = collections.Counter()
    queue = collections.deque([start])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        seen[url] = response.status_code
        kind = response.headers.get("Content-Type", "")
        if response.status_code != 200 or not kind.startswith("text/html"):
            continue
        for link in internal_links(response.get_data(as_text=True)):
            shape = re.sub(r"\d+", "N", link.split("?", 1)[0])
            if link in found_on or shapes[shape] >= PER_SHAPE:
                continue
            shapes[shape] += 1
            found_on[link] = url
            queue.append(link)
    return seen, found_on


@pytest.mark.parametrize(
    "email",
    [ADMIN, HEAD, DEPUTY, CHAIR, TRUST_LEAD, CLUSTER_LEAD, GOVERNOR, REVIEWER],
)
def test_every_link_a_role_is_shown_leads_somewhere(demo_full, client, auth, email):
    assert auth.login(email).status_code == 302
    seen, found_on = crawl(client)
    broken = {
        url: (status, found_on[url])
        for url, status in seen.items()
        if status in (403, 404) or status >= 500
    }
    assert not broken, "\n".join(
        f"{status} {url} (linked from {page})"
        for url, (status, page) in sorted(broken.items())
    )
    assert len(seen) > 5
