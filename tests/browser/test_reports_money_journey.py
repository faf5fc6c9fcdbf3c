"""The money, initiative, group and summary reports as their people open them: each chart's
figures are the ones in the table beside it, axe finds nothing serious, a buyer reaches her
group's figures from its page, and the summary prints on one A4 page."""

from __future__ import annotations

import datetime as dt
import re

from tests.browser.conftest import fill_date
from tests.integration.test_reports_money import group, known_claims

# The values a chart writes on its bars, or a line's points carry as their title ("Mar 2025:
# 1,234.00 EUR"), by series (legend order).
CHART_VALUES = """svg => {
    const byName = (a, b) => a.className.baseVal.localeCompare(b.className.baseVal, 'en', {numeric: true});
    const written = [...svg.querySelectorAll('.text-overlay .series')].sort(byName)
        .map(series => [...series.querySelectorAll('text.value')].map(text => text.textContent));
    if (written.some(values => values.length)) return written;
    return [...svg.querySelectorAll('.plot.overlay > .series')].sort(byName).map(series =>
        [...series.querySelectorAll('.dots > circle > title')].map(t => t.textContent.split(': ').pop()));
}"""
# The x axis's labels as drawn (each box turned as its text is), in the SVG's own units; the
# legend's texts; the SVG's viewBox.
CHART_LAYOUT = """svg => {
    const corners = text => {
        const box = text.getBBox(), m = svg.getCTM().inverse().multiply(text.getCTM());
        return [[box.x, box.y], [box.x + box.width, box.y], [box.x + box.width, box.y + box.height],
                [box.x, box.y + box.height]].map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
    };
    const shown = text => getComputedStyle(text).display !== 'none';
    const view = svg.viewBox.baseVal;
    return {
        labels: [...svg.querySelectorAll('.axis.x text')].filter(shown)
            .map(text => ({text: text.textContent, corners: corners(text)})),
        legend: [...svg.querySelectorAll('.legends text')]
            .map(text => ({text: text.textContent, corners: corners(text)})),
        view: [view.x, view.y, view.width, view.height],
    };
}"""
# A column of a table, but for its "All working groups" row, which no chart draws.
COLUMN = """(table, index) => [...table.querySelectorAll('tbody tr')]
    .filter(row => row.children[0].textContent.trim() !== 'All working groups')
    .map(row => row.children[index].textContent.trim())"""


def number(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text) or 0)


def drawn_matches_table(page, chart_title: str, table_name: str, columns: list[int]) -> None:
    """The chart called ``chart_title`` draws the table's ``columns`` (bars leave zeroes out, lines not:
    compared without them)."""
    chart = page.locator("svg.app-chart", has=page.locator("title", has_text=chart_title)).first
    table = page.locator(f'table[data-table="{table_name}"]')
    drawn = [[number(value) for value in series if number(value)] for series in chart.evaluate(CHART_VALUES)]
    shown = [[number(value) for value in table.evaluate(COLUMN, index) if number(value)] for index in columns]
    assert drawn == shown, (chart_title, drawn, shown)
    assert any(drawn), chart_title


def overlap(one: list, other: list) -> bool:
    """Whether two convex shapes (their corners) overlap: no side of either separates them."""
    for shape in (one, other):
        for (x1, y1), (x2, y2) in zip(shape, shape[1:] + shape[:1], strict=True):
            axis = (y1 - y2, x2 - x1)
            a = [axis[0] * x + axis[1] * y for x, y in one]
            b = [axis[0] * x + axis[1] * y for x, y in other]
            if max(a) <= min(b) + 0.5 or max(b) <= min(a) + 0.5:
                return False
    return True


def reads_whole(chart, series: list[str]) -> None:
    """The chart's x labels touch none of the others and lie inside its viewBox, and its legend
    names each series in full, inside the viewBox, overlapping no other name."""
    layout = chart.evaluate(CHART_LAYOUT)
    left, top, width, height = layout["view"]

    def inside(corners: list) -> bool:
        return all(left - 0.5 <= x <= left + width + 0.5 and top - 0.5 <= y <= top + height + 0.5 for x, y in corners)

    labels, legend = layout["labels"], layout["legend"]
    assert len(labels) >= 6, labels
    for items in (labels, legend):
        for index, item in enumerate(items):
            assert inside(item["corners"]), (item["text"], layout["view"])
            for other in items[index + 1:]:
                assert not overlap(item["corners"], other["corners"]), (item["text"], other["text"])
    assert [item["text"] for item in legend] == series


