"""An expert request through every branch, over HTTP, as the people its lanes name.

Marta (City of Gdańsk, a member of Circular ICT) asks for an expert; Ana leads Circular ICT;
Clara and Tom are coordinators, Felix is Finance, Helena the Commission; Lukas is a buyer of
another group who must never see any of it. Each person uses their own browser (test
client), signed in once, and every step is checked as they would notice it: whose inbox
lists the task, what the task page tells them, and what the request page says.
"""

from __future__ import annotations

import calendar
import html
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskState, WorkingGroup
from tests.conftest import csrf_token, person, post_form, sign_in
from tests.integration.test_travel_http import PDF, circular_ict_id, ready_task

EVERYONE = ("marta", "ana", "lukas", "clara", "tom", "felix", "helena")
COORDINATORS = ("clara", "tom")

DELIVERABLE = ("A life-cycle cost model comparing the three offers for refurbished laptops, "
               "with a two-page guidance note for the buyers.")
JUSTIFICATION = ("None of the buyers in the group has done a life-cycle cost analysis of "
                 "refurbished ICT; the model feeds the award criteria of our joint tender.")
SUMMARY = "A cost model of the three laptop offers over eight years, and a two-page guidance note."
EXPERT = {"expert_name": "Dr Anna Keller", "expert_email": "anna.keller@lcc-experts.example",
          "daily_rate": "500.00", "contract_reference": "BBI-EXP-2026-017"}


@pytest.fixture
def browser(app):
    """browser('clara') is Clara's own test client, signed in on first use."""
    clients = {}

    def of(who: str):
        if who not in clients:
            clients[who] = app.test_client()
            sign_in(clients[who], who)
        return clients[who]

    of.everyone_checked = set()  # the tasks whose absence from other inboxes was checked
    return of


# -- what people see ------------------------------------------------------------------------


def in_days(days: int) -> date:
    return date.today() + timedelta(days=days)


def shown_date(value: date) -> str:
    """How pages write a date: 5 March 2027."""
    return f"{value.day} {calendar.month_name[value.month]} {value.year}"


