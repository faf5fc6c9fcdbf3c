"""Check what a diagram says about messages: each message event, send and receive task names a
bpmn:message, its correlation key compiles, its payload names data, and nothing asks a Java
delegate to send one. docs/DIAGRAMS.md, "Messages"."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from lxml import etree

from app.engine.juel import JuelError
from app.engine.messages import KEY_PROPERTY, PAYLOAD_PROPERTY, element_properties, key_expression

from .report import B, C, _compiled, _Findings, _local

DELEGATES = ("class", "expression", "delegateExpression", "type", "topic")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
THROWS = ("intermediateThrowEvent", "endEvent", "sendTask")


def is_message_send_task(node: etree._Element) -> bool:
    """A send task that sends a message (it names one and no camunda:topic)."""
    return bool(node.get("messageRef")) and not node.get(f"{C}topic")


def check_messages(name: str, root: etree._Element, process: etree._Element, found: _Findings) -> None:
    messages = {m.get("id"): m for m in root.iterfind(f"{B}message")}
    for definition in process.iter(f"{B}messageEventDefinition"):
        owner = definition.getparent()
        for attribute in DELEGATES:
            if definition.get(f"{C}{attribute}"):
                found.error(name, _("a Java delegate cannot send messages here: remove camunda:%(attribute)s; the "
                                    "message is sent by name, with the data its %(payload_property)s property names",
                                    attribute=attribute, payload_property=PAYLOAD_PROPERTY), owner)
        _check_one(name, owner, definition.get("messageRef"), messages, found)
    for node in process.iter(f"{B}receiveTask"):
        _check_one(name, node, node.get("messageRef"), messages, found)
    for node in process.iter(f"{B}sendTask"):
        if is_message_send_task(node):
            _check_one(name, node, node.get("messageRef"), messages, found)
    for key in root.iter(f"{B}correlationKey"):
        if len(key.findall(f"{B}correlationPropertyRef")) > 1:
            found.error(name, _("a correlation key here has one correlation property: give the message one key"),
                        key)


def _check_one(name: str, node: etree._Element, ref: str | None, messages: dict, found: _Findings) -> None:
    if not ref or ref not in messages:
        found.error(name, _("the message event needs a message: choose or create one (bpmn:message) in the "
                            "modeler's Message section"), node)
        return
    if not (messages[ref].get("name") or "").strip():
        found.error(name, _("the message %(ref)s has no name: name it, the name is what other requests wait for",
                            ref=repr(ref)),
                    node)
    props = element_properties(node)
    written = props.get(KEY_PROPERTY, "")
    if written.strip():
        if _local(node) == "startEvent" and node.getparent() is not None and _local(node.getparent()) == "process":
            found.warning(name, _("%(key_property)s is ignored on a process's message start event: every message "
                                  "of that name starts a request", key_property=KEY_PROPERTY), node)
        try:
            expression = key_expression(written)
        except JuelError as exc:
            found.error(name, _("%(key_property)s = %(written)s cannot run here: %(exc)s",
                                key_property=KEY_PROPERTY, written=repr(written), exc=exc), node)
        else:
            for problem in _compiled(found, expression or ""):
                found.error(name, _("%(key_property)s = %(written)s cannot run: %(problem)s",
                                    key_property=KEY_PROPERTY, written=repr(written), problem=problem), node)
    payload = props.get(PAYLOAD_PROPERTY, "")
    if payload.strip():
        if _local(node) not in THROWS:
            found.warning(name, _("%(payload_property)s is ignored where a message is received: the data sent "
                                  "comes from the sender's payload", payload_property=PAYLOAD_PROPERTY), node)
        for part in (p.strip() for p in payload.split(",")):
            if not _NAME.fullmatch(part):
                found.error(name, _("%(payload_property)s = %(payload)s: name the data to send, separated by "
                                    "commas (%(part)s is not a name)",
                                    payload_property=PAYLOAD_PROPERTY, payload=repr(payload), part=repr(part)), node)
