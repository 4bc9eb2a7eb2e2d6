"""Charts are readable at normal zoom on a wide and a narrow screen.

Every label and figure of every chart on the results, moderation and
comparison pages is drawn at 12 CSS pixels or more as the reader sees it (the
chart's own font size times the scale the page shows it at): the per-item
strips used to shrink into their column until their labels were 6px high.
No chart widens the page; a wide one scrolls in its own region.
"""

import pytest
from support import HEAD, TRUST_LEAD
from support_browser import screenshot, sign_in

pytestmark = pytest.mark.browser

PAGES = {
    HEAD: ["/cycles/2/results", "/cycles/2/moderate"],
    TRUST_LEAD: ["/partnerships/1/comparison"],
}

SMALLEST = """() => {
  let smallest = Infinity, where = '';
  for (const svg of document.querySelectorAll('svg.pr-chart')) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < smallest) { smallest = px; where = svg.className.baseVal + ': ' + t.textContent; }
    }
  }
  return [smallest, where];
}"""


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("email", list(PAGES))
def test_chart_text_is_12_pixels_or_more(live_server, browser, email, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, email, a11y=False)
        for path in PAGES[email]:
            page.goto(live_server.url + path)
            screenshot(page, f"charts-{path}-{width}")
            assert page.locator("svg.pr-chart").count() > 0, path
            smallest, where = page.evaluate(SMALLEST)
            assert smallest >= 12, f"{path} at {width}px: {smallest:.1f}px ({where})"
            assert page.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth"
            ), path
    finally:
        context.close()