def page(browser, who: str, url: str, status: int = 200) -> str:
    """The page as text (entities decoded, so "Coordinator's" reads as written)."""
    response = browser(who).get(url)
    assert response.status_code == status, (who, url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def words(text: str) -> str:
    """The page's text without its tags, for sentences that hold markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text))


def value_of(text: str, label: str) -> str | None:
    """The value shown next to ``label`` (first in page order: summary, read-only field, history)."""
    match = re.search(rf">{re.escape(label)}</dt>\s*<dd[^>]*>(.*?)</dd>", text, re.S)
    return words(match.group(1)).strip() if match else None


def waiting_section(text: str) -> str:
    """The "What happens next" list of a request page ('' when nothing waits)."""
    match = re.search(r"<h2[^>]*>What happens next</h2>(.*?)<h2[^>]*>History</h2>", text, re.S)
    return match.group(1) if match else ""


def instance_of(instance_id: int) -> ProcessInstance:
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance_id)


def waiting_for(browser, instance: ProcessInstance, bpmn_id: str, *expected: str) -> HumanTask:
    """The task is READY, in the inboxes of exactly ``expected``, and nobody else's.

    Everyone's inbox is read the first time a task of this kind waits in a test; when a
    loop brings it back, only the inboxes of ``expected`` (the file must stay fast).
    """
    task = ready_task(instance, bpmn_id)
    assert task is not None, f"{bpmn_id} is not waiting; now: {instance_of(instance.id).current_step!r}"
    assert {c.user_id for c in task.candidates} == {person(who).id for who in expected}
    link = f'href="/tasks/{task.id}"'
    everyone = bpmn_id not in browser.everyone_checked
    browser.everyone_checked.add(bpmn_id)
    for who in EVERYONE if everyone else expected:
        inbox = page(browser, who, "/inbox")
        if who in expected:
            assert link in inbox and task.name in inbox, f"{task.name} is not in {who}'s inbox"
            assert "Expert request: Life-cycle costing" in inbox and "Circular ICT" in inbox
        else:
            assert link not in inbox, f"{task.name} is in {who}'s inbox"
    return task


def task_page(browser, who: str, instance: ProcessInstance, task: HumanTask) -> str:
    """The task page as ``who``: its name, the diagram's instructions and the history so far."""
    text = page(browser, who, f"/tasks/{task.id}")
    assert f">{task.name}</h1>" in text
    started = "You started this request" if who == "marta" else "Started by Marta Nowak"
    assert f"{started} for Circular ICT" in text
    documentation = load_model(instance.version).tasks[task.bpmn_id].documentation
    for paragraph in documentation.split("\n\n"):
        assert paragraph in text
    assert "This request so far" in text and "Marta Nowak started Expert request" in text
    return text


def submit(browser, who: str, task: HumanTask, data: dict, status: int = 302) -> str:
    response = post_form(browser(who), f"/tasks/{task.id}", data)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, body[:3000]
    return body


def nothing_waits(browser, instance: ProcessInstance) -> None:
    db.session.expire_all()
    assert not [t for t in instance.tasks if t.state == TaskState.READY]
    for who in EVERYONE:
        assert "Nothing is waiting for you." in page(browser, who, "/inbox"), who


def outcome_page(browser, who: str, instance: ProcessInstance, outcome: str) -> str:
    """The request page once the request ended: Finished, its outcome, nothing waiting."""
    done = instance_of(instance.id)
    assert done.status == InstanceStatus.COMPLETED and done.outcome == f"end_{outcome.replace(' ', '_')}"
    text = page(browser, who, f"/requests/{instance.id}")
    assert value_of(text, "Status") == outcome.split(" ", 1)[1].capitalize()  # "Expert payable": "Payable"
    assert f"The request finished: {outcome.capitalize()}" in text  # the last entry of the history
    assert waiting_section(text) == ""
    return text


# -- steps ----------------------------------------------------------------------------------


def expert_request(days: int, **changes) -> dict:
    data = {
        "working_group_id": str(circular_ict_id()), "topic": "life_cycle_costing", "topic_other": "",
        "deliverable": DELIVERABLE, "expert_days": str(days), "deadline": in_days(60).isoformat(),
        "preferred_expert": "", "justification": JUSTIFICATION,
    }
    data.update(changes)
    return data


def start(browser, days: int, **changes) -> ProcessInstance:
    response = post_form(browser("marta"), "/start/expert_request", expert_request(days, **changes))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    match = re.search(r"/requests/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    instance = instance_of(int(match.group(1)))
    assert instance.process_id == "expert_request" and instance.initiator_id == person("marta").id
    assert instance.working_group.name == "Circular ICT"
    return instance


def approve(browser, instance: ProcessInstance, rate: str, who: str = "clara") -> None:
    task = waiting_for(browser, instance, "assess_request", *COORDINATORS)
    submit(browser, who, task, {"decision": "approve", "estimated_daily_rate": rate})


def assign(browser, instance: ProcessInstance, who: str = "tom") -> str:
    """The coordinator assigns the expert, then records the deliverable the expert hands over."""
    task = waiting_for(browser, instance, "assign_expert", *COORDINATORS)
    text = task_page(browser, who, instance, task)
    submit(browser, who, task, EXPERT)
    record = waiting_for(browser, instance, "record_deliverable", *COORDINATORS)
    recording = task_page(browser, who, instance, record)
    assert DELIVERABLE in recording and "What you are reviewing" not in recording  # what was asked, by step
    submit(browser, who, record, {"deliverable_summary": ""}, status=400)  # the file and summary are needed
    submit(browser, who, record, {"deliverable_summary": SUMMARY,
                                  "deliverable_file": [(io.BytesIO(PDF), "lcc-model.pdf")]})
    return text


def reviewed(text: str) -> str:
    """The "What you are reviewing" block of a task page."""
    return text.split("What you are reviewing", 1)[1].split("</section>", 1)[0]


def deliverable_waits(browser, instance: ProcessInstance) -> HumanTask:
    """The deliverable waits for the requester and, as the diagram's also=Group lead says, Ana."""
    return waiting_for(browser, instance, "accept_deliverable", "marta", "ana")


def ask_revision(browser, instance: ProcessInstance, comment: str, who: str = "marta") -> None:
    task = deliverable_waits(browser, instance)
    submit(browser, who, task, {"decision": "request_changes", "revision_comment": comment})


# -- the three approval levels --------------------------------------------------------------


def test_up_to_5000_eur_the_coordinator_approves_and_the_requester_accepts(browser):
    form = page(browser, "marta", "/start/expert_request")
    assert "Circular ICT (ICT equipment)" in form  # one of Marta's groups
    assert "Zero-emission construction sites" not in form  # not hers
    zero_emission = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name.startswith("Zero")))
    refused = post_form(browser("marta"), "/start/expert_request",
                        expert_request(10, working_group_id=str(zero_emission)))
    assert refused.status_code == 400  # a crafted POST for a group that is not hers
    refused = post_form(browser("marta"), "/start/expert_request",
                        expert_request(10, deadline=date.today().isoformat()))
    assert refused.status_code == 400
    assert "Deadline must be in the future" in refused.get_data(as_text=True)
    assert db.session.scalar(select(ProcessInstance.id)) is None

    instance = start(browser, 10)
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert value_of(text, "Status") == "In progress"
    assert ">Expert request: Life-cycle costing for Circular ICT</h1>" in text
    assert value_of(text, "Topic") == "Life-cycle costing" and value_of(text, "Expert days") == "10"
    assert value_of(text, "Deadline") == shown_date(in_days(60))
    assert "Waiting for Clara Schmidt or Tom Peeters (coordinator) to assess request, since" in waiting_section(text)
    page(browser, "lukas", f"/requests/{instance.id}", status=403)  # a buyer of another group

    assess = waiting_for(browser, instance, "assess_request", *COORDINATORS)
    text = task_page(browser, "clara", instance, assess)
    assert DELIVERABLE in text and JUSTIFICATION in text and "Life-cycle costing" in text
    assert value_of(text, "Deadline") == shown_date(in_days(60))  # read-only
    assert "This task is for someone else" in page(browser, "marta", f"/tasks/{assess.id}", status=403)
    body = submit(browser, "clara", assess, {"decision": "approve", "estimated_daily_rate": ""}, status=400)
    assert "There is a problem" in body and "Enter the estimated daily rate in euros" in body
    submit(browser, "clara", assess, {"decision": "approve", "estimated_daily_rate": "500"})

    # 10 days x 500 EUR = 5 000 EUR: the coordinator's approval suffices, nobody else approves.
    assert ready_task(instance, "finance_approval") is None
    text = assign(browser, instance)
    assert value_of(text, "Approved estimated cost (EUR)") == "5,000.00 EUR"

    accept = deliverable_waits(browser, instance)
    text = task_page(browser, "marta", instance, accept)
    # What Marta reviews comes first: the expert's file (a link), its summary, what was asked for.
    first = reviewed(text)
    link = re.search(r'<a class="govuk-link" href="(/attachments/\d+)">lcc-model.pdf</a>', first)
    assert link and SUMMARY in first and DELIVERABLE in first
    for who, status in (("marta", 200), ("ana", 200), ("lukas", 403)):  # Ana, the lead, may accept it too
        download = browser(who).get(link.group(1))
        download.close()
        assert download.status_code == status, who
    assert SUMMARY in reviewed(page(browser, "ana", f"/tasks/{accept.id}"))
    assert value_of(first, "Expert name") == "Dr Anna Keller"
    assert value_of(first, "Contract reference") == "BBI-EXP-2026-017"
    assert value_of(text, "Revisions requested so far") == "0"
    assert value_of(text, "Revisions allowed") == "2"
    submit(browser, "marta", accept, {"decision": "approve"})

    text = page(browser, "ana", f"/tasks/{accept.id}")  # Ana was asked too: she is told who did it
    assert "This task is no longer waiting" in text and "completed by Marta Nowak" in words(text)
    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "expert payable")
    assert "Clara Schmidt completed Assess request" in text
    assert "Tom Peeters completed Assign expert" in text
    assert "Marta Nowak completed Accept deliverable" in text
    assert "Felix Wagner was emailed “Expert can be paid" in text
    assert "Approve budget" not in text and "Sign off budget" not in text
    assert value_of(text, "Expert name") == "Dr Anna Keller"  # the summary
    assert value_of(text, "Contract reference") == "BBI-EXP-2026-017"


