"""The comparison page at 1280 and 375 pixels: nothing overlaps, nothing is cut.

The heat map's column headings do not overlap and its school names are whole
and inside the picture; every choice's label is seen whole; no statement ends
in "…". Screenshots are saved to be looked at.
"""

import pytest
from support import TRUST_LEAD
from support_browser import screenshot, sign_in

pytestmark = pytest.mark.browser

HEAT = "svg.pr-heat"


def headings_overlapping(page) -> list:
    """Pairs of heat-map column headings whose boxes overlap."""
    return page.evaluate(
        """(sel) => {
        const svg = document.querySelector(sel);
        const heads = [...svg.querySelectorAll('text.pr-chart__label--head')]
          .map(t => [t.textContent, t.getBBox()]);
        const out = [];
        for (let i = 1; i < heads.length; i++) {
          const [a, ba] = heads[i - 1], [b, bb] = heads[i];
          if (ba.x + ba.width > bb.x) out.push(a + '/' + b);
        }
        return out;
      }""",
        HEAT,
    )


def names_cut(page) -> list:
    """School names in the heat map that start outside the picture."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel + ' g > text:first-child')]
          .filter(t => t.getBBox().x < 0 || t.textContent.endsWith('…'))
          .map(t => t.textContent)""",
        HEAT,
    )


def labels_cut(page) -> list:
    """Labels of the choices that are wider than the box they are shown in."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.pr-filters label, .pr-filters select')]
          .filter(e => e.scrollWidth > e.clientWidth + 1)
          .map(e => e.textContent.trim())"""
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_comparison_page_is_whole_at(live_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, TRUST_LEAD, a11y=False)
        page.goto(f"{live_server.url}/partnerships/1/comparison")
        screenshot(page, f"comparison-{width}")
        assert page.locator(HEAT).count() == 1
        assert headings_overlapping(page) == []
        assert names_cut(page) == []
        assert labels_cut(page) == []
        assert "…" not in page.inner_text("main")
        # The map keeps its size (its text is 14px) and scrolls in its region.
        size = page.evaluate(
            """(sel) => parseFloat(getComputedStyle(
                 document.querySelector(sel + ' text')).fontSize)""",
            HEAT,
        )
        scale = page.evaluate(
            """(sel) => { const s = document.querySelector(sel);
                 return s.getBoundingClientRect().width / s.viewBox.baseVal.width; }""",
            HEAT,
        )
        assert size * scale >= 12
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth"
        )
    finally:
        context.close()
