"""Check the one executable process of a .bpmn file: its elements, extensions, flows,
timers and layout; the tasks themselves are checked by ``tasks``."""

from __future__ import annotations

import keyword
from collections.abc import Iterator

from lxml import etree

from app.engine.juel import is_juel
from app.engine.validate import timer_problems

from .calls import check_call_activity, is_call_mapping
from .dmn import Decisions
from .messages import check_messages, is_message_send_task
from .report import _TOO_MUCH_CODE, B, C, _compiled, _Findings, _local
from .tasks import _check_rule_task, _check_script, _check_service, _check_start, _check_user_task, _known_emails

BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


FLOW_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "userTask", "scriptTask", "serviceTask", "sendTask", "businessRuleTask", "task",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "subProcess",
    "callActivity", "receiveTask", "eventBasedGateway",
}
UNSUPPORTED = {
    "manualTask": "a manual task would wait for nobody: use a user task with a form",
    "complexGateway": "complex gateways are not supported: use exclusive, parallel or inclusive gateways",
    "transaction": "transactions are not supported: use an embedded subprocess",
    "adHocSubProcess": "ad-hoc subprocesses are not supported",
    "implicitThrowEvent": "this event is not supported",
}
IGNORED_CHILDREN = {
    "sequenceFlow", "laneSet", "textAnnotation", "association", "group", "dataObject",
    "dataObjectReference", "dataStoreReference", "documentation", "extensionElements", "ioSpecification",
    "property", "incoming", "outgoing", "dataInputAssociation", "dataOutputAssociation", "category",
    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",  # checked on their element
}
EVENT_DEFINITIONS = {
    "signalEventDefinition": "signal events are not supported: nothing here sends signals",
    "conditionalEventDefinition": "conditional events are not supported: use a gateway with conditions",
    "escalationEventDefinition": "escalation events are not supported: use a boundary timer and the escalate "
                                 "service task",
    "compensateEventDefinition": "compensation is not supported",
    "linkEventDefinition": "link events are not supported: draw the flow",
    "cancelEventDefinition": "cancel events are not supported",
}
LOGIC_EXTENSIONS = {
    "executionListener": "execution listeners do not run here: use a script or service task",
    "taskListener": "task listeners do not run here: use a script or service task",
    "connector": "connectors do not run here: use a service task with a registered topic",
    "formProperty": "form properties are not read: declare the form with camunda:formData",
    "in": "belongs on a call activity: it passes data into the process called",
    "out": "belongs on a call activity: it passes data back from the process called",
    "field": "delegate fields do not run here: use camunda:properties on a service task",
}
LOGIC_ATTRIBUTES = {
    "class": "Java delegates do not run here",
    "expression": "expressions on tasks do not run here",
    "delegateExpression": "delegate expressions do not run here",
    "resource": "external script resources are not read: put the script in the task",
}
IGNORED_ATTRIBUTES = {
    "formKey", "assignee", "candidateUsers", "candidateGroups", "topic", "type", "decisionRef",
    "asyncBefore", "asyncAfter", "async", "exclusive", "jobPriority", "taskPriority", "historyTimeToLive",
    "versionTag", "isStartableInTasklist", "initiator", "decisionRefBinding", "decisionRefVersion",
    "decisionRefVersionTag", "decisionRefTenantId", "failedJobRetryTimeCycle", "errorCodeVariable",
    "errorMessageVariable", "collection", "elementVariable",
    "calledElementBinding", "calledElementVersion",  # call activities: checked in calls.py
}


