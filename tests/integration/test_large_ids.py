"""Ids out of the database's integer range, in a path or a query string, are an ordinary
"not found" (a path) or are refused or ignored (a query string): never a server error.

On PostgreSQL a number past an integer column's range is an error of the database's; on
SQLite past 64 bits it is Python's OverflowError. Both passes of the suite run this.
"""

from __future__ import annotations

import pytest

from tests.conftest import post_form, sign_in
from tests.integration.test_travel_http import file_claim, ready_task

HUGE = "99999999999999999999"  # past 64 bits
PAST_INT4 = "2147483648"  # past PostgreSQL's integer, inside SQLite's

PATHS = [
    "/tasks/{}",
    "/requests/{}",
    "/attachments/{}",
    "/monitor/instances/{}",
    "/monitor/instances/{}/diagram.xml",
    "/monitor/instances/{}/markers.json",
    "/monitor/instances/{}/cancel",
    "/monitor/instances/{}/retry",
    "/monitor/tasks/{}/reassign",
    "/admin/people/{}",
    "/admin/people/{}/two-step",
    "/admin/organisations/{}",
    "/admin/groups/{}",
    "/admin/groups/{}/members",
    "/admin/names/{}",
    "/admin/mail/{}",
    "/admin/mail/{}/html",
    "/admin/processes/travel_reimbursement/versions/{}/download",
    "/admin/processes/travel_reimbursement/versions/{}/activate",
    "/admin/migrations/travel_reimbursement/{}",
]


@pytest.mark.parametrize("number", [HUGE, PAST_INT4])
def test_an_id_past_the_database_range_in_a_path_is_not_found(client, number):
    sign_in(client, "admin")
    for path in PATHS:
        url = path.format(number)
        assert client.get(url).status_code == 404, url


def test_an_ordinary_missing_id_is_still_not_found(client):
    sign_in(client, "admin")
    assert client.get("/requests/2147483647").status_code == 404
    assert client.get("/tasks/0").status_code == 404


LISTS = ["/inbox", "/requests", "/monitor/instances", "/admin/people", "/admin/mail/"]


@pytest.mark.parametrize("number", [HUGE, PAST_INT4, "-" + HUGE])
def test_a_page_number_past_the_range_is_no_server_error(client, number):
    sign_in(client, "admin")
    for url in LISTS:
        response = client.get(f"{url}?page={number}")
        assert response.status_code == 200, (url, response.status_code)  # the page is clamped


FILTERS = [
    "group={}", "version={}", "waiting_person={}",
    "group={0}&version={0}&waiting_person={0}",
]


@pytest.mark.parametrize("number", [HUGE, PAST_INT4, "-" + HUGE])
def test_monitoring_filters_past_the_range_are_no_server_error(client, number):
    sign_in(client, "clara")
    for query in FILTERS:
        for url in ("/monitor/instances", "/monitor/instances.csv"):
            response = client.get(f"{url}?{query.format(number)}")
            assert response.status_code == 200, (url, query, response.status_code)  # an id no row has: ignored


@pytest.mark.parametrize("date", ["99999-01-01", "9999-12-31", "0001-01-01", "0000-01-01", "2026-13-01"])
def test_monitoring_dates_out_of_range_are_refused(client, date):
    sign_in(client, "clara")
    for name in ("started_from", "started_to"):
        for url in ("/monitor/instances", "/monitor/instances.csv"):
            response = client.get(f"{url}?{name}={date}")
            assert response.status_code == 400, (url, name, date, response.status_code)
    page = client.get(f"/monitor/instances?started_from={date}").get_data(as_text=True)
    assert 'href="#field-started_from"' in page


def test_monitoring_dates_in_range_still_filter(client):
    sign_in(client, "clara")
    response = client.get("/monitor/instances?started_from=1900-01-01&started_to=2999-12-31")
    assert response.status_code == 200


def test_an_id_past_the_range_in_a_form_is_not_chosen(client):
    claim = file_claim(client)
    task = ready_task(claim, "check_claim")
    sign_in(client, "admin")
    response = post_form(client, f"/monitor/tasks/{task.id}/reassign", {"person": HUGE, "reason": "Away"})
    assert response.status_code == 400 and "Choose who should do this task" in response.get_data(as_text=True)
    response = post_form(client, "/admin/people/new", {
        "name": "Ivo Horvat", "email": "ivo.horvat@zagreb.example.eu", "organisation": HUGE, "roles": "buyer"})
    assert response.status_code == 400 and "Select the person" in response.get_data(as_text=True)
