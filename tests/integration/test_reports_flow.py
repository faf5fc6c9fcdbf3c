"""The flow report, each figure worked out from a known set of travel claims filed, checked
and paid at known times (freezegun), on two versions of the process, one claim checked twice.

Claims by Marta for Circular ICT, in 2026 (days after 1 December 2026, 09:00 UTC):
  A (version 1): filed day 0; Clara asks for changes day 2; Marta resubmits day 3; Clara
     approves day 5 by email; Felix pays day 6          -> Paid, 6 days, check_claim waited 2 and 2
  B (version 1): filed day 0; Clara rejects day 1 by email -> Rejected, 1 day, check_claim waited 1
  C (version 2): filed day 1; Clara approves day 4 on the web; Felix waits -> still open
  D (version 2): filed day 2; nobody checks it -> overdue on day 9 (the reminder is at 5 days)
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation, ProcessInstance, WorkingGroup
from app.services.tasks import complete_task
from tests.conftest import ROOT, loaded, person, post_form, sign_in
from tests.diagrams import upload_process
from tests.integration.test_travel_http import claim, file_claim, ready_task, receipts

DAY0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
NOW = DAY0 + dt.timedelta(days=9)
CHECK = "check_claim"


def at(days: float):
    return freeze_time(DAY0 + dt.timedelta(days=days))


def decide(client, who: str, instance: ProcessInstance, bpmn_id: str, **data) -> None:
    sign_in(client, who)
    response = post_form(client, f"/tasks/{ready_task(instance, bpmn_id).id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def by_email(who: str, instance: ProcessInstance, bpmn_id: str, **data) -> None:
    """The decision an email's link makes: the same completion, through the email channel."""
    complete_task(person(who), ready_task(instance, bpmn_id).id, data, channel="email")
    db.session.commit()


def second_version(client):
    """Travel reimbursement uploaded again with a changed word: version 2, active."""
    files = {path.name: path.read_bytes() for path in (ROOT / "workflows").glob("travel_*")}
    files["travel_reimbursement.bpmn"] = files["travel_reimbursement.bpmn"].replace(
        b'name="Claim paid"', b'name="Claim paid out"').replace(  # its retention names that end too
        b'name="retention_basis:Paid"', b'name="retention_basis:Paid out"')
    return upload_process(client, files)


@pytest.fixture
def claims(client):
    with at(0):
        a = file_claim(client)
        b = file_claim(client)
    with at(1):
        by_email("clara", b, CHECK, decision="reject", coordinator_comment="Not a group meeting.")
        version = second_version(client)
        sign_in(client, "marta")
        c = file_claim(client)
    with at(2):
        decide(client, "clara", a, CHECK, decision="request_changes", coordinator_comment="Add the invoice.")
        d = file_claim(client)
    with at(3):
        fix = claim(accommodation_cost="280.00")
        fix.pop("working_group_id")
        sign_in(client, "marta")
        response = post_form(client, f"/tasks/{ready_task(a, 'revise_claim').id}", fix, receipts())
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with at(4):
        decide(client, "clara", c, CHECK, decision="approve")
    with at(5):
        by_email("clara", a, CHECK, decision="approve")
    with at(6):
        decide(client, "felix", a, "approve_payment", decision="approve", payment_date="2026-12-07",
               payment_reference="BB-2026-0042")
    return {"a": a, "b": b, "c": c, "d": d, "version": version}


def flow_page(client, who: str = "clara", query: str = "") -> str:
    with freeze_time(NOW):
        sign_in(client, who)
        return loaded(client.get(f"/reports/flow{query}"))