def test_up_to_15000_eur_finance_approves_and_the_group_lead_accepts(browser):
    instance = start(browser, 30)
    approve(browser, instance, "500.00", who="tom")  # 30 x 500 = 15 000 EUR: Finance's limit

    budget = waiting_for(browser, instance, "finance_approval", "felix")
    text = task_page(browser, "felix", instance, budget)
    assert value_of(text, "Estimated cost (EUR)") == "15,000.00 EUR"
    assert value_of(text, "Estimated daily rate (EUR)") == "500.00 EUR"
    assert value_of(text, "Expert days") == "30" and DELIVERABLE in text
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert "Waiting for Felix Wagner (finance) to approve budget, since" in waiting_section(text)
    assert value_of(text, "Estimated cost (EUR)") == "15,000.00 EUR"  # in the summary
    submit(browser, "felix", budget, {"decision": "approve"})

    assert ready_task(instance, "commission_signoff") is None
    assign(browser, instance, who="clara")
    accept = deliverable_waits(browser, instance)
    text = task_page(browser, "ana", instance, accept)
    assert "the group lead may do this instead of the requester" in text
    text = page(browser, "ana", f"/requests/{instance.id}")
    assert "Waiting for you: Accept deliverable, since" in waiting_section(text)  # Ana may do it too
    assert f'href="/tasks/{accept.id}"' in waiting_section(text)
    text = page(browser, "felix", f"/requests/{instance.id}")
    assert "Waiting for Ana Costa or Marta Nowak to accept deliverable, since" in waiting_section(text)
    token = csrf_token(browser("marta"), f"/tasks/{accept.id}")  # Marta has the form open too
    submit(browser, "ana", accept, {"decision": "approve"})

    late = browser("marta").post(f"/tasks/{accept.id}", data={
        "csrf_token": token, "decision": "request_changes", "revision_comment": "Too late?"})
    assert late.status_code == 409  # Ana decided first: Marta is told who, and nothing changes
    text = html.unescape(late.get_data(as_text=True))
    assert "This task is no longer waiting" in text and "completed by Ana Costa" in words(text)
    assert "Nothing you sent was saved" in text
    assert ready_task(instance, "assign_expert") is None
    text = page(browser, "marta", f"/tasks/{accept.id}")
    assert "This task is no longer waiting" in text and "completed by Ana Costa" in words(text)
    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "expert payable")
    assert "Felix Wagner completed Approve budget" in text
    assert "Ana Costa completed Accept deliverable" in text
    assert "Sign off budget" not in text


