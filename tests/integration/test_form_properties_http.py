"""Activiti, Flowable and old Camunda 7 forms (``formProperty``): uploaded, shown as the app's own
forms and walked over HTTP to the end, two corpus diagrams unchanged and one of each type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.engine import FIELD_TYPES
from app.models import InstanceStatus
from tests.conftest import loaded, post_form, sign_in
from tests.diagrams import complete, ready_tasks, refreshed, start_request, text, upload_process, upload_report
from tests.integration.test_corpus_walks import data_of, upload_corpus


def shown(client, url: str) -> tuple[str, str]:
    """The page's HTML (checked as a full page) and its text as a person reads it."""
    response = client.get(url)
    return loaded(response), text(response)


def test_vacation_request_is_walked_to_its_end(client):
    # Flowable's VacationRequest: a start form, an enum decision, a form filled from the request.
    upload_corpus(client, "flowable-engine/VacationRequest.bpmn20.xml")
    sign_in(client, "marta")
    page = shown(client, "/start/vacationRequest")[1]
    assert "Number of days" in page and "First day of holiday" in page and "Day Month Year" in page

    instance = start_request(client, "marta", "vacationRequest", {
        "numberOfDays": "3", "startDate-day": "14", "startDate-month": "7", "startDate-year": "2031",
        "vacationMotivation": "Family visit"})

    (task,) = ready_tasks(instance, "handleRequest")  # potentialOwner "management": not mapped, so the admins
    sign_in(client, "admin")
    page = shown(client, f"/tasks/{task.id}")[1]
    assert "Do you approve this vacation" in page and "Approve" in page and "Reject" in page
    complete(client, "admin", task, {"vacationApproved": "false", "managerMotivation": "Team offsite that week"})

    (task,) = ready_tasks(instance, "adjustVacationRequestTask")  # humanPerformer ${employeeName}: marta
    sign_in(client, "marta")
    html = shown(client, f"/tasks/{task.id}")[0]
    assert 'name="numberOfDays"' in html and 'value="3"' in html  # value="${numberOfDays}" fills it
    assert 'name="startDate-day"' in html and 'value="14"' in html
    complete(client, "marta", task, {"numberOfDays": "2", "startDate-day": "21", "startDate-month": "7",
                                     "startDate-year": "2031", "vacationMotivation": "Family visit",
                                     "resendRequest": "true"})

    (task,) = ready_tasks(instance, "handleRequest")
    complete(client, "admin", task, {"vacationApproved": "true"})

    assert refreshed(instance).status == InstanceStatus.COMPLETED
    data = data_of(instance)
    assert (data["numberOfDays"], data["vacationApproved"], data["resendRequest"]) == (2, "true", "true")
    assert str(data["startDate"]) == "2031-07-21"


def test_a_required_form_property_is_asked_for(client):
    upload_corpus(client, "flowable-engine/VacationRequest.bpmn20.xml")
    sign_in(client, "marta")
    loaded(client.get("/start/vacationRequest"))
    response = post_form(client, "/start/vacationRequest", {"numberOfDays": "", "vacationMotivation": "x"})
    page = text(response)
    assert response.status_code == 400 and "There is a problem" in page, page[:2000]
    assert "Enter the number of days" in page


def test_review_sales_lead_goes_round_its_error_and_ends(client):
    # Flowable's reviewSalesLead: forms in a subprocess, an error end event caught on its boundary.
    upload_corpus(client, "flowable-engine/reviewSalesLead.bpmn20.xml")
    instance = start_request(client, "marta", "reviewSaledLead")
    (task,) = ready_tasks(instance, "provideNewSalesLead")
    complete(client, "marta", task, {"customerName": "Acme", "potentialProfit": "12000", "details": "Big"})

    rating, = ready_tasks(instance, "reviewCustomerRating")
    (profit,) = ready_tasks(instance, "reviewProfitability")
    sign_in(client, "admin")
    page = shown(client, f"/tasks/{profit.id}")[1]
    assert "Do you believe this customer is profitable?" in page and "No (= request more info)" in page
    complete(client, "admin", profit, {"notEnoughInformation": "true"})

    (task,) = ready_tasks(instance, "provideAdditionalDetails")
    sign_in(client, "marta")
    html = shown(client, f"/tasks/{task.id}")[0]
    assert 'name="details"' in html and 'value="Big"' in html  # filled from the variable, as Activiti does
    assert ready_tasks(instance, "reviewCustomerRating") == []  # the subprocess was left
    complete(client, "marta", task, {"details": "Bigger than we thought"})

    (profit,) = ready_tasks(instance, "reviewProfitability")
    complete(client, "admin", profit, {"notEnoughInformation": "false"})
    (rating,) = ready_tasks(instance, "reviewCustomerRating")
    complete(client, "admin", rating)

    assert refreshed(instance).status == InstanceStatus.COMPLETED
    data = data_of(instance)
    assert (data["customerName"], data["potentialProfit"], data["details"]) == ("Acme", 12000, "Bigger than we thought")


