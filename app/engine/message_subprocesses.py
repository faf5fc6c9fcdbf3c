"""Event subprocesses that start by a message (``triggeredByEvent``, a message start event).

SpiffWorkflow starts such an event subprocess for any message of its name, before it looks at
the key, with the data the request started with, and never lists it among what the request
waits for. Here (called by messages.py) it is listed among the request's waits, with its key
worked out over the request's current data; it starts only when a message's key matches (as
any other catch), with that data; the data the message carries goes into the request's data.
Only the request's own process's event subprocesses start so (the upload check refuses one
inside an embedded subprocess).
"""

from __future__ import annotations

from copy import deepcopy
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

KEY = "key"  # the one correlation a message carries here


def key_text(value: Any) -> str:
    """A correlation key as stored and compared: text, empty for none."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()[:200]


_PREPARING = Lock()


def message_triggers(wf) -> list[tuple[str, Any]]:
    """The event subprocesses of the request's process that start by a message: (their process
    spec's name, their start event spec). The first time, they are taken off the library's own
    triggers and given the connections its trigger_wf would add on their first start (it adds
    them to the spec shared by every request of the process, which then starts them at once)."""
    top = wf.top_workflow
    found = getattr(top.spec, "app_message_triggers", None)
    if found is not None:
        return found
    with _PREPARING:
        found = getattr(top.spec, "app_message_triggers", None)
        if found is None:
            found = []
            for task_spec in list(top.spec.task_specs.values()):
                if not isinstance(task_spec, SubWorkflowTask) or task_spec.spec not in top.spec.start.trigger_specs:
                    continue
                sub_spec = top.subprocess_specs[task_spec.spec]
                starts = [s for s in sub_spec.bpmn_start_events if getattr(s, "in_event_subprocess", False)
                          and isinstance(s.event_definition, MessageEventDefinition)]
                if starts:
                    found.append((sub_spec.name, starts[0]))
                    top.spec.start.trigger_specs.remove(sub_spec.name)
                    task_spec._connect_notify(top.spec.start)  # an input, not an output of Start
                    task_spec.connect(top.spec.end)
            top.spec.app_message_triggers = found
    return found


def listens(wf) -> bool:
    """Whether the request's message event subprocesses can start now: it runs, and no
    interrupting event subprocess of it has started."""
    top = wf.top_workflow
    if not message_triggers(top) or top.is_completed():
        return False
    return not any(getattr(t.task_spec, "interrupting", False) and t.workflow.parent_workflow is top
                   for t in top.get_tasks(state=TaskState.COMPLETED))


def in_process(wf, task) -> bool:
    """Whether ``task`` belongs to the request's own process, not to a process it calls."""
    model = getattr(wf.top_workflow, "model", None)
    if model is None:
        return True
    return model.owners.get(task.workflow.spec.name, model.process_id) == model.process_id


def waiting_steps(wf) -> list:
    """The request's own steps that wait (READY or WAITING), not a join waiting for its other
    ways in: it holds no data until it goes on (SpiffWorkflow merges the data then)."""
    top = wf.top_workflow
    return [t for t in top.get_tasks(state=TaskState.READY | TaskState.WAITING)
            if in_process(top, t) and not isinstance(t.task_spec, Join)]


def current_task(wf):
    """The task whose data is the request's current data: the latest to wait (as Engine.data)."""
    top = wf.top_workflow
    waiting_tasks = waiting_steps(top)
    if waiting_tasks:
        return max(waiting_tasks, key=lambda t: t.last_state_change)
    return top.last_task or top.task_tree


def start_message_subprocesses(wf, event: BpmnEvent) -> None:
    """Start each message event subprocess of the request that ``event`` is for (its message's
    name, and the key worked out over the request's current data), with that data: its start
    event then catches the event with the request's other catches."""
    definition = event.event_definition
    if not isinstance(definition, MessageEventDefinition) or not listens(wf):
        return
    top = wf.top_workflow
    current = current_task(top)
    for name, start in message_triggers(top):
        wanted = start.event_definition
        if wanted.name != definition.name or key_text(event.correlations.get(KEY)) != wanted.key_value(current):
            continue
        # As the library's trigger_wf does (the spec connected once, by message_triggers).
        host = top.task_tree._add_child(top.spec.task_specs[name], TaskState.FUTURE)
        host.triggered = True
        host.task_spec._update(host)
        host.data = deepcopy(current.data)
        for task in top.subprocesses[host.id].get_tasks(state=TaskState.WAITING):
            task.data = deepcopy(current.data)


def share_payload(my_task, payload: dict[str, Any]) -> None:
    """Put the data a message carried into the request's data: each step of the process still
    open takes it (the message event subprocess catching it, ``my_task``, takes it as it runs)."""
    top = my_task.workflow.top_workflow
    if not payload:
        return
    for task in top.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        if task.workflow is not my_task.workflow and in_process(top, task):
            task.data.update(deepcopy(payload))
