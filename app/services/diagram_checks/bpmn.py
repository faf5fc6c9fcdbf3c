"""Check the one executable process of a .bpmn file: its elements, extensions, flows,
timers and layout; the tasks themselves are checked by ``tasks``."""

from __future__ import annotations

import keyword
from collections.abc import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from lxml import etree

from app.engine.juel import is_juel
from app.engine.validate import timer_problems

from .calls import check_call_activity, is_call_mapping
from .dmn import Decisions
from .messages import check_messages, is_message_send_task
from .report import _TOO_MUCH_CODE, B, C, _compiled, _Findings, _local
from .tasks import (
    _check_rule_task,
    _check_script,
    _check_service,
    _check_start,
    _check_user_task,
    _known_emails,
    is_form_property,
)

BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


FLOW_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "userTask", "scriptTask", "serviceTask", "sendTask", "businessRuleTask", "task",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "subProcess",
    "callActivity", "receiveTask", "manualTask", "eventBasedGateway",
}
UNSUPPORTED = {
    "complexGateway": _l("complex gateways are not supported: use exclusive, parallel or inclusive gateways"),
    "transaction": _l("transactions are not supported: use an embedded subprocess"),
    "adHocSubProcess": _l("ad-hoc subprocesses are not supported"),
    "implicitThrowEvent": _l("this event is not supported"),
}
IGNORED_CHILDREN = {
    "sequenceFlow", "laneSet", "textAnnotation", "association", "group", "dataObject",
    "dataObjectReference", "dataStoreReference", "documentation", "extensionElements", "ioSpecification",
    "property", "incoming", "outgoing", "dataInputAssociation", "dataOutputAssociation", "category",
    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",  # checked on their element
}
EVENT_DEFINITIONS = {
    "conditionalEventDefinition": _l("conditional events do not run here (nothing would check the condition "
                                     "again): use a gateway with conditions"),
    "compensateEventDefinition": _l("compensation does not run here: draw the steps that undo the work after an "
                                    "error boundary event"),
    "linkEventDefinition": _l("link events do not run here: draw the sequence flow itself"),
    "cancelEventDefinition": _l("cancel events do not run here (transactions are not supported): use an error end "
                                "event and an error boundary event on an embedded subprocess"),
}
# Where each kind of event definition may stand (the element, and whether it throws or catches).
EVENT_PLACES = {
    "signalEventDefinition": {"intermediateThrowEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent",
                              "eventStart"},
    "escalationEventDefinition": {"intermediateThrowEvent", "endEvent", "boundaryEvent", "eventStart"},
    "errorEventDefinition": {"endEvent", "boundaryEvent", "eventStart"},
    "timerEventDefinition": {"intermediateCatchEvent", "boundaryEvent", "eventStart"},
    "terminateEventDefinition": {"endEvent"},
}
EVENT_NAMES = {"signalEventDefinition": _l("a signal"), "escalationEventDefinition": _l("an escalation"),
               "errorEventDefinition": _l("an error"), "timerEventDefinition": _l("a timer"),
               "terminateEventDefinition": _l("terminate")}
