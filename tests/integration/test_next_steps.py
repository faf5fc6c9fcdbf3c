"""What happens next, in sentences, on walks of the shipped processes: My requests and the
request page, the message after a start form and after a task form, the decision-recorded page, the task page's
"started by … asked you", the history's notices and a finished request's status."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import current_app

from app.outbox.deliver import deliver_outbox
from tests.conftest import post_form, sign_in
from tests.diagrams import history, refreshed, text
from tests.integration import test_onboarding_http as onboarding
from tests.integration.test_email import decision_links, smtp  # noqa: F401 - the SMTP server fixture
from tests.integration.test_market_engagement_http import EVENT_DAY, TITLE, decide, logistics, propose
from tests.integration.test_onboarding_http import OPEN_GROUP, apply, review
from tests.integration.test_travel_http import claim, file_claim, ready_task, receipts

browser = onboarding.browser  # one signed-in client per person


def day(value: dt.date | dt.datetime) -> str:
    """How the pages name a day: '3 December', with the year when it is not this year's."""
    if isinstance(value, dt.datetime):  # a moment: its day where the secretariat works
        zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
        value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone).date()
    return f"{value.day} {value:%B}" + (f" {value.year}" if value.year != dt.date.today().year else "")


def flash_after(client, response) -> str:
    """The page a completed form leads to, with its message, as read."""
    assert response.status_code == 302, text(response)[:3000]
    return text(client.get(response.headers["Location"]))


def row_of(page: str, title: str) -> str:
    """One request's row of My requests, as read."""
    match = re.search(rf"{re.escape(title)}(.*?)(?:\d+ \w+ \d{{4}}, \d\d:\d\d)", page)
    assert match, f"no row for {title}"
    return match.group(1)


def test_a_travel_claim_says_who_acts_next_who_was_told_and_how_it_ended(client):
    instance = file_claim(client)
    filed = day(refreshed(instance).started_at)
    sign_in(client, "marta")
    mine = text(client.get("/requests"))
    assert "What happens next" in mine
    assert f"Waiting for Clara Schmidt or Tom Peeters (coordinator) to check claim, since {filed}." in mine

    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    task_page = text(client.get(f"/tasks/{check.id}"))
    assert f"Started by Marta Nowak for Circular ICT on {filed}. Waiting for you since {filed}." in task_page
    assert "Asked by" not in task_page
    after = flash_after(client, post_form(client, f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}))
    assert "Done: Check claim." in after and "Marta Nowak will revise claim." in after

    revise = ready_task(instance, "revise_claim")
    sign_in(client, "marta")
    task_page = text(client.get(f"/tasks/{revise.id}"))  # her own task: the coordinator asked
    assert (f"You started this request for Circular ICT on {filed}. "
            f"Clara Schmidt (coordinator) asked you on {day(revise.created_at)}.") in task_page
    mine = client.get("/requests").get_data(as_text=True)
    assert f'href="/tasks/{revise.id}">Waiting for you: Revise claim, since {day(revise.created_at)}.</a>' in mine

    fix = {"meeting_id": "other", "meeting": "Circular ICT, 3rd meeting, Brussels", "meeting_date": "2026-11-10",
           "travel_from": "Gdańsk", "travel_to": "Brussels", "departure_date": "2026-11-09",
           "return_date": "2026-11-11", "travel_mode": "rail", "distance_km": "1400", "rail_hours": "",
           "ticket_cost": "180.40", "accommodation_nights": "2", "accommodation_cost": "280.00",
           "other_costs": "12.60", "account_holder": "Marta Nowak",
           "iban": "PL61 1090 1014 0000 0712 1981 2874", "declaration": "true"}
    after = flash_after(client, post_form(client, f"/tasks/{revise.id}", fix))
    assert "Clara Schmidt or Tom Peeters (coordinator) will check claim." in after

    sign_in(client, "tom")
    after = flash_after(client, post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}",
                                          {"decision": "approve"}))
    assert "Felix Wagner (finance) will approve payment." in after

    sign_in(client, "felix")
    after = flash_after(client, post_form(client, f"/tasks/{ready_task(instance, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-2026-0042"}))
    assert "Marta Nowak was emailed “Your travel claim has been paid: 473.00 EUR”." in after
    assert "The request is finished: Claim paid." in after

    # The history says who was told what, and how it ended; the status is the end's word.
    assert "Marta Nowak was emailed “Your travel claim has been paid: 473.00 EUR”" in history(instance, "notice")
    assert history(instance, "completed") == ["The request finished: Claim paid"]
    assert not [line for line in history(instance) if "initiator" in line or "Notice '" in line]
    sign_in(client, "marta")
    row = row_of(text(client.get("/requests")), instance.title)
    assert row.split() == ["Paid", "Finished:", "Claim", "paid."]
    sign_in(client, "clara")
    listed = text(client.get("/monitor/instances"))
    assert f"{instance.title} Travel reimbursement, version 1 · request {instance.id} Paid Circular ICT" in listed
    csv_text = client.get("/monitor/instances.csv").get_data(as_text=True)
    assert '"Paid"' in csv_text and '"Finished"' not in csv_text


