"""A market engagement event through every branch, over HTTP, as the people its lanes name.

Ana Costa leads "Circular ICT" and proposes; Marta Nowak is a member of that group but not
its lead; Clara and Tom are the coordinators and Helena signs off for the Commission. Each
step checks what the people would notice: whose inbox shows the task, what its page tells
them, and what the request page says.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessInstance
from app.services.instances import fire_due_timers
from tests.conftest import csrf_token, loaded, person, post_form
from tests.integration import test_onboarding_http as onboarding
from tests.integration.test_onboarding_http import (
    FULL_GROUP,
    OPEN_GROUP,
    assert_waiting_for,
    finished,
    group_id,
    inbox_html,
    nothing_waiting,
    page,
    refused,
    status,
    text_of,
)
from tests.integration.test_travel_http import PDF, ready_task

# The same fixtures as the onboarding tests: one signed-in browser per person, quick hashing.
browser = onboarding.browser

EVENT_DAY = dt.date.today() + dt.timedelta(days=45)
TITLE = "Meet the refurbishers: circular laptops and servers"


def proposal(**changes) -> dict:
    """Ana's event proposal as her browser posts it; the budget lines add up to 5 000 EUR."""
    data = {
        "working_group_id": str(group_id(OPEN_GROUP)), "title": TITLE, "event_format": "hybrid",
        "event_date": EVENT_DAY.isoformat(), "location": "Lisbon",
        "market_segment": "Refurbished ICT equipment",
        "target_suppliers": "Refurbishers and manufacturers' take-back programmes, SMEs welcome, EU-wide.",
        "objectives": "Learn whether refurbished laptops can be bought at scale with a 5-year warranty.",
        "expected_participants": "60",
        "budget_venue": "2500.00", "budget_catering": "1800.00", "budget_interpretation": "700.00",
    }
    data.update(changes)
    return data


def propose(browser, **changes) -> ProcessInstance:
    response = post_form(browser("ana"), "/start/market_engagement", proposal(**changes))
    assert response.status_code == 302, text_of(response)[:3000]
    db.session.expire_all()
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert instance.process_id == "market_engagement" and instance.initiator_id == person("ana").id
    assert instance.working_group.name == OPEN_GROUP
    return instance


def decide(browser, who: str, instance, bpmn_id: str, **data):
    task = ready_task(instance, bpmn_id)
    assert task is not None, f"{bpmn_id} is not waiting"
    return post_form(browser(who), f"/tasks/{task.id}", data)


def done(response) -> None:
    assert response.status_code == 302, text_of(response)[:3000]


def logistics(**changes) -> dict:
    data = {"venue_confirmed": "true", "registration_link": "https://events.example.eu/circular-ict",
            "invitation_date": (dt.date.today() + dt.timedelta(days=10)).isoformat(),
            "pin_reference": "2026/S 123-456789"}
    data.update(changes)
    return data


def report(**changes) -> dict:
    data = {"suppliers_attending": "23", "buyers_attending": "9",
            "key_findings": "Three refurbishers can supply 5 000 laptops a year with a 5-year warranty.",
            "follow_up_actions": "Draft a joint statement of demand by the group's next meeting."}
    data.update(changes)
    return data


def attendance(name: str = "attendance.pdf") -> dict:
    return {"attendance_list": [(io.BytesIO(PDF), name)]}


def instance_row(instance) -> ProcessInstance:
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def count_instances() -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessInstance))


# -- who may propose ------------------------------------------------------------------------------

def test_only_a_group_lead_can_propose_an_event(browser):
    for who in ("marta", "kati"):  # a member of Circular ICT who does not lead it; a buyer in no group
        client = browser(who)
        assert "/start/market_engagement" not in loaded(client.get("/start"))
        response = client.get("/start/market_engagement")
        assert response.status_code == 403
        assert "Only the lead of a working group can start this" in text_of(response)
        response = client.post("/start/market_engagement", data={
            **proposal(), "csrf_token": csrf_token(client, "/inbox")})
        assert response.status_code == 403
    assert count_instances() == 0

    assert "/start/market_engagement" in browser("ana").get("/start").get_data(as_text=True)
    form = page(browser, "ana", "/start/market_engagement")
    assert "Propose a market engagement event for a working group you lead" in form
    assert "Circular ICT (ICT equipment)" in form and FULL_GROUP not in form  # only the group she leads
    form = page(browser, "lukas", "/start/market_engagement")
    assert "Zero-emission construction sites (Construction machinery)" in form and "Circular ICT" not in form

    response = post_form(browser("ana"), "/start/market_engagement",
                         proposal(working_group_id=str(group_id(FULL_GROUP))))
    assert refused(response)  # not a group she leads
    response = post_form(browser("ana"), "/start/market_engagement",
                         proposal(event_date=dt.date.today().isoformat()))
    assert refused(response) and "must be in the future" in text_of(response)
    assert count_instances() == 0