LOGIC_EXTENSIONS = {
    "executionListener": _l("execution listeners do not run here: use a script or service task"),
    "taskListener": _l("task listeners do not run here: use a script or service task"),
    "connector": _l("connectors do not run here: use a service task with a registered topic"),
    "formProperty": _l("form properties are read on user tasks and start events only: move it to the step whose "
                       "form it belongs to"),
    "in": _l("belongs on a call activity: it passes data into the process called"),
    "out": _l("belongs on a call activity: it passes data back from the process called"),
    "field": _l("delegate fields do not run here: use camunda:properties on a service task"),
}
LOGIC_ATTRIBUTES = {
    "class": _l("Java delegates do not run here"),
    "expression": _l("expressions on tasks do not run here"),
    "delegateExpression": _l("delegate expressions do not run here"),
    "resource": _l("external script resources are not read: put the script in the task"),
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
        found.error(name, _("the process id is longer than 100 characters"), process)
    if len(report.process_name or "") > 200:
        found.error(name, _("the process name is longer than 200 characters"), process)
    for attribute in ("candidateStarterGroups", "candidateStarterUsers"):
        if process.get(f"{C}{attribute}"):
            found.warning(name, _("camunda:%(attribute)s is ignored: people with the buyer role start requests",
                                  attribute=attribute),
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
            found.error(name, _("the boundary event is attached to %(attached)s, which is not in the process",
                                attached=repr(attached)), node)
    used = decisions.needed({d for d in (n.get(f"{C}decisionRef") for n in process.iter(f"{B}businessRuleTask")) if d})
    for decision, file in decisions.items():
        if decision not in used:
            found.warning(file, _("the decision %(decision)s is not used by any business rule task of the process",
                                  decision=decision))
    _check_layout(name, root, process, found)


def _executable_advice(root: etree._Element, executable: list[etree._Element]) -> str:
    """Why the file does not hold exactly one process to run, and what to do in Camunda Modeler."""
    if not executable:
        if root.find(f"{B}process") is None:
            return _("the file holds no process: draw the process to run (a pool or a plain diagram) and upload it")
        return _("0 executable processes were found: mark the process to run as executable (isExecutable; "
                 "\"Executable\" in the process's properties in Camunda Modeler)")
    names = ", ".join(" ".join((p.get("name") or p.get("id") or "").split()) for p in executable)
    return _("%(count)s executable processes were found (%(names)s): one process runs per diagram; keep "
             "\"Executable\" ticked on that one only (isExecutable=\"false\" on the others), or upload each in a "
             "file of its own", count=len(executable), names=names)


def _flow_nodes(process: etree._Element) -> Iterator[etree._Element]:
    for node in process.iter():
        if isinstance(node.tag, str) and node.tag.startswith(B) and _local(node) in FLOW_NODES:
            yield node


def _check_elements(name: str, container: etree._Element, ids: dict[str, etree._Element], found: _Findings,
                    nested: bool = False, event_sub: bool = False) -> None:
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
            found.error(name, _("bpmn:%(local)s is not supported here", local=local), node)
            continue
        if node.find(f"{B}standardLoopCharacteristics") is not None:
            found.error(name, _("a loop marker is not supported (Camunda 7 does not run it either): use a "
                                "multi-instance marker, or a gateway that loops back"), node)
        multi = node.find(f"{B}multiInstanceLoopCharacteristics")
        if multi is not None:
            _check_multi_instance(name, node, multi, found)
        definitions = [d for d in node if isinstance(d.tag, str) and _local(d).endswith("EventDefinition")]
        _check_event(name, node, definitions, ids, found, nested, event_sub)
        if local == "manualTask":
            found.warning(name, _("a manual task is passed through: nobody is asked to do it (as in Camunda). Use "
                                  "a user task with a form if someone must confirm it"), node)
        if local == "eventBasedGateway":
            _check_event_gateway(name, node, container, ids, found)
        if local == "subProcess":
            triggered = node.get("triggeredByEvent") == "true"
            if triggered:
                _check_event_subprocess(name, node, found, nested)
            _check_elements(name, node, ids, found, nested=True, event_sub=triggered)


def _check_event(name: str, node: etree._Element, definitions: list[etree._Element],
                 ids: dict[str, etree._Element], found: _Findings, nested: bool, event_sub: bool) -> None:
    """Each event definition where it can run: signals, escalations, errors, timers, terminate."""
    local = _local(node)
    place = "eventStart" if local == "startEvent" and event_sub else local
    for definition in definitions:
        kind = _local(definition)
        if kind in EVENT_DEFINITIONS:
            found.error(name, EVENT_DEFINITIONS[kind], node)
        elif local == "startEvent" and not event_sub and kind in EVENT_PLACES:
            found.error(name, _("a start event with %(event_names)s would start requests on its own: requests "
                                "start from their start form; draw a plain start event (or put this one in an "
                                "event subprocess)", event_names=EVENT_NAMES[kind]), node)
        elif kind in EVENT_PLACES and place not in EVENT_PLACES[kind]:
            found.error(name, _("%(event_names)s cannot be on %(article)s here: %(event_advice)s",
                                event_names=EVENT_NAMES[kind], article=_article(local),
                                event_advice=_EVENT_ADVICE[kind]), node)
        elif kind == "errorEventDefinition" and local == "boundaryEvent":
            target = ids.get(node.get("attachedToRef"))
            if target is not None and _local(target) not in ("subProcess", "callActivity"):
                found.error(name, _("an error boundary event catches only errors thrown inside a subprocess: "
                                    "attach it to an embedded subprocess whose error end event throws the error"), node)
        if kind == "errorEventDefinition":
            for attribute in ("errorCodeVariable", "errorMessageVariable"):
                if definition.get(f"{C}{attribute}"):
                    found.warning(name, _("camunda:%(attribute)s is ignored: the error's code and message are not "
                                          "put into the request's data", attribute=attribute), node)
            if local == "endEvent" and not nested and not _error_caught_by_event_subprocess(node.getparent()):
                found.warning(name, _("nothing catches this error: a request that reaches it stops in error here. "
                                      "Use a plain end event, or an event subprocess that starts on the error"), node)
    if len(definitions) > 1:
        found.error(name, _("an event with several definitions is not supported: draw one event for each"), node)
    if local == "intermediateCatchEvent" and not definitions:
        found.error(name, _("an intermediate catch event needs a timer, a signal or a message to wait for"), node)
    if local == "boundaryEvent" and not definitions:
        found.error(name, _("a boundary event needs a timer, a signal, an escalation, an error or a message to "
                            "catch"), node)


_EVENT_ADVICE = {
    "signalEventDefinition": _l("throw a signal with an intermediate throw or end event, catch it with an "
                                "intermediate catch, boundary or event subprocess start event"),
    "escalationEventDefinition": _l("raise an escalation with an intermediate throw or end event in a subprocess, "
                                    "catch it with a boundary event or an event subprocess start event"),
    "errorEventDefinition": _l("throw an error with an end event, catch it with a boundary event on a subprocess "
                               "or an event subprocess start event"),
    "timerEventDefinition": _l("wait with an intermediate catch event, a boundary event or an event subprocess "
                               "start event"),
    "terminateEventDefinition": _l("terminate works only on an end event"),
}


def _error_caught_by_event_subprocess(container: etree._Element | None) -> bool:
    if container is None:
        return False
    return any(sub.get("triggeredByEvent") == "true" and sub.find(f"{B}startEvent/{B}errorEventDefinition") is not None
               for sub in container.iterfind(f"{B}subProcess"))


def _article(local: str) -> str:
    words = {"startEvent": _("a start event"), "endEvent": _("an end event"), "boundaryEvent": _("a boundary event"),
             "intermediateThrowEvent": _("an intermediate throw event"),
             "intermediateCatchEvent": _("an intermediate catch event")}
    return words.get(local, f"a {local}")


def _check_event_subprocess(name: str, node: etree._Element, found: _Findings, nested: bool) -> None:
    starts = node.findall(f"{B}startEvent")
    kinds = [_local(d) for s in starts for d in s if isinstance(d.tag, str) and _local(d).endswith("EventDefinition")]
    if len(starts) != 1 or not kinds:
        found.error(name, _("an event subprocess needs exactly one start event with a signal, an error, an "
                            "escalation, a message or a timer: it starts when that happens"), node)
    elif nested and kinds != ["timerEventDefinition"]:  # SpiffWorkflow starts only the process's own
        found.error(name, _("inside a subprocess, an event subprocess starts only on a timer here: move it to the "
                            "process itself, or catch the event with a boundary event on the subprocess"), node)


def _check_event_gateway(name: str, node: etree._Element, container: etree._Element,
                         ids: dict[str, etree._Element], found: _Findings) -> None:
    targets = [ids.get(f.get("targetRef")) for f in container.iterfind(f"{B}sequenceFlow")
               if f.get("sourceRef") == node.get("id")]
    timers = 0
    for target in targets:
        if target is None:
            continue
        if _local(target) not in ("intermediateCatchEvent", "receiveTask"):
            found.error(name, _("a flow out of an event-based gateway must lead to an intermediate catch event (a "
                                "timer or a signal) that says what the gateway waits for"), target)
        timers += target.find(f"{B}timerEventDefinition") is not None
    if len(targets) < 2:
        found.error(name, _("an event-based gateway needs two ways out or more, each to an event it waits for"), node)
    if timers > 1:
        found.error(name, _("an event-based gateway may wait for one timer only: keep the earliest"), node)


CAMUNDA_LOOP_VARIABLES = {"loopCounter", "nrOfInstances", "nrOfCompletedInstances", "nrOfActiveInstances"}


def _check_multi_instance(name: str, node: etree._Element, multi: etree._Element, found: _Findings) -> None:
    """A multi-instance marker runs as in Camunda 7: a collection (one variable's name) or a
    loop cardinality, a plain element variable, a completion condition that compiles."""
    collection = multi.get(f"{C}collection") or multi.findtext(f"{B}loopDataInputRef")
    cardinality = multi.find(f"{B}loopCardinality")
    if (collection is None) == (cardinality is None):
        found.error(name, _("a multi-instance step needs either camunda:collection (the list to go through) or a "
                            "loop cardinality (how many times), not both"), node)
    if collection is not None and not _is_name(collection):
        return  # prepare_tree reported why
    element = multi.get(f"{C}elementVariable")
    if element is not None and (not _is_name(element) or element in CAMUNDA_LOOP_VARIABLES):
        found.error(name, _("camunda:elementVariable %(element)s must be a plain name, such as member, other than "
                            "Camunda's own loopCounter and nrOf… variables", element=repr(element)), node)
    for tag, what in (("loopCardinality", "loop cardinality"), ("completionCondition", "completion condition")):
        part = multi.find(f"{B}{tag}")
        if part is None or is_juel(part.text):  # not translated: prepare_tree reported why
            continue
        if not (part.text or "").strip():
            found.error(name, _("the %(what)s is empty", what=what), part)
            continue
        for problem in _compiled(found, part.text or "", "condition" if tag == "completionCondition" else "expression"):
            found.error(name, _("the %(what)s cannot run: %(problem)s", what=what, problem=problem), part)


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text) and not text.startswith("_")


def _check_extensions(name: str, process: etree._Element, found: _Findings) -> None:
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(C) and _local(node) in LOGIC_EXTENSIONS and not is_call_mapping(node) \
                and not is_form_property(node):
            found.error(name, _("camunda:%(local)s: %(logic_extensions)s",
                                local=_local(node), logic_extensions=LOGIC_EXTENSIONS[_local(node)]), node)
        if not node.tag.startswith(B) or _local(node) not in FLOW_NODES | {"process", "sequenceFlow"}:
            continue
        for key in node.attrib:
            if not key.startswith(C):
                continue
            attribute = key[len(C):]
            if attribute in LOGIC_ATTRIBUTES:
                found.error(name, _("camunda:%(attribute)s: %(logic_attributes)s",
                                    attribute=attribute, logic_attributes=LOGIC_ATTRIBUTES[attribute]), node)
            elif attribute == "resultVariable":
                found.warning(name, _("camunda:resultVariable is ignored: a script's variables, and a decision's "
                                      "outputs by their names, go into the request's data"), node)
            elif attribute == "mapDecisionResult":
                found.warning(name, _("camunda:mapDecisionResult is ignored: a decision's outputs go into the "
                                      "request's data by their names"), node)
            elif attribute not in IGNORED_ATTRIBUTES | {"candidateStarterGroups", "candidateStarterUsers"}:
                found.warning(name, _("camunda:%(attribute)s is ignored here", attribute=attribute), node)


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
                found.error(name, _("the flow's %(end)s %(get)s is not in the process",
                                    end=end, get=repr(flow.get(end))), flow)
        condition = flow.find(f"{B}conditionExpression")
        if condition is None:
            continue
        language = (condition.get("language") or "").strip().lower()
        if language and language not in ("python", "juel", "python3"):
            found.error(name, _("the condition is %(get)s: write it in Python or as a simple ${...} expression",
                                get=condition.get('language')), condition)
            continue
        if condition.get(f"{C}resource"):
            found.error(name, _("external condition resources are not read: write the condition in the flow"),
                        condition)
            continue
        if is_juel(condition.text):  # not translated: prepare_tree reported why
            continue
        for problem in _compiled(found, condition.text or "", "condition"):
            found.error(name, _("the condition cannot run: %(problem)s", problem=problem), condition)
    for gateway in process.iter(f"{B}exclusiveGateway", f"{B}inclusiveGateway"):
        flows = outgoing.get(gateway.get("id"), [])
        if len(flows) < 2:
            continue
        default = gateway.get("default")
        if default and default not in {f.get("id") for f in flows}:
            found.error(name, _("the default flow %(default)s does not leave this gateway",
                                default=repr(default)), gateway)
        for flow in flows:
            if flow.get("id") != default and flow.find(f"{B}conditionExpression") is None:
                found.error(name, _("a flow out of a gateway with several ways out needs a condition, unless it is "
                                    "the gateway's default flow"), flow)
        if not default:
            found.warning(name, _("the gateway has no default flow: when no condition holds, the request stops "
                                  "with an error"), gateway)


def _check_timer(name: str, node: etree._Element, found: _Findings) -> None:
    values = [child for child in node if isinstance(child.tag, str)
              and _local(child) in ("timeDuration", "timeDate", "timeCycle")]
    if len(values) != 1:
        found.error(name, _("a timer needs exactly one of timeDuration, timeDate or timeCycle"), node)
        return
    value = values[0]
    if is_juel(value.text):  # not translated: prepare_tree reported why
        return
    if not found.code_budget(value.text):
        found.error(name, _("the timer cannot run: %(too_much_code)s", too_much_code=_TOO_MUCH_CODE), value)
        return
    errors, warnings = timer_problems(_local(value), value.text)
    for problem in errors:
        found.error(name, _("the timer cannot run: %(problem)s", problem=problem), value)
    for problem in warnings:
        found.warning(name, _("the timer: %(problem)s", problem=problem), value)


def _check_layout(name: str, root: etree._Element, process: etree._Element, found: _Findings) -> None:
    drawn = {n.get("bpmnElement") for n in root.iter(f"{BPMNDI}BPMNShape", f"{BPMNDI}BPMNEdge")}
    if not drawn - {None}:
        found.warning(name, _("the diagram has no layout (BPMN DI): it cannot be shown as a picture"),
                      line=root.sourceline)
        return
    for node in _flow_nodes(process):
        if node.get("id") not in drawn:
            found.warning(name, _("the element has no shape in the diagram layout (BPMNShape)"), node)
    for flow in process.iter(f"{B}sequenceFlow"):
        if flow.get("id") not in drawn:
            found.warning(name, _("the flow has no line in the diagram layout (BPMNEdge)"), flow)