def _check_process(name: str, root: etree._Element, decisions: Decisions, found: _Findings) -> None:
    processes = [p for p in root.iterfind(f"{B}process") if p.get("isExecutable") != "false"]
    if len(processes) != 1:
        found.error(name, _executable_advice(root, processes), line=root.sourceline)
        return
    process = processes[0]
    report = found.report
    report.process_id = process.get("id")
    report.process_name = " ".join((process.get("name") or "").split()) or report.process_id
    if report.process_id and len(report.process_id) > 100:
        found.error(name, "the process id is longer than 100 characters", process)
    if len(report.process_name or "") > 200:
        found.error(name, "the process name is longer than 200 characters", process)
    for attribute in ("candidateStarterGroups", "candidateStarterUsers"):
        if process.get(f"{C}{attribute}"):
            found.warning(name, f"camunda:{attribute} is ignored: people with the buyer role start requests",
                          process)

    lanes = _lanes(process)
    user_tasks = {n.get("id") for n in process.iter(f"{B}userTask")}
    ids = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    _check_elements(name, process, ids, found)
    _check_extensions(name, process, found)
    _check_start(name, process, lanes, found)
    emails = _known_emails(process, name, found)
    for node in process.iter(f"{B}userTask"):
        _check_user_task(name, node, lanes, emails, found)
    for node in process.iter(f"{B}scriptTask"):
        _check_script(name, node, found)
    for node in process.iter(f"{B}serviceTask", f"{B}sendTask"):
        if not is_message_send_task(node):
            _check_service(name, node, user_tasks, found)
    check_messages(name, root, process, found)
    for node in process.iter(f"{B}businessRuleTask"):
        _check_rule_task(name, node, decisions, found)
    for node in process.iter(f"{B}callActivity"):
        check_call_activity(name, node, found)
    _check_flows(name, process, ids, found)
    for node in process.iter(f"{B}timerEventDefinition"):
        _check_timer(name, node, found)
    for node in process.iter(f"{B}boundaryEvent"):
        attached = node.get("attachedToRef")
        if not attached or attached not in ids:
            found.error(name, f"the boundary event is attached to {attached!r}, which is not in the process", node)
    used = decisions.needed({d for d in (n.get(f"{C}decisionRef") for n in process.iter(f"{B}businessRuleTask")) if d})
    for decision, file in decisions.items():
        if decision not in used:
            found.warning(file, f"the decision {decision} is not used by any business rule task of the process")
    _check_layout(name, root, process, found)


def _executable_advice(root: etree._Element, executable: list[etree._Element]) -> str:
    """Why the file does not hold exactly one process to run, and what to do in Camunda Modeler."""
    if not executable:
        if root.find(f"{B}process") is None:
            return "the file holds no process: draw the process to run (a pool or a plain diagram) and upload it"
        return ("0 executable processes were found: mark the process to run as executable (isExecutable; "
                "\"Executable\" in the process's properties in Camunda Modeler)")
    names = ", ".join(" ".join((p.get("name") or p.get("id") or "").split()) for p in executable)
    return (f"{len(executable)} executable processes were found ({names}): one process runs per diagram; keep "
            "\"Executable\" ticked on that one only (isExecutable=\"false\" on the others), or upload each in a "
            "file of its own")


def _flow_nodes(process: etree._Element) -> Iterator[etree._Element]:
    for node in process.iter():
        if isinstance(node.tag, str) and node.tag.startswith(B) and _local(node) in FLOW_NODES:
            yield node