# -- approved within the coordinator's limit, held, reported and closed --------------------------

def test_event_up_to_10000_eur_is_organised_held_reported_and_closed(browser):
    instance = propose(browser, budget_venue="6000.00", budget_catering="3000.00",
                       budget_interpretation="1000.00")  # exactly 10 000: no sign-off
    check = ready_task(instance, "review_event")
    assert_waiting_for(browser, check, "clara", "tom")
    task_page = page(browser, "clara", f"/tasks/{check.id}")
    assert "Review the event proposal" in task_page
    assert "Check that the event serves the group's procurement goal" in task_page
    assert TITLE in task_page and "Refurbished ICT equipment" in task_page and "6,000.00 EUR" in task_page
    done(decide(browser, "clara", instance, "review_event", decision="approve"))

    assert ready_task(instance, "commission_signoff") is None
    organise = ready_task(instance, "organise_logistics")
    assert_waiting_for(browser, organise, "clara", "tom")
    task_page = page(browser, "tom", f"/tasks/{organise.id}")
    assert "Book the venue" in task_page and "Clara Schmidt completed Review the event proposal" in task_page
    assert refused(decide(browser, "tom", instance, "organise_logistics", **logistics(registration_link="")))
    done(decide(browser, "tom", instance, "organise_logistics", **logistics()))

    assert nothing_waiting(instance)  # now the event has to happen
    due = instance_row(instance).next_timer_at
    assert due == dt.datetime.combine(EVENT_DAY + dt.timedelta(days=1), dt.time(), dt.UTC)
    request_page = page(browser, "ana", f"/requests/{instance.id}")
    assert status(request_page) == "In progress"
    assert f"Ana Costa was emailed “Your event is confirmed: {TITLE}" in request_page
    assert "https://events.example.eu/circular-ict" in request_page
    assert "Nothing is waiting for you" in inbox_html(browser, "ana")
    assert fire_due_timers() == 0
    with freeze_time(due - dt.timedelta(hours=1)):  # the evening of the event
        assert fire_due_timers(due - dt.timedelta(hours=1)) == 0
    with freeze_time(due + dt.timedelta(hours=8)):  # the morning after
        assert fire_due_timers(due + dt.timedelta(hours=8)) == 1

    first_report = ready_task(instance, "report_event")
    assert_waiting_for(browser, first_report, "ana")
    task_page = page(browser, "ana", f"/tasks/{first_report.id}")
    assert "Report on the event" in task_page and "Your market engagement event has taken place" in task_page
    assert TITLE in task_page and "Tom Peeters completed Organise the logistics" in task_page
    assert refused(decide(browser, "ana", instance, "report_event", **report()))  # no attendance list
    response = post_form(browser("ana"), f"/tasks/{first_report.id}", report(), attendance())
    done(response)

    close = ready_task(instance, "close_event")
    assert_waiting_for(browser, close, "clara", "tom")
    task_page = page(browser, "clara", f"/tasks/{close.id}")
    assert "Read the group lead's report on the event" in task_page
    assert "Three refurbishers can supply 5 000 laptops" in task_page and "attendance.pdf" in task_page
    assert refused(decide(browser, "clara", instance, "close_event", decision="request_changes"))
    missing = "Please add which suppliers came and from which countries."
    done(decide(browser, "clara", instance, "close_event", decision="request_changes", close_comment=missing))

    second_report = ready_task(instance, "report_event")
    assert second_report.id != first_report.id
    assert_waiting_for(browser, second_report, "ana")
    task_page = page(browser, "ana", f"/tasks/{second_report.id}")
    assert missing in task_page
    assert 'value="23"' in task_page and "Three refurbishers can supply" in task_page  # her report, to amend
    response = post_form(browser("ana"), f"/tasks/{second_report.id}",
                         report(key_findings="Refurbishers from PT, NL and PL; 5 000 laptops a year."),
                         attendance("attendance-with-countries.pdf"))
    done(response)

    assert_waiting_for(browser, ready_task(instance, "close_event"), "clara", "tom")
    done(decide(browser, "tom", instance, "close_event", decision="approve"))
    instance = finished(instance)
    assert instance.outcome == "end_event_closed"
    assert nothing_waiting(instance)
    request_page = page(browser, "ana", f"/requests/{instance.id}")
    assert status(request_page) == "Closed"
    assert f"Ana Costa was emailed “Event report accepted: {TITLE}”" in request_page
    assert "attendance.pdf" in request_page and "attendance-with-countries.pdf" in request_page
    assert missing in request_page and "Tom Peeters completed Close the event" in request_page


# -- above 10 000 EUR: the Commission signs off -----------------------------------------------------

