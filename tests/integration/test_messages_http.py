"""Messages between requests, over HTTP: one request throws, the requests waiting for that
message name and key move on, the others keep waiting; receive tasks, boundary events,
message start events, and the administrator's "Send a message"."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, InstanceStatus, MessageSubscription, OutboxMessage, ProcessInstance
from app.services import messages as message_service
from app.services.instances import fire_due_timers
from tests.conftest import csrf_token, loaded, person, post_form, postgres_url, sign_in
from tests.diagrams import FIXTURES, complete, history, ready_tasks, refreshed, start_request, text, upload_process
from tests.integration.test_postgres_locks import WAIT, run_together
from tests.unit.test_engine_messages import spiff_style as spiff_correlation

DIAGRAMS = FIXTURES / "diagrams"


def upload(client, *names: str) -> None:
    for name in names:
        upload_process(client, {f"{name}.bpmn": (DIAGRAMS / f"{name}.bpmn").read_bytes()})


def subscriptions(instance: ProcessInstance) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(s.message_name, s.correlation_key) for s in db.session.scalars(
        select(MessageSubscription).where(MessageSubscription.instance_id == instance.id))]




def newest_of(process_id: str) -> ProcessInstance | None:
    db.session.expire_all()
    return db.session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == process_id)
                             .order_by(ProcessInstance.id.desc()))


def test_a_message_reaches_the_request_with_its_key_and_starts_a_new_request(client):
    upload(client, "msg_group_notice", "msg_wait_for_group", "msg_started_by_group")
    sign_in(client, "marta")
    assert "Welcome a ready group" not in loaded(client.get("/start"))  # it starts only by a message
    assert client.get("/start/msg_started_by_group").status_code == 403

    waiting_ict = start_request(client, "marta", "msg_wait_for_group", {"group_code": "ICT"})
    waiting_zero = start_request(client, "marta", "msg_wait_for_group", {"group_code": "ZERO"})
    assert subscriptions(waiting_ict) == [("group_ready", "ICT")]
    assert subscriptions(waiting_zero) == [("group_ready", "ZERO")]
    assert ready_tasks(waiting_ict) == [] and refreshed(waiting_ict).status == InstanceStatus.RUNNING
    assert refreshed(waiting_ict).current_step == "Waiting for “group_ready”"
    sign_in(client, "marta")
    assert "Waiting for “group_ready”." in text(client.get("/requests"))

    start_request(client, "ana", "msg_group_notice", {"group_code": "ICT", "note": "The room is booked"})
    sender = newest_of("msg_group_notice")
    assert refreshed(sender).status == InstanceStatus.COMPLETED

    # B (same key) moved on with the note; C (other key) still waits.
    [read] = ready_tasks(waiting_ict, "read_note")
    assert {c.user_id for c in read.candidates} >= {person("clara").id, person("tom").id}
    assert ready_tasks(waiting_zero) == [] and subscriptions(waiting_zero) == [("group_ready", "ZERO")]
    assert subscriptions(waiting_ict) == []
    assert db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.task_id == read.id)) is not None
    assert any("Received the message “Group ready”" in line for line in history(waiting_ict))

    # A new request of the process that starts by that message, started by the sender's initiator.
    started = newest_of("msg_started_by_group")
    assert started is not None and started.initiator_id == person("ana").id
    assert [t.bpmn_id for t in ready_tasks(started)] == ["welcome_group"]
    sent = [line for line in history(sender) if line.startswith("The message")]
    assert sent == [f"The message “Group ready” was sent to {refreshed(waiting_ict).title}, "
                    f"a new request “{started.title}”"]  # named as the diagram names the throw event
    [sent_event] = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == sender.id,
                                                               AuditEvent.action == "message_sent")).all()
    assert (sent_event.data["message"], sent_event.data["key"]) == ("group_ready", "ICT")  # the key: in the data

    # Each request's history, as its requester reads it, says what was sent and received.
    sign_in(client, "marta")
    assert "Received the message “Group ready” from “Group notice”" in text(
        client.get(f"/requests/{waiting_ict.id}"))
    person("marta").language = "fr"  # and in her language, once she has chosen French
    db.session.commit()
    assert "Message « Group ready » reçu de « Group notice »" in text(client.get(f"/requests/{waiting_ict.id}"))
    sign_in(client, "ana")
    page = text(client.get(f"/requests/{sender.id}"))
    assert "The message “Group ready” was sent to" in page
    assert "What was sent note The room is booked" in page

    sign_in(client, "clara")
    assert "The room is booked" in loaded(client.get(f"/tasks/{read.id}"))  # the payload, in the data
    complete(client, "clara", read, {"seen": "y"})
    assert refreshed(waiting_ict).status == InstanceStatus.COMPLETED
    assert refreshed(waiting_zero).status == InstanceStatus.RUNNING


def test_a_message_nobody_waits_for_is_noted_in_the_senders_history(client):
    upload(client, "msg_group_notice")
    sender = start_request(client, "ana", "msg_group_notice", {"group_code": "NOBODY", "note": "Hello"})
    assert refreshed(sender).status == InstanceStatus.COMPLETED
    assert "The message “Group ready” was sent; no request was waiting for it" in history(sender)


def test_a_send_task_reaches_a_receive_task(client):
    upload(client, "msg_payment_sender", "msg_receive_payment")
    claim = start_request(client, "marta", "msg_receive_payment", {"reference": "R-17"})
    other = start_request(client, "marta", "msg_receive_payment", {"reference": "R-18"})
    assert subscriptions(claim) == [("payment_done", "R-17")]
    start_request(client, "pierre", "msg_payment_sender", {"reference": "R-17", "amount": "250"})
    [confirm] = ready_tasks(claim, "confirm_payment")
    assert person("felix").id in {c.user_id for c in confirm.candidates}
    assert ready_tasks(other) == [] and subscriptions(other) == [("payment_done", "R-18")]
    complete(client, "felix", confirm, {"seen": "y"})
    instance = refreshed(claim)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_paid"


def test_a_receiver_that_fails_goes_into_error_and_the_others_go_on(client):
    upload(client, "msg_payment_sender", "msg_receive_payment", "msg_failing_receiver")
    failing = start_request(client, "marta", "msg_failing_receiver", {"reference": "R-5"})
    claim = start_request(client, "marta", "msg_receive_payment", {"reference": "R-5"})
    start_request(client, "pierre", "msg_payment_sender", {"reference": "R-5", "amount": "90"})
    sender = newest_of("msg_payment_sender")
    assert refreshed(sender).status == InstanceStatus.COMPLETED
    assert [t.bpmn_id for t in ready_tasks(claim)] == ["confirm_payment"]
    broken = refreshed(failing)
    assert broken.status == InstanceStatus.ERROR
    assert broken.error.startswith("The message “Tell the claim” from “Report a payment” could not be "
                                   "handled:") and "division by zero" in broken.error
    assert subscriptions(failing) == [("payment_done", "R-5")]  # it kept the state it had
    assert [line for line in history(sender) if line.startswith("The message")] == [
        "The message “Tell the claim” was sent to Wait for a payment"]


def test_admin_sends_a_message_that_interrupts_a_user_task(client):
    upload(client, "msg_withdrawable_review")
    request = start_request(client, "marta", "msg_withdrawable_review", {"reference": "W-1"})
    [review] = ready_tasks(request, "review")
    sign_in(client, "clara")
    page = text(client.get(f"/monitor/instances/{request.id}"))
    assert "Waiting for messages “note_added”, key W-1 “withdrawn”, key W-1" in page
    assert "Send a message" not in page

    sign_in(client, "admin")
    page = text(client.get(f"/monitor/instances/{request.id}"))
    assert "Send a message" in page
    url = f"/monitor/instances/{request.id}/message"
    # A message the request does not wait for (a tampered form) changes nothing.
    response = post_form(client, url, {"message": "approved", "payload": ""})
    assert response.status_code == 400
    assert "This request is not waiting for the message “approved”" in text(response)
    response = post_form(client, url, {"message": "withdrawn", "payload": "not a pair"})
    assert response.status_code == 400 and "Write each value as name=value" in text(response)
    assert ready_tasks(request, "review")

    # A non-interrupting boundary event: a note adds a task, the review still waits.
    response = post_form(client, url, {"message": "note_added", "payload": "note=Room changed"})
    assert response.status_code == 302, text(response)[:2000]
    assert [t.bpmn_id for t in ready_tasks(request)] == ["review", "read_added_note"]
    assert subscriptions(request) == [("withdrawn", "W-1")]

    response = post_form(client, url, {"message": "withdrawn", "payload": "reason=Asked by the buyer"})
    assert response.status_code == 302, text(response)[:2000]
    # The review is withdrawn; the note's task, started before, still waits.
    assert [t.bpmn_id for t in ready_tasks(request)] == ["read_added_note"] and subscriptions(request) == []
    complete(client, "clara", ready_tasks(request)[0], {"seen": "y"})
    assert refreshed(request).status == InstanceStatus.COMPLETED
    lines = history(request)
    assert "Administrator sent the message “withdrawn”" in " ".join(lines).replace(
        person("admin").name, "Administrator")
    assert any(line.startswith("Review the request withdrawn") for line in lines)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == request.id,
                                                         AuditEvent.action == "message_received")).all()
    assert [(e.channel, e.actor_id, e.data["payload"]) for e in events] == [
        ("admin", person("admin").id, {"note": "Room changed"}),
        ("admin", person("admin").id, {"reason": "Asked by the buyer"})]


def test_an_event_based_gateway_takes_the_message_and_drops_the_other_wait(client):
    upload(client, "msg_reply_or_timeout")
    question = start_request(client, "marta", "msg_reply_or_timeout", {"reference": "Q-9"})
    assert subscriptions(question) == [("reply", "Q-9")]
    sign_in(client, "admin")
    response = post_form(client, f"/monitor/instances/{question.id}/message",
                         {"message": "reply", "payload": "answer=Yes, on Monday"})
    assert response.status_code == 302, text(response)[:2000]
    [read] = ready_tasks(question, "read_reply")
    assert subscriptions(question) == [] and refreshed(question).next_timer_at is None
    complete(client, "clara", read, {"seen": "y"})
    instance = refreshed(question)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_replied"

    # Without a reply, the week's timer wins and the message is no longer waited for.
    unanswered = start_request(client, "marta", "msg_reply_or_timeout", {"reference": "Q-10"})
    due = refreshed(unanswered).next_timer_at
    assert due is not None and dt.timedelta(days=6) < due - refreshed(unanswered).started_at < dt.timedelta(days=8)
    with freeze_time(due + dt.timedelta(minutes=1)):
        assert fire_due_timers() == 1
    instance = refreshed(unanswered)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_no_reply"
    assert subscriptions(unanswered) == []


def test_a_chain_of_messages_going_round_is_stopped_with_an_error(client):
    upload(client, "msg_relay")
    first = start_request(client, "marta", "msg_relay", {"reference": "loop"})
    second = start_request(client, "marta", "msg_relay", {"reference": "loop"})
    sign_in(client, "admin")
    response = post_form(client, f"/monitor/instances/{first.id}/message", {"message": "ping", "payload": ""})
    assert response.status_code == 302, text(response)[:2000]
    stopped = [i for i in (refreshed(first), refreshed(second)) if i.status == InstanceStatus.ERROR]
    assert len(stopped) == 1
    assert stopped[0].error.startswith(f"A chain of more than {message_service.MAX_CHAIN} messages was stopped here")
    received = [line for i in (first, second) for line in history(i) if line.startswith("Received the message")]
    assert len(received) == message_service.MAX_CHAIN  # the administrator's message did not count
    sign_in(client, "clara")
    assert "A chain of more than" in text(client.get(f"/monitor/instances/{stopped[0].id}"))


def test_the_message_diagrams_upload_without_a_warning(app):
    from app.services.diagram_checks import check_upload

    for path in sorted(DIAGRAMS.glob("msg_*.bpmn")):
        report = check_upload({path.name: path.read_bytes()})
        assert report.ok and not report.warnings, report.as_text()
    spiff_style = spiff_correlation((DIAGRAMS / "msg_wait_for_group.bpmn").read_text())
    report = check_upload({"msg_wait_for_group.bpmn": spiff_style.encode()})
    assert report.ok and not report.warnings, report.as_text()


@pytest.mark.skipif(not postgres_url(), reason="needs PostgreSQL's row locks: runs in the PostgreSQL pass")
@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 2, "pool_timeout": WAIT})
def test_two_requests_sending_to_one_receiver_at_once_step_it_once(app, monkeypatch):
    client = app.test_client()
    upload(client, "msg_payment_sender", "msg_receive_payment")
    claim = start_request(client, "marta", "msg_receive_payment", {"reference": "R-1"})
    clients = [app.test_client() for _ in range(2)]
    for browser, who in zip(clients, ("pierre", "lukas"), strict=True):
        sign_in(browser, who)
    tokens = [csrf_token(browser, "/start/msg_payment_sender") for browser in clients]

    # Both senders have written their own step and hold here, then route their message at once.
    barrier = threading.Barrier(2, timeout=WAIT)
    real_route = message_service._route

    def route_together(sender, message, depth):
        barrier.wait()
        real_route(sender, message, depth)

    monkeypatch.setattr(message_service, "_route", route_together)
    responses = {}

    def send(i):
        responses[i] = clients[i].post("/start/msg_payment_sender", data={
            "reference": "R-1", "amount": str(100 + i), "csrf_token": tokens[i]})

    assert run_together(2, send) == []
    assert sorted(r.status_code for r in responses.values()) == [302, 302]
    [confirm] = ready_tasks(claim)
    assert confirm.bpmn_id == "confirm_payment"
    received = [line for line in history(claim) if line.startswith("Received the message")]
    assert received == ["Received the message “Tell the claim” from “Report a payment”"]
    senders = db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_id == "msg_payment_sender")).all()
    sent = sorted(line for s in senders for line in history(s) if line.startswith("The message"))
    assert sent == ["The message “Tell the claim” was sent to Wait for a payment",
                    "The message “Tell the claim” was sent; no request was waiting for it"]
