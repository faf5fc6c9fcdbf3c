"""Signals, escalations, errors, event subprocesses, manual tasks and documentation-only data.

What stock SpiffWorkflow 3.2 runs of these is used as it is; this module fills the gaps
between what its parsers read and what BPMN (and Camunda 7) mean:

- a **signal end event** throws its signal (the stock end event parser reads no signal and
  would end silently);
- a **start event of an event subprocess** may be an error or an escalation (the stock start
  event parser reads neither, and the subprocess would start with the request);
- an **interrupting event subprocess** (``isInterrupting``, the default) stops what else
  runs in the process around it, as BPMN says; the stock engine lets both go on;
- an **error nobody catches** stops the request (``UncaughtError``) instead of ending it as
  if nothing happened;
- a **manual task** runs through, as in Camunda's engine (nobody is asked to do it);
- **data stores** without an implementation, and the data associations of tasks with data
  objects and data stores, are documentation: dropped before the engine reads the diagram.
"""

from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter, EventConverter
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, NoneTask, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEndEventParser, CamundaStartEventParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from .happenings import Happening, uncaught

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_B = f"{{{BPMN_NS}}}"


class UncaughtError(WorkflowException):
    """An error event was thrown and nothing catches it: the request stops here."""


class AppEndEvent(EndEvent):
    """An end event whose error, when nothing catches it, stops the request."""

    def _run_hook(self, my_task):
        top = my_task.workflow.top_workflow
        before = len(top.bpmn_events)
        result = super()._run_hook(my_task)
        if isinstance(self.event_definition, ErrorEventDefinition) and len(top.bpmn_events) > before:
            del top.bpmn_events[before:]  # nothing outside the request catches it either
            raise UncaughtError(uncaught(self).text, task_spec=self)
        return result


def features(wf) -> frozenset[str]:
    """Which of the elements this module deals with the process has (worked out once per
    parsed process), so that a step of a process without them pays nothing for them."""
    found = getattr(wf.spec, "app_event_features", None)
    if found is None:
        kinds = set()
        for spec in (wf.spec, *wf.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                if isinstance(task_spec, AppStartEvent) and task_spec.in_event_subprocess:
                    kinds.add("event_subprocess")
                elif isinstance(task_spec, AppEndEvent) and isinstance(task_spec.event_definition,
                                                                       ErrorEventDefinition):
                    kinds.add("error_end")
                elif isinstance(task_spec, EventBasedGateway):
                    kinds.add("event_gateway")
        found = wf.spec.app_event_features = frozenset(kinds)
    return found


def drop_unheard(wf) -> None:
    """Forget the signals, escalations and terminations nothing in the request caught: they go
    nowhere else (only messages go between requests), and would otherwise be saved for ever."""
    if wf.bpmn_events:
        wf.bpmn_events = [e for e in wf.bpmn_events if isinstance(e.event_definition, MessageEventDefinition)]


def stopped_by(wf) -> Happening | None:
    """Why the request stopped and where, if an error nobody catches stopped it."""
    if "error_end" not in features(wf):
        return None
    for task in wf.get_tasks(state=TaskState.ERROR):
        spec = task.task_spec
        if isinstance(spec, AppEndEvent) and isinstance(spec.event_definition, ErrorEventDefinition):
            return uncaught(spec)
    return None


class AppEndEventParser(CamundaEndEventParser):
    """Reads a signal end event too."""

    def create_task(self):
        event_definition = self.get_event_definition([
            MESSAGE_EVENT_XPATH, ".//bpmn:cancelEventDefinition", ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
            ".//bpmn:terminateEventDefinition", SIGNAL_EVENT_XPATH])
        task = self._create_task(event_definition)
        task.connect(self.spec.end)
        return task


class AppStartEvent(StartEvent):
    """A start event; in an interrupting event subprocess it stops the rest of the process."""

    interrupting = False
    in_event_subprocess = False

    def _run_hook(self, my_task):
        if self.interrupting:
            _interrupt(my_task)
        return super()._run_hook(my_task)


def _interrupt(my_task) -> None:
    """Cancel what runs beside the event subprocess ``my_task`` starts, in the process around it."""
    workflow = my_task.workflow
    parent = workflow.parent_workflow
    if parent is None:
        return
    host = my_task.workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    if host is None:
        return
    keep = {host.id}
    ancestor = host.parent
    while ancestor is not None:
        keep.add(ancestor.id)
        ancestor = ancestor.parent
    for task in parent.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        if task.id in keep or task.id not in parent.tasks or _below(task, host):
            continue
        if task.parent is not None and task.parent.id not in keep and task.parent.has_state(
                TaskState.NOT_FINISHED_MASK):
            continue  # cancelled with its parent
        task.cancel()


def end_idle_event_subprocesses(wf) -> bool:
    """Once the rest of a process (or subprocess) is done, its event subprocesses still waiting
    for their timer end with it, as in BPMN (SpiffWorkflow would wait for them for ever).
    Whether any did: the engine then runs on."""
    ended = False
    if "event_subprocess" not in features(wf):
        return False
    for workflow in [wf, *wf.subprocesses.values()]:
        end_join = next((t for t in workflow.get_tasks(state=TaskState.WAITING)
                         if isinstance(t.task_spec, _EndJoin) and t.workflow is workflow), None)
        if end_join is None:
            continue
        idle = [t for t in workflow.get_tasks(state=TaskState.STARTED)
                if t.workflow is workflow and _waits_for_its_start(wf, t)]
        if not idle:
            continue
        busy = [t for t in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK) if t.workflow is workflow
                and t is not end_join and not any(t is h or _below(t, h) for h in (end_join, *idle))]
        if busy:
            continue
        for host in idle:
            host.cancel()
        end_join.task_spec._update(end_join)
        ended = True
    return ended


