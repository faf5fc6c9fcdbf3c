"""The flow report as the secretariat opens it: from the header, filtered to travel claims;
each chart's figures are the ones in the table beside it; the diagram shows the waits; axe."""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import fill_date
from tests.integration.test_reports_flow import claims  # noqa: F401 - the known set of claims

# The values a chart writes on its bars, by series (legend order), as the page shows them.
CHART_VALUES = """svg => [...svg.querySelectorAll('.text-overlay .series')]
    .sort((a, b) => a.className.baseVal.localeCompare(b.className.baseVal, 'en', {numeric: true}))
    .map(series => [...series.querySelectorAll('text.value')].map(text => text.textContent))"""
COLUMN = """(table, index) => [...table.querySelectorAll('tbody tr')].map(
    row => row.children[index].textContent.trim())"""


def test_flow_report_charts_match_their_tables(people, journey, claims):  # noqa: F811 - the fixture imported
    clara = people("clara")
    clara.open("/inbox", "inbox")
    clara.click("Reports", "reports")
    page = clara.click("Flow", "flow")
    fill_date(page, "From", dt.date(2026, 1, 1))
    fill_date(page, "To", dt.date(2026, 12, 31))
    page.get_by_label("Process", exact=True).select_option(label="Travel reimbursement")
    page = clara.go(lambda: page.get_by_role("button", name="Show the figures").click(), "flow-travel",
                    ready="#diagram.app-diagram--ready")

    table = page.locator('table[data-table="processes"]')
    chart = page.locator("svg.app-chart").first
    assert chart.locator("title").first.text_content() == "Requests by process"
    drawn = chart.evaluate(CHART_VALUES)
    # Started, finished and rejected: the chart's series are the table's columns 1 to 3.
    assert [[value for value in series] for series in drawn] == [
        table.evaluate(COLUMN, index) for index in (1, 2, 3)]
    assert drawn == [["4"], ["2"], ["1"]]

    steps = page.locator('table[data-table="steps"]')
    assert "Check claim" in steps.text_content()
    labels = page.locator("#diagram .app-step-label").all_text_contents()
    assert sorted(labels) == ["1 day", "1 day", "2 days"]
    page.locator("#diagram").screenshot(path=journey.folder / "diagram.png")
    page.locator(".app-figure__chart").first.screenshot(path=journey.folder / "chart.png")
