"""Helpers for the browser journeys: sign-in, accessibility checks, screenshots."""

import json
import pathlib
import re

import pytest
from playwright.sync_api import Page, expect
from support import DEMO_PASSWORD, totp_code

ROOT = pathlib.Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = pathlib.Path("/tmp/peerreview-shots")
# Impacts that fail a journey; "minor" and "moderate" findings are left to review.
BLOCKING_IMPACTS = ("serious", "critical")

_AXE_URL = "/__axe-core.js"


def check_a11y(page: Page) -> None:
    """Run axe-core on the page and fail on every serious or critical violation."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in {ROOT}")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        _inject_axe(page)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(
            f"axe found {len(blocking)} serious or critical problem(s) on "
            f"{page.url}:\n" + "\n".join(_describe(v) for v in blocking),
            pytrace=False,
        )


def _inject_axe(page: Page) -> None:
    """Load axe.min.js into the page without relaxing its Content-Security-Policy.

    add_script_tag(path=...) inlines the file, which script-src 'self' forbids,
    so the script is requested from the page's own origin and answered here.
    """
    origin = re.match(r"^https?://[^/]+", page.url)
    assert origin, f"axe needs an http(s) page, not {page.url}"
    url = origin.group(0) + _AXE_URL
    page.route(
        url,
        lambda route: route.fulfill(
            path=str(AXE), content_type="text/javascript; charset=utf-8"
        ),
        times=1,
    )
    page.add_script_tag(url=url)


def _describe(violation: dict) -> str:
    targets = "\n".join(
        f"      {json.dumps(node['target'])}: {node['html'][:160]}"
        for node in violation["nodes"]
    )
    return (
        f"  - {violation['id']} ({violation['impact']}): {violation['help']}\n"
        f"    {violation['helpUrl']}\n{targets}"
    )


def screenshot(page: Page, name: str) -> pathlib.Path:
    """Save a full-page PNG as /tmp/peerreview-shots/<name>.png and return its path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page: Page, name: str) -> None:
    """Take the page's screenshot, then check it with axe."""
    screenshot(page, name)
    check_a11y(page)


def sign_in(
    page: Page,
    base_url: str,
    email: str,
    password: str = DEMO_PASSWORD,
    *,
    a11y: bool = True,
) -> None:
    """Sign in through the real form, found by its labels; check it with axe first.

    Returns once the page the form leads to has loaded, whether or not the
    sign-in succeeded: the caller asserts where it landed.
    """
    page.goto(base_url + "/sign-in")
    if a11y:
        check_a11y(page)
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    if page.url.endswith("/sign-in/code"):
        enter_code(page, base_url, email, a11y=a11y)


# The database behind each live server's address, for the codes an
# authenticator app would show (set by the live_server fixture).
DATABASES: dict[str, pathlib.Path] = {}


def enter_code(page: Page, base_url: str, email: str, *, a11y: bool = True) -> None:
    """Enter the code an authenticator app would show now, on the second step."""
    from peerreview.db import connect

    if a11y:
        check_a11y(page)
    db = connect(DATABASES[base_url])
    try:
        code = totp_code(db, email)
    finally:
        db.conn.close()
    page.get_by_label("Code from your authenticator app", exact=True).fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue", exact=True).click()


def sign_out(page: Page) -> None:
    """Sign out with the button in the header and wait for the sign-in page."""
    with page.expect_navigation():
        page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to peerreview")
