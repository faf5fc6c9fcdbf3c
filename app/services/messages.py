"""Messages between requests: delivering what a step threw, and an administrator's message.

After a step is written (``app.steps.step`` calls ``route_thrown``), each message it threw goes,
in the same transaction, to every running request that waits for it — found by message name
and correlation key in the subscription rows, never by loading workflows — and starts a new
request of every active process whose start event is a message start event for that name.
Each receiver is locked, loaded, handed the message, run to its next wait and saved as any
step is. What a receiver throws in turn is delivered the same way, up to ``MAX_CHAIN`` messages
deep; a longer chain is stopped with an error on the request that threw the last one.

A message nobody waits for is not an error (Camunda's correlate would fail the sender): the
sender's history says nobody was waiting. A receiver that fails to handle a message goes into
error, keeping the state it had before it; the sender goes on. docs/DIAGRAMS.md, "Messages".
"""

from __future__ import annotations

import datetime as dt
import re
from contextvars import ContextVar
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.engine import EngineError, Message, Wait, load_model
from app.errors import ServiceError
from app.extensions import db
from app.models import InstanceStatus, MessageSubscription, ProcessInstance, User, WorkingGroup
from app.steps import (
    Line,
    Step,
    create_instance,
    engine,
    lock_instance,
    phrase,
    record,
    said,
    save_instance,
    step,
    sync_instance,
)
from app.steps.messages import waits_of

from .instances import step_limits
from .monitoring.access import _require_admin
from .versions.store import active_versions

MAX_CHAIN = 10  # messages delivered one because of another, at most
MAX_PAYLOAD_LINES = 20
_depth: ContextVar[int] = ContextVar("message_chain_depth", default=0)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def route_thrown(current: Step) -> None:
    """Deliver what the step threw (set as the steps' router by the composition root)."""
    depth = _depth.get()
    token = _depth.set(depth + 1)
    try:
        for message in current.thrown:
            _route(current.instance, message, depth)
    finally:
        _depth.reset(token)


def _route(sender: ProcessInstance, message: Message, depth: int) -> None:
    label = _label(message)
    if depth >= MAX_CHAIN:
        line = said("message_chain_stopped", limit=MAX_CHAIN, label=label)
        save_instance(sender, {"status": InstanceStatus.ERROR, "error": line.english(None)})
        record(sender, None, "message", "error", line, {"message": message.name, "key": message.key})
        return
    received = [r for r in _receivers(sender, message) if _deliver(r, message, sender)]
    started = _start_by_message(sender, message)
    reached = [r.title for r in received] + [phrase("new_request_named", title=r.title) for r in started]
    line = said("message_sent", label=label, reached=reached) if reached else \
        said("message_sent_nowhere", label=label)
    record(sender, None, "message", "message_sent", line,
           {"message": message.name, "key": message.key, "payload": message.payload,
            "received_by": [r.id for r in received], "started": [r.id for r in started]})


def _label(message: Message) -> dict:
    """The message as people name it: the diagram's name of the element that threw it, else the
    message's name; "for Circular ICT" where the key is a working group's id. The key itself
    is no part of the sentence (the event's data keeps it). A phrase of a history line."""
    name, group = _named(message)
    return phrase("message_label_for", message=name, group=group) if group is not None else \
        phrase("message_label", message=name)


def _named(message: Message) -> tuple[str, str | None]:
    """The message's name as people read it, and the working group its key names, if any."""
    group = db.session.get(WorkingGroup, int(message.key)) if message.key.isdigit() and len(message.key) < 10 else None
    return message.element or message.name, group.name if group is not None else None


def _line(key: str, message: Message, **args) -> Line:
    """The history line ``key`` about ``message``, its ``…_for`` form when the key names a group."""
    name, group = _named(message)
    return said(f"{key}_for", message=name, group=group, **args) if group is not None else \
        said(key, message=name, **args)


def _receivers(sender: ProcessInstance, message: Message) -> list[ProcessInstance]:
    """The running requests that wait for the message, each locked for this transaction."""
    ids = db.session.scalars(
        select(MessageSubscription.instance_id).distinct()
        .where(MessageSubscription.message_name == message.name,
               MessageSubscription.correlation_key == message.key,
               MessageSubscription.instance_id != sender.id)
        .order_by(MessageSubscription.instance_id)).all()
    found = []
    for instance_id in ids:  # in id order, so two senders lock their common receivers alike
        instance = db.session.scalar(
            select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                          ProcessInstance.status == InstanceStatus.RUNNING)
            .with_for_update().execution_options(populate_existing=True))
        if instance is not None:
            found.append(instance)
    return found


