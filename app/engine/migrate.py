"""Move a running instance onto another version of its process.

SpiffWorkflow's diff aligns each task of the old definition with the new one by BPMN id (or,
failing that, by its place between aligned tasks) and lists what changed. The rule here: an
instance may move only if nothing it has already done — no COMPLETED or STARTED task — is
changed or removed in the target, so its history stays true to the diagram it is shown
against. What is READY or WAITING is reset by the library onto the new definition: a waiting
user task keeps its id and gets the new form; a waiting timer starts again from the move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from .multi import MULTI_INSTANCE
from .parser import ProcessModel
from .runtime import EngineError
from .serializer import reference_registry

DONE = {TaskState.COMPLETED: "was completed", TaskState.STARTED: "has started"}

# Serialized task spec attributes, as an administrator reads them.
_ATTRIBUTES = {
    "form": "its form", "documentation": "its instructions", "bpmn_name": "its name",
    "lane": "its lane", "inputs": "its connections", "outputs": "its connections",
    "cond_task_specs": "its conditions", "default_task_spec": "its conditions",
    "script": "its script", "event_definition": "its event", "extensions": "its properties",
    "typename": "its kind of step", "topic": "its service", "decision_ref": "its decision table",
    "condition": "its condition", "cancel_activity": "whether it interrupts",
}


# Attributes the library copies from a task onto its own helper tasks (the split and join around a
# task with boundary events): they change with the task and mean nothing for the helper's run.
_COPIED_TO_HELPERS = frozenset({"lane", "documentation", "bpmn_name", "description"})


class MigrationError(Exception):
    """The instance cannot move; the message says why in plain words."""


@dataclass(frozen=True)
class MigrationPlan:
    """Whether one instance can move to a target definition, and why not."""

    movable: bool
    reasons: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # names of steps changed in the target
    removed: list[str] = field(default_factory=list)  # ... gone from the target
    added: list[str] = field(default_factory=list)  # ... new in the target


_REGISTRY = None


def _registry():
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = reference_registry()
    return _REGISTRY


def plan_migration(wf: BpmnWorkflow, new_model: ProcessModel, target: str = "the new version") -> MigrationPlan:
    """Say whether ``wf`` can move to ``new_model``; ``target`` names it in the reasons.

    When the rule allows the move, it is tried on a copy too, so a plan that says "movable"
    is one the engine has carried out.
    """
    reasons, changed, removed, added = _check(wf, new_model, target)
    if not reasons:
        try:
            _move(wf, new_model)
        except MigrationError as exc:
            reasons.append(str(exc))
    return MigrationPlan(not reasons, reasons, changed, removed, added)


def migrate(wf: BpmnWorkflow, new_model: ProcessModel) -> BpmnWorkflow:
    """Return a copy of ``wf`` moved onto ``new_model``, with anything now due run.

    ``wf`` itself is left as it was. Raises MigrationError if the rule forbids the move and
    EngineError if a step made ready by the move fails. Automatic steps may run here (service
    tasks included), so call it where the application runs steps.
    """
    reasons = _check(wf, new_model, "the new version")[0]
    if reasons:
        raise MigrationError(" ".join(reasons))
    moved = _move(wf, new_model)
    try:
        moved.do_engine_steps()
    except WorkflowException as exc:
        raise EngineError(str(exc)) from exc
    return moved


# -- the rule ------------------------------------------------------------------------------

def _check(wf, new_model, target):
    """The reasons ``wf`` cannot move, and the steps changed, removed and added."""
    registry = _registry()
    reasons: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    added: list[str] = []
    pairs = [(wf, new_model.spec)]
    for sub in wf.subprocesses.values():
        new_spec = new_model.subprocess_specs.get(sub.spec.name)
        if new_spec is None:
            reasons.append(f"It is inside the subprocess {sub.spec.name}, which is removed in {target}.")
        else:
            pairs.append((sub, new_spec))
    for workflow, new_spec in pairs:
        spec_diff = SpecDiff(registry, workflow.spec, new_spec)
        changed += [label(s) for s in spec_diff.changed if _is_element(s)]
        removed += [label(s) for s in spec_diff.removed if _is_element(s)]
        added += [label(s) for s in spec_diff.added if _is_element(s)]
        diff = WorkflowDiff(workflow, spec_diff)
        seen = set()
        for task in diff.changed + diff.removed:
            done = next((words for state, words in DONE.items() if task.state == state), None)
            if done is None or task.task_spec in seen:
                continue
            seen.add(task.task_spec)
            if task not in diff.removed and not _is_element(task.task_spec) \
                    and set(spec_diff.changed[task.task_spec]) <= _COPIED_TO_HELPERS:
                continue
            if task in diff.removed:
                reasons.append(f"{_capital(label(task.task_spec))} {done} and is removed in {target}.")
            else:
                what = _what_changed(task.task_spec, spec_diff.changed[task.task_spec])
                reasons.append(f"{_capital(label(task.task_spec))} {done} and is changed in {target}"
                               f"{f' ({what})' if what else ''}.")
    for workflow, _ in pairs:  # the library's reset would drop each waiting instance's item
        for task in workflow.get_tasks(state=TaskState.STARTED):
            if isinstance(task.task_spec, MULTI_INSTANCE):
                reasons.append(f"{_capital(label(task.task_spec))} is under way once for each of several items: "
                               "move the request when that step is done.")
    return reasons, _unique(changed), _unique(removed), _unique(added)


def _move(wf, new_model):
    """A copy of ``wf`` with its specs swapped for the new ones and its waiting branches reset."""
    registry = _registry()
    copy = registry.restore(registry.convert(wf), spec=wf.spec, subprocess_specs=wf.subprocess_specs)
    copy.script_engine = wf.script_engine
    try:
        migrate_workflow(WorkflowDiff(copy, SpecDiff(registry, copy.spec, new_model.spec)), copy, new_model.spec)
        for sub in copy.subprocesses.values():
            new_spec = new_model.subprocess_specs[sub.spec.name]
            migrate_workflow(WorkflowDiff(sub, SpecDiff(registry, sub.spec, new_spec)), sub, new_spec)
    except (WorkflowException, KeyError, AttributeError, TypeError) as exc:
        raise MigrationError(f"The engine could not move it: {exc}") from exc
    copy.subprocess_specs = new_model.subprocess_specs
    for workflow in [copy, *copy.subprocesses.values()]:
        for task in workflow.tasks.values():
            if workflow.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                raise MigrationError(f"{_capital(label(task.task_spec))} ({TaskState.get_name(task.state).lower()})"
                                     " has no place in the new version.")
    copy.model = new_model
    return copy


# -- words ---------------------------------------------------------------------------------

def label(spec) -> str:
    """The name an administrator knows a task spec by: its BPMN name, else its id; gateways and
    events say what they are."""
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None)
    if name:
        kind = _kind(spec)
        return f"the {kind} {name}" if kind else name
    base, _, kind = spec.name.rpartition(".")
    if kind in ("BoundaryEventSplit", "BoundaryEventJoin"):
        owner = spec._wf_spec.task_specs.get(base)
        where = "start" if kind == "BoundaryEventSplit" else "end"
        return f"the {where} of {label(owner) if owner is not None else base}"
    if spec.name == "Start":
        return "the start of the process"
    if spec.name == "End" or kind == "EndJoin":
        return "the end of the process"
    return spec.name


def _kind(spec) -> str:
    """'gateway', 'timer' or 'event' for those elements; tasks go by their name alone."""
    classes = [klass.__name__ for klass in type(spec).__mro__]
    if any("Gateway" in name for name in classes):
        return "gateway"
    if any(name.endswith("Event") for name in classes):
        definition = type(getattr(spec, "event_definition", None)).__name__
        return "timer" if "Timer" in definition else "event"
    return ""


def _is_element(spec) -> bool:
    """A flow element drawn in the diagram, not one of the library's own helper tasks."""
    return bool(getattr(spec, "bpmn_id", None))


def _what_changed(spec, attributes: list[str]) -> str:
    if spec.name.endswith(".BoundaryEventSplit") and set(attributes) <= {"inputs", "outputs"}:
        return "the events attached to it"
    return ", ".join(_unique([_ATTRIBUTES.get(name, name.replace("_", " ")) for name in attributes]))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