def test_starting_a_request_says_who_acts_next(client):
    sign_in(client, "marta")
    after = flash_after(client, post_form(client, "/start/travel_reimbursement", claim(), receipts()))
    assert "Sent: Travel claim" in after and "You can follow it under My requests." in after
    assert "Clara Schmidt or Tom Peeters (coordinator) will check claim." in after
    assert after.index("You can follow it under My requests.") < after.index("will check claim.")


def test_decisions_from_emails_say_who_acts_next_and_who_was_told(client, smtp):  # noqa: F811
    file_claim(client)
    deliver_outbox()
    approve = decision_links(smtp.to("clara.schmidt")[0])["Approve"]
    body = client.get(approve).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    done = client.post(approve, data={"csrf_token": token})
    page = text(done)
    assert done.status_code == 200 and "Decision recorded" in page
    assert "What happens next Felix Wagner (finance) will approve payment." in page
    assert "The people who act next have been told" not in page

    deliver_outbox()
    pay = decision_links(smtp.to("felix")[0])["Approve"]
    body = client.get(pay).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    page = text(client.post(pay, data={"csrf_token": token, "payment_date": "2026-11-30",
                                       "payment_reference": "BB-2026-0043"}))
    assert "Decision recorded" in page
    assert "Marta Nowak was emailed “Your travel claim has been paid: 473.00 EUR”." in page
    assert "The request is finished: Claim paid." in page


def test_a_rejected_claim_tells_the_coordinator_who_was_told(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    after = flash_after(client, post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {
        "decision": "reject", "coordinator_comment": "The meeting was online."}))
    assert "Marta Nowak was emailed “Your travel claim has been rejected" in after
    assert "The request is finished: Claim rejected." in after
    sign_in(client, "marta")
    assert row_of(text(client.get("/requests")), instance.title).split()[0] == "Rejected"


def test_an_event_says_the_report_is_due_after_the_event(browser):
    instance = propose(browser)  # 5 000 EUR: the coordinator's approval is enough
    response = decide(browser, "clara", instance, "review_event", decision="approve")
    after = flash_after(browser("clara"), response)
    assert "Clara Schmidt or Tom Peeters (coordinator) will organise the logistics." in after

    response = decide(browser, "clara", instance, "organise_logistics", **logistics())
    after = flash_after(browser("clara"), response)
    due = day(EVENT_DAY + dt.timedelta(days=1))
    assert f"Ana Costa was emailed “Your event is confirmed: {TITLE}" in after
    assert f"From {due}, Ana Costa (group lead) will be asked to report on the event." in after

    # Nothing waits for anyone now: the request waits for the day after the event.
    assert not [t for t in refreshed(instance).tasks if t.is_ready]
    mine = text(browser("ana").get("/requests"))
    assert f"From {due}, you will be asked to report on the event." in mine
    request_page = text(browser("clara").get(f"/requests/{instance.id}"))
    assert f"What happens next From {due}, Ana Costa (group lead) will be asked to report on the event." in request_page


def test_an_applicant_asked_a_question_sees_it_waits_for_them(browser):
    instance = apply(browser, OPEN_GROUP)
    mine = text(browser("kati").get("/requests"))
    assert "Waiting for Clara Schmidt or Tom Peeters (coordinator) to review eligibility, since" in mine
    question = "Which ICT tenders does Tallinn plan in the next 12 months?"
    response = review(browser, instance, decision="request_changes", coordinator_question=question)
    assert "Kati Tamm will provide more information." in flash_after(browser("clara"), response)

    answer = ready_task(instance, "provide_information")
    mine = browser("kati").get("/requests").get_data(as_text=True)
    assert f'href="/tasks/{answer.id}">Waiting for you: Provide more information, since' in mine
    task_page = text(browser("kati").get(f"/tasks/{answer.id}"))
    assert f"You started this request for {OPEN_GROUP}" in task_page
    assert f"Clara Schmidt (coordinator) asked you on {day(answer.created_at)}." in task_page
