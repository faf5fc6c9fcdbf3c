"""Group onboarding through every branch, over HTTP, as the people its lanes name.

Kati Tamm (Tallinn City, in no group yet) applies; Clara and Tom are the coordinators;
"Zero-emission construction sites" is full (7 members, lead Lukas) and "Circular ICT" has
room (3 members, lead Ana). Each step checks what the people would notice: whose inbox shows
the task, what its page tells them, and what the request page says.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    GroupMembership,
    HumanTask,
    InstanceStatus,
    Organisation,
    ProcessInstance,
    TaskState,
    WorkingGroup,
)
from app.services.instances import fire_due_timers
from tests.conftest import csrf_token, loaded, person, post_form, sign_in
from tests.integration.test_travel_http import PDF, PNG, ready_task

FULL_GROUP = "Zero-emission construction sites"
OPEN_GROUP = "Circular ICT"
EVERYONE = ("kati", "clara", "tom", "ana", "lukas", "marta", "felix", "helena")


@pytest.fixture
def browser(app):
    """``browser("kati")``: Kati's own test client, signed in on first use and kept, as each
    person keeps their own browser session."""
    clients = {}

    def open_as(who: str):
        if who not in clients:
            clients[who] = app.test_client()
            sign_in(clients[who], who)
        return clients[who]

    return open_as


# -- helpers --------------------------------------------------------------------------------------

def group_id(name: str) -> int:
    return db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name == name))


def interest(group: str | None = OPEN_GROUP, **changes) -> dict:
    """Kati's expression of interest as her browser posts it."""
    data = {
        "organisation_name": "Tallinn City", "organisation_type": "city", "country": "EE",
        "contact_name": "Kati Tamm", "contact_email": "kati.tamm@tallinn.example.eu",
        "working_group_id": str(group_id(group)) if group else "", "new_sector_proposal": "",
        "spend_band": "100m_1bn",
        "motivation": "Tallinn replaces 4 000 laptops and 300 servers by 2027 and wants to buy "
                      "refurbished equipment with take-back clauses, together with other cities.",
        "commitment": "true",
    }
    data.update(changes)
    return data


def apply(browser, group: str | None = OPEN_GROUP, **changes) -> ProcessInstance:
    response = post_form(browser("kati"), "/start/group_onboarding", interest(group, **changes))
    assert response.status_code == 302, text_of(response)[:3000]
    db.session.expire_all()
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert instance.process_id == "group_onboarding" and instance.initiator_id == person("kati").id
    return instance


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def status(request_page: str) -> str:
    """The request page's Status row as read aloud: 'In progress', 'Member', 'Withdrawn', ..."""
    row = re.search(r"Status</dt><dd[^>]*>(.*?)</dd>", request_page, re.S)
    assert row, "no Status row on the request page"
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(1)).split())


def page(browser, who: str, url: str) -> str:
    """The page at ``url`` as ``who`` reads it (entities unescaped)."""
    response = browser(who).get(url)
    assert response.status_code == 200, (who, url, response.status_code)
    return text_of(response)


def inbox_html(browser, who: str) -> str:
    return browser(who).get("/inbox").get_data(as_text=True)


def assert_waiting_for(browser, task: HumanTask | None, *people: str) -> None:
    """The task is in the inbox of exactly these demo people, and of no one else."""
    assert task is not None, "the task is not waiting"
    link = f'href="/tasks/{task.id}"'
    seen_by = {who for who in EVERYONE if link in inbox_html(browser, who)}
    assert seen_by == set(people), f"{task.bpmn_id} is in the inboxes of {sorted(seen_by)}"


def refused(response) -> bool:
    """The form came back with an error summary and nothing was sent."""
    return response.status_code == 400 and "There is a problem" in text_of(response)


def nothing_waiting(instance: ProcessInstance) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)) == 0


def finished(instance: ProcessInstance) -> ProcessInstance:
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.status == InstanceStatus.COMPLETED, (instance.status, instance.current_step)
    return instance


def is_member(organisation: str, group: str) -> bool:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(GroupMembership).join(Organisation).join(WorkingGroup)
        .where(Organisation.name == organisation, WorkingGroup.name == group)) == 1


