"""Run process instances: start, complete tasks, fire timers, save and load state.

Saved state holds the instance's tasks and data but not the process definition: the caller
keeps the version and hands its parsed ``ProcessModel`` back at load time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .ahead import due_time, timers_ahead
from .callspec import AppCallActivity
from .events import (
    UncaughtError,
    drop_unheard,
    end_idle_event_subprocesses,
    ends_the_request,
    stopped_by,
)
from .happenings import Happening, happening
from .limits import ScriptLimitError
from .message_subprocesses import in_process, waiting_steps
from .messages import (
    Message,
    Wait,
    has_plain_start,
    message_starts,
    pending_events,
    waits_for_messages,
)
from .messages import deliver as deliver_message
from .messages import thrown as thrown_messages
from .messages import waiting as waiting_messages
from .model import ReadyTask
from .multi import MULTI_INSTANCE, loop_instance
from .parser import ProcessModel
from .scripting import RestrictedEnvironment, RestrictedScriptEngine
from .serializer import CompactJSON, reference_registry


class EngineError(Exception):
    """The engine could not run a step (a failing script, no gateway condition met, ...).

    ``bpmn_id`` names the element that failed, when the library says which one; ``line`` is
    the history's line of it, when the engine has one (an error nobody catches).
    """

    def __init__(self, message: str, bpmn_id: str | None = None, line: Happening | None = None):
        super().__init__(message)
        self.bpmn_id = bpmn_id
        self.line = line

    @classmethod
    def from_workflow(cls, exc: WorkflowException) -> EngineError:
        task = getattr(exc, "task", None)
        spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
        bpmn_id = getattr(spec, "bpmn_id", None)
        if task is not None and bpmn_id:  # in a called process: <process id>:<id>
            model = getattr(task.workflow.top_workflow, "model", None)
            bpmn_id = model.task_key(task.workflow.spec.name, bpmn_id) if model is not None else bpmn_id
        limit = _limit_error(exc)
        if limit is not None:  # say which step went over which limit, not how the library wraps it
            label = getattr(spec, "bpmn_name", None) or bpmn_id or "a step"
            return cls(f"“{label}” was stopped: {limit}", bpmn_id)
        reason = _reason(exc)
        if not reason:
            return cls(str(exc), bpmn_id)
        # The library's own message, without the notes it adds to a NameError ("Did you mean one
        # of '['initiator_id', ...]'?": the request's other variables, in Python's spelling).
        message = str(exc.args[0]) if exc.args and isinstance(_cause_of(exc), NameError) else str(exc)
        return cls(f"{message.rstrip('. ')}: {reason}", bpmn_id)


def _cause_of(exc: BaseException) -> BaseException | None:
    return exc.__cause__ or exc.__context__


def _reason(exc: WorkflowException) -> str:
    """What the library's message leaves out: why an expression or script failed."""
    cause = _cause_of(exc)
    if cause is None or isinstance(cause, WorkflowException):
        return ""
    if isinstance(cause, NameError) and getattr(cause, "name", None):
        return f"the variable {cause.name!r} is not set"  # Camunda: "Cannot resolve identifier"
    return str(cause)


def _limit_error(exc: BaseException) -> ScriptLimitError | None:
    """The ScriptLimitError behind a library error, if a limit is what failed the step."""
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 10:
        if isinstance(cause, ScriptLimitError):
            return cause
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return None


class TaskNotReady(Exception):
    """The task is not waiting for anyone (completed, cancelled or never reached)."""


