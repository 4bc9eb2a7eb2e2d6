"""Every kind of page reflows at 320 CSS pixels (WCAG 2.2, 1.4.10).

No page scrolls sideways as a whole: a wide table or chart scrolls inside its
own labelled, keyboard-focusable region. Each page is also saved as a
screenshot at 375 and 1280 pixels to be looked at.
"""

import re

import pytest
from support import ADMIN, CHAIR, DEPUTY, GOVERNOR, HEAD, TRUST_LEAD
from support_browser import SHOTS, sign_in

REVIEWER = "headteacher@riversideinfant.example.org"
# One page of each kind, by who may see it.
PAGES = {
    HEAD: [
        "/",
        "/teams/1",
        "/cycles/9",
        "/cycles/2/results",
        "/cycles/2/moderate",
        "/cycles/2/plan",
        "/cycles/2/evidence",
        "/cycles/2/plan/actions/new",
        "/cycles/2/reports",
        "/cycles/21/self-vs-peer",
        "/peer/",
        "/invite/team/1",
        "/account/password",
    ],
    DEPUTY: ["/cycles/9/rate"],
    CHAIR: ["/cycles/10/moderate"],
    GOVERNOR: ["/cycles/2/results", "/cycles/2/plan"],
    TRUST_LEAD: [
        "/partnerships/1",
        "/partnerships/1/comparison",
        "/partnerships/1/peer-rounds/new",
        "/partnerships/1/reports",
        "/peer-rounds/2",
        "/schools/1",
    ],
    REVIEWER: ["/peer/"],
    ADMIN: [
        "/admin/",
        "/admin/accounts",
        "/admin/schools/new",
        "/instruments",
        "/instruments/ascl-closing-gaps",
        "/instruments/upload",
        "/instruments/from-csv",
    ],
}
# Saved at 375 and 1280 pixels too, to be looked at (top of the page).
LOOKED_AT = ("/results", "/moderate", "/comparison", "/plan", "/from-csv")


def overflow(page) -> int:
    """How many pixels the page as a whole scrolls sideways."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )


@pytest.mark.parametrize("email", list(PAGES))
def test_pages_reflow_at_320_pixels(live_server, browser, email):
    context = browser.new_context(viewport={"width": 320, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, email, a11y=False)
        wide = []
        SHOTS.mkdir(parents=True, exist_ok=True)
        for path in PAGES[email]:
            widths = (320, 375, 1280) if path.endswith(LOOKED_AT) else (320,)
            for width in widths:
                page.set_viewport_size({"width": width, "height": 800})
                response = page.goto(live_server.url + path)
                assert response.status == 200, path
                name = re.sub(r"[^A-Za-z0-9]+", "-", f"{email}-{path}-{width}")
                page.screenshot(path=str(SHOTS / f"reflow-{name}.png"))
                if width == 320 and overflow(page) > 0:
                    wide.append(f"{path}: {overflow(page)} px too wide")
        assert not wide, "\n".join(wide)
    finally:
        context.close()