def review(browser, instance, who="clara", **data):
    task = ready_task(instance, "review_eligibility")
    return post_form(browser(who), f"/tasks/{task.id}", data)


def approved(browser, instance, who="clara"):
    response = review(browser, instance, who, decision="approve")
    assert response.status_code == 302, text_of(response)[:3000]


# -- the full group: waiting list ------------------------------------------------------------------

@pytest.mark.parametrize("decision", ["offered", "closed"])
def test_full_group_puts_the_applicant_on_the_waiting_list(browser, decision):
    instance = apply(browser, FULL_GROUP)
    assert instance.working_group.name == FULL_GROUP
    check = ready_task(instance, "review_eligibility")
    assert_waiting_for(browser, check, "clara", "tom")

    task_page = page(browser, "clara", f"/tasks/{check.id}")
    assert "Review eligibility" in task_page
    assert "Check that the applicant is a public buyer from an EU member state" in task_page
    assert "Tallinn City" in task_page and "refurbished equipment with take-back clauses" in task_page
    approved(browser, instance)

    assert ready_task(instance, "confirm_member") is None  # no lead is asked: the group is full
    offer = ready_task(instance, "offer_other_group")
    assert_waiting_for(browser, offer, "clara", "tom")
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "In progress" and "Offer another group" in request_page
    assert f"Kati Tamm was emailed “{FULL_GROUP} is full: your application is on the waiting list”" in request_page
    task_page = page(browser, "tom", f"/tasks/{offer.id}")
    assert "the applicant is on its waiting list" in task_page
    assert "Clara Schmidt completed Review eligibility" in task_page

    if decision == "offered":
        assert f'value="{group_id(OPEN_GROUP)}"' in task_page  # the groups are choices, not a text box
        response = post_form(browser("tom"), f"/tasks/{offer.id}", {"decision": "approve"})
        assert refused(response) and "Select the group you offer" in text_of(response)
        response = post_form(browser("tom"), f"/tasks/{offer.id}", {
            "decision": "approve", "offered_group_id": str(group_id(OPEN_GROUP)),
            "coordinator_comment": "Circular ICT buys refurbished laptops, as you plan to."})
        assert response.status_code == 302, text_of(response)[:3000]
        answer = ready_task(instance, "accept_offer")
        assert_waiting_for(browser, answer, "kati")
        answer_page = page(browser, "kati", f"/tasks/{answer.id}")
        assert "Answer the offer of another group" in answer_page and "nothing to fill in again" in answer_page
        assert "Circular ICT (ICT equipment)" in answer_page and "buys refurbished laptops" in answer_page
        assert re.search(r">Group to offer</dt>\s*<dd[^>]*>Circular ICT</dd>", answer_page)  # the answers above
        response = post_form(browser("kati"), f"/tasks/{answer.id}", {"decision": "approve"})
        assert response.status_code == 302, text_of(response)[:3000]
        # One step: the application goes on with the group offered, whose lead confirms.
        db.session.expire_all()
        assert db.session.get(ProcessInstance, instance.id).working_group.name == OPEN_GROUP
        assert_waiting_for(browser, ready_task(instance, "confirm_member"), "ana")
        accept_and_sign(browser, instance, reviewed=True)
        assert is_member("Tallinn City", OPEN_GROUP) and not is_member("Tallinn City", FULL_GROUP)
        request_page = page(browser, "kati", f"/requests/{instance.id}")
        assert "Kati Tamm completed Answer the offer of another group" in request_page
        assert "Tallinn City joined Circular ICT" in request_page
        assert re.search(r"Group to offer</dt>\s*<dd[^>]*>\s*Circular ICT", request_page)  # its name, not an id
        return
    response = post_form(browser("tom"), f"/tasks/{offer.id}", {"decision": "reject"})
    assert refused(response)  # say why
    detail = "No other group works on construction machinery at the moment."
    response = post_form(browser("tom"), f"/tasks/{offer.id}",
                         {"decision": "reject", "coordinator_comment": detail})
    notice = f"Kati Tamm was emailed “Your application to join {FULL_GROUP} has been closed”"
    assert response.status_code == 302, text_of(response)[:3000]

    instance = finished(instance)
    assert instance.outcome == "end_waiting_list"
    assert nothing_waiting(instance)
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "Closed"  # the end event: "Application closed"
    assert "The request finished: Application closed" in request_page
    assert notice in request_page and detail in request_page
    assert "Tom Peeters completed Offer another group" in request_page
    assert not is_member("Tallinn City", FULL_GROUP)
    assert f"/tasks/{offer.id}" not in inbox_html(browser, "clara") + inbox_html(browser, "tom")


