"""Signals, escalations, errors, event subprocesses, inclusive and event-based gateways,
terminate end events, manual tasks and documentation-only elements: each small diagram of
tests/fixtures/diagrams/ uploaded, started and walked over HTTP to its end, as its people would."""

from __future__ import annotations

import datetime as dt
import json

from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.models import InstanceStatus, OutboxMessage, ProcessInstance, TaskState
from app.services.instances import fire_due_timers
from tests.conftest import loaded, person, post_form, sign_in
from tests.diagrams import (
    FIXTURES,
    complete,
    definition,
    history,
    ready_tasks,
    refreshed,
    start_request,
    text,
    upload_process,
    upload_report,
)


def uploaded(client, name: str) -> None:
    upload_process(client, {f"{name}.bpmn": (FIXTURES / "diagrams" / f"{name}.bpmn").read_bytes()})


def waiting(instance: ProcessInstance) -> dict[str, set[int]]:
    """Each waiting task's step, with the people it waits for."""
    return {t.bpmn_id: {c.user_id for c in t.candidates} for t in ready_tasks(instance)}


def only(instance: ProcessInstance, bpmn_id: str):
    tasks = ready_tasks(instance, bpmn_id)
    assert len(tasks) == 1, (bpmn_id, waiting(instance))
    return tasks[0]




def task_emails(instance: ProcessInstance, bpmn_id: str) -> set[int]:
    """Who was e-mailed the task of that step."""
    db.session.expire_all()
    return {m.recipient_id for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == instance.id, OutboxMessage.kind == "task")) if m.task.bpmn_id == bpmn_id}


def finished(instance: ProcessInstance, outcome: str) -> None:
    instance = refreshed(instance)
    assert (instance.status, instance.outcome) == (InstanceStatus.COMPLETED, outcome), (instance.status, instance.error)
    assert ready_tasks(instance) == []
    notices = db.session.scalars(select(OutboxMessage.template).where(
        OutboxMessage.instance_id == instance.id, OutboxMessage.kind == "notice",
        OutboxMessage.recipient_id == instance.initiator_id))
    assert "request_finished" in set(notices)


def request_page(client, who: str, instance: ProcessInstance) -> str:
    sign_in(client, who)
    return text(client.get(f"/requests/{instance.id}"))


def test_a_signal_from_one_branch_stops_the_review_in_the_other(client):
    uploaded(client, "signal_withdrawal")
    instance = start_request(client, "marta", "signal_withdrawal", {"subject": "Room for the kick-off"})
    marta, clara = person("marta"), person("clara")
    tasks = waiting(instance)
    assert clara.id in tasks["review_request"] and marta.id not in tasks["review_request"]
    assert tasks["withdraw_request"] == {marta.id}
    assert clara.id in task_emails(instance, "review_request")

    complete(client, "marta", only(instance, "withdraw_request"), {"reason": "No longer needed"})
    finished(instance, "end_withdrawn")
    review = db.session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance.id)).tasks
    assert {t.bpmn_id: t.state for t in review}["review_request"] == TaskState.CANCELLED
    lines = history(instance)
    assert "The signal “withdrawn” was sent at “Withdrawal sent”" in lines
    assert ("The signal “withdrawn” stopped “Review the request”; the request went on at “Withdrawn”"
            in lines)
    page = request_page(client, "marta", instance)
    assert "The signal “withdrawn” stopped “Review the request”" in page and "Review the request withdrawn" in page


def test_an_escalation_from_a_subprocess_is_caught_while_the_subprocess_goes_on(client):
    uploaded(client, "escalation_budget")
    instance = start_request(client, "marta", "escalation_budget", {"subject": "Budget for the study"})
    marta, clara = person("marta"), person("clara")
    tasks = waiting(instance)  # both at once: the boundary event does not interrupt
    assert tasks["finish_budget"] == {marta.id} and clara.id in tasks["note_delay"]
    assert history(instance, "event") == [
        "The escalation “late” was raised at “Budget is late”",
        "The escalation “late” was caught at “Late” while “Prepare the budget” went on"]

    complete(client, "clara", only(instance, "note_delay"), {"note": "Told the group"})
    assert refreshed(instance).status == InstanceStatus.RUNNING
    complete(client, "marta", only(instance, "finish_budget"), {"amount": "12000"})
    finished(instance, "end_budget_ready")
    assert "The escalation “late” was raised at “Budget is late”" in request_page(client, "marta", instance)


