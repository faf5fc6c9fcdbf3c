"""A Camunda Form in the browser: Marta fills a supplier request drawn with Camunda Modeler's
form editor (every component), meets its checks and a field that its hide condition showed,
then reviews it on the task's own Camunda Form; she books a site visit's date and time by
keyboard alone. Every page passes axe."""

from __future__ import annotations

import datetime as dt

from tests.diagrams import FIXTURES, upload_process

FILES = {name: (FIXTURES / "diagrams" / name).read_bytes()
         for name in ("supplier_request.bpmn", "supplier_request_start.form", "supplier_review.form")}
VISIT = {name: (FIXTURES / "diagrams" / name).read_bytes()
         for name in ("site_visit.bpmn", "site_visit_start.form", "site_visit_confirm.form")}


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


def test_a_buyer_types_a_date_and_time_by_keyboard(app, people):
    upload_process(app.test_client(), VISIT)
    marta = people("marta")
    page = marta.open("/start/site_visit", "visit-start")
    time_box = page.get_by_label("Time the visit starts")
    assert time_box.evaluate("box => box.getBoundingClientRect().width") < 120  # 5 characters, not full width
    year = dt.date.today().year + 1
    marta.type_into("Site to visit", "Fairtronics plant, Ghent")
    marta.type_into("Day", "12")
    marta.type_into("Month", "3")
    marta.type_into("Year", str(year))
    marta.press("Enter", "visit-errors")  # Enter in a box sends the form: no time yet
    assert "There is a problem Enter the time the visit starts" in marta.text()
    marta.tab_to(page.get_by_role("link", name="Enter the time the visit starts"))  # the summary has the focus
    page.keyboard.press("Enter")  # the error summary's link goes to the time box
    assert marta.has_focus(page.get_by_label("Time the visit starts"))
    page.keyboard.type("14:30")
    marta.press("Enter", "visit-started")

    page = marta.open_task("Confirm the site visit", "visit-confirm")
    assert f"Date the visit starts 12 March {year}, 14:30" in marta.text()
    marta.unfold()  # the history's "What was sent" too
    assert f"12 March {year}, 14:30" in page.locator("main details").first.inner_text()
    marta.choose("I confirm the supplier expects us")
    marta.send("visit-confirmed")
    assert "Done: Confirm the site visit" in marta.text()