def test_an_organisation_cannot_apply_again_to_a_group_it_is_a_member_of(browser):
    """Marta's City of Gdańsk is a member of Circular ICT: the start form does not offer it,
    says why, and refuses it when it is sent anyway; no request starts."""
    form_page = page(browser, "marta", "/start/group_onboarding")
    reason = "City of Gdańsk is already a member of Circular ICT, so it cannot apply to it again"
    assert f'value="{group_id(OPEN_GROUP)}"' not in form_page and f'value="{group_id(FULL_GROUP)}"' in form_page
    assert reason + "." in form_page  # under the question, before anything is sent
    before = db.session.scalar(select(func.count()).select_from(ProcessInstance))
    response = post_form(browser("marta"), "/start/group_onboarding", interest(
        OPEN_GROUP, organisation_name="City of Gdańsk", contact_name="Marta Nowak"))
    assert refused(response)
    assert f'<a href="#field-working_group_id">{reason}</a>' in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == before


# -- a group with room: the lead confirms, the applicant signs -----------------------------------

def test_accepted_applicant_signs_and_joins_circular_ict(browser):
    travel_form = page(browser, "kati", "/start/travel_reimbursement")
    assert "Circular ICT (ICT equipment)" not in travel_form  # Tallinn is in no group yet

    instance = apply(browser, OPEN_GROUP)
    approved(browser, instance, "tom")

    confirm = ready_task(instance, "confirm_member")
    assert_waiting_for(browser, confirm, "ana")  # the lead of Circular ICT, not Lukas, not the coordinators
    task_page = page(browser, "ana", f"/tasks/{confirm.id}")
    assert "Confirm the new member" in task_page and "asks to join your working group" in task_page
    assert "refurbished equipment with take-back clauses" in task_page  # the motivation she judges
    assert "Tom Peeters completed Review eligibility" in task_page
    response = post_form(browser("ana"), f"/tasks/{confirm.id}", {"decision": "approve"})
    assert response.status_code == 302, text_of(response)[:3000]

    sign = ready_task(instance, "sign_participation")
    assert_waiting_for(browser, sign, "kati")
    task_page = page(browser, "kati", f"/tasks/{sign.id}")
    assert "Sign the participation statement" in task_page
    assert "upload the signed letter as a PDF" in task_page
    assert "Ana Costa completed Confirm the new member" in task_page
    signed = {"signatory_name": "Mihhail Kõlvart", "signatory_role": "Mayor of Tallinn",
              "signed_on": dt.date.today().isoformat()}
    response = post_form(browser("kati"), f"/tasks/{sign.id}", signed)
    assert refused(response)  # no letter
    response = post_form(browser("kati"), f"/tasks/{sign.id}", signed,
                         {"signed_letter": [(io.BytesIO(PNG), "statement.png")]})
    assert refused(response)  # not a PDF
    assert not is_member("Tallinn City", OPEN_GROUP)
    response = post_form(browser("kati"), f"/tasks/{sign.id}", signed,
                         {"signed_letter": [(io.BytesIO(PDF), "participation-statement.pdf")]})
    assert response.status_code == 302, text_of(response)[:3000]

    instance = finished(instance)
    assert instance.outcome == "end_member"
    assert is_member("Tallinn City", OPEN_GROUP)
    assert db.session.scalar(select(func.count()).select_from(GroupMembership)
                             .where(GroupMembership.group_id == group_id(OPEN_GROUP))) == 4
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "Member"  # the end event: "Organisation is a member"
    assert "Tallinn City joined Circular ICT" in request_page
    assert f"Kati Tamm was emailed “Welcome to {OPEN_GROUP}" in request_page
    assert f"Ana Costa was emailed “Tallinn City has joined {OPEN_GROUP}”" in request_page
    assert "participation-statement.pdf" in request_page and "Mayor of Tallinn" in request_page
    assert f"/tasks/{sign.id}" not in inbox_html(browser, "kati")

    travel_form = page(browser, "kati", "/start/travel_reimbursement")
    assert "Circular ICT (ICT equipment)" in travel_form  # she can now claim travel to its meetings
    assert browser("ana").get(f"/requests/{instance.id}").status_code == 200  # the lead follows it
    for outsider in ("lukas", "marta"):  # another group's lead; a member who is not the lead
        assert browser(outsider).get(f"/requests/{instance.id}").status_code == 403