def _waits_for_its_start(wf, task) -> bool:
    """Whether ``task`` hosts an event subprocess that has not started: its start event waits."""
    sub = wf.subprocesses.get(task.id)
    return sub is not None and any(isinstance(t.task_spec, AppStartEvent) and t.task_spec.in_event_subprocess
                                   for t in sub.get_tasks(state=TaskState.WAITING))


def ends_the_request(task, wf) -> bool:
    """Whether an end event ``task`` can be the request's outcome: one of the process itself or of
    one of its event subprocesses, not of an embedded subprocess (the step around it goes on)."""
    workflow = task.workflow
    return workflow is wf or (workflow.parent_workflow is wf and any(
        isinstance(spec, AppStartEvent) and spec.in_event_subprocess for spec in workflow.spec.task_specs.values()))


def _below(task, host) -> bool:
    node = task.parent
    while node is not None:
        if node.id == host.id:
            return True
        node = node.parent
    return False


class AppStartEventParser(CamundaStartEventParser):
    """Reads error and escalation start events (of event subprocesses) and ``isInterrupting``."""

    def create_task(self):
        event_definition = self.get_event_definition([
            MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH,
            ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH])
        task = self._create_task(event_definition)
        self.spec.start.connect(task)
        parent = self.node.getparent()
        task.in_event_subprocess = parent is not None and parent.get("triggeredByEvent") == "true"
        task.interrupting = task.in_event_subprocess and self.node.get("isInterrupting", "true") != "false"
        return task


class PassThroughTask(NoneTask):
    """A manual task, or a task without a type: nobody is asked to do it (SpiffWorkflow's
    own would wait for someone to complete it)."""

    passes_through = True  # its history line says so (happenings.py)

    def __init__(self, wf_spec, bpmn_id, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


# The parsers and specs of these elements, for the app's parser. A manual task and a task
# without a type run through, as in Camunda's engine (SpiffWorkflow would wait for someone).
PARSER_CLASSES = {
    full_tag("startEvent"): (AppStartEventParser, AppStartEvent),
    full_tag("endEvent"): (AppEndEventParser, AppEndEvent),
    full_tag("manualTask"): (CamundaTaskParser, PassThroughTask),
    full_tag("task"): (CamundaTaskParser, PassThroughTask),
}

# How the serializer saves these specs (as the classes they extend).
SPEC_CONVERTERS = {AppEndEvent: EventConverter, AppStartEvent: EventConverter,
                   PassThroughTask: BpmnTaskSpecConverter}


# --- documentation-only elements --------------------------------------------------------------

def drop_documentation(root: etree._Element, implemented: frozenset[str] = frozenset()) -> None:
    """Remove what only documents the process, in place: data stores without an implementation
    (``implemented`` names those with one) and the data associations of tasks with data objects
    and data stores. Camunda's engine ignores them; SpiffWorkflow would refuse the store or
    move data in and out of task data."""
    for store in list(root.iter(f"{_B}dataStore")):
        if store.get("name") not in implemented:
            store.getparent().remove(store)
    kept = {store.get("id") for store in root.iter(f"{_B}dataStore")}
    documentary = {node.get("id") for node in root.iter(f"{_B}dataObjectReference", f"{_B}dataObject")}
    documentary |= {node.get("id") for node in root.iter(f"{_B}dataStoreReference")
                    if (node.get("dataStoreRef") or "").split(":")[-1] not in kept}
    for association in list(root.iter(f"{_B}dataInputAssociation", f"{_B}dataOutputAssociation")):
        refs = [(ref.text or "").strip() for ref in association
                if isinstance(ref.tag, str) and ref.tag in (f"{_B}sourceRef", f"{_B}targetRef")]
        if any(ref in documentary for ref in refs):
            association.getparent().remove(association)