def download(client, name: str, format: str, query: str = "", who: str = "clara") -> bytes:
    """A table of the report as ``who`` downloads it on day 9."""
    with freeze_time(NOW):
        sign_in(client, who)
        response = client.get(f"/reports/flow/{name}.{format}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.data


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_each_figure_from_known_claims(client, claims):
    processes = csv_rows(download(client, "processes", "csv"))
    assert processes[0] == ["Process", "Started", "Finished", "Rejected", "Cancelled", "Still open",
                            "Median days to finish", "90th percentile days to finish"]
    # Started 4 (2 on each version), finished A and B, B rejected, C and D open; finished in 1
    # and 6 days: the median of two is the lower (nearest rank), the 90th percentile the higher.
    assert processes[1:] == [["Travel reimbursement", "4", "2", "1", "0", "2", "1.0", "6.0"]]

    steps = {(row[0], row[1]): row[2:] for row in csv_rows(download(client, "steps", "csv"))[1:]}
    # check_claim reached 5 times: A twice (waited 2 and 2 days), B (1), C (3), D (still waiting).
    assert steps[("Travel reimbursement", "Check claim")] == ["5", "1", "2.0", "3.0"]
    assert steps[("Travel reimbursement", "Revise claim")] == ["1", "0", "1.0", "1.0"]
    # approve_payment: A waited 1 day; C waits since day 4.
    assert steps[("Travel reimbursement", "Approve payment")] == ["2", "1", "1.0", "1.0"]

    outcomes = csv_rows(download(client, "outcomes", "csv"))[1:]
    assert sorted(outcomes) == [["Travel reimbursement", "Paid", "1"], ["Travel reimbursement", "Rejected", "1"]]

    # Decisions: A checked twice (web, then email) and paid on the web, B rejected by email, C on the web.
    assert csv_rows(download(client, "decisions", "csv"))[1:] == [["Travel reimbursement", "2", "3", "5"]]

    # Overdue on day 9: D's check has waited 7 days, past its 5-day reminder, for Clara and Tom;
    # C's payment waits 5 days but its step has no reminder.
    assert csv_rows(download(client, "overdue-people", "csv"))[1:] == [["Clara Schmidt", "1"],
                                                                       ["Tom Peeters", "1"]]
    assert csv_rows(download(client, "overdue-lanes", "csv"))[1:] == [["Coordinator", "1"]]


def test_filters_narrow_the_figures(client, claims):
    version = claims["version"]
    rows = csv_rows(download(client, "processes", "csv", f"?version={version.id}"))[1:]
    assert rows == [["Travel reimbursement", "2", "0", "0", "0", "2", "", ""]]
    # A period that ends before the claims: no request in it.
    query = "?start-day=1&start-month=1&start-year=2026&end-day=30&end-month=11&end-year=2026"
    assert csv_rows(download(client, "processes", "csv", query))[1:] == []
    page = flow_page(client, query=query)
    assert "No request was started in this period." in page


def test_each_filter_narrows_requests_and_steps_alike(client, claims):
    """The request and step figures are read from different rows (the requests, the task rows'
    copies of their request's columns): each filter must let the same requests through both."""
    marta = person("marta")
    everything = {name: csv_rows(download(client, name, "csv"))[1:] for name in ("processes", "steps")}
    other_group = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.id != marta_group(claims)))
    other_organisation = db.session.scalar(select(Organisation.id).where(
        Organisation.id != marta.organisation_id))
    for query in ("?process_id=travel_reimbursement", f"?group={marta_group(claims)}",
                  f"?organisation={marta.organisation_id}",
                  "?start-day=1&start-month=6&start-year=2025&end-day=31&end-month=12&end-year=2026"):
        assert {name: csv_rows(download(client, name, "csv", query))[1:] for name in everything} == everything, query
    for query in ("?process_id=expert_request", f"?group={other_group}", f"?organisation={other_organisation}"):
        assert [csv_rows(download(client, name, "csv", query))[1:] for name in everything] == [[], []], query
    # Version 2 alone: C (checked in 3 days, its payment waiting) and D (waiting at the check).
    steps = {(row[0], row[1]): row[2:] for row in csv_rows(download(
        client, "steps", "csv", f"?version={claims['version'].id}"))[1:]}
    assert steps == {("Travel reimbursement", "Check claim"): ["2", "1", "3.0", "3.0"],
                     ("Travel reimbursement", "Approve payment"): ["1", "1", "", ""]}


def marta_group(claims) -> int:
    return claims["a"].working_group_id


def test_bad_period_gets_an_error_summary(client, claims):
    with freeze_time(NOW):
        sign_in(client, "clara")
        response = client.get("/reports/flow?start-day=31&start-month=2&start-year=2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and "must be a real date" in page
    with freeze_time(NOW):
        response = client.get("/reports/flow?start-day=2&start-month=12&start-year=2026"
                              "&end-day=1&end-month=12&end-year=2026")
    assert response.status_code == 400
    assert "The end of the period must be the same as or after its start" in response.get_data(as_text=True)


def test_page_shows_the_tables_the_charts_and_the_diagram(client, claims):
    page = flow_page(client, "helena", "?process_id=travel_reimbursement")
    assert page.count('role="img"') == 5 and "<script" not in page.split("</header>")[1].split("vendor")[0]
    assert "<title id=" in page and "Requests by process" in page
    assert 'data-table="steps"' in page and "Check claim" in page
    assert f"/reports/flow/diagram/{claims['version'].id}.xml" in page
    markers = json.loads(html.unescape(re.search(r'data-markers="([^"]*)"', page).group(1)))
    assert markers["labels"] == {"check_claim": "2 days", "revise_claim": "1 day", "approve_payment": "1 day"}
    assert "IBAN" not in page and "PL61" not in page
    with freeze_time(NOW):
        response = client.get(f"/reports/flow/diagram/{claims['version'].id}.xml")
    assert response.status_code == 200 and b"check_claim" in response.data


def test_excel_workbook_holds_the_same_cells(client, claims):
    book = load_workbook(io.BytesIO(download(client, "steps", "xlsx", who="felix")), read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Process", "Step", "Times reached"]
    check = next(row for row in rows if row[1] == "Check claim")
    assert check == ["Travel reimbursement", "Check claim", 5, 1, 2.0, 3.0]


def test_who_sees_the_reports(client, claims):
    for who in ("clara", "felix", "helena", "admin"):
        sign_in(client, who)
        assert client.get("/reports/flow").status_code == 200, who
        assert "/reports/" in loaded(client.get("/reports/"))
    sign_in(client, "marta")
    assert client.get("/reports/flow").status_code == 403
    assert client.get("/reports/flow/steps.csv").status_code == 403
    assert 'href="/reports/"' not in loaded(client.get("/inbox"))
    sign_in(client, "clara")
    assert client.get("/reports/flow/nothing.csv").status_code == 404
    assert client.get("/reports/flow/steps.pdf").status_code == 404


def test_the_report_speaks_french_and_german(client, claims):
    with freeze_time(NOW):
        sign_in(client, "helena")
        french = client.get("/reports/flow", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        german = client.get("/reports/flow", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Flux : où les demandes sont bloquées" in french and "Demandes par processus" in french
    assert "Ablauf: wo Anträge hängen bleiben" in german and "Anträge nach Prozess" in german
    # Issue 13: the steps and the ends reached are named in the reader's language too.
    assert "Vérifier la demande" in french and "Antrag prüfen" in german
    assert ">Check claim<" not in french and ">Check claim<" not in german
    assert ">Payée<" in french and ">Paid<" not in french