def accept_and_sign(browser, instance, reviewed: bool = False) -> None:
    if not reviewed:
        approved(browser, instance)
    confirm = ready_task(instance, "confirm_member")
    done = post_form(browser("ana"), f"/tasks/{confirm.id}", {"decision": "approve"})
    assert done.status_code == 302, text_of(done)[:3000]
    done = post_form(browser("kati"), f"/tasks/{ready_task(instance, 'sign_participation').id}", {
        "signatory_name": "Mihhail Kõlvart", "signatory_role": "Mayor of Tallinn",
        "signed_on": dt.date.today().isoformat()}, {"signed_letter": [(io.BytesIO(PDF), "statement.pdf")]})
    assert done.status_code == 302, text_of(done)[:3000]
    assert finished(instance).outcome == "end_member"


def test_the_applicants_own_organisation_joins_whatever_name_was_typed(browser):
    # Kati works for Tallinn City; her application names Helsinki Region, which exists on the
    # platform (it is a member of the other group) and whose people never applied.
    instance = apply(browser, OPEN_GROUP, organisation_name="Helsinki Region")
    accept_and_sign(browser, instance)
    assert is_member("Tallinn City", OPEN_GROUP)
    assert not is_member("Helsinki Region", OPEN_GROUP)


def test_an_applicant_without_an_organisation_cannot_take_over_an_existing_one(browser):
    """Naming an organisation the platform knows does not make its people's organisation
    yours: the applicant gets an organisation of their own under a name that says so."""
    kati = person("kati")
    kati.organisation = None
    db.session.commit()
    instance = apply(browser, OPEN_GROUP, organisation_name="Helsinki Region")
    accept_and_sign(browser, instance)
    db.session.expire_all()
    kati = person("kati")
    assert kati.organisation is not None and kati.organisation.name == "Helsinki Region (Kati Tamm)"
    assert is_member("Helsinki Region (Kati Tamm)", OPEN_GROUP)
    assert not is_member("Helsinki Region", OPEN_GROUP)
    helsinki = db.session.scalar(select(Organisation).where(Organisation.name == "Helsinki Region"))
    assert kati not in helsinki.users
    history = loaded(browser("clara").get(f"/requests/{instance.id}"))
    assert "another organisation already has that name" in history


def test_a_group_full_by_the_time_the_applicant_signs_stops_the_request(browser, app):
    """The diagram's add step joins through the same rule as the administrator's page: when the
    group is full by then (here the active diagram now says 3 is full), nobody is added, the
    applicant is told why and her task still waits."""
    from app.services.versions import folder_file_sets, store_version
    from tests.conftest import ROOT

    instance = apply(browser, OPEN_GROUP)
    approved(browser, instance)
    done = post_form(browser("ana"), f"/tasks/{ready_task(instance, 'confirm_member').id}", {"decision": "approve"})
    assert done.status_code == 302, text_of(done)[:3000]
    [files] = [f for f in folder_file_sets(ROOT / "workflows") if "group_onboarding.bpmn" in f]
    files["group_onboarding.bpmn"] = files["group_onboarding.bpmn"].replace(
        "group_member_count &gt;= 7", "group_member_count &gt;= 3")
    store_version(files, person("admin"), note="groups of up to 3")
    db.session.commit()

    response = post_form(browser("kati"), f"/tasks/{ready_task(instance, 'sign_participation').id}", {
        "signatory_name": "Mihhail Kõlvart", "signatory_role": "Mayor of Tallinn",
        "signed_on": dt.date.today().isoformat()}, {"signed_letter": [(io.BytesIO(PDF), "statement.pdf")]})
    assert refused(response)
    assert "Circular ICT already has 3 members, the most a working group can have" in text_of(response)
    assert ready_task(instance, "sign_participation") is not None
    assert not is_member("Tallinn City", OPEN_GROUP)