def test_above_15000_eur_finance_then_the_commission_approve(browser):
    instance = start(browser, 25)
    approve(browser, instance, "800.00")  # 25 x 800 = 20 000 EUR

    budget = waiting_for(browser, instance, "finance_approval", "felix")
    submit(browser, "felix", budget, {"decision": "approve",
                                      "finance_comment": "Covered by the 2026 expertise budget."})

    signoff = waiting_for(browser, instance, "commission_signoff", "helena")
    text = task_page(browser, "helena", instance, signoff)
    assert value_of(text, "Estimated cost (EUR)") == "20,000.00 EUR"
    assert value_of(text, "Estimated daily rate (EUR)") == "800.00 EUR"
    assert value_of(text, "Finance comment") == "Covered by the 2026 expertise budget."
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert "Waiting for Helena Rossi (Commission) to sign off budget, since" in waiting_section(text)
    submit(browser, "helena", signoff, {"decision": "approve"})

    assign(browser, instance)
    submit(browser, "marta", deliverable_waits(browser, instance), {"decision": "approve"})
    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "expert payable")
    assert "Felix Wagner completed Approve budget" in text
    assert "Helena Rossi completed Sign off budget" in text


# -- request changes and rejections ---------------------------------------------------------


def test_changes_requested_the_requester_revises_then_the_coordinator_approves(browser):
    instance = start(browser, 30)
    assess = waiting_for(browser, instance, "assess_request", *COORDINATORS)
    body = submit(browser, "clara", assess, {"decision": "request_changes"}, status=400)
    assert "Enter a comment saying what to change or why you reject the request" in body
    submit(browser, "clara", assess, {
        "decision": "request_changes",
        "coordinator_comment": "30 days is a lot: can the model cover two offers only?"})

    revise = waiting_for(browser, instance, "revise_request", "marta")
    text = task_page(browser, "marta", instance, revise)
    assert value_of(text, "Comment for the requester") == "30 days is a lot: can the model cover two offers only?"
    assert DELIVERABLE in text and 'value="30"' in text  # the request as sent, to edit
    deadline = in_days(60)  # in the day, month and year boxes
    assert (f'name="deadline-day" type="text" inputmode="numeric" spellcheck="false" value="{deadline.day}"' in text
            and f'name="deadline-year" type="text" inputmode="numeric" spellcheck="false" value="{deadline.year}"'
            in text)
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert value_of(text, "Status") == "In progress" and "Waiting for you: Revise request" in waiting_section(text)
    assert "30 days is a lot" in text  # the comment, in the history

    unnamed = expert_request(8, topic="other")
    unnamed.pop("working_group_id")
    body = submit(browser, "marta", revise, unnamed, status=400)
    assert "Enter the topic, as you selected Other" in body
    assert ready_task(instance, "revise_request") is not None

    revised = expert_request(8, deadline=in_days(90).isoformat(),
                             deliverable="A life-cycle cost model of the two cheapest offers for "
                             "refurbished laptops.")
    revised.pop("working_group_id")
    submit(browser, "marta", revise, revised)

    assess = waiting_for(browser, instance, "assess_request", *COORDINATORS)
    text = task_page(browser, "tom", instance, assess)
    assert value_of(text, "Expert days") == "8"
    assert value_of(text, "Deadline") == shown_date(in_days(90)) and "the two cheapest offers" in text
    submit(browser, "tom", assess, {"decision": "approve", "estimated_daily_rate": "500"})

    assert ready_task(instance, "finance_approval") is None  # 8 x 500 = 4 000 EUR
    waiting_for(browser, instance, "assign_expert", *COORDINATORS)
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert "Waiting for Clara Schmidt or Tom Peeters (coordinator) to assign expert" in waiting_section(text)
    assert "Marta Nowak completed Revise request" in text and "Tom Peeters completed Assess request" in text
    assert value_of(text, "Expert days") == "8" and value_of(text, "Deadline") == shown_date(in_days(90))
    assert value_of(text, "Estimated cost (EUR)") == "4,000.00 EUR"


