"""Journey: a Flowable diagram whose forms are formProperty elements, uploaded, started and
checked in a real browser: every type shown as a GOV.UK field, errors linked to their fields,
a read-only field on the next step."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import InstanceStatus, ProcessInstance
from tests.browser.conftest import fill_date
from tests.integration.test_form_properties_http import EVERY_TYPE


def test_a_flowable_form_is_filled_corrected_and_checked(people):
    admin = people("admin")
    admin.click("Administration", "administration")
    admin.click("Processes and versions", "processes")
    page = admin.click("Upload a diagram", "upload")
    page.get_by_label("Diagram files").set_input_files(
        [{"name": "every_property.bpmn", "mimeType": "application/xml", "buffer": EVERY_TYPE}])
    admin.send("report", button="Check the files")
    assert "No errors" in admin.text()
    assert "the field ‘Notes’ has the type 'textarea', which the app does not know" in admin.text()
    admin.send("stored", button="Store as version 1")

    marta = people("marta")
    marta.click("Start a request", "start-list")
    page = marta.click("Every form property", "order-form")
    assert page.get_by_label("Quantity").input_value() == "2"  # default="2"
    wanted = page.get_by_role("group", name="Wanted by")
    assert wanted.get_by_label("Day", exact=True).input_value() == "5"  # default in its datePattern
    page.get_by_label("Quantity").fill("two")
    marta.send("order-errors")
    assert "Enter the item" in marta.text() and "Quantity must be a whole number" in marta.text()
    page.get_by_role("link", name="Enter the item").click()
    assert marta.has_focus(page.get_by_label("Item"))

    page.get_by_label("Item").fill("Laptops")
    page.get_by_label("Quantity").fill("4")
    page.get_by_label("Unit price").fill("899.90")
    fill_date(page, "Wanted by", dt.date(2031, 3, 5))
    marta.choose("Blue")
    page.get_by_label("Notes").fill("Line one\nLine two")
    marta.send("order-sent")
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert instance.process_id == "every_property"

    page = marta.open_task("Check the order", "check-order")
    assert "Laptops" in marta.text() and page.get_by_label("Item").count() == 0  # read-only, not a box
    marta.choose("Yes")
    marta.send("checked")
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).status == InstanceStatus.COMPLETED