def test_an_organisation_made_a_member_meanwhile_is_not_welcomed_twice(browser):
    """An administrator adds Tallinn City to Circular ICT while its application is open: when
    Kati signs, nothing is added again and nobody is told it joined a second time."""
    from app.models import OutboxMessage
    from app.services.people.groups import join_group

    instance = apply(browser, OPEN_GROUP)
    approved(browser, instance)
    done = post_form(browser("ana"), f"/tasks/{ready_task(instance, 'confirm_member').id}", {"decision": "approve"})
    assert done.status_code == 302, text_of(done)[:3000]
    join_group(db.session.get_one(WorkingGroup, group_id(OPEN_GROUP)), person("kati").organisation)
    db.session.commit()
    response = post_form(browser("kati"), f"/tasks/{ready_task(instance, 'sign_participation').id}", {
        "signatory_name": "Mihhail Kõlvart", "signatory_role": "Mayor of Tallinn",
        "signed_on": dt.date.today().isoformat()}, {"signed_letter": [(io.BytesIO(PDF), "statement.pdf")]})
    assert response.status_code == 302, text_of(response)[:3000]
    assert finished(instance).outcome == "end_member"
    assert db.session.scalar(select(func.count()).select_from(GroupMembership).join(Organisation).where(
        Organisation.name == "Tallinn City")) == 1
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert "Tallinn City was already a member of Circular ICT: nothing changed" in request_page
    subjects = dict(db.session.execute(select(OutboxMessage.template, OutboxMessage.subject).where(
        OutboxMessage.instance_id == instance.id, OutboxMessage.template.in_(("welcome", "new_member")))).all())
    assert subjects == {"welcome": "You are already a member of Circular ICT",
                        "new_member": "Tallinn City was already a member of Circular ICT"}


def test_lead_declines_the_new_member(browser):
    instance = apply(browser, OPEN_GROUP)
    approved(browser, instance)
    confirm = ready_task(instance, "confirm_member")
    assert browser("lukas").get(f"/tasks/{confirm.id}").status_code == 403  # another group's lead

    response = post_form(browser("ana"), f"/tasks/{confirm.id}", {"decision": "reject"})
    assert refused(response)  # a reason is required
    reason = "The group's tender is about to be published; please apply for the next cycle."
    response = post_form(browser("ana"), f"/tasks/{confirm.id}",
                         {"decision": "reject", "decline_reason": reason})
    assert response.status_code == 302, text_of(response)[:3000]

    instance = finished(instance)
    assert instance.outcome == "end_declined"
    assert nothing_waiting(instance)
    assert ready_task(instance, "sign_participation") is None
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "Declined"
    assert reason in request_page
    assert f"Kati Tamm was emailed “Your application to join {OPEN_GROUP} has been declined”" in request_page
    assert not is_member("Tallinn City", OPEN_GROUP)


# -- the coordinator's other decisions -----------------------------------------------------------

