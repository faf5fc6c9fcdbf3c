"""Event subprocesses that start by a message, over HTTP: another request (same key) sends the
message; a non-interrupting one runs beside the waiting task and takes the message's data into
the request's, an interrupting one withdraws the task and ends the request; other keys wait on."""

from __future__ import annotations

from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import HumanTask, InstanceStatus, MessageSubscription, ProcessInstance, TaskState
from app.services.diagram_checks import check_upload
from app.steps import engine
from tests.conftest import loaded, post_form, sign_in
from tests.diagrams import FIXTURES, complete, history, ready_tasks, refreshed, start_request, text, upload_process

DIAGRAMS = FIXTURES / "diagrams"
REVIEW = "evsub_message_review"


def upload(client, *names: str) -> None:
    for name in names:
        upload_process(client, {f"{name}.bpmn": (DIAGRAMS / f"{name}.bpmn").read_bytes()})


def subscriptions(instance: ProcessInstance) -> set[tuple[str, str]]:
    db.session.expire_all()
    return {(s.message_name, s.correlation_key) for s in db.session.scalars(
        select(MessageSubscription).where(MessageSubscription.instance_id == instance.id))}




def request_data(instance: ProcessInstance) -> dict:
    """The request's data as the engine holds it, read back from the saved state."""
    instance = refreshed(instance)
    return engine().data(engine().load(load_model(instance.version), instance.state))


def test_a_message_runs_a_non_interrupting_event_subprocess_beside_the_waiting_task(client):
    upload(client, "msg_group_notice", REVIEW)
    waiting = start_request(client, "marta", REVIEW, {"group_code": "ICT"})
    other = start_request(client, "marta", REVIEW, {"group_code": "ZERO"})
    [review] = ready_tasks(waiting, "review")
    assert subscriptions(waiting) == {("group_ready", "ICT"), ("group_closed", "ICT")}
    assert subscriptions(other) == {("group_ready", "ZERO"), ("group_closed", "ZERO")}

    start_request(client, "ana", "msg_group_notice", {"group_code": "ICT", "note": "The room is booked"})

    # The event subprocess ran; the review still waits, and the request still listens.
    assert [t.id for t in ready_tasks(waiting)] == [review.id]
    assert refreshed(waiting).status == InstanceStatus.RUNNING
    assert subscriptions(waiting) == {("group_ready", "ICT"), ("group_closed", "ICT")}
    assert request_data(waiting)["note"] == "The room is booked"
    lines = history(waiting)
    assert "The message “Group ready” started “Group ready noted”" in lines
    assert any(line.startswith("Received the message “Group ready”") for line in lines)
    sign_in(client, "clara")
    assert "The room is booked" in loaded(client.get(f"/tasks/{review.id}"))  # the payload, in the task's data
    sign_in(client, "marta")
    page = text(client.get(f"/requests/{waiting.id}"))
    assert "Received the message “Group ready”" in page
    assert "The message “Group ready” started “Group ready noted”" in page
    assert "The room is booked" in page  # what was sent, in the history

    # The request with another key is untouched.
    assert [t.bpmn_id for t in ready_tasks(other)] == ["review"]
    assert "note" not in request_data(other)
    assert not any("group_ready" in line for line in history(other))

    # The next message starts it again, with its own data.
    start_request(client, "ana", "msg_group_notice", {"group_code": "ICT", "note": "Lunch is at noon"})
    assert request_data(waiting)["note"] == "Lunch is at noon"
    assert history(waiting).count("The message “Group ready” started “Group ready noted”") == 2
    assert [t.id for t in ready_tasks(waiting)] == [review.id]

    complete(client, "clara", review, {"seen": "y"})
    ended = refreshed(waiting)
    assert ended.status == InstanceStatus.COMPLETED and ended.outcome == "end_reviewed"
    assert subscriptions(waiting) == set()
    assert request_data(waiting)["note"] == "Lunch is at noon"  # carried on to the end


def test_an_interrupting_event_subprocess_sent_from_monitoring_withdraws_the_task_and_ends_the_request(client):
    upload(client, REVIEW)
    request = start_request(client, "marta", REVIEW, {"group_code": "ICT"})
    other = start_request(client, "marta", REVIEW, {"group_code": "ZERO"})
    [review] = ready_tasks(request, "review")
    sign_in(client, "admin")
    page = text(client.get(f"/monitor/instances/{request.id}"))
    assert "Send a message" in page
    assert "“group_ready”, key ICT" in page and "“group_closed”, key ICT" in page

    response = post_form(client, f"/monitor/instances/{request.id}/message",
                         {"message": "group_closed", "payload": "reason=The group was dissolved"})
    assert response.status_code == 302, text(response)[:2000]

    ended = refreshed(request)
    assert ended.status == InstanceStatus.COMPLETED and ended.outcome == "end_closed"
    assert ready_tasks(request) == [] and subscriptions(request) == set()
    assert db.session.get(HumanTask, review.id).state == TaskState.CANCELLED
    assert request_data(request)["reason"] == "The group was dissolved"
    assert "The message “Group closed” started “Group closed”" in history(request)
    # The other request still waits for its review and for both messages.
    assert [t.bpmn_id for t in ready_tasks(other)] == ["review"]
    assert subscriptions(other) == {("group_ready", "ZERO"), ("group_closed", "ZERO")}


def test_the_upload_check_accepts_a_message_event_subprocess_of_the_process_only(app):
    report = check_upload({f"{REVIEW}.bpmn": (DIAGRAMS / f"{REVIEW}.bpmn").read_bytes()})
    assert report.ok and not report.warnings, report.as_text()

    nested = check_upload({"evsub_message_nested.bpmn": (DIAGRAMS / "evsub_message_nested.bpmn").read_bytes()})
    assert not nested.ok
    assert "inside a subprocess, an event subprocess starts only on a timer here" in nested.as_text()
    assert "Group ready noted" in nested.as_text() or "note_subprocess" in nested.as_text()