def test_the_coordinator_rejects(browser):
    instance = start(browser, 10)
    assess = waiting_for(browser, instance, "assess_request", *COORDINATORS)
    refused = post_form(browser("marta"), f"/tasks/{assess.id}", {"decision": "approve",
                                                                  "estimated_daily_rate": "1"})
    assert refused.status_code == 403  # the requester cannot approve her own request
    body = submit(browser, "tom", assess, {"decision": "reject"}, status=400)
    assert "Enter a comment saying what to change or why you reject the request" in body
    assert ready_task(instance, "assess_request") is not None
    submit(browser, "tom", assess, {"decision": "reject",
                                    "coordinator_comment": "The group's tender was cancelled."})

    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "request rejected")
    assert "Tom Peeters completed Assess request" in text
    assert "The group's tender was cancelled." in text
    assert "Marta Nowak was emailed “Your expert request has been rejected: life-cycle costing”" in text
    assert "Assign expert" not in text


def test_finance_rejects(browser):
    instance = start(browser, 20)
    approve(browser, instance, "600.00")  # 12 000 EUR
    budget = waiting_for(browser, instance, "finance_approval", "felix")
    submit(browser, "felix", budget, {"decision": "reject"}, status=400)  # needs a reason
    assert ready_task(instance, "finance_approval") is not None
    submit(browser, "felix", budget, {"decision": "reject",
                                      "finance_comment": "The expertise budget for this year is spent."})

    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "request rejected")
    assert "Felix Wagner completed Approve budget" in text
    assert "The expertise budget for this year is spent." in text
    assert "Marta Nowak was emailed “Your expert request has been rejected: life-cycle costing”" in text
    assert "Assign expert" not in text and "Sign off budget" not in text


