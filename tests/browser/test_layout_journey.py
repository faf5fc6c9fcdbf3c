"""What every page shares, as each role sees it at 1280 px: the header on one line, the
favicon; and the monitoring diagram, which fits its box and zooms."""

from __future__ import annotations

import pytest

from tests.conftest import post_form, sign_in
from tests.integration.test_travel_http import claim, receipts

ROLES = ("marta", "ana", "clara", "felix", "helena", "admin")
# The header's rows: the service's name and the person's links on the first, every section of
# the navigation on the second, nothing cut off or pushed beyond the window.
HEADER_ROWS = """() => {
    const box = selector => document.querySelector(selector).getBoundingClientRect();
    const title = box('.app-header__title'), user = box('.app-header__user'), nav = box('.app-header__nav');
    const items = [...document.querySelectorAll('.app-header__nav li')].map(e => e.getBoundingClientRect());
    return {
        height: Math.round(box('.app-header').height),
        firstRow: Math.abs(title.top - user.top) < 12 && user.right <= box('.app-header__inner').right + 1,
        navBelow: nav.top >= Math.max(title.bottom, user.bottom) - 1,
        navOneRow: items.every(r => Math.abs(r.top - items[0].top) < 4),
        sections: items.length,
        overflow: document.documentElement.scrollWidth > window.innerWidth,
    };
}"""


# The drawing inside the diagram's box: whether it is all in view, and its width.
FITS = """box => {
    const outer = box.getBoundingClientRect();
    const drawn = box.querySelector('svg .viewport').getBoundingClientRect();
    return {inside: drawn.left >= outer.left - 1 && drawn.right <= outer.right + 1
                    && drawn.top >= outer.top - 1 && drawn.bottom <= outer.bottom + 1,
            width: Math.round(drawn.width), box: Math.round(outer.width)};
}"""


@pytest.mark.parametrize("who", ROLES)
def test_the_header_fits_one_line_at_1280_px(people, who):
    person = people(who)
    person.page.set_viewport_size({"width": 1280, "height": 800})
    page = person.open("/inbox", f"header-1280-{who}")
    rows = page.evaluate(HEADER_ROWS)
    assert rows["firstRow"] and rows["navBelow"] and rows["navOneRow"] and not rows["overflow"], rows
    assert rows["sections"] >= 4 and (who != "admin" or rows["sections"] == 7), rows  # Reports, Administration too
    assert rows["height"] < 110, rows


def test_the_app_has_a_favicon(people, live_server):
    marta = people("marta")
    page = marta.page
    icons = page.locator("link[rel=icon]")
    assert icons.count() == 2
    for href in icons.evaluate_all("links => links.map(l => l.href)"):
        response = marta.context.request.get(href)
        assert response.ok and response.headers["content-type"] in ("image/svg+xml; charset=utf-8",
                                                                   "image/svg+xml", "image/vnd.microsoft.icon",
                                                                   "image/x-icon"), response.headers
    signed_out = people("kati", signed_in=False).context.request.get(live_server.url + "/favicon.ico")
    assert signed_out.ok and signed_out.body()[:4] == b"\x00\x00\x01\x00"  # an ICO, for anyone


def test_the_monitoring_diagram_fits_its_box_and_zooms(app, people):
    client = app.test_client()  # Marta files a claim (its pages are the travel journey's)
    sign_in(client, "marta")
    assert post_form(client, "/start/travel_reimbursement", claim(), receipts()).status_code == 302
    clara = people("clara")
    clara.page.set_viewport_size({"width": 1280, "height": 900})
    clara.open("/monitor/instances", "all-requests")
    assert "Download the whole list as a spreadsheet (CSV): the one request" in clara.text()
    page = clara.click(clara.page.locator("table tbody a").first.inner_text(), "request-diagram",
                       ready=".app-diagram--ready")
    box = page.locator("#diagram")
    shown = box.evaluate(FITS)
    assert shown["inside"] and shown["width"] > shown["box"] * 0.6, shown
    page.get_by_role("button", name="Zoom in").click()
    zoomed = box.evaluate(FITS)
    assert zoomed["width"] > shown["width"] * 1.2, (shown, zoomed)
    page.get_by_role("button", name="Fit to the frame").click()
    assert box.evaluate(FITS) == shown
    clara.seen("request-diagram-fitted")