def test_an_error_end_event_in_a_subprocess_is_caught_by_the_error_boundary_event(client):
    uploaded(client, "error_budget")
    refused = start_request(client, "marta", "error_budget", {"subject": "Offer for laptops"})
    accepted = start_request(client, "marta", "error_budget", {"subject": "Offer for chairs"})
    complete(client, "clara", only(refused, "check_budget"), {"decision": "reject"})
    assert waiting(refused) == {"explain_refusal": {person("marta").id}}
    assert history(refused, "event") == [
        "The error “No budget” (code no_budget) was thrown at “No budget”",
        "The error “No budget” (code no_budget) stopped “Prepare the offer”; the request went on at “No budget”"]
    sign_in(client, "clara")
    page = text(client.get(f"/monitor/instances/{refused.id}"))
    assert "The error “No budget” (code no_budget) stopped “Prepare the offer”" in page
    assert "Checking – Marta" not in page  # a subprocess's start is not the request's
    complete(client, "marta", only(refused, "explain_refusal"), {"note": "Understood"})
    finished(refused, "end_refused")

    complete(client, "clara", only(accepted, "check_budget"), {"decision": "approve"})
    finished(accepted, "end_offer_ready")
    assert history(accepted, "event") == []


def test_an_event_subprocess_started_by_a_signal_interrupts_the_request(client):
    uploaded(client, "event_subprocesses")
    instance = start_request(client, "marta", "event_subprocesses", {"subject": "Stand at the fair"})
    assert set(waiting(instance)) == {"review_request", "cancel_request"}
    complete(client, "marta", only(instance, "cancel_request"), {"reason": "The fair was called off"})
    tasks = waiting(instance)  # the review is withdrawn: the event subprocess interrupts
    assert set(tasks) == {"confirm_cancellation"} and person("clara").id in tasks["confirm_cancellation"]
    assert "The signal “cancelled” started “When cancelled”" in history(instance, "event")
    assert "Review the request withdrawn" in history(instance, "task_withdrawn")
    complete(client, "clara", only(instance, "confirm_cancellation"), {"note": ""})
    finished(instance, "end_cancelled")


def test_an_event_subprocess_catches_any_error_of_the_request(client):
    uploaded(client, "event_subprocesses")
    instance = start_request(client, "marta", "event_subprocesses", {"subject": "Stand at the fair"})
    complete(client, "clara", only(instance, "review_request"), {"decision": "reject"})
    assert waiting(instance) == {"explain_refusal": {person("marta").id}}  # cancelling is no longer offered
    assert history(instance, "event") == ["The error “Refused” (code refused) was thrown at “Refused”",
                                          "An error started “When refused”"]  # it catches any error
    complete(client, "marta", only(instance, "explain_refusal"), {"note": "I see"})
    finished(instance, "end_explained")


def test_an_inclusive_gateway_takes_each_way_whose_condition_holds_and_joins_them(client):
    uploaded(client, "inclusive_checks")
    instance = start_request(client, "marta", "inclusive_checks",
                             {"subject": "Framework contract", "needs_legal": "true", "needs_finance": "true"})
    tasks = waiting(instance)
    assert set(tasks) == {"legal_check", "finance_check"}  # 2 of 3 ways; not the default
    assert person("felix").id in tasks["finance_check"] and person("clara").id in tasks["legal_check"]
    complete(client, "felix", only(instance, "finance_check"), {"note": "Affordable"})
    assert refreshed(instance).status == InstanceStatus.RUNNING  # the join waits for the legal check
    assert set(waiting(instance)) == {"legal_check"}
    complete(client, "clara", only(instance, "legal_check"), {"note": "Fine"})
    finished(instance, "end_checked")

    neither = start_request(client, "marta", "inclusive_checks", {"subject": "Small purchase"})
    assert set(waiting(neither)) == {"general_check"}  # no condition held: the default flow
    complete(client, "clara", only(neither, "general_check"), {"note": ""})
    finished(neither, "end_checked")