def test_the_commission_rejects_after_finance_approved(browser):
    instance = start(browser, 25)
    approve(browser, instance, "800.00")
    submit(browser, "felix", waiting_for(browser, instance, "finance_approval", "felix"),
           {"decision": "approve"})
    signoff = waiting_for(browser, instance, "commission_signoff", "helena")
    submit(browser, "helena", signoff, {"decision": "reject"}, status=400)  # needs a reason
    assert ready_task(instance, "commission_signoff") is not None
    submit(browser, "helena", signoff, {"decision": "reject",
                                        "commission_comment": "Covered by the JRC study under way."})

    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "request rejected")
    assert "Helena Rossi completed Sign off budget" in text
    assert "Covered by the JRC study under way." in text
    assert "Marta Nowak was emailed “Your expert request has been rejected: life-cycle costing”" in text
    assert "Assign expert" not in text


# -- the deliverable ------------------------------------------------------------------------


def test_one_revision_of_the_deliverable_then_accepted(browser):
    instance = start(browser, 8)
    approve(browser, instance, "500")
    assign(browser, instance)
    ask_revision(browser, instance, "Add the maintenance costs of years 5 to 8.")

    again = waiting_for(browser, instance, "assign_expert", *COORDINATORS)
    text = task_page(browser, "tom", instance, again)
    assert value_of(text, "What must be revised") == "Add the maintenance costs of years 5 to 8."
    assert 'value="Dr Anna Keller"' in text and 'value="BBI-EXP-2026-017"' in text  # as assigned
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert "Marta Nowak completed Accept deliverable" in text and "to assign expert" in waiting_section(text)
    submit(browser, "tom", again, EXPERT)
    record = waiting_for(browser, instance, "record_deliverable", *COORDINATORS)
    text = task_page(browser, "tom", instance, record)
    assert value_of(text, "What must be revised") == "Add the maintenance costs of years 5 to 8."
    submit(browser, "tom", record, {"deliverable_summary": "The model now covers the maintenance of years 5 to 8.",
                                    "deliverable_file": [(io.BytesIO(PDF), "lcc-model-v2.pdf")]})

    accept = deliverable_waits(browser, instance)
    text = task_page(browser, "marta", instance, accept)
    assert value_of(text, "Revisions requested so far") == "1"
    # The revised deliverable comes first; the first one stays visible, as round 1.
    assert "lcc-model-v2.pdf" in reviewed(text) and "maintenance of years 5 to 8" in reviewed(text)
    assert "Record the deliverable — round 1" in text and "lcc-model.pdf" in text
    assert "Accept deliverable</h3>" in text  # Marta's first answer, with what she asked to revise
    submit(browser, "marta", accept, {"decision": "approve"})
    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "expert payable")
    assert text.count("Tom Peeters completed Assign expert") == 2
    assert text.count("Marta Nowak completed Accept deliverable") == 2