def _deliver(receiver: ProcessInstance, message: Message, sender: ProcessInstance) -> bool:
    """Hand the message to one locked request and write its step; False if it no longer waits."""
    model = load_model(receiver.version)
    wf = engine().load(model, receiver.state)
    with step(receiver, None, "message"):
        try:
            with step_limits():
                caught = engine().deliver(wf, message)
        except EngineError as exc:
            line = said("message_not_handled", label=_label(message), title=sender.title, error=str(exc)[:1500])
            save_instance(receiver, {"status": InstanceStatus.ERROR, "error": line.english(None)[:2000]})
            record(receiver, None, "message", "error", line, {"bpmn_id": exc.bpmn_id})
            return False
        if not caught:
            return False
        record(receiver, None, "message", "message_received",
               _line("message_received", message, title=sender.title),
               {"message": message.name, "key": message.key, "payload": message.payload, "from": sender.id})
        sync_instance(receiver, model, wf, None, "message")
    return True


def _start_by_message(sender: ProcessInstance, message: Message) -> list[ProcessInstance]:
    """A new request of every active process that starts by this message.

    Its initiator is the sending request's initiator, its working group the sender's; its
    start data is the message's payload. One that fails to start is not kept.
    """
    started = []
    for version in active_versions():
        model = load_model(version)
        if message.name not in engine().message_starts(model):
            continue
        instance = create_instance(version=version, process_id=model.process_id, initiator_id=sender.initiator_id,
                                   state="", working_group_id=sender.working_group_id, title=model.name)
        data: dict[str, Any] = {**message.payload, "initiator_id": sender.initiator_id,
                                "filed_on": dt.date.today()}
        if sender.working_group_id is not None:
            data.setdefault("working_group_id", sender.working_group_id)
        with step(instance, None, "message"):
            try:
                with step_limits():
                    wf = engine().start_by_message(model, message, data)
            except EngineError as exc:
                db.session.delete(instance)
                db.session.flush()
                record(sender, None, "message", "error",
                       said("message_not_started", label=_label(message), process=model.name, error=str(exc)[:400]),
                       {"bpmn_id": exc.bpmn_id})
                continue
            record(instance, None, "message", "started",
                   _line("started_by_message", message, title=sender.title),
                   {"message": message.name, "payload": message.payload, "from": sender.id})
            sync_instance(instance, model, wf, None, "message")
        started.append(instance)
    return started


# -- the administrator's message ------------------------------------------------------------------

def waiting_messages(instance: ProcessInstance) -> list[Wait]:
    """What the request waits for, from its subscription rows (no workflow loaded)."""
    if instance.status != InstanceStatus.RUNNING:
        return []
    return waits_of(instance.id)


def parse_payload(text: str) -> dict[str, str]:
    """``name=value`` lines as a dict; a line that is not one raises ServiceError saying which."""
    payload: dict[str, str] = {}
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_PAYLOAD_LINES:
        raise ServiceError(_("Send %(count)s values or fewer.", count=MAX_PAYLOAD_LINES))
    for line in lines:
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not _NAME.fullmatch(name):
            raise ServiceError(_("Write each value as name=value on its own line, the name in letters, digits and "
                                 "_: “%(line)s” is not.", line=line[:60]))
        payload[name] = value.strip()
    return payload


def send_message(actor: User, instance: ProcessInstance, name: str, payload_text: str) -> None:
    """An administrator hands the request one of the messages it waits for, with ``name=value`` data."""
    _require_admin(actor)
    wait = next((w for w in waiting_messages(instance) if w.name == name), None)
    if wait is None:
        raise ServiceError(_("This request is not waiting for the message “%(message)s”: choose one of the "
                             "messages listed.", message=name[:100]))
    payload = parse_payload(payload_text)
    message = Message(wait.name, wait.key, payload)
    lock_instance(instance)
    model = load_model(instance.version)
    wf = engine().load(model, instance.state)
    with step(instance, actor, "admin"):
        try:
            with step_limits():
                caught = engine().deliver(wf, message)
        except EngineError as exc:
            raise ServiceError(_("The request could not handle the message, so nothing was saved: %(error)s",
                                 error=exc)) from exc
        if not caught:
            raise ServiceError(_("This request is not waiting for the message “%(message)s” any more.",
                                 message=name[:100]))
        record(instance, actor, "admin", "message_received",
               _line("message_sent_by", message),
               {"message": message.name, "key": message.key, "payload": payload})
        sync_instance(instance, model, wf, actor, "admin")
