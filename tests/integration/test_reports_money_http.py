"""The money, initiative, group and summary reports over HTTP: who sees which, that no page
or download shows an IBAN, and that each download holds the table the page shows."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html import unescape

from openpyxl import load_workbook

from app.services.reports import FilterSpec, default_period
from app.services.reports.money import money_report
from tests.conftest import loaded, sign_in
from tests.diagrams import complete, ready_tasks, start_request, text
from tests.integration.test_reports_money import group
from tests.integration.test_travel_http import claim, receipts

SECRETARIAT = ("clara", "felix", "helena", "admin")


def paid_claim(client) -> None:
    instance = start_request(client, "marta", "travel_reimbursement", claim(), receipts())
    complete(client, "clara", ready_tasks(instance, "check_claim")[0], {"decision": "approve"})
    complete(client, "felix", ready_tasks(instance, "approve_payment")[0], {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-7"})


def without_spaces(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace(" ", "")


def assert_no_iban(body: bytes) -> None:
    iban = claim()["iban"]  # every claim here is paid into it
    assert iban.replace(" ", "") not in without_spaces(body) and iban not in body.decode("utf-8", "replace")


def workbook_text(body: bytes) -> bytes:
    """Every XML part of an .xlsx, for searching."""
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        return b"".join(book.read(name) for name in book.namelist())


def download_links(page: str) -> list[str]:
    found = re.findall(r'href="(/reports/[^"]+\.(?:csv|xlsx)[^"]*)"', page)
    return sorted({link.replace("&amp;", "&") for link in found})


def test_who_sees_which_report(client):
    circular, zero = group("Circular"), group("Zero")
    for who in SECRETARIAT:
        sign_in(client, who)
        for url in ("/reports/money", "/reports/initiative", "/reports/summary", f"/reports/groups/{zero}"):
            assert client.get(url).status_code == 200, (who, url)
        assert "Money" in loaded(client.get("/reports/"))
    sign_in(client, "marta")  # a buyer of Circular ICT: her group's page only, and no money on it
    for url in ("/reports/money", "/reports/initiative", "/reports/summary", "/reports/money/travel-groups.csv",
                f"/reports/groups/{zero}", f"/reports/groups/{zero}/work.csv"):
        assert client.get(url).status_code == 403, url
    page = loaded(client.get(f"/reports/groups/{circular}"))
    assert "Figures of Circular ICT" in page and "Travel claimed" not in page
    sign_in(client, "clara")
    assert "Travel claimed, eligible and paid" in loaded(client.get(f"/reports/groups/{circular}"))


def test_money_pages_and_downloads_show_the_figures_and_never_an_iban(client):
    paid_claim(client)
    first, last = default_period()
    report = money_report(FilterSpec(first, last))
    assert report.travel.total.paid > 0
    sign_in(client, "felix")
    page = client.get("/reports/money")
    assert page.status_code == 200
    words = text(page)
    assert "Paid" in words and f"{report.travel.total.paid:,.2f} EUR" in words
    for caption in ("Travel claims by working group", "Travel claims by organisation",
                    "No expert was requested in this period."):
        assert caption in words
    assert_no_iban(page.data)
    links = download_links(page.get_data(as_text=True))
    assert {link.split("?")[0].rsplit("/", 1)[1] for link in links} >= {
        "travel-groups.csv", "travel-groups.xlsx", "travel-months.csv", "travel-organisations.xlsx"}
    for link in links:
        body = client.get(link)
        assert body.status_code == 200, link
        name = link.split("?")[0].rsplit("/", 1)[1].rsplit(".", 1)[0]
        table = report.tables[name]
        if link.split("?")[0].endswith(".csv"):
            assert_no_iban(body.data)
            rows = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
            assert tuple(rows[0]) == table.columns
            assert [row[0] for row in rows[1:]] == [str(row[0]) for row in table.rows]
            assert [row[2] for row in rows[1:]] == ["" if row[2] is None else str(row[2]) for row in table.rows]
        else:
            assert_no_iban(workbook_text(body.data))
            sheet = load_workbook(io.BytesIO(body.data)).active
            cells = [tuple(row) for row in sheet.iter_rows(values_only=True)]
            assert cells[0] == table.columns
            assert [row[0] for row in cells[1:]] == [row[0] for row in table.rows]
            assert [float(row[2] or 0) for row in cells[1:]] == [float(row[2] or 0) for row in table.rows]

    for url in ("/reports/initiative", "/reports/summary", f"/reports/groups/{group('Circular')}"):
        body = client.get(url)
        assert body.status_code == 200
        assert_no_iban(body.data)
        for link in download_links(body.get_data(as_text=True)):
            download = client.get(link)
            assert download.status_code == 200, link
            assert_no_iban(workbook_text(download.data) if link.split("?")[0].endswith(".xlsx") else download.data)


def test_filters_narrow_the_money_and_refuse_a_backward_period(client):
    paid_claim(client)
    sign_in(client, "helena")
    zero = text(client.get(f"/reports/money?group={group('Zero')}"))
    assert "No travel claim was filed in this period." in zero
    refused = client.get("/reports/money?start-day=2&start-month=1&start-year=2026&end-day=1&end-month=1&end-year=2026")
    assert refused.status_code == 400 and "There is a problem" in text(refused)
    assert client.get("/reports/money/travel-groups.csv?start-day=2&start-month=1&start-year=2026"
                      "&end-day=1&end-month=1&end-year=2026").status_code == 400
    assert client.get("/reports/money/nothing.csv").status_code == 404


def test_the_reports_speak_french_and_german(client):
    sign_in(client, "felix")
    for language, heading in (("fr", "Finances"), ("de", "Finanzen")):
        page = text(client.get("/reports/money", headers={"Accept-Language": language}))
        assert heading in page, language
        summary = text(client.get("/reports/summary", headers={"Accept-Language": language}))
        assert {"fr": "Synthèse pour la Commission", "de": "Zusammenfassung für die Kommission"}[language] in summary


def cells(page: str, table: str) -> list[list[str]]:
    """The body cells of the report table ``table`` as the page writes them, row by row."""
    body = re.search(rf'data-table="{table}".*?<tbody[^>]*>(.*?)</tbody>', page, re.S).group(1)
    return [[" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body, re.S)]


def test_money_reads_as_money_in_each_language_and_downloads_as_numbers(client):
    paid_claim(client)  # 493.00 EUR claimed, 473.00 eligible (the hotel capped): whole amounts
    sign_in(client, "felix")
    english = cells(client.get("/reports/money").get_data(as_text=True), "travel-groups")
    assert english == [["Circular ICT", "1", "493.00 EUR", "473.00 EUR", "473.00 EUR", "0%", "100%"]]
    for language in ("fr", "de"):
        page = client.get("/reports/money", headers={"Accept-Language": language}).get_data(as_text=True)
        row = [cell.replace("\u202f", " ").replace("\u00a0", " ") for cell in cells(page, "travel-groups")[0]]
        assert row[1:] == ["1", "493,00 €", "473,00 €", "473,00 €", "0 %", "100 %"], (language, row)
    summary = cells(client.get("/reports/summary").get_data(as_text=True), "summary-money")
    assert summary[0][:3] == ["Circular ICT", "493.00 EUR", "473.00 EUR"]
    assert all(cell.endswith(" EUR") for row in summary for cell in row[1:]), summary

    rows = list(csv.reader(io.StringIO(client.get("/reports/money/travel-groups.csv").data.decode("utf-8-sig"))))
    assert rows[1] == ["Circular ICT", "1", "493.00", "473.00", "473.00", "0.0", "100.0"]
    sheet = load_workbook(io.BytesIO(client.get("/reports/money/travel-groups.xlsx").data)).active
    claims, claimed, late = sheet["B2"], sheet["C2"], sheet["F2"]
    assert (claims.value, claims.data_type) == (1, "n")
    assert (claimed.value, claimed.data_type, claimed.number_format) == (493, "n", "#,##0.00")
    assert (late.value, late.number_format) == (0, "0.0")
    spent = load_workbook(io.BytesIO(client.get("/reports/summary/summary-money.xlsx").data)).active
    assert [cell.number_format for cell in spent[2][1:]] == ["#,##0.00"] * 5


def test_the_summary_counts_one_claim_in_the_singular(client):
    """Issue 13: "1 claim", "1 demande", "1 Antrag", not "1 claims"; the other figures' nouns agree too."""
    paid_claim(client)
    sign_in(client, "felix")
    for language, one in (("en", "1 claim: 493.00 EUR claimed"), ("fr", "1 demande : 493,00 € demandés"),
                          ("de", "1 Antrag: 493,00 € beantragt")):
        summary = text(client.get("/reports/summary", headers={"Accept-Language": language}))
        assert one in summary, language
        assert "1 claims" not in summary and "1 demandes" not in summary and "1 Anträge" not in summary