def in_2025(user, page, name: str):
    """Show the figures of 2025 on the report ``page``."""
    fill_date(page, "From", dt.date(2025, 1, 1))
    fill_date(page, "To", dt.date(2025, 12, 31))
    return user.go(lambda: page.get_by_role("button", name="Show the figures").click(), name)


def test_money_initiative_group_and_summary_reports(app, people):
    known_claims(app.test_client())  # five claims filed in 2025, one on an old version
    felix = people("felix")
    felix.click("Reports", "reports")
    page = in_2025(felix, felix.click("Money", "money"), "money-2025")
    drawn_matches_table(page, "Travel money by the month claims were filed", "travel-months", [2, 3, 4])
    drawn_matches_table(page, "Travel money by working group", "travel-groups", [2, 3, 4])
    assert "Filed late 1 claim (20%)" in felix.text() and "Accommodation capped 4 claims (80%)" in felix.text()

    clara = people("clara")
    clara.click("Reports", "reports")
    page = clara.click("The initiative", "initiative")
    drawn_matches_table(page, "Who came to the meetings", "members-meetings", [5, 6])
    drawn_matches_table(page, "Member organisations over time", "members-by-month", [1, 2])

    marta = people("marta")
    marta.open(f"/groups/{group('Circular')}", "group")
    page = marta.click("Figures of this group", "group-figures")
    assert page.get_by_role("heading", level=1).inner_text() == "Figures of Circular ICT"
    assert "Travel claimed" not in marta.text()  # no money for a buyer

    helena = people("helena")
    helena.click("Reports", "reports")
    page = in_2025(helena, helena.click("Summary for the Commission", "summary"), "summary-2025")
    assert "5 claims: 2,402.00 EUR claimed" in helena.text()
    page.emulate_media(media="print")
    page.screenshot(path=helena.journey.folder / "summary-print.png", full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    (helena.journey.folder / "summary.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # one A4 page
    assert page.locator(".app-filters").is_hidden() and page.locator(".app-header").is_hidden()


FIFTEEN_MONTHS = "?start-day=1&start-month=1&start-year=2025&end-day=31&end-month=3&end-year=2026"


def test_a_year_of_money_reads_whole_in_three_languages_on_a_wide_and_a_narrow_screen(app, people):
    """The travel trend over 15 months: its month labels touch no other, its legend's names are
    whole and inside the chart, at 1280 and 320 pixels wide, in English, German and French; no
    report page is wider than the screen; the summary prints on one A4 page; axe."""
    known_claims(app.test_client())
    for who, locale, months, names in (
            ("felix", "en-GB", ("Jan 2025", "Mar 2026"), ["Claimed (EUR)", "Eligible (EUR)", "Paid (EUR)"]),
            ("helena", "de-DE", ("Jan. 2025", "März 2026"), None),
            ("clara", "fr-FR", ("janv. 2025", "mars 2026"), None)):
        person = people(who, locale=locale)
        for width in (1280, 320):
            person.page.set_viewport_size({"width": width, "height": 900})
            page = person.open(f"/reports/money{FIFTEEN_MONTHS}", f"money-{width}")
            chart = page.locator("svg.app-chart").first
            table = page.locator('table[data-table="travel-months"]')
            headers = [header.strip() for header in table.locator("thead th").all_inner_texts()]
            reads_whole(chart, names or headers[2:5])
            labels = chart.locator(".axis.x text").all_text_contents()
            assert labels[0] == months[0] and labels[-1] == months[1], labels
            assert chart.evaluate("svg => svg.getBoundingClientRect().right") <= width
            chart.screenshot(path=person.journey.folder / f"{who}-trend-{width}.png")
            # No report page is wider than the screen: a wide table scrolls in its own frame.
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width, ("money", width)
            for report in ("flow", "initiative", f"groups/{group('Circular')}", "summary"):
                page = person.open(f"/reports/{report}{FIFTEEN_MONTHS}", f"{report.split('/')[0]}-{width}")
                assert page.evaluate("() => document.documentElement.scrollWidth") <= width, (report, width)
        # The summary, the last page opened, prints on one A4 page, within its width (182 mm,
        # 688 px, between the margins of reports-print.css).
        page.set_viewport_size({"width": 688, "height": 1000})
        page.emulate_media(media="print")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 688, who
        page.screenshot(path=person.journey.folder / f"{who}-summary-print.png", full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        (person.journey.folder / f"{who}-summary.pdf").write_bytes(pdf)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, who
        page.emulate_media(media="screen")
    page = people("felix").open(f"/reports/money{FIFTEEN_MONTHS}", "money-again")
    drawn_matches_table(page, "Travel money by the month claims were filed", "travel-months", [2, 3, 4])
