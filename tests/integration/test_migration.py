"""Moving running travel claims to a revised version of the process, as an administrator would."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.engine import cache
from app.extensions import db
from app.models import AuditEvent, InstanceStatus, OutboxMessage, ProcessInstance, ProcessVersion
from app.services import migration
from app.services.versions import folder_file_sets, store_version
from tests.conftest import ROOT, csrf_token, loaded, person, post_form, sign_in
from tests.integration.test_travel_http import claim, file_claim, ready_task

URL = "/admin/migrations/travel_reimbursement/2"
COST_CENTRE = ('<camunda:formField id="cost_centre" label="Cost centre" type="string">\n'
               '            <camunda:validation><camunda:constraint name="required" /></camunda:validation>\n'
               '          </camunda:formField>\n'
               '          <camunda:formField id="payment_date" label="Payment date" type="date">')


@pytest.fixture(autouse=True)
def parsed_versions_forgotten():
    """load_model keeps parsed versions by row id, and each test's fresh database reuses the ids:
    without this, a revised version stored here would load as another test's revision (and
    this test's revisions as later tests' versions)."""
    cache._MODELS.clear()
    yield
    cache._MODELS.clear()


def revised_travel(*changes: tuple[str | re.Pattern, str]) -> ProcessVersion:
    """Store the shipped travel process with ``changes`` (old text or pattern, new text) as its next,
    active version."""
    files = next(f for f in folder_file_sets(ROOT / "workflows") if "travel_reimbursement.bpmn" in f)
    xml = files["travel_reimbursement.bpmn"]
    for old, new in changes:
        pattern = old if isinstance(old, re.Pattern) else re.compile(re.escape(old))
        assert len(pattern.findall(xml)) == 1, old
        xml = pattern.sub(lambda _, new=new: new, xml)
    version, created = store_version({**files, "travel_reimbursement.bpmn": xml}, person("admin"), activate=True)
    db.session.commit()
    assert created
    return version


def with_cost_centre() -> ProcessVersion:
    """Finance must now enter a cost centre when approving a payment (a later task changes)."""
    return revised_travel(('<camunda:formField id="payment_date" label="Payment date" type="date">', COST_CENTRE))


def with_new_check_instructions() -> ProcessVersion:
    return revised_travel(("<bpmn:documentation>Check this travel claim.",
                           "<bpmn:documentation>Check this travel claim against the 2027 travel rules."))


def claim_at_payment(client) -> ProcessInstance:
    """A claim the coordinator approved: check_claim is completed, approve_payment waits."""
    instance = file_claim(client)
    sign_in(client, "clara")
    response = post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {"decision": "approve"})
    assert response.status_code == 302
    return instance


def revised_claim(client) -> ProcessInstance:
    """A claim the claimant revised when asked: revise_claim is completed, check_claim waits again."""
    instance = file_claim(client)
    sign_in(client, "clara")
    post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."})
    sign_in(client, "marta")
    fix = claim()
    fix.pop("working_group_id")
    assert post_form(client, f"/tasks/{ready_task(instance, 'revise_claim').id}", fix).status_code == 302
    assert ready_task(instance, "check_claim") is not None  # back with the coordinator
    return instance


def reload(instance: ProcessInstance) -> ProcessInstance:
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def row_of(page: str, instance: ProcessInstance) -> str:
    """The text of the dry-run table row that links to ``instance``."""
    match = re.search(rf'<tr class="govuk-table__row">\s*<td[^>]*><a [^>]*href="/requests/{instance.id}".*?</tr>',
                      page, re.S)
    assert match, f"no row for request {instance.id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def move(client, ids: list[int], reason: str = "Finance now needs the cost centre."):
    return client.post(URL, data={"csrf_token": csrf_token(client, URL), "instance": [str(i) for i in ids],
                                  "reason": reason})


def test_waiting_claims_move_when_only_later_tasks_change_and_finish_on_the_new_version(client):
    waiting = file_claim(client)
    at_payment = claim_at_payment(client)
    check = ready_task(waiting, "check_claim")
    with_cost_centre()

    sign_in(client, "admin")
    page = loaded(client.get(URL))
    assert "Changed: Approve payment" in page
    assert "Yes" in row_of(page, waiting) and "Check claim" in row_of(page, waiting)
    assert "Yes" in row_of(page, at_payment) and "Approve payment" in row_of(page, at_payment)
    assert "timers that have not fired yet start again from the move" in page
    assert "Move 2 requests to version 2" in page

    response = move(client, [waiting.id, at_payment.id])
    assert response.status_code == 302
    page = loaded(client.get(response.headers["Location"]))
    assert "2 requests moved to version 2" in page
    assert "No running request of Travel reimbursement is on another version" in page

    waiting = reload(waiting)
    assert waiting.version.number == 2 and waiting.status == InstanceStatus.RUNNING
    assert waiting.summary["Meeting attended"] == "Circular ICT, 3rd meeting, Brussels"
    assert ready_task(waiting, "check_claim").id == check.id  # the same task: links in emails still work
    history = loaded(client.get(f"/requests/{waiting.id}"))
    assert ("Moved from version 1 to version 2 by Platform Administrator: Finance now needs the cost centre."
            in history)

    # Both claims finish on version 2: the coordinator approves, finance sees the new field.
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302
    for instance, reference in ((waiting, "BB-2027-0001"), (at_payment, "BB-2027-0002")):
        pay = ready_task(instance, "approve_payment")
        sign_in(client, "felix")
        form = loaded(client.get(f"/tasks/{pay.id}"))
        assert "Cost centre" in form
        paid = {"decision": "approve", "payment_date": "2026-12-01", "payment_reference": reference}
        response = post_form(client, f"/tasks/{pay.id}", paid)
        assert response.status_code == 400 and "Cost centre" in response.get_data(as_text=True)  # now required
        response = post_form(client, f"/tasks/{pay.id}", paid | {"cost_centre": "GROW-G1"})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        instance = reload(instance)
        assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_claim_paid"
        sign_in(client, "marta")
        page = loaded(client.get(f"/requests/{instance.id}"))
        assert "GROW-G1" in page and reference in page and "Moved from version 1 to version 2" in page


def test_a_claim_whose_completed_task_changed_cannot_move(client):
    waiting = file_claim(client)
    checked = claim_at_payment(client)
    with_new_check_instructions()

    sign_in(client, "admin")
    page = loaded(client.get(URL))
    assert "Yes" in row_of(page, waiting)
    row = row_of(page, checked)
    assert " No " in row
    assert "Check claim was completed and is changed in version 2 (its instructions)." in row
    assert "Move 1 request to version 2" in page

    # Posting both ids anyway: each is checked again, the changed one stays where it is.
    response = move(client, [waiting.id, checked.id], "New travel rules for 2027.")
    assert response.status_code == 302
    page = loaded(client.get(response.headers["Location"]))
    assert "1 request moved to version 2" in page
    assert f"Request {checked.id} (" in page
    assert "was not moved: Check claim was completed and is changed in version 2" in page
    assert reload(waiting).version.number == 2
    checked = reload(checked)
    assert checked.version.number == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.instance_id == checked.id,
                                                      AuditEvent.action == "migrated")) is None

    # The claim left on version 1 still finishes there.
    sign_in(client, "felix")
    response = post_form(client, f"/tasks/{ready_task(checked, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-12-01", "payment_reference": "BB-2026-0077"})
    assert response.status_code == 302
    assert reload(checked).outcome == "end_claim_paid"


def test_a_claim_that_was_revised_cannot_move_to_a_version_that_changes_the_revision(client):
    fresh = file_claim(client)
    revised = revised_claim(client)
    revised_travel(('<camunda:formField id="additional_receipts" label="Additional receipts" type="file">',
                    '<camunda:formField id="change_note" label="What you changed" type="text" />\n'
                    '          <camunda:formField id="additional_receipts" label="Additional receipts" type="file">'))

    sign_in(client, "admin")
    page = loaded(client.get(URL))
    assert "Changed: Revise claim" in page
    assert "Yes" in row_of(page, fresh)
    assert "Revise claim was completed and is changed in version 2 (its form)." in row_of(page, revised)


def test_no_claim_can_move_to_a_version_that_rewires_steps_they_passed(client):
    fresh = file_claim(client)
    revised = revised_claim(client)
    revised_travel(  # "Ask for changes" now sends the claim straight back to assessment
        ("        <bpmn:flowNodeRef>revise_claim</bpmn:flowNodeRef>\n", ""),
        (re.compile(r'    <bpmn:userTask id="revise_claim".*?</bpmn:userTask>\n', re.S), ""),
        ('<bpmn:incoming>flow_claim_revised</bpmn:incoming>', '<bpmn:incoming>flow_changes_requested</bpmn:incoming>'),
        ('sourceRef="gateway_check_decision" targetRef="revise_claim"',
         'sourceRef="gateway_check_decision" targetRef="gateway_join_assess"'),
        (re.compile(r' *<bpmn:sequenceFlow id="flow_claim_revised"[^>]*/>\n'), ""),
        (re.compile(r' *<bpmndi:BPMNShape id="revise_claim_di".*?</bpmndi:BPMNShape>\n', re.S), ""),
        (re.compile(r' *<bpmndi:BPMNEdge id="flow_claim_revised_di".*?</bpmndi:BPMNEdge>\n', re.S), ""))

    sign_in(client, "admin")
    page = loaded(client.get(URL))
    assert "Removed: Revise claim" in page
    # Every claim has passed the join in front of the assessment, whose incoming flows changed.
    joined = "The gateway gateway_join_assess was completed and is changed in version 2 (its connections)."
    assert " No " in row_of(page, fresh) and joined in row_of(page, fresh)
    assert "Revise claim was completed and is removed in version 2." in row_of(page, revised)
    assert "None of these requests can move to version 2" in page and "Move 0" not in page


def test_a_waiting_task_given_to_another_lane_is_reopened_for_its_new_people(client):
    instance = file_claim(client)
    old = ready_task(instance, "check_claim")
    revised_travel(
        ("        <bpmn:flowNodeRef>check_claim</bpmn:flowNodeRef>\n", ""),
        ("        <bpmn:flowNodeRef>approve_payment</bpmn:flowNodeRef>\n",
         "        <bpmn:flowNodeRef>approve_payment</bpmn:flowNodeRef>\n"
         "        <bpmn:flowNodeRef>check_claim</bpmn:flowNodeRef>\n"))
    sign_in(client, "admin")
    page = loaded(client.get(URL))
    assert "Yes" in row_of(page, instance)
    assert move(client, [instance.id], "Finance checks claims from now on.").status_code == 302

    new = ready_task(instance, "check_claim")
    assert new.id != old.id and new.spiff_task_id == old.spiff_task_id
    assert [c.user_id for c in new.candidates] == [person("felix").id]
    assert db.session.scalar(select(OutboxMessage.recipient_id).where(OutboxMessage.task_id == new.id)) \
        == person("felix").id  # told by email, as for any new task
    sign_in(client, "clara")
    assert "was withdrawn on" in loaded(client.get(f"/tasks/{old.id}"))
    assert "Check claim" not in loaded(client.get("/inbox"))
    sign_in(client, "felix")
    assert "Check claim" in loaded(client.get("/inbox"))
    history = loaded(client.get(f"/requests/{instance.id}"))
    assert "Check claim withdrawn: the new version gives it to other people" in history


def test_timers_that_have_not_fired_start_again_from_the_move(client):
    instance = file_claim(client)
    version = with_cost_centre()
    moved_at = reload(instance).started_at + dt.timedelta(days=3)
    with freeze_time(moved_at):
        result = migration.migrate_instances(person("admin"), version, [instance.id], "Cost centre.")
        db.session.commit()
    assert [i.id for i in result.moved] == [instance.id]
    reminder = reload(instance).next_timer_at
    assert dt.timedelta(days=4, hours=23) < reminder - moved_at <= dt.timedelta(days=5, minutes=1)


def test_only_administrators_may_see_or_move(client):
    instance = file_claim(client)
    with_cost_centre()
    for who in ("clara", "felix", "marta"):
        sign_in(client, who)
        assert client.get(URL).status_code == 403
        assert client.get("/admin/migrations/").status_code == 403
        token = csrf_token(client, "/inbox")
        response = client.post(URL, data={"csrf_token": token, "instance": str(instance.id), "reason": "Because."})
        assert response.status_code == 403
    assert reload(instance).version.number == 1


def test_a_move_needs_a_reason(client):
    instance = file_claim(client)
    with_cost_centre()
    sign_in(client, "admin")
    response = move(client, [instance.id], reason="   ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Enter why these requests are moving" in page
    assert 'href="#field-reason"' in page and 'id="field-reason"' in page
    assert reload(instance).version.number == 1


def test_the_version_pages_link_each_version_that_requests_can_move_to(client):
    file_claim(client)
    with_cost_centre()
    sign_in(client, "admin")
    page = loaded(client.get("/admin/migrations/"))
    assert f'href="{URL}"' in page and "Move requests to version 2" in page
    versions_page = loaded(client.get("/admin/processes/travel_reimbursement"))
    assert f'href="{URL}"' in versions_page and "Move running requests to version 2" in versions_page
    assert "Move running requests to version 1" not in versions_page  # the claim is there already
    assert client.get("/admin/migrations/travel_reimbursement/9").status_code == 404
    assert client.get("/admin/migrations/no_such_process/1").status_code == 404