def test_an_event_based_gateway_follows_the_signal_when_it_comes_first(client):
    uploaded(client, "event_gateway")
    instance = start_request(client, "marta", "event_gateway", {"subject": "Hotel for the meeting"})
    due = refreshed(instance).next_timer_at
    assert dt.timedelta(days=1, hours=23) < due - refreshed(instance).started_at <= dt.timedelta(days=2, minutes=1)
    complete(client, "clara", only(instance, "confirm_booking"), {"note": "Confirmed by phone"})
    finished(instance, "end_confirmed")
    assert "“Confirmed” came first at “Confirmed or two days?”" in history(instance, "event")
    assert refreshed(instance).next_timer_at is None


def test_an_event_based_gateway_follows_the_timer_when_it_comes_first(client):
    uploaded(client, "event_gateway")
    instance = start_request(client, "marta", "event_gateway", {"subject": "Hotel for the meeting"})
    due = refreshed(instance).next_timer_at
    assert fire_due_timers(due - dt.timedelta(minutes=1)) == 0
    with freeze_time(due + dt.timedelta(minutes=1)):
        assert fire_due_timers() == 1
    assert set(waiting(instance)) == {"confirm_booking", "chase_supplier"}
    assert "“Two days” came first at “Confirmed or two days?”" in history(instance, "event")
    assert person("clara").id in task_emails(instance, "chase_supplier")
    complete(client, "clara", only(instance, "chase_supplier"), {"note": "Called them"})
    complete(client, "clara", only(instance, "confirm_booking"), {"note": "Confirmed at last"})
    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED  # the late signal is caught by nothing: no harm
    assert json.loads(instance.state)["bpmn_events"] == []  # and is not kept


def test_an_error_nobody_catches_stops_the_request_with_the_reason_in_monitoring(client):
    uploaded(client, "uncaught_error")
    instance = start_request(client, "marta", "uncaught_error", {"subject": "Fire safety check"})
    complete(client, "clara", only(instance, "do_check"), {"decision": "reject"})
    instance = refreshed(instance)
    reason = "The error “Check failed” (code check_failed) thrown at “Check failed” is caught by nothing, so " \
             "the request stopped"
    assert (instance.status, instance.error) == (InstanceStatus.ERROR, reason)
    assert ready_tasks(instance) == []  # "File the result" never opened
    assert history(instance, "error") == [reason]
    sign_in(client, "admin")
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert reason in page
    markers = json.loads(loaded(client.get(f"/monitor/instances/{instance.id}/markers.json")))
    assert markers["failed"] == ["throw_failed"]
    post_form(client, f"/monitor/instances/{instance.id}/retry", {"reason": "Try once more"})
    instance = refreshed(instance)  # the same diagram throws the same error: still stopped, and why
    assert (instance.status, instance.error) == (InstanceStatus.ERROR, reason)
    assert history(instance, "error")[-1].startswith("Platform Administrator ran the failed step again; it failed "
                                                     f"again: {reason}")
    assert ready_tasks(instance) == []
    post_form(client, f"/monitor/instances/{instance.id}/cancel", {"reason": "Checked by hand instead"})
    assert refreshed(instance).status == InstanceStatus.CANCELLED


