"""Camunda Forms (form-js .form files) uploaded with a diagram, shown and checked by the app's
own forms, walked over HTTP: every component, hide conditions on the server, and a running
request keeping the form of its version."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessInstance
from tests.conftest import loaded, post_form, sign_in
from tests.diagrams import (
    FIXTURES,
    complete,
    data_of,
    ready_tasks,
    start_request,
    text,
    upload_process,
    upload_report,
)

DIAGRAMS = FIXTURES / "diagrams"
FILES = {name: (DIAGRAMS / name).read_bytes()
         for name in ("supplier_request.bpmn", "supplier_request_start.form", "supplier_review.form")}
GOOD = {
    "supplier_name": "Fairtronics", "vat_number": "BE0123456789", "contact_email": "sales@fairtronics.example",
    "contact_phone": "+32 2 555 01 01", "amount": "800", "staff": "12", "topic": "it", "country": "fr",
    "lots": ["lot1", "lot2"], "languages": "en", "start_date-day": "1", "start_date-month": "3",
    "start_date-year": "2031", "call_time": "14:30", "confirmed": "true",
}


def test_every_component_is_shown_in_gov_uk_patterns(client):
    upload_process(client, FILES)
    sign_in(client, "marta")
    html = loaded(client.get("/start/supplier_request"))
    page = " ".join(html.split())
    assert '<h2 class="govuk-heading-m">Before you start</h2>' in page
    assert '<strong>VAT number</strong>' in page and 'class="govuk-link" href="https://example.org/rules"' in page
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--m">The supplier</legend>' in page
    assert 'id="field-vat_number-hint" class="govuk-hint">Two letters and up to 12 digits' in page
    assert 'type="email"' in page and 'name="contact_email"' in page
    assert "govuk-section-break--visible" in page  # the separator
    assert 'name="amount"' in page and 'inputmode="decimal"' in page and 'name="staff"' in page
    assert page.count('class="govuk-radios__input"') == 3  # the radio
    assert '<option value="be" selected>Belgium</option>' in page  # the select, with its default
    assert page.count('class="govuk-checkboxes__input"') == 5  # checklist 2, taglist 2, checkbox 1
    assert 'name="start_date-day"' in page and 'name="start_date-year"' in page  # GOV.UK date input
    assert "For example, 14:30" in page  # the time
    assert "SR-NEW" in page and 'name="reference"' not in page  # readonly: shown, not asked
    # Hidden until their condition no longer holds: the amount is empty, no topic is chosen.
    assert '<div data-condition="justification" hidden>' in page
    assert '<div data-condition="other_topic" hidden>' in page
    assert "Submit" not in text(client.get("/start/supplier_request")).split("Reference")[1].split("Start")[0]


def test_the_form_checks_what_form_js_declares(client):
    upload_process(client, FILES)
    sign_in(client, "marta")
    bad = {**GOOD, "supplier_name": "", "vat_number": "12", "contact_email": "sales", "contact_phone": "call me",
           "amount": "2000", "staff": "twelve", "justification": "", "topic": "other", "other_topic": "", "lots": [],
           "call_time": "25:00", "confirmed": ""}
    response = post_form(client, "/start/supplier_request", bad)
    page = text(response)
    assert response.status_code == 400
    assert "There is a problem" in page
    for message in ("Enter the supplier name", "VAT number must be in the right format",
                    "Enter an email address in the correct format", "Contact phone number must be in the right format",
                    "Enter an answer for “Why is the spend this high”",
                    "Enter an answer for “What else do they supply”",
                    "Select an option for “Lots they bid for”", "Best time to call must be a real time, like 14:30",
                    "Select the box to confirm the supplier agreed to be contacted",
                    "Number of staff must be a whole number"):
        assert message.lower() in page.lower(), (message, page.split("There is a problem")[1][:1500])
    # Shown now: the submitted amount and topic make their conditions false.
    assert '<div data-condition="justification">' in response.get_data(as_text=True)


def test_a_hidden_field_is_neither_checked_nor_saved(client):
    upload_process(client, FILES)
    instance = start_request(client, "marta", "supplier_request",
                             {**GOOD, "justification": "sneaked in", "other_topic": "sneaked in too"})
    data = data_of(instance)
    assert data["supplier_name"] == "Fairtronics" and data["lots"] == ["lot1", "lot2"]
    assert data["languages"] == ["en"] and data["start_date"] == dt.date(2031, 3, 1)
    assert "justification" not in data and "other_topic" not in data
    assert data["confirmed"] is True and data["call_time"] == "14:30"
    sign_in(client, "marta")
    sent = text(client.get(f"/requests/{instance.id}"))
    assert "Lots they bid for Lot 1: laptops, Lot 2: screens" in sent, sent
    assert "Contract start date 1 March 2031" in sent and "Before you start" not in sent


def test_the_page_script_asks_which_fields_to_hide(client):
    upload_process(client, FILES)
    sign_in(client, "marta")
    response = post_form(client, "/start/supplier_request", {"_conditions": "1", "amount": "2000", "topic": "it"})
    assert response.get_json() == {"hidden": ["other_topic"]}
    response = post_form(client, "/start/supplier_request", {"_conditions": "1", "amount": "ten", "topic": "other"})
    assert response.get_json() == {"hidden": ["justification"]}  # an amount that is not one is null
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0  # asking starts nothing


def _review_page(client, instance: ProcessInstance) -> tuple[str, str]:
    task = ready_tasks(instance, "review_request")[0]
    sign_in(client, "marta")
    return str(task.id), loaded(client.get(f"/tasks/{task.id}"))


def test_a_running_request_keeps_the_form_of_its_version(client):
    upload_process(client, FILES)
    first = start_request(client, "marta", "supplier_request", GOOD)
    review = json.loads(FILES["supplier_review.form"])
    review["components"][1]["label"] = "Do you approve the supplier?"
    review["components"].append({"type": "textfield", "key": "buyer_note", "label": "Note for the buyer",
                                 "validate": {"required": True}})
    v2 = {**FILES, "supplier_review.form": json.dumps(review).encode()}
    report = upload_report(client, v2)  # the review page says what the new form changes
    assert "Note for the buyer" in report and "Do you approve the supplier?" in report
    upload_process(client, v2)
    second = start_request(client, "marta", "supplier_request", GOOD)

    task_id, page = _review_page(client, first)
    assert "Your decision" in page and "Note for the buyer" not in page
    assert post_form(client, f"/tasks/{task_id}", {"_conditions": "1", "decision": "reject"}).get_json() == {
        "hidden": []}
    assert "Fairtronics" in page and 'name="supplier_name"' not in page  # the request's variable, readonly
    response = post_form(client, f"/tasks/{task_id}", {"decision": "reject"})
    assert "Enter an answer for “Why do you reject it”" in text(response)  # shown once "reject" is chosen
    response = post_form(client, f"/tasks/{task_id}", {"decision": "reject", "comment": "No VAT proof"})
    assert response.status_code == 302
    assert data_of(first)["comment"] == "No VAT proof"

    task_id, page = _review_page(client, second)
    assert "Do you approve the supplier?" in page and "Note for the buyer" in page
    response = post_form(client, f"/tasks/{task_id}", {"decision": "approve", "comment": "hidden, so dropped"})
    assert "Enter the note for the buyer" in text(response)
    response = post_form(client, f"/tasks/{task_id}", {"decision": "approve", "buyer_note": "Welcome"})
    assert response.status_code == 302
    done = data_of(second)
    assert done["buyer_note"] == "Welcome" and "comment" not in done


def test_camundas_own_example_starts_and_checks_its_pattern(client):
    corpus = FIXTURES / "corpus" / "camunda-bpm-examples"
    upload_process(client, {name: (corpus / name).read_bytes()
                            for name in ("invoiceApproval.bpmn", "start-form.form", "task-form.form")})
    sign_in(client, "marta")
    page = text(client.get("/start/camundaFormsQuickstart"))
    assert "Creditor" in page and "An invoice number in the format: C-123." in page
    response = post_form(client, "/start/camundaFormsQuickstart", {"creditor": "Fairtronics", "amount": "30",
                                                    "invoiceNumber": "123"})
    assert "Invoice Number must be in the right format" in text(response)
    instance = start_request(client, "marta", "camundaFormsQuickstart", {"creditor": "Fairtronics", "amount": "30",
                                                          "invoiceNumber": "C-123"})
    assert data_of(instance)["invoiceNumber"] == "C-123" and ready_tasks(instance, "UserTask_1")


VISIT = {name: (DIAGRAMS / name).read_bytes()
         for name in ("site_visit.bpmn", "site_visit_start.form", "site_visit_confirm.form")}
NEXT_YEAR = str(dt.date.today().year + 1)


def _visit(day: str = "12", month: str = "3", year: str = NEXT_YEAR, time: str = "14:30") -> dict[str, str]:
    return {"site": "Fairtronics plant, Ghent", "visit_start-day": day, "visit_start-month": month,
            "visit_start-year": year, "visit_start-time": time, "visitors": "3"}


def test_a_date_and_time_is_the_date_input_and_a_time_box(client):
    upload_process(client, VISIT)
    sign_in(client, "marta")
    page = " ".join(loaded(client.get("/start/site_visit")).split())
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Date the visit starts</legend>' in page
    assert f"For example, 27 3 {NEXT_YEAR}" in page  # a future date's example (disallowPassedDates)
    for part in ("day", "month", "year"):
        assert f'name="visit_start-{part}"' in page
    assert '<label class="govuk-label" for="field-visit_start-time">Time the visit starts</label>' in page
    assert ('<input class="govuk-input govuk-input--width-5" id="field-visit_start-time" name="visit_start-time" '
            'type="text" spellcheck="false" value="" aria-describedby="field-visit_start-time-hint">') in page
    assert 'id="field-visit_start-time-hint" class="govuk-hint">For example, 14:30' in page


def test_each_part_of_a_date_and_time_has_its_own_message(client):
    upload_process(client, VISIT)
    sign_in(client, "marta")
    last_year = str(dt.date.today().year - 1)
    for sent, message, anchor in (
        (_visit(day="", month="", year="", time=""), "Enter the date the visit starts", "field-visit_start"),
        (_visit(time=""), "Enter the time the visit starts", "field-visit_start-time"),
        (_visit(day="", month="", year=""), "Enter the date the visit starts", "field-visit_start"),
        (_visit(month=""), "Date the visit starts must include a month", "field-visit_start"),
        (_visit(day="31", month="2"), "Date the visit starts must be a real date", "field-visit_start"),
        (_visit(time="25:00"), "Time the visit starts must be a real time, like 14:30", "field-visit_start-time"),
        (_visit(time="half two"), "Time the visit starts must be a real time, like 14:30", "field-visit_start-time"),
        (_visit(year=last_year), "Date the visit starts must be today or in the future", "field-visit_start"),
    ):
        response = post_form(client, "/start/site_visit", sent)
        html = " ".join(response.get_data(as_text=True).split())
        assert response.status_code == 400, message
        assert f'<a href="#{anchor}">{message}</a>' in html, (message, text(response)[:800])
        # What was typed stays in the boxes; only the boxes the problem is about are marked.
        assert f'name="visit_start-time" type="text" spellcheck="false" value="{sent["visit_start-time"]}"' in html
        time_marked = 'govuk-input--width-5 govuk-input--error" id="field-visit_start-time"' in html
        assert time_marked == anchor.endswith("-time"), message
        month_marked = 'govuk-input--error" id="field-visit_start-month"' in html
        assert month_marked == (not anchor.endswith("-time")), message
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_date_and_time_is_saved_as_form_js_does_and_shown_back(client):
    upload_process(client, VISIT)
    instance = start_request(client, "marta", "site_visit", _visit(time="2:30pm"))  # read as 14:30
    assert data_of(instance)["visit_start"] == f"{NEXT_YEAR}-03-12T14:30"
    assert data_of(instance)["visitors"] == 3
    sign_in(client, "marta")
    assert f"Date the visit starts 12 March {NEXT_YEAR}, 14:30" in text(client.get(f"/requests/{instance.id}"))
    task = ready_tasks(instance, "confirm_visit")[0]
    response = client.get(f"/tasks/{task.id}")  # the task's form shows it, read-only
    assert f"Date the visit starts 12 March {NEXT_YEAR}, 14:30" in text(response)
    assert 'name="visit_start' not in response.get_data(as_text=True)
    complete(client, "marta", task, {"confirmed": "true", "visit_start-time": "09:00"})  # readonly: ignored
    assert data_of(instance)["visit_start"] == f"{NEXT_YEAR}-03-12T14:30"