EVERY_TYPE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:flowable="http://flowable.org/bpmn"
    targetNamespace="http://example.org/forms" id="defs">
  <process id="every_property" name="Every form property" isExecutable="true">
    <startEvent id="start" name="Order" flowable:initiator="initiator">
      <documentation>Order supplies.</documentation>
      <extensionElements>
        <flowable:formProperty id="item" name="Item" type="string" required="true"/>
        <flowable:formProperty id="quantity" name="Quantity" type="long" default="2"/>
        <flowable:formProperty id="price" name="Unit price" type="double"/>
        <flowable:formProperty id="urgent" name="Urgent" type="boolean"/>
        <flowable:formProperty id="wanted" name="Wanted by" type="date" datePattern="dd/MM/yyyy"
            default="05/03/2031"/>
        <flowable:formProperty id="colour" name="Colour" type="enum" variable="chosen_colour">
          <flowable:value id="red" name="Red"/>
          <flowable:value id="blue" name="Blue"/>
        </flowable:formProperty>
        <flowable:formProperty id="secret" name="Internal code" readable="false" default="X1"/>
        <flowable:formProperty id="notes" name="Notes" type="textarea"/>
      </extensionElements>
    </startEvent>
    <sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <userTask id="check" name="Check the order" flowable:assignee="${initiator}">
      <documentation>Check what was ordered.</documentation>
      <extensionElements>
        <flowable:formProperty id="item" name="Item" writable="false"/>
        <flowable:formProperty id="colour_shown" name="Colour" expression="${chosen_colour}" writable="false"/>
        <flowable:formProperty id="ok" name="Order it" type="boolean" required="true"/>
      </extensionElements>
    </userTask>
    <sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""


def test_every_form_property_type_is_shown_checked_and_kept(client):
    report = upload_report(client, {"every_property.bpmn": EVERY_TYPE})
    assert ("the field ‘Notes’ has the type 'textarea', which the app does not know: it is shown as a text of "
            f"several lines (text). Types the app knows: {', '.join(sorted(FIELD_TYPES))}") in report
    assert "'double'" not in report  # Flowable's own type: a decimal, nothing to warn of
    upload_process(client, {"every_property.bpmn": EVERY_TYPE})

    sign_in(client, "marta")
    html = shown(client, "/start/every_property")[0]
    assert 'name="quantity"' in html and 'value="2"' in html  # default
    assert 'name="wanted-day" type="text" inputmode="numeric" spellcheck="false" value="5"' in html  # datePattern
    assert 'name="chosen_colour"' in html and 'type="radio"' in html  # enum, under its variable
    assert "Internal code" not in html and 'name="secret"' not in html  # not readable: not shown
    assert '<textarea' in html and 'name="notes"' in html

    response = post_form(client, "/start/every_property", {"item": "", "quantity": "two", "price": "1,5x"})
    page = text(response)
    assert "Enter the item" in page and "Quantity must be a whole number" in page

    instance = start_request(client, "marta", "every_property", {
        "item": "Laptops", "quantity": "4", "price": "899.90", "urgent": "true", "wanted-day": "5",
        "wanted-month": "3", "wanted-year": "2031", "chosen_colour": "blue", "notes": "Line one\nLine two"})
    (task,) = ready_tasks(instance, "check")
    html, page = shown(client, f"/tasks/{task.id}")
    assert 'name="item"' not in html and "Item Laptops" in page  # readable, not writable: its value, read-only
    assert "Colour blue" in page  # expression="${chosen_colour}": the variable it reads
    complete(client, "marta", task, {"item": "Changed", "ok": "true"})

    assert refreshed(instance).status == InstanceStatus.COMPLETED
    data = data_of(instance)
    assert data["item"] == "Laptops"  # a read-only field is never taken from the POST
    assert (data["quantity"], data["price"], data["urgent"], data["chosen_colour"]) == (4, Decimal("899.90"), True,
                                                                                         "blue")
    assert data["wanted"] in (dt.date(2031, 3, 5), "2031-03-05")
    assert data["notes"] == "Line one\nLine two" and data["ok"] is True
    assert "colour" not in data and "secret" not in data