def _check_elements(name: str, container: etree._Element, ids: dict[str, etree._Element], found: _Findings,
                    nested: bool = False) -> None:
    """Name every element the app does not run; descend into embedded subprocesses."""
    for node in container:
        if not isinstance(node.tag, str):
            continue
        local = _local(node)
        if not node.tag.startswith(B):
            continue
        if local in UNSUPPORTED:
            found.error(name, UNSUPPORTED[local], node)
            continue
        if local in IGNORED_CHILDREN or local == "laneSet":
            continue
        if local not in FLOW_NODES:
            found.error(name, f"bpmn:{local} is not supported here", node)
            continue
        if node.find(f"{B}standardLoopCharacteristics") is not None:
            found.error(name, "a loop marker is not supported (Camunda 7 does not run it either): use a "
                        "multi-instance marker, or a gateway that loops back", node)
        multi = node.find(f"{B}multiInstanceLoopCharacteristics")
        if multi is not None:
            _check_multi_instance(name, node, multi, found)
        definitions = [d for d in node if isinstance(d.tag, str) and _local(d).endswith("EventDefinition")]
        for definition in definitions:
            kind = _local(definition)
            if kind in EVENT_DEFINITIONS:
                found.error(name, EVENT_DEFINITIONS[kind], node)
            elif kind == "timerEventDefinition" and local == "startEvent":
                found.error(name, "a timer start event would start requests on its own: requests start from "
                            "their start form", node)
            elif kind == "errorEventDefinition" and not (nested and local == "endEvent" or local == "boundaryEvent"):
                found.error(name, "error events work only as an error end event inside a subprocess, caught by "
                            "an error boundary event on it", node)
            elif kind == "errorEventDefinition" and local == "boundaryEvent":
                target = ids.get(node.get("attachedToRef"))
                if target is not None and _local(target) != "subProcess":
                    found.error(name, "an error boundary event catches only errors thrown inside a subprocess",
                                node)
            elif kind == "terminateEventDefinition" and local != "endEvent":
                found.error(name, "terminate works only on an end event", node)
        if len(definitions) > 1:
            found.error(name, "an event with several definitions is not supported", node)
        if local == "intermediateCatchEvent" and not definitions:
            found.error(name, "an intermediate catch event needs a timer or a message", node)
        if local == "subProcess":
            if node.get("triggeredByEvent") == "true":
                found.error(name, "event subprocesses are not supported: use boundary events", node)
            else:
                _check_elements(name, node, ids, found, nested=True)


CAMUNDA_LOOP_VARIABLES = {"loopCounter", "nrOfInstances", "nrOfCompletedInstances", "nrOfActiveInstances"}


def _check_multi_instance(name: str, node: etree._Element, multi: etree._Element, found: _Findings) -> None:
    """A multi-instance marker runs as in Camunda 7: a collection (one variable's name) or a
    loop cardinality, a plain element variable, a completion condition that compiles."""
    collection = multi.get(f"{C}collection") or multi.findtext(f"{B}loopDataInputRef")
    cardinality = multi.find(f"{B}loopCardinality")
    if (collection is None) == (cardinality is None):
        found.error(name, "a multi-instance step needs either camunda:collection (the list to go through) or a "
                    "loop cardinality (how many times), not both", node)
    if collection is not None and not _is_name(collection):
        return  # prepare_tree reported why
    element = multi.get(f"{C}elementVariable")
    if element is not None and (not _is_name(element) or element in CAMUNDA_LOOP_VARIABLES):
        found.error(name, f"camunda:elementVariable {element!r} must be a plain name, such as member, other than "
                    "Camunda's own loopCounter and nrOf… variables", node)
    for tag, what in (("loopCardinality", "loop cardinality"), ("completionCondition", "completion condition")):
        part = multi.find(f"{B}{tag}")
        if part is None or is_juel(part.text):  # not translated: prepare_tree reported why
            continue
        if not (part.text or "").strip():
            found.error(name, f"the {what} is empty", part)
            continue
        for problem in _compiled(found, part.text or ""):
            found.error(name, f"the {what} cannot run: {problem}", part)


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text) and not text.startswith("_")


def _check_extensions(name: str, process: etree._Element, found: _Findings) -> None:
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(C) and _local(node) in LOGIC_EXTENSIONS and not is_call_mapping(node):
            found.error(name, f"camunda:{_local(node)}: {LOGIC_EXTENSIONS[_local(node)]}", node)
        if not node.tag.startswith(B) or _local(node) not in FLOW_NODES | {"process", "sequenceFlow"}:
            continue
        for key in node.attrib:
            if not key.startswith(C):
                continue
            attribute = key[len(C):]
            if attribute in LOGIC_ATTRIBUTES:
                found.error(name, f"camunda:{attribute}: {LOGIC_ATTRIBUTES[attribute]}", node)
            elif attribute == "resultVariable":
                found.warning(name, "camunda:resultVariable is ignored: a script's variables, and a decision's "
                              "outputs by their names, go into the request's data", node)
            elif attribute == "mapDecisionResult":
                found.warning(name, "camunda:mapDecisionResult is ignored: a decision's outputs go into the "
                              "request's data by their names", node)
            elif attribute not in IGNORED_ATTRIBUTES | {"candidateStarterGroups", "candidateStarterUsers"}:
                found.warning(name, f"camunda:{attribute} is ignored here", node)