def test_more_information_requested_answered_and_reviewed_again(browser):
    instance = apply(browser, OPEN_GROUP)
    response = review(browser, instance, decision="request_changes")
    assert refused(response)  # ask a question
    question = "Which ICT tenders does Tallinn plan in the next 12 months?"
    response = review(browser, instance, decision="request_changes", coordinator_question=question)
    assert response.status_code == 302, text_of(response)[:3000]

    answer_task = ready_task(instance, "provide_information")
    assert_waiting_for(browser, answer_task, "kati")
    task_page = page(browser, "kati", f"/tasks/{answer_task.id}")
    assert "Provide more information" in task_page and question in task_page
    assert "reminder after 14 days" in task_page
    answer = "Laptops for schools in spring, data-centre servers in autumn."
    response = post_form(browser("kati"), f"/tasks/{answer_task.id}", {"information": answer})
    assert response.status_code == 302, text_of(response)[:3000]

    again = ready_task(instance, "review_eligibility")
    assert again is not None and again.id != answer_task.id
    assert_waiting_for(browser, again, "clara", "tom")
    task_page = page(browser, "tom", f"/tasks/{again.id}")
    assert answer in task_page and question in task_page  # the exchange is in the history
    # A second round: the first question and answer must not be lost to it.
    second = "Would Tallinn also share its take-back clause with the group?"
    response = review(browser, instance, "tom", decision="request_changes", coordinator_question=second)
    assert response.status_code == 302, text_of(response)[:3000]
    response = post_form(browser("kati"), f"/tasks/{ready_task(instance, 'provide_information').id}",
                         {"information": "Yes, in Estonian and English."})
    assert response.status_code == 302, text_of(response)[:3000]
    third = ready_task(instance, "review_eligibility")
    task_page = page(browser, "clara", f"/tasks/{third.id}")
    answers = task_page[:task_page.index("Your response")]
    # What the coordinator reviews comes first: the organisation, its country and group, its motivation.
    reviewing = answers[answers.index("What you are reviewing"):answers.index("Everything else sent so far")]
    for shown in ("Tallinn City", "Estonia", OPEN_GROUP, "4 000 laptops", "Yes, in Estonian and English."):
        assert shown in reviewing, shown
    for shown in ("Review eligibility — round 1", "Review eligibility — round 2", question, second,
                  "Provide more information — round 1", answer):
        assert shown in answers, shown
    monitor = page(browser, "clara", f"/monitor/instances/{instance.id}")
    data = monitor[monitor.index(">Data</h2>"):monitor.index(">Files</h2>")]
    for shown in (question, answer, second, "Yes, in Estonian and English.", "Provide more information — round 2"):
        assert shown in data, shown
    history = page(browser, "kati", f"/requests/{instance.id}")
    assert all(shown in history for shown in (question, answer, second, "Yes, in Estonian and English."))
    approved(browser, instance, "tom")
    assert_waiting_for(browser, ready_task(instance, "confirm_member"), "ana")
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).next_timer_at is None  # the timers went with the task


def test_rejected_application_ends_with_the_reason(browser):
    instance = apply(browser, OPEN_GROUP)
    response = review(browser, instance, decision="reject")
    assert refused(response)
    assert ready_task(instance, "review_eligibility") is not None  # nothing moved
    reason = "Tallinn City already takes part through the Estonian central purchasing body."
    response = review(browser, instance, decision="reject", rejection_reason=reason)
    assert response.status_code == 302, text_of(response)[:3000]

    instance = finished(instance)
    assert instance.outcome == "end_rejected"
    assert nothing_waiting(instance)
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "Rejected"
    assert reason in request_page and "Kati Tamm was emailed “Your application to join" in request_page
    assert "has not been accepted”" in request_page
    for who in ("ana", "clara", "tom"):
        assert "Nothing is waiting for you" in inbox_html(browser, who)


# -- a new sector instead of a group --------------------------------------------------------------

SECTOR = "Circular furniture for schools and offices, bought as a service."


