"""Messages between requests: what a diagram throws and waits for, and delivering one.

A message event (start, intermediate catch or throw, boundary, end), a receive task and a
send task without a ``camunda:topic`` name a ``bpmn:message``. Two ``camunda:properties`` of
the element say the rest (docs/DIAGRAMS.md, "Messages"):

- ``correlationKey``: an expression over the element's own data (Python, or simple JUEL such as
  ``${group_id}``) whose value both sides must give for the message to pass. Without one, the
  key of the message's ``bpmn:correlationProperty`` (its retrieval expression, as Spiff
  modeler writes it) is used; without either, the key is empty, and an empty key matches only
  an empty key.
- ``payload`` on the throwing side: the names of the data it sends, separated by commas.
  Without it the message carries no data; the receiver's data takes the values sent.

An event subprocess whose start event waits for a message is listed among the request's waits
and started by message_subprocesses.py. The engine throws and catches messages inside one
request itself; what no part of the request caught is handed to the application (``thrown``),
which finds the requests that wait for it (``waiting``) and hands it to each (``deliver``).
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.serializer.helpers.spec import EventDefinitionConverter
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    SendTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent, PendingBpmnEvent
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.exceptions import WorkflowException

from .juel import JuelError, is_juel, to_python
from .message_subprocesses import KEY, key_text, listens, message_triggers, share_payload, start_message_subprocesses
from .message_subprocesses import current_task as _current_task

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
KEY_PROPERTY, PAYLOAD_PROPERTY = "correlationKey", "payload"


@dataclass(frozen=True)
class Message:
    """A message thrown by a request that no part of it caught; ``element`` is the name the
    diagram gives the element that threw it ("Statement published"), "" if it has none."""

    name: str
    key: str = ""
    payload: dict[str, Any] = field(default_factory=dict, compare=False)
    element: str = field(default="", compare=False)


class _Thrown(BpmnEvent):
    """The library's event, with the name of the element that threw it."""

    def __init__(self, *args, element: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.element = element


@dataclass(frozen=True)
class Wait:
    """A message a request waits for: its name and the key the sender must give."""

    name: str
    key: str = ""


class AppMessageEventDefinition(MessageEventDefinition):
    """A message with one correlation key, worked out by each side over its own data."""

    def __init__(self, name, correlation_properties=None, key_expression=None, payload_names=(), **kwargs):
        super().__init__(name, correlation_properties or [], **kwargs)
        self.key_expression = key_expression or None
        self.payload_names = tuple(payload_names or ())

    def key_value(self, my_task) -> str:
        if not self.key_expression:
            return ""
        return key_text(my_task.workflow.script_engine.evaluate(my_task, self.key_expression))

    def throw(self, my_task):
        data = my_task.data
        payload = {name: deepcopy(data[name]) for name in self.payload_names if name in data}
        event = _Thrown(self, payload=payload, correlations={KEY: self.key_value(my_task)},
                        element=(my_task.task_spec.bpmn_name or "").strip())
        start_message_subprocesses(my_task.workflow.top_workflow, event)
        my_task.workflow.top_workflow.catch(event)

    def catches(self, my_task, event):
        if event.event_definition != self:
            return False
        if _starts_request(my_task):
            return True  # a request started by a message has no data to work a key out from yet
        return key_text(event.correlations.get(KEY)) == self.key_value(my_task)

    def catch(self, my_task, event=None):
        if event is not None:
            my_task.internal_data[self.name] = dict(event.payload or {})
            if _starts_event_subprocess(my_task):
                share_payload(my_task, dict(event.payload or {}))
        EventDefinition.catch(self, my_task, event)

    def update_task_data(self, my_task):
        payload = my_task.internal_data.get(self.name)
        if payload:
            my_task.set_data(**payload)

    def details(self, my_task):
        key = "" if _starts_request(my_task) else self.key_value(my_task)
        return PendingBpmnEvent(self.name, "MessageEventDefinition", key)

    def __eq__(self, other):
        return isinstance(other, MessageEventDefinition) and self.name == other.name


def _starts_request(my_task) -> bool:
    return isinstance(my_task.task_spec, StartEvent) and my_task.workflow is my_task.workflow.top_workflow


def _starts_event_subprocess(my_task) -> bool:
    return isinstance(my_task.task_spec, StartEvent) and my_task.workflow.parent_workflow is not None \
        and my_task.workflow.spec.name in dict(message_triggers(my_task.workflow))


class AppMessageEventDefinitionConverter(EventDefinitionConverter):
    def to_dict(self, event_definition):
        dct = super().to_dict(event_definition)
        dct["correlation_properties"] = self.correlation_properties_to_dict(event_definition.correlation_properties)
        dct["key_expression"] = event_definition.key_expression
        dct["payload_names"] = list(event_definition.payload_names)
        return dct

    def from_dict(self, dct):
        dct["correlation_properties"] = self.correlation_properties_from_dict(dct.get("correlation_properties", []))
        return super().from_dict(dct)


# --- parsing --------------------------------------------------------------------------------------

def element_properties(node) -> dict[str, str]:
    """The camunda:properties of a flow element, by name."""
    found: dict[str, str] = {}
    for prop in node.iterfind(f"{{*}}extensionElements/{{{CAMUNDA_NS}}}properties/{{{CAMUNDA_NS}}}property"):
        if prop.get("name"):
            found[prop.get("name")] = prop.get("value", "")
    return found


def key_expression(text: str | None) -> str | None:
    """A correlation key as Python; JUEL (``${group_id}``) translated. Raises JuelError."""
    text = (text or "").strip()
    if not text:
        return None
    return to_python(text) if is_juel(text) else text


class _MessageParsing:
    """Parse a message definition into an AppMessageEventDefinition (mixed into each parser)."""

    def parse_message_event(self, message_event):
        message_ref = message_event.get("messageRef")
        parser = self.process_parser.parser
        if not message_ref or message_ref not in parser.messages:
            self.raise_validation_exception("a message event needs a message: choose or create one "
                                            "(bpmn:message) in the modeler")
        name = parser.messages[message_ref] or message_ref
        correlations = self.get_message_correlations(message_ref)
        props = element_properties(self.node)
        written = props.get(KEY_PROPERTY)
        if not written and correlations:
            written = correlations[0].retrieval_expression
        try:
            expression = key_expression(written)
        except JuelError as exc:
            self.raise_validation_exception(f"the correlation key {written} cannot run here: {exc}")
        payload = [part.strip() for part in props.get(PAYLOAD_PROPERTY, "").split(",") if part.strip()]
        return AppMessageEventDefinition(name, correlations, expression, payload,
                                         description=self.get_event_description(message_event))


def reading_messages(parser_class: type) -> type:
    """``parser_class``, reading message definitions the app's way (events.py's start and end
    event parsers are made so)."""
    return type(f"Message{parser_class.__name__}", (_MessageParsing, parser_class), {})


class MessageCatchEventParser(_MessageParsing, CamundaIntermediateCatchEventParser):
    pass


class MessageThrowEventParser(_MessageParsing, CamundaIntermediateThrowEventParser):
    pass


class MessageBoundaryEventParser(_MessageParsing, CamundaBoundaryEventParser):
    pass


class MessageSendTaskParser(_MessageParsing, SendTaskParser, CamundaTaskParser):
    """Camunda's reading of the task (its camunda:properties, multi-instance) and a message."""


class MessageReceiveTaskParser(_MessageParsing, ReceiveTaskParser, CamundaTaskParser):
    """Camunda's reading of the task (its camunda:properties, multi-instance) and a message."""


class SendOrServiceTaskParser(MessageSendTaskParser):
    """A send task with a messageRef and no camunda:topic sends a message; any other is parsed
    by ``service_parser`` (the app's service task)."""

    service_parser: Any = None

    def create_task(self):
        if self.node.get(f"{{{CAMUNDA_NS}}}topic") or not self.node.get("messageRef"):
            return self.service_parser.create_task(self)
        return super().create_task()


def message_parsers(service_parser) -> dict:
    """What AppParser uses for the elements that send or wait for messages; a send task with a
    camunda:topic is parsed by ``service_parser``."""
    send_task_parser = type("AppSendTaskParser", (SendOrServiceTaskParser,), {"service_parser": service_parser})
    return {
        full_tag("sendTask"): (send_task_parser, SendTask),
        full_tag("receiveTask"): (MessageReceiveTaskParser, ReceiveTask),
        full_tag("intermediateCatchEvent"): (MessageCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (MessageThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (MessageBoundaryEventParser, BoundaryEvent),
    }


# --- running --------------------------------------------------------------------------------------

def thrown(wf) -> list[Message]:
    """The messages the workflow threw that no part of it caught, taken off it."""
    messages, others = [], []
    for event in wf.bpmn_events:
        definition = event.event_definition
        if isinstance(definition, MessageEventDefinition):
            messages.append(Message(definition.name, key_text((event.correlations or {}).get(KEY)),
                                    dict(event.payload or {}) if isinstance(event.payload, dict) else {},
                                    getattr(event, "element", "")))
        else:
            others.append(event)
    wf.bpmn_events = others
    return messages


def pending_events(wf) -> list[PendingBpmnEvent]:
    """What the workflow waits for, as the library's PendingBpmnEvent, one per event: an
    event-based gateway's events one by one (the library reports them as one, without a name)."""
    found: list[PendingBpmnEvent] = []
    for task in list(wf.event_manager.tasks.values()):
        definition = task.task_spec.event_definition
        parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        found.extend(part.details(task) for part in parts)
    return found


def waits_for_messages(wf) -> bool:
    """Whether any event the workflow waits for is a message (keys not worked out)."""
    if listens(wf):
        return True
    for task in list(wf.event_manager.tasks.values()):
        definition = task.task_spec.event_definition
        parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        if any(isinstance(part, MessageEventDefinition) for part in parts):
            return True
    return False


def waiting(wf) -> list[Wait]:
    """The messages the workflow waits for, each once. Raises WorkflowException if a key fails."""
    found: dict[Wait, None] = {}
    for pending in pending_events(wf):
        if pending.event_type == "MessageEventDefinition":
            found[Wait(pending.name, key_text(pending.value))] = None
    if listens(wf):
        current = _current_task(wf)
        for _name, start in message_triggers(wf):
            found[Wait(start.event_definition.name, start.event_definition.key_value(current))] = None
    return list(found)


def deliver(wf, message: Message) -> bool:
    """Hand ``message`` to the workflow; False if no part of it waits for it."""
    definition = AppMessageEventDefinition(message.name)
    event = BpmnEvent(definition, payload=dict(message.payload), correlations={KEY: message.key})
    try:
        start_message_subprocesses(wf, event)
        wf.send_event(event)
    except WorkflowException as exc:
        if "is not waiting for" in str(exc):
            return False
        raise
    return True


def message_starts(spec) -> list[str]:
    """The names of the messages that start a request of this process (its top-level start events)."""
    names = []
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(task_spec, StartEvent) and isinstance(definition, MessageEventDefinition):
            names.append(definition.name)
    return names


def has_plain_start(spec) -> bool:
    """Whether a person can start the process: it has a start event that waits for nothing."""
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent) and type(getattr(task_spec, "event_definition", None)).__name__ \
                == "NoneEventDefinition":
            return True
    return False