def _lanes(process: etree._Element) -> dict[str, etree._Element]:
    """Each flow node's (innermost) lane."""
    lanes: dict[str, etree._Element] = {}
    for lane in process.iter(f"{B}lane"):
        for ref in lane.iterfind(f"{B}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane
    return lanes


def _check_flows(name: str, process: etree._Element, ids: dict[str, etree._Element], found: _Findings) -> None:
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in process.iter(f"{B}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                found.error(name, f"the flow's {end} {flow.get(end)!r} is not in the process", flow)
        condition = flow.find(f"{B}conditionExpression")
        if condition is None:
            continue
        language = (condition.get("language") or "").strip().lower()
        if language and language not in ("python", "juel", "python3"):
            found.error(name, f"the condition is {condition.get('language')}: write it in Python or as a "
                        "simple ${...} expression", condition)
            continue
        if condition.get(f"{C}resource"):
            found.error(name, "external condition resources are not read: write the condition in the flow",
                        condition)
            continue
        if is_juel(condition.text):  # not translated: prepare_tree reported why
            continue
        for problem in _compiled(found, condition.text or ""):
            found.error(name, f"the condition cannot run: {problem}", condition)
    for gateway in process.iter(f"{B}exclusiveGateway", f"{B}inclusiveGateway"):
        flows = outgoing.get(gateway.get("id"), [])
        if len(flows) < 2:
            continue
        default = gateway.get("default")
        if default and default not in {f.get("id") for f in flows}:
            found.error(name, f"the default flow {default!r} does not leave this gateway", gateway)
        for flow in flows:
            if flow.get("id") != default and flow.find(f"{B}conditionExpression") is None:
                found.error(name, "a flow out of a gateway with several ways out needs a condition, unless it "
                            "is the gateway's default flow", flow)
        if not default:
            found.warning(name, "the gateway has no default flow: when no condition holds, the request stops "
                          "with an error", gateway)


def _check_timer(name: str, node: etree._Element, found: _Findings) -> None:
    values = [child for child in node if isinstance(child.tag, str)
              and _local(child) in ("timeDuration", "timeDate", "timeCycle")]
    if len(values) != 1:
        found.error(name, "a timer needs exactly one of timeDuration, timeDate or timeCycle", node)
        return
    value = values[0]
    if is_juel(value.text):  # not translated: prepare_tree reported why
        return
    if not found.code_budget(value.text):
        found.error(name, f"the timer cannot run: {_TOO_MUCH_CODE}", value)
        return
    errors, warnings = timer_problems(_local(value), value.text)
    for problem in errors:
        found.error(name, f"the timer cannot run: {problem}", value)
    for problem in warnings:
        found.warning(name, f"the timer: {problem}", value)


def _check_layout(name: str, root: etree._Element, process: etree._Element, found: _Findings) -> None:
    drawn = {n.get("bpmnElement") for n in root.iter(f"{BPMNDI}BPMNShape", f"{BPMNDI}BPMNEdge")}
    if not drawn - {None}:
        found.warning(name, "the diagram has no layout (BPMN DI): it cannot be shown as a picture",
                      line=root.sourceline)
        return
    for node in _flow_nodes(process):
        if node.get("id") not in drawn:
            found.warning(name, "the element has no shape in the diagram layout (BPMNShape)", node)
    for flow in process.iter(f"{B}sequenceFlow"):
        if flow.get("id") not in drawn:
            found.warning(name, "the flow has no line in the diagram layout (BPMNEdge)", flow)
