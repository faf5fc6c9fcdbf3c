"""What the engine ran that people should read of in a request's history, as lines.

A line is a kind (a key of ``HAPPENINGS``) and its parameters, never a sentence: the history
(app/outbox/lines.py, which takes these texts as its own) puts it together when shown, in the
reader's language, with the diagram's names (``at``, ``step``, ``host``, ``first``,
``signal``, ``message``) through the version's catalogue. A parameter may itself be a phrase of
``PHRASES`` (``{"key": …, "args": …}``): "The signal “withdrawn”", "An error".

The texts are English, marked for the catalogues (``N_``); ``english`` puts one together in
English, for an error's text (``EngineError``) and the engine's tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, EventBasedGateway
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.util.task import TaskState


def N_(text: str) -> str:
    """Mark ``text`` for the catalogues; it stays English here."""
    return text


HAPPENINGS = {
    "passed_through": N_("“%(at)s” was passed through: nobody had to do it"),
    "came_first": N_("“%(first)s” came first at “%(at)s”"),
    "terminated": N_("The request was ended at “%(at)s”: any steps still open were withdrawn"),
    "event_started": N_("%(what)s started “%(host)s”"),
    "event_stopped": N_("%(what)s stopped “%(step)s”; the request went on at “%(at)s”"),
    "event_stopped_step": N_("%(what)s stopped the step; the request went on at “%(at)s”"),
    "event_caught": N_("%(what)s was caught at “%(at)s” while “%(step)s” went on"),
    "event_caught_step": N_("%(what)s was caught at “%(at)s” while the step went on"),
    "event_received": N_("%(what)s was received at “%(at)s”"),
    "signal_sent": N_("%(what)s was sent at “%(at)s”"),
    "escalation_raised": N_("%(what)s was raised at “%(at)s”"),
    "error_thrown": N_("%(what)s was thrown at “%(at)s”"),
    "error_uncaught": N_("%(what)s thrown at “%(at)s” is caught by nothing, so the request stopped"),
}
# What a line's ``what`` may be: the event, named as the diagram names it.
PHRASES = {
    "the_signal": N_("The signal “%(signal)s”"),
    "a_signal": N_("A signal"),
    "the_escalation": N_("The escalation “%(signal)s”"),
    "an_escalation": N_("An escalation"),
    "the_error": N_("The error “%(signal)s”"),
    "the_error_code": N_("The error “%(signal)s” (code %(code)s)"),
    "the_error_without_code": N_("The error without a code"),
    "an_error": N_("An error"),
    "the_message": N_("The message “%(message)s”"),
    "a_message": N_("A message"),
    "a_timer": N_("A timer"),
}
_KINDS = {SignalEventDefinition: ("signal", "signal_sent"),
          EscalationEventDefinition: ("escalation", "escalation_raised"),
          ErrorEventDefinition: ("error", "error_thrown")}


@dataclass(frozen=True)
class Happening:
    """A line of the history: its kind, its parameters and the element it is about."""

    key: str
    args: dict[str, Any]
    bpmn_id: str = ""

    @property
    def text(self) -> str:
        return english(self.key, self.args)


def english(key: str, args: dict[str, Any]) -> str:
    """The line (or phrase) ``key`` in English, its phrases put together too."""
    return {**HAPPENINGS, **PHRASES}[key] % {
        name: english(value["key"], value["args"]) if is_phrase(value) else value for name, value in args.items()}


def is_phrase(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() == {"key", "args"} and value["key"] in PHRASES


def phrase(key: str, **args: Any) -> dict[str, Any]:
    return {"key": key, "args": args}


def label(spec: TaskSpec) -> str:
    return " ".join((getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or "").split())


def the_error(definition: ErrorEventDefinition) -> dict[str, Any]:
    """How people read an error: its name, and its code when it has another one."""
    name = definition.name if definition.name and definition.name != "None Error Event" else ""
    code = definition.code or ""
    if name and code and code != name:
        return phrase("the_error_code", signal=name, code=code)
    return phrase("the_error", signal=name or code) if name or code else phrase("the_error_without_code")


def uncaught(spec: TaskSpec) -> Happening:
    """The line of an error end event that nothing catches."""
    return Happening("error_uncaught", {"what": the_error(spec.event_definition), "at": label(spec)}, spec.bpmn_id)


def _the(kind: str, definition) -> dict[str, Any]:
    """“The signal “withdrawn””, or “An error” for one caught whatever its code."""
    if isinstance(definition, ErrorEventDefinition):
        return the_error(definition) if definition.code or definition.name != "None Error Event" else \
            phrase("an_error")
    raw = definition.name or getattr(definition, "code", None) or ""
    if raw and not raw.startswith("None "):
        return phrase(f"the_{kind}", **{"message" if kind == "message" else "signal": raw})
    return phrase(f"{'an' if kind[0] in 'aeiou' else 'a'}_{kind}")


def happening(task) -> Happening | None:
    """The history's line when ``task`` (just run by the engine) was an event people should
    know of: a signal, escalation or error thrown or caught, an event subprocess started, an
    event-based gateway's choice, a terminate end event or a manual task."""
    spec = task.task_spec
    line = _line(task, spec)
    return Happening(line[0], line[1], spec.bpmn_id) if line else None


def _line(task, spec) -> tuple[str, dict[str, Any]] | None:
    if getattr(spec, "passes_through", False):  # a manual task (events.PassThroughTask)
        return ("passed_through", {"at": label(spec)}) if spec.bpmn_id else None
    if isinstance(spec, EventBasedGateway):
        chosen = [c for c in task.children if c.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK)
                  and not c.has_state(TaskState.CANCELLED)]
        return ("came_first", {"first": label(chosen[0].task_spec), "at": label(spec)}) if chosen else None
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TerminateEventDefinition):
        return "terminated", {"at": label(spec)}
    kind = next((k for cls, k in _KINDS.items() if isinstance(definition, cls)), None)
    if isinstance(spec, StartEvent) and task.workflow.parent_workflow is not None:
        host = task.workflow.top_workflow.get_task_from_id(task.workflow.parent_task_id)
        what = _the(kind[0], definition) if kind else (
            phrase("a_timer") if isinstance(definition, TimerEventDefinition) else
            (phrase("the_message", message=label(spec)) if spec.bpmn_name else _the("message", definition))
            if isinstance(definition, MessageEventDefinition) else None)  # as the diagram names the catching event
        if host is not None and what and host.task_spec.bpmn_id:
            return "event_started", {"what": what, "host": label(host.task_spec)}
        return None
    if kind is None:
        return None
    name, verb = kind
    if isinstance(spec, BoundaryEvent):
        attached = [c for c in task.parent.children if c is not task and not isinstance(c.task_spec, BoundaryEvent)]
        target = {"step": label(attached[0].task_spec)} if attached else {}
        how = "event_stopped" if spec.cancel_activity else "event_caught"
        return how if attached else f"{how}_step", {"what": _the(name, definition), "at": label(spec), **target}
    if isinstance(spec, CatchingEvent):
        return "event_received", {"what": _the(name, definition), "at": label(spec)}
    return verb, {"what": _the(name, definition), "at": label(spec)}