class Engine:
    """The one object through which the application runs workflows."""

    def __init__(self, services: dict[str, Any] | None = None):
        self.services: dict[str, Any] = dict(services or {})
        self.script_engine = RestrictedScriptEngine(RestrictedEnvironment(self.services))
        self._serializer = BpmnWorkflowSerializer(reference_registry(), json_encoder_cls=CompactJSON)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, model: ProcessModel, data: dict[str, Any]) -> BpmnWorkflow:
        """Create an instance with ``data`` as its start data and run to the first wait."""
        wf = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self.script_engine)
        wf.model = model
        wf.saved_message_waits = False  # a new request has no subscription rows yet
        start = wf.get_tasks(state=TaskState.READY)[0]
        start.data.update(data)
        self._steps(wf)
        return wf

    def complete(self, wf: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
        """Complete a READY user task with ``data`` and run until the next wait."""
        task = wf.get_task_from_id(UUID(task_id)) if _is_uuid(task_id) else None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task_id)
        task.data.update(data)
        try:
            task.run()
        except WorkflowException as exc:
            raise EngineError.from_workflow(exc) from exc
        self._steps(wf)

    def fire_timers(self, wf: BpmnWorkflow) -> None:
        """Fire every timer that is due now and run what follows."""
        stopped = self.stopped(wf)
        if stopped is not None:  # nothing runs on after an error nobody catches
            raise stopped
        try:
            wf.refresh_timers()
        except WorkflowException as exc:
            raise EngineError.from_workflow(exc) from exc
        self._steps(wf)

    def cancel(self, wf: BpmnWorkflow) -> None:
        wf.cancel()

    # -- messages (app/engine/messages.py) -------------------------------------------------
    def start_by_message(self, model: ProcessModel, message: Message, data: dict[str, Any]) -> BpmnWorkflow:
        """Create an instance of a process that starts by ``message`` and run to the first wait."""
        wf = self.start(model, data)
        if not self.deliver(wf, message):
            raise EngineError(f"“{model.name}” does not start by the message “{message.name}”")
        return wf

    def deliver(self, wf: BpmnWorkflow, message: Message) -> bool:
        """Hand ``message`` to the instance and run what follows; False if it does not wait for it."""
        try:
            caught = deliver_message(wf, message)
        except WorkflowException as exc:
            raise EngineError.from_workflow(exc) from exc
        if caught:
            self._steps(wf)
        return caught

    def message_starts(self, model: ProcessModel) -> list[str]:
        """The names of the messages that start a request of this process."""
        return message_starts(model.spec)

    def startable(self, model: ProcessModel) -> bool:
        """Whether a person can start the process (it does not start only by a message)."""
        return has_plain_start(model.spec)

    def thrown(self, wf: BpmnWorkflow) -> list[Message]:
        """The messages the instance threw for other requests since this was last asked; taken off it."""
        return thrown_messages(wf)

    def waiting_for(self, wf: BpmnWorkflow) -> list[Wait]:
        """The messages the instance waits for: name and correlation key."""
        try:
            return waiting_messages(wf)
        except WorkflowException as exc:
            raise EngineError.from_workflow(exc) from exc

    def may_have_saved_waits(self, wf: BpmnWorkflow) -> bool:
        """Whether the request's subscription rows may list messages: it waited for one when
        loaded or last saved (unknown: yes). Lets a step skip the rows when it never waits."""
        return getattr(wf, "saved_message_waits", True)

    def saved_waits(self, wf: BpmnWorkflow, waits: list[Wait]) -> None:
        wf.saved_message_waits = bool(waits)

    def _steps(self, wf: BpmnWorkflow) -> None:
        def note(task: Task) -> None:
            line = happening(task)
            if line:
                wf.__dict__.setdefault("happened", []).append(line)

        try:
            wf.do_engine_steps(did_complete_task=note)
            while end_idle_event_subprocesses(wf):
                wf.do_engine_steps(did_complete_task=note)
            drop_unheard(wf)
            waiting_messages(wf)  # a correlation key that cannot be worked out fails the step
        except UncaughtError:
            pass  # the request stops here, its state saved: ``stopped`` says why
        except WorkflowException as exc:
            raise EngineError.from_workflow(exc) from exc

    # -- reading ---------------------------------------------------------------------------
    def ready_tasks(self, wf: BpmnWorkflow) -> list[ReadyTask]:
        """The user tasks waiting for a person, in the order the engine created them."""
        counts: dict = {}
        return [
            ReadyTask(id=str(t.id), definition=wf.model.tasks[_key(wf, t)], loop=loop_instance(t, counts),
                      data=dict(t.data))
            for t in wf.get_tasks(state=TaskState.READY, manual=True)
        ]

    def loop_finished(self, wf: BpmnWorkflow, key: str) -> bool:
        """Whether the multi-instance step ``key`` (a ``LoopInstance.key``) has finished, rather
        than been stopped: its instances still waiting were cancelled because it was done."""
        try:
            task = wf.get_task_from_id(UUID(key))
        except (TaskNotFoundException, ValueError):
            return False
        return task.has_state(TaskState.COMPLETED | TaskState.READY)

    def task_data(self, wf: BpmnWorkflow, task_id: str) -> dict[str, Any]:
        return dict(wf.get_task_from_id(UUID(task_id)).data)

    def data(self, wf: BpmnWorkflow) -> dict[str, Any]:
        """The instance's current data: the last completed task's, or the workflow's at the end."""
        if wf.is_completed():
            end_tasks = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if not t.children]
            latest = max(end_tasks, key=lambda t: t.last_state_change, default=None)
            return dict(latest.data) if latest else dict(wf.data)
        # Not a called process's: it sees only what was mapped in. During a call, the call's own.
        ready = waiting_steps(wf)
        ready = ready or [t for t in wf.get_tasks(state=TaskState.STARTED)
                          if isinstance(t.task_spec, AppCallActivity) and not _called(wf, t)]
        if ready:
            return dict(max(ready, key=lambda t: t.last_state_change).data)
        return dict(wf.last_task.data) if wf.last_task else {}

    def is_completed(self, wf: BpmnWorkflow) -> bool:
        return wf.is_completed()

    def happenings(self, wf: BpmnWorkflow) -> list[Happening]:
        """The events people should read of in the history (a signal sent, an error caught…)
        since the last call, as lines (happenings.py); each is given once."""
        return wf.__dict__.pop("happened", [])

    def stopped(self, wf: BpmnWorkflow) -> EngineError | None:
        """Why the request cannot go on (an error nobody catches) and where, or None."""
        found = stopped_by(wf)
        return EngineError(found.text, found.bpmn_id, found) if found else None

    def ended_at(self, wf: BpmnWorkflow) -> str | None:
        """The bpmn id of the end event the instance reached, if it has ended."""
        if not wf.is_completed():
            return None
        ends = [t for t in wf.get_tasks(state=TaskState.COMPLETED)
                if isinstance(t.task_spec, EndEvent) and ends_the_request(t, wf)]
        latest = max(ends, key=lambda t: t.last_state_change, default=None)
        return latest.task_spec.bpmn_id if latest else None

    def trail(self, wf: BpmnWorkflow) -> list[str]:
        """Bpmn ids of the completed flow elements, in the order they completed."""
        done = [t for t in wf.get_tasks(state=TaskState.COMPLETED)
                if getattr(t.task_spec, "bpmn_id", None) and not t.task_spec.bpmn_id.startswith("Start")
                and not isinstance(t.task_spec, MULTI_INSTANCE)]  # its instances are listed
        return [_key(wf, t) for t in sorted(done, key=lambda t: t.last_state_change)]

    def calls(self, wf: BpmnWorkflow) -> dict[str, str]:
        """The state of each process called so far, by process id: "waiting" while a call of it
        runs, else "finished" (or "cancelled")."""
        found: dict[str, str] = {}
        for task in wf.get_tasks(state=TaskState.STARTED | TaskState.COMPLETED | TaskState.CANCELLED):
            if isinstance(task.task_spec, AppCallActivity) and task.id in wf.subprocesses:
                state = ("waiting" if task.state == TaskState.STARTED
                         else "finished" if task.state == TaskState.COMPLETED else "cancelled")
                if found.get(task.task_spec.spec) != "waiting":
                    found[task.task_spec.spec] = state
        return found

    def next_timer(self, wf: BpmnWorkflow) -> dt.datetime | None:
        """When the earliest pending timer is due (UTC), or None."""
        # wf.waiting_events(), with an event-based gateway's timers
        times = [due_time(event.value) for event in pending_events(wf)]
        return min((moment for moment in times if moment is not None), default=None)

    def timers_ahead(self, wf: BpmnWorkflow) -> list[tuple[dt.datetime, tuple[str, ...]]]:
        """The pending timers, earliest first: when each is due and the user tasks after it."""
        return timers_ahead(wf)

    # -- state -----------------------------------------------------------------------------
    def dump(self, wf: BpmnWorkflow) -> str:
        return self._serializer.serialize_json(wf)

    def load(self, model: ProcessModel, state: str) -> BpmnWorkflow:
        dct = json.loads(state)
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, VERSION)
        if version in MIGRATIONS:
            MIGRATIONS[version](dct)
        wf = self._serializer.registry.restore(
            dct, spec=model.spec, subprocess_specs=model.subprocess_specs
        )
        wf.script_engine = self.script_engine
        wf.model = model
        wf.saved_message_waits = waits_for_messages(wf)
        return wf


def _key(wf: BpmnWorkflow, task: Task) -> str:
    """The name the model gives a task's element (``ProcessModel.task_key``)."""
    return wf.model.task_key(task.workflow.spec.name, task.task_spec.bpmn_id)


def _called(wf: BpmnWorkflow, task: Task) -> bool:
    """Whether a task belongs to a called process."""
    return not in_process(wf, task)


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (ValueError, TypeError):
        return False
    return True