def test_a_terminate_end_event_ends_the_request_and_withdraws_what_still_waits(client):
    uploaded(client, "terminate_end")
    instance = start_request(client, "marta", "terminate_end", {"subject": "Visit to Lyon"})
    assert set(waiting(instance)) == {"decide_request", "prepare_papers"}
    complete(client, "clara", only(instance, "decide_request"), {"decision": "reject"})
    finished(instance, "end_stopped")
    assert "Prepare the papers withdrawn" in history(instance, "task_withdrawn")
    assert history(instance, "event") == ["The request was ended at “Stopped”: any steps still open were withdrawn"]


def test_data_objects_stores_annotations_and_groups_are_ignored_and_a_manual_task_passes(client):
    uploaded(client, "documentation_only")
    instance = start_request(client, "marta", "documentation_only", {"subject": "Invoice 42"})
    assert set(waiting(instance)) == {"file_invoice"}
    complete(client, "marta", only(instance, "file_invoice"), {"amount": "1250"})
    finished(instance, "end_filed")  # the manual task did not wait for anyone
    assert history(instance, "event") == ["“Sign the paper copy” was passed through: nobody had to do it"]
    completed = history(instance, "task_completed")
    assert len(completed) == 1 and "File the invoice" in completed[0]
    state = refreshed(instance).state
    assert "ref_invoice" not in state and "Financial Accounting System" not in state
    for task in json.loads(state)["tasks"].values():  # the data object never enters a form's data
        assert "invoice" not in {**task.get("data", {}), **task.get("delta", {}).get("updates", {})}
    assert "Amount 1250" in request_page(client, "marta", instance)


def test_event_subprocesses_beside_the_request_run_without_stopping_it(client):
    uploaded(client, "event_subprocesses_beside")
    instance = start_request(client, "marta", "event_subprocesses_beside", {"subject": "Yearly report"})
    tasks = waiting(instance)  # the escalation started "When late" beside the subprocess, which goes on
    assert tasks["write_report"] == {person("marta").id} and person("clara").id in tasks["note_delay"]
    assert history(instance, "event") == ["The escalation “late” was raised at “Report is late”",
                                          "The escalation “late” started “When late”"]
    due = refreshed(instance).next_timer_at
    assert dt.timedelta(days=2, hours=23) < due - refreshed(instance).started_at <= dt.timedelta(days=3, minutes=1)
    with freeze_time(due + dt.timedelta(minutes=1)):
        assert fire_due_timers() == 1
    assert set(waiting(instance)) == {"write_report", "note_delay"}  # reminded, nothing stopped
    assert "A timer started “Reminder”" in history(instance, "event")
    reminded = db.session.scalars(select(OutboxMessage.recipient_id).where(
        OutboxMessage.instance_id == instance.id, OutboxMessage.kind == "notice")).all()
    assert person("clara").id in reminded and person("marta").id not in reminded
    with freeze_time(due + dt.timedelta(minutes=5), tick=True):  # after the reminder, as time goes
        complete(client, "clara", only(instance, "note_delay"), {"note": "Group told"})
        complete(client, "marta", only(instance, "write_report"), {"note": "Done"})
    finished(instance, "end_report_done")


def test_a_request_ends_when_its_flow_ends_although_a_timer_event_subprocess_still_waits(client):
    uploaded(client, "event_subprocesses_beside")
    instance = start_request(client, "marta", "event_subprocesses_beside", {"subject": "Yearly report"})
    complete(client, "clara", only(instance, "note_delay"), {"note": "No delay after all"})
    assert refreshed(instance).status == InstanceStatus.RUNNING
    complete(client, "marta", only(instance, "write_report"), {"note": "Done early"})
    finished(instance, "end_report_done")
    assert refreshed(instance).next_timer_at is None  # the reminder will not come