def revise_to_the_limit(browser, instance: ProcessInstance) -> HumanTask:
    """Use up the revisions the diagram allows, then ask for one more: the coordinator decides."""
    approve(browser, instance, "500")
    assign(browser, instance)
    for number in (1, 2):
        ask_revision(browser, instance, f"Revision {number}: more detail on energy prices.",
                     who="marta" if number == 1 else "ana")
        assign(browser, instance)
    accept = deliverable_waits(browser, instance)
    text = task_page(browser, "marta", instance, accept)
    assert value_of(text, "Revisions requested so far") == "2"
    submit(browser, "marta", accept, {"decision": "request_changes"}, status=400)  # needs a comment
    submit(browser, "marta", accept, {"decision": "request_changes",
                                      "revision_comment": "Still no sensitivity analysis."})
    assert ready_task(instance, "assign_expert") is None  # not a third time
    return waiting_for(browser, instance, "resolve_deliverable_dispute", *COORDINATORS)


def test_revisions_past_the_limit_go_to_the_coordinator_who_accepts(browser):
    instance = start(browser, 8)
    dispute = revise_to_the_limit(browser, instance)
    text = task_page(browser, "clara", instance, dispute)
    assert value_of(reviewed(text), "What must be revised") == "Still no sensitivity analysis."  # the latest round's
    assert value_of(text, "Revisions already made") == "2"
    assert value_of(text, "Expert name") == "Dr Anna Keller"
    assert value_of(text, "Contract reference") == "BBI-EXP-2026-017"
    text = page(browser, "marta", f"/requests/{instance.id}")
    assert "to resolve deliverable dispute" in waiting_section(text)
    submit(browser, "clara", dispute, {"decision": "approve"})

    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "expert payable")
    assert "Clara Schmidt completed Resolve deliverable dispute" in text
    assert "Ana Costa completed Accept deliverable" in text
    assert text.count("Tom Peeters completed Assign expert") == 3


def test_revisions_past_the_limit_the_coordinator_rejects_the_deliverable(browser):
    instance = start(browser, 8)
    dispute = revise_to_the_limit(browser, instance)
    submit(browser, "tom", dispute, {"decision": "reject"}, status=400)  # needs a reason
    submit(browser, "tom", dispute, {"decision": "reject",
                                     "dispute_comment": "The expert did not deliver what the contract asks."})
    nothing_waits(browser, instance)
    text = outcome_page(browser, "marta", instance, "deliverable rejected")
    assert "The expert did not deliver what the contract asks." in text
    assert "Marta Nowak was emailed “The expert's deliverable has been rejected" in text
    assert "Felix Wagner was emailed" not in text


# -- fixed bugs: the history and the title show what a person chose ---------------------------


def history_section(text: str) -> str:
    return text.split(">History</h2>", 1)[1]


def test_the_history_names_the_working_group_not_its_id(browser):
    instance = start(browser, 8)
    text = page(browser, "clara", f"/requests/{instance.id}")
    sent = re.search(r"Working group</dt>\s*<dd[^>]*>\s*([^<]*?)\s*</dd>", history_section(text))
    assert sent, "the start form's working group is not in the history"
    assert sent.group(1).startswith("Circular ICT"), f"the history shows Working group {sent.group(1)!r}"


def test_the_title_follows_a_revised_topic(browser):
    instance = start(browser, 30)
    submit(browser, "clara", waiting_for(browser, instance, "assess_request", *COORDINATORS),
           {"decision": "request_changes", "coordinator_comment": "Is this not a market analysis?"})
    revised = expert_request(30, topic="market_analysis")
    revised.pop("working_group_id")
    submit(browser, "marta", waiting_for(browser, instance, "revise_request", "marta"), revised)

    text = page(browser, "marta", f"/requests/{instance.id}")
    assert value_of(text, "Topic") == "Market analysis"  # the summary follows
    assert "Expert request: Market analysis" in text, "the heading still names the old topic"
    assert "Expert request: Market analysis" in page(browser, "clara", "/inbox")
