"""The money, initiative, group and summary reports as their people open them: each chart's
figures are the ones in the table beside it, axe finds nothing serious, a buyer reaches her
group's figures from its page, and the summary prints on one A4 page."""

from __future__ import annotations

import datetime as dt
import re

from tests.browser.conftest import fill_date
from tests.integration.test_reports_money import group, known_claims

# The values a chart writes on its bars or points, by series (legend order), as drawn.
CHART_VALUES = """svg => [...svg.querySelectorAll('.text-overlay .series')]
    .sort((a, b) => a.className.baseVal.localeCompare(b.className.baseVal, 'en', {numeric: true}))
    .map(series => [...series.querySelectorAll('text.value')].map(text => text.textContent))"""
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