REFUSED = {  # element added to a good diagram: the report's line on it: name, id, what to change
    '<bpmn:complexGateway id="join_complex" name="Complex join" />':
        "“Complex join” join_complex complex gateways are not supported: use exclusive, parallel or inclusive "
        "gateways",
    '<bpmn:intermediateThrowEvent id="jump" name="Jump"><bpmn:linkEventDefinition name="next" />'
    '</bpmn:intermediateThrowEvent>': "“Jump” jump link events do not run here: draw the sequence flow itself",
    '<bpmn:intermediateCatchEvent id="wait_budget" name="Budget known"><bpmn:conditionalEventDefinition>'
    '<bpmn:condition xsi:type="bpmn:tFormalExpression">budget &gt; 0</bpmn:condition>'
    '</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>':
        "“Budget known” wait_budget conditional events do not run here (nothing would check the condition "
        "again): use a gateway with conditions",
    '<bpmn:boundaryEvent id="undo_review" name="Undo" attachedToRef="review_request">'
    '<bpmn:compensateEventDefinition /></bpmn:boundaryEvent>':
        "“Undo” undo_review compensation does not run here: draw the steps that undo the work after an error "
        "boundary event",
    '<bpmn:endEvent id="end_cancel" name="Cancelled"><bpmn:cancelEventDefinition /></bpmn:endEvent>':
        "“Cancelled” end_cancel cancel events do not run here (transactions are not supported): use an error "
        "end event and an error boundary event on an embedded subprocess",
    '<bpmn:transaction id="booking" name="Booking" />':
        "“Booking” booking transactions are not supported: use an embedded subprocess",
    '<bpmn:intermediateThrowEvent id="throw_error" name="Throw an error"><bpmn:errorEventDefinition />'
    '</bpmn:intermediateThrowEvent>':
        "“Throw an error” throw_error an error cannot be on an intermediate throw event here: throw an error "
        "with an end event, catch it with a boundary event on a subprocess or an event subprocess start event",
    '<bpmn:boundaryEvent id="error_on_task" name="Task error" attachedToRef="withdraw_request">'
    '<bpmn:errorEventDefinition /></bpmn:boundaryEvent>':
        "“Task error” error_on_task an error boundary event catches only errors thrown inside a subprocess: "
        "attach it to an embedded subprocess whose error end event throws the error",
    '<bpmn:startEvent id="start_signal" name="On signal"><bpmn:signalEventDefinition '
    'signalRef="signal_withdrawn" /></bpmn:startEvent>':
        "“On signal” start_signal a start event with a signal would start requests on its own: requests start "
        "from their start form; draw a plain start event (or put this one in an event subprocess)",
    '<bpmn:subProcess id="on_nothing" name="On nothing" triggeredByEvent="true">'
    '<bpmn:startEvent id="nothing_start" /></bpmn:subProcess>':
        "“On nothing” on_nothing an event subprocess needs exactly one start event with a signal, an error, "
        "an escalation, a message or a timer: it starts when that happens",
}


def test_what_still_cannot_run_is_refused_naming_the_element_and_what_to_draw(client):
    good = (FIXTURES / "diagrams" / "signal_withdrawal.bpmn").read_text()
    bad = good.replace("</bpmn:process>", "".join(REFUSED) + "</bpmn:process>")
    report = upload_report(client, {"signal_withdrawal.bpmn": bad.encode()})
    assert "These files cannot be stored" in report
    for message in REFUSED.values():
        assert message in report, message
    assert definition("signal_withdrawal") is None  # nothing stored


def test_error_variables_of_camunda_are_a_warning_and_the_diagram_is_accepted(client):
    good = (FIXTURES / "diagrams" / "error_budget.bpmn").read_text()
    plain = '<bpmn:errorEventDefinition errorRef="error_no_budget"/>'
    head, tail = good.rsplit(plain, 1)  # the boundary event's, which catches the error
    camunda = head + ('<bpmn:errorEventDefinition errorRef="error_no_budget" camunda:errorCodeVariable="code" '
                      'camunda:errorMessageVariable="message" />') + tail
    assert camunda.count("camunda:errorCodeVariable") == 1
    report = upload_report(client, {"error_budget.bpmn": camunda.encode()})
    assert "camunda:errorCodeVariable is ignored: the error's code and message are not put into the request's " \
           "data" in report
    assert "camunda:errorMessageVariable is ignored" in report