@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_event_above_10000_eur_needs_the_commissions_sign_off(browser, decision):
    instance = propose(browser, budget_venue="8000.00", budget_catering="3500.00",
                       budget_interpretation="1000.00")  # 12 500 EUR
    done(decide(browser, "tom", instance, "review_event", decision="approve"))
    assert ready_task(instance, "organise_logistics") is None

    signoff = ready_task(instance, "commission_signoff")
    assert_waiting_for(browser, signoff, "helena")
    task_page = page(browser, "helena", f"/tasks/{signoff.id}")
    assert "Sign off the event budget" in task_page
    assert "its budget is above the amount the secretariat may approve alone" in task_page
    assert TITLE in task_page and "8,000.00 EUR" in task_page
    assert "Tom Peeters completed Review the event proposal" in task_page
    request_page = page(browser, "ana", f"/requests/{instance.id}")
    assert status(request_page) == "In progress" and "Sign off the event budget" in request_page
    assert instance_row(instance).summary["Total budget requested (EUR)"] == "12,500.00 EUR"

    if decision == "approve":
        done(decide(browser, "helena", instance, "commission_signoff", decision="approve"))
        assert_waiting_for(browser, ready_task(instance, "organise_logistics"), "clara", "tom")
        request_page = page(browser, "ana", f"/requests/{instance.id}")
        assert "Helena Rossi completed Sign off the event budget" in request_page
        return

    assert refused(decide(browser, "helena", instance, "commission_signoff", decision="reject"))
    reason = "Interpretation into three languages is not justified for 60 participants."
    done(decide(browser, "helena", instance, "commission_signoff", decision="reject",
                commission_comment=reason))
    instance = finished(instance)
    assert instance.outcome == "end_event_declined"
    assert nothing_waiting(instance)
    request_page = page(browser, "ana", f"/requests/{instance.id}")
    assert status(request_page) == "Not signed off"  # the end event: "Budget not signed off"
    assert reason in request_page
    assert f"Ana Costa was emailed “Event budget not signed off by the Commission: {TITLE}”" in request_page


# -- the coordinator's other decisions -------------------------------------------------------------

def test_coordinator_requests_changes_and_reviews_the_revised_event(browser):
    instance = propose(browser)
    first_review = ready_task(instance, "review_event")
    assert refused(decide(browser, "clara", instance, "review_event", decision="request_changes"))
    comment = "Please add simultaneous interpretation into Portuguese and move it to a weekday."
    done(decide(browser, "clara", instance, "review_event", decision="request_changes",
                review_comment=comment))

    revise = ready_task(instance, "revise_event")
    assert_waiting_for(browser, revise, "ana")
    task_page = page(browser, "ana", f"/tasks/{revise.id}")
    assert "The coordinator asks you to change your event proposal" in task_page and comment in task_page
    assert f'value="{TITLE}"' in task_page and 'value="2500.00"' in task_page  # what she sent before
    later = EVENT_DAY + dt.timedelta(days=2)
    revised = proposal(title=TITLE + " (with interpretation)", event_date=later.isoformat(),
                       budget_venue="6000.00", budget_catering="3000.00", budget_interpretation="1500.00")
    revised.pop("working_group_id")
    done(post_form(browser("ana"), f"/tasks/{revise.id}", revised))

    again = ready_task(instance, "review_event")
    assert again is not None and again.id != first_review.id
    assert_waiting_for(browser, again, "clara", "tom")
    task_page = page(browser, "tom", f"/tasks/{again.id}")
    assert TITLE + " (with interpretation)" in task_page and comment in task_page
    summary = instance_row(instance).summary
    assert summary["Title"] == TITLE + " (with interpretation)"
    assert summary["Total budget requested (EUR)"] == "10,500.00 EUR"
    done(decide(browser, "tom", instance, "review_event", decision="approve"))
    # the server recomputed the total of the revised lines: now above 10 000, so the Commission signs off
    assert_waiting_for(browser, ready_task(instance, "commission_signoff"), "helena")
    done(decide(browser, "helena", instance, "commission_signoff", decision="approve"))
    done(decide(browser, "clara", instance, "organise_logistics", **logistics()))
    due = instance_row(instance).next_timer_at  # the report is due the day after the revised date
    assert due == dt.datetime.combine(later + dt.timedelta(days=1), dt.time(), dt.UTC)


def test_coordinator_rejects_the_event_with_a_reason(browser):
    instance = propose(browser)
    assert refused(decide(browser, "clara", instance, "review_event", decision="reject"))
    reason = "The group held a supplier day on the same topic three months ago."
    done(decide(browser, "clara", instance, "review_event", decision="reject", review_comment=reason))

    instance = finished(instance)
    assert instance.outcome == "end_event_rejected"
    assert nothing_waiting(instance)
    request_page = page(browser, "ana", f"/requests/{instance.id}")
    assert status(request_page) == "Rejected"
    assert reason in request_page
    assert f"Ana Costa was emailed “Your event proposal has not been approved: {TITLE}”" in request_page
    for who in ("ana", "clara", "tom", "helena"):
        assert "Nothing is waiting for you" in inbox_html(browser, who)
