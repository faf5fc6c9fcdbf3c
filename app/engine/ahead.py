"""What a request's diagram says lies ahead: the steps after a timer it waits for, and the
name of the end event it reached."""

from __future__ import annotations

import ast
import datetime as dt
from collections import deque
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition

from .parser import ProcessModel

MAX_WALK = 200  # elements looked at after one timer: a diagram's loops end the walk sooner


def due_time(value: Any) -> dt.datetime | None:
    """A pending timer's due time (UTC) from the library's event value, or None."""
    if isinstance(value, dict):
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def end_name(model: ProcessModel, bpmn_id: str) -> str:
    """The name drawn on the end event ``bpmn_id`` of the model's process ('' if it has none)."""
    spec = model.spec.task_specs.get(bpmn_id) if bpmn_id else None  # named by their ids
    return (getattr(spec, "bpmn_name", None) or "").strip() if spec is not None else ""


def has_tasks_after_timers(model: ProcessModel) -> bool:
    """Whether any timer of the model leads to a user task (else no workflow need be loaded
    to say what follows a timer). Worked out once per model: lists ask it for every row."""
    key = f"{model.key}:{','.join(sorted(model.subprocess_specs))}"  # a combined model keeps its key
    found = _AFTER_TIMERS.get(key)
    if found is None:
        found = any(_is_timer(task_spec) and _tasks_after(model, name, task_spec)
                    for name, spec in {model.spec.name: model.spec, **model.subprocess_specs}.items()
                    for task_spec in spec.task_specs.values())
        if len(_AFTER_TIMERS) > 1000:
            _AFTER_TIMERS.clear()
        _AFTER_TIMERS[key] = found
    return found


_AFTER_TIMERS: dict[str, bool] = {}


def timers_ahead(wf) -> list[tuple[dt.datetime, tuple[str, ...]]]:
    """The timers the workflow waits for, earliest first: when each is due and the user tasks
    (model task keys) the diagram goes on to after it, before any other user task."""
    found = []
    for task in list(wf.event_manager.tasks.values()):
        if not _is_timer(task.task_spec):
            continue
        due = due_time(task.task_spec.event_definition.details(task).value)
        if due is not None:
            found.append((due, _tasks_after(wf.model, task.workflow.spec.name, task.task_spec)))
    return sorted(found, key=lambda pair: pair[0])


def _is_timer(task_spec) -> bool:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return False  # an event-based gateway's choice: what follows depends on which comes first
    return isinstance(definition, TimerEventDefinition)


def _tasks_after(model: ProcessModel, spec_name: str, start) -> tuple[str, ...]:
    """The user tasks reached from ``start`` along its flows, stopping at each user task."""
    found: dict[str, None] = {}
    seen = {id(start)}
    queue = deque(start.outputs)
    while queue and len(seen) < MAX_WALK:
        spec = queue.popleft()
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        key = model.task_key(spec_name, getattr(spec, "bpmn_id", None) or "")
        if key in model.tasks:
            found[key] = None
            continue
        queue.extend(spec.outputs)
    return tuple(found)


def reminder_delays(model: ProcessModel) -> dict[str, dt.timedelta]:
    """How long each user task may wait before its first timer drawn on it fires (a reminder,
    an escalation, a deadline), by task key; only timers of a fixed duration ("P5D") count.
    Worked out once per model: the flow report asks it for every version with waiting tasks."""
    key = f"{model.key}:{','.join(sorted(model.subprocess_specs))}"
    found = _DELAYS.get(key)
    if found is None:
        found = {}
        for name, spec in {model.spec.name: model.spec, **model.subprocess_specs}.items():
            for task_spec in spec.task_specs.values():
                delay = _fixed_duration(task_spec)
                attached = [i.name.removesuffix(".BoundaryEventSplit") for i in task_spec.inputs
                            if i.name.endswith(".BoundaryEventSplit")]
                task_key = model.task_key(name, attached[0]) if attached else ""
                if delay is not None and task_key in model.tasks:
                    found[task_key] = min(delay, found.get(task_key, delay))
        if len(_DELAYS) > 1000:
            _DELAYS.clear()
        _DELAYS[key] = found
    return found


_DELAYS: dict[str, dict[str, dt.timedelta]] = {}


def _fixed_duration(task_spec) -> dt.timedelta | None:
    """A duration timer's delay when its expression is a literal ISO 8601 duration, else None."""
    definition = getattr(task_spec, "event_definition", None)
    if not isinstance(definition, DurationTimerEventDefinition):
        return None
    try:
        text = ast.literal_eval(definition.expression)
        return TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text))
    except (ValueError, SyntaxError, TypeError, AttributeError):
        return None  # an expression worked out per request: no fixed reminder to count against