def test_start_form_wants_a_group_or_a_sector_not_both(browser):
    for changes in ({}, {"new_sector_proposal": SECTOR}):
        data = interest(None, **changes) if not changes else interest(OPEN_GROUP, **changes)
        response = post_form(browser("kati"), "/start/group_onboarding", data)
        assert refused(response)
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_new_sector_proposal_goes_to_the_coordinator_not_a_lead(browser, decision):
    instance = apply(browser, None, new_sector_proposal=SECTOR)
    assert instance.working_group_id is None
    approved(browser, instance)

    assert ready_task(instance, "confirm_member") is None
    assert ready_task(instance, "offer_other_group") is None
    setup = ready_task(instance, "set_up_group")
    assert_waiting_for(browser, setup, "clara", "tom")
    task_page = page(browser, "tom", f"/tasks/{setup.id}")
    assert "Set up a group for the proposed sector" in task_page and SECTOR in task_page
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert ("Kati Tamm was emailed “Your application is eligible: we have recorded your proposal for a new sector”"
            in request_page)

    if decision == "approve":
        detail = "Circular furniture"
        data = {"decision": "approve", "sector_group_name": detail}
        notice = f"Kati Tamm was emailed “A new working group will be set up: {detail}”"
    else:
        detail = "Two cities are not enough for a group yet; we will ask again in spring."
        data = {"decision": "reject", "sector_comment": detail}
        notice = "Kati Tamm was emailed “Your proposal for a new working group has not been taken forward”"
    incomplete = {k: v for k, v in data.items() if k == "decision"}
    response = post_form(browser("tom"), f"/tasks/{setup.id}", incomplete)
    assert refused(response)
    response = post_form(browser("tom"), f"/tasks/{setup.id}", data)
    assert response.status_code == 302, text_of(response)[:3000]

    instance = finished(instance)
    assert instance.outcome == "end_sector_proposal"
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "Proposal handled"  # the end event: "Sector proposal handled"
    assert notice in request_page and detail in request_page
    assert db.session.scalar(select(func.count()).select_from(GroupMembership).join(Organisation)
                             .where(Organisation.name == "Tallinn City")) == 0


# -- timers: the applicant stays silent ------------------------------------------------------------

def test_silent_applicant_is_reminded_after_14_days_and_withdrawn_after_30(browser):
    instance = apply(browser, OPEN_GROUP)
    response = review(browser, instance, decision="request_changes",
                      coordinator_question="Who in Tallinn signs procurement commitments?")
    assert response.status_code == 302
    answer_task = ready_task(instance, "provide_information")
    asked_at = answer_task.created_at
    db.session.expire_all()
    due = db.session.get(ProcessInstance, instance.id).next_timer_at
    assert abs(due - asked_at - dt.timedelta(days=14)) < dt.timedelta(minutes=1)
    assert fire_due_timers() == 0  # nothing is due yet

    with freeze_time(due + dt.timedelta(seconds=1)):
        assert fire_due_timers(due + dt.timedelta(seconds=1)) == 1
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    reminder = "Kati Tamm was emailed “Reminder: answer the coordinator's question about your application"
    assert reminder in request_page
    assert status(request_page) == "In progress"
    assert ready_task(instance, "provide_information").id == answer_task.id  # still hers to answer
    assert_waiting_for(browser, answer_task, "kati")
    db.session.expire_all()
    due = db.session.get(ProcessInstance, instance.id).next_timer_at
    assert abs(due - asked_at - dt.timedelta(days=30)) < dt.timedelta(minutes=1)

    with freeze_time(due - dt.timedelta(minutes=1)):  # a minute short of 30 days
        assert fire_due_timers(due - dt.timedelta(minutes=1)) == 0
    with freeze_time(due + dt.timedelta(seconds=1)):
        assert fire_due_timers(due + dt.timedelta(seconds=1)) == 1

    instance = finished(instance)
    assert instance.outcome == "end_withdrawn"
    assert nothing_waiting(instance)
    request_page = page(browser, "kati", f"/requests/{instance.id}")
    assert status(request_page) == "Withdrawn"
    assert "Kati Tamm was emailed “Your application" in request_page and "has been withdrawn”" in request_page
    assert "Provide more information withdrawn" in request_page
    assert request_page.count(reminder) == 1
    assert f"/tasks/{answer_task.id}" not in inbox_html(browser, "kati")
    late = browser("kati").get(f"/tasks/{answer_task.id}")
    assert "This task is no longer waiting" in text_of(late) and "was withdrawn" in text_of(late)
    kati = browser("kati")
    response = kati.post(f"/tasks/{answer_task.id}", data={
        "information": "Sorry, I was away.", "csrf_token": csrf_token(kati, "/inbox")})
    assert response.status_code == 409 and "Nothing you sent was saved" in text_of(response)
