"""A Camunda Form in the browser: Marta fills a supplier request drawn with Camunda Modeler's
form editor (every component), meets its checks and a field that its hide condition showed,
then reviews it on the task's own Camunda Form. Every page passes axe."""

from __future__ import annotations

import datetime as dt

from tests.diagrams import FIXTURES, upload_process

FILES = {name: (FIXTURES / "diagrams" / name).read_bytes()
         for name in ("supplier_request.bpmn", "supplier_request_start.form", "supplier_review.form")}


def test_a_buyer_fills_and_reviews_a_camunda_form(app, people):
    upload_process(app.test_client(), FILES)
    marta = people("marta")
    page = marta.open("/start/supplier_request", "start-form")
    assert "Before you start" in marta.text() and "The supplier" in marta.text()
    assert page.get_by_label("Why is the spend this high?").is_hidden()  # no amount yet

    page.get_by_label("Supplier name").fill("Fairtronics")
    page.get_by_label("VAT number").fill("BE01")
    page.get_by_label("Expected yearly spend").fill("25000")
    marta.choose("Something else")  # the page's script asks the server: the field shows at once
    page.get_by_label("What else do they supply?").wait_for(state="visible")
    marta.seen("start-revealed")
    marta.choose("IT equipment")
    page.get_by_label("What else do they supply?").wait_for(state="hidden")
    assert page.get_by_label("Why is the spend this high?").is_visible()  # 25000 > 1000
    page.get_by_label("Country").select_option("fr")
    marta.choose("Lot 1: laptops")
    marta.choose("English")
    page = marta.send("start-errors")
    text = marta.text()
    assert "There is a problem" in text and "VAT number must be in the right format" in text
    assert "Enter an answer for “Why is the spend this high”" in text  # shown now: 25000 > 1000
    assert "Select the box to confirm" in text

    page.get_by_label("VAT number").fill("BE0123456789")
    page.get_by_label("Why is the spend this high?").fill("Laptops for 40 schools.")
    group = page.get_by_role("group", name="Contract start date")
    for part, value in (("Day", 1), ("Month", 3), ("Year", dt.date.today().year + 1)):
        group.get_by_label(part, exact=True).fill(str(value))
    page.get_by_label("Best time to call").fill("9:30")
    marta.choose("I confirm the supplier agreed to be contacted")
    marta.send("started")

    page = marta.open_task("Review the supplier request", "review")
    assert "Fairtronics" in marta.text()
    assert page.get_by_label("Why do you reject it?").is_hidden()
    marta.choose("Reject")
    marta.send("review-errors")
    assert "Enter an answer for “Why do you reject it”" in marta.text()
    page.get_by_label("Why do you reject it?").fill("No proof of the VAT number.")
    marta.send("reviewed")
    assert "Done: Review the supplier request" in marta.text() and "Nothing is waiting for you" in marta.text()
