"""Multi-instance tasks and subprocesses with Camunda 7's meaning.

Camunda Modeler writes ``<bpmn:multiInstanceLoopCharacteristics isSequential="…"
camunda:collection="${members}" camunda:elementVariable="member">`` with an optional
``loopCardinality`` and ``completionCondition``. SpiffWorkflow 3.2's CamundaParser reads the
collection as a data name (``${members}`` is looked up literally and fails), writes each
instance's element back into the collection instead of keeping the instance's form data,
and changes the shared, parsed spec while a request runs. So the app builds SpiffWorkflow's
stock BPMN multi-instance specs itself, with what Camunda gives each instance:

- ``elementVariable`` (the item of the collection) and ``loopCounter`` (0, 1, 2…), local to
  the instance: the instance's form data goes into the request's data when it completes
  (the last one wins, as in Camunda), its local variables do not;
- ``nrOfInstances``, ``nrOfCompletedInstances``, ``nrOfActiveInstances`` and ``loopCounter``
  in the completion condition, evaluated when an instance completes; when it holds, the
  instances still waiting are cancelled.

Standard BPMN ``loopDataInputRef``/``inputDataItem`` and ``loopDataOutputRef``/``outputDataItem``
(SpiffWorkflow's output collection) are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .model import LoopInstance

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
LOOP_COUNTER = "loopCounter"


class LoopItem(TaskDataReference):
    """An instance's element variable (``bpmn_id``, or none with a cardinality) and its
    ``loopCounter``, set in the instance's data when it is created."""

    def exists(self, my_task) -> bool:
        return bool(self.bpmn_id) and self.bpmn_id in my_task.data

    def set(self, my_task, value) -> None:
        counter = sum(1 for c in my_task.parent.children if c.task_spec is my_task.task_spec) - 1
        local = {LOOP_COUNTER: counter}
        if self.bpmn_id:
            local[self.bpmn_id] = value
        my_task.data.update(local)


class CamundaLoop:
    """What both multi-instance kinds add to SpiffWorkflow's: Camunda's variables."""

    input_item: LoopItem
    condition: str | None

    def _locals(self) -> tuple[str, ...]:
        return (LOOP_COUNTER, self.input_item.bpmn_id) if self.input_item.bpmn_id else (LOOP_COUNTER,)

    def merge_child(self, workflow, child):
        # The instance's local variables stay with it: pop them while its data is merged into
        # the request's (and the next sequential instance is created), then put them back.
        local = {key: child.data.pop(key) for key in self._locals() if key in child.data}
        child.internal_data["loop"] = local  # for the completion condition, meanwhile
        try:
            super().merge_child(workflow, child)
        finally:
            del child.internal_data["loop"]
            child.data.update(local)

    def create_children(self, my_task):  # parallel
        self._check_collection(my_task)
        super().create_children(my_task)

    def init_remaining_items(self, my_task):  # sequential
        self._check_collection(my_task)
        return super().init_remaining_items(my_task)

    def _check_collection(self, my_task) -> None:
        data_input = getattr(self, "data_input", None)
        if data_input is None:
            return
        value = data_input.get(my_task)
        if not isinstance(value, (list, tuple, dict)):
            what = "is missing" if value is None else f"is a {type(value).__name__}, not a list"
            raise WorkflowDataException(f"the collection {data_input.bpmn_id} {what}", my_task)

    def _on_cancel(self, my_task):
        # Cancelling the step (an interrupting boundary event) drops its waiting instances from
        # the tree without cancelling them: the subprocesses of a multi-instance subprocess would
        # stay active with no task above them, and the next engine step would fail on them.
        super()._on_cancel(my_task)
        _drop_orphaned_subprocesses(my_task.workflow.top_workflow)

    def check_completion_condition(self, my_task):
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:
            return False
        last = next(c for c in my_task.children if str(c.id) == merged[-1])
        counts = loop_counts(my_task)
        context = {**last.internal_data.get("loop", {}), "nrOfInstances": counts.total,
                   "nrOfCompletedInstances": counts.completed, "nrOfActiveInstances": counts.active}
        return my_task.workflow.script_engine.evaluate(last, self.condition, external_context=context)


def _drop_orphaned_subprocesses(top) -> None:
    """Cancel and forget every subprocess whose task is gone from the request."""
    dropped = True
    while dropped:
        dropped = False
        for task_id, sub in list(top.subprocesses.items()):
            try:
                top.get_task_from_id(task_id)
            except TaskNotFoundException:
                sub.cancel()
                del top.subprocesses[task_id]
                dropped = True


class AppParallelMultiInstanceTask(CamundaLoop, ParallelMultiInstanceTask):
    pass


class AppSequentialMultiInstanceTask(CamundaLoop, SequentialMultiInstanceTask):
    pass


MULTI_INSTANCE = (AppParallelMultiInstanceTask, AppSequentialMultiInstanceTask)


@dataclass(frozen=True)
class LoopCounts:
    total: int
    completed: int
    active: int


def loop_counts(mi_task) -> LoopCounts:
    """Camunda's nrOfInstances, nrOfCompletedInstances and nrOfActiveInstances of a running
    multi-instance task (its SpiffWorkflow task)."""
    spec = mi_task.task_spec
    instances = [c for c in mi_task.children if c.task_spec.name == spec.task_spec]
    completed = len(mi_task.internal_data.get("merged", []))
    active = sum(1 for c in instances if not c.has_state(TaskState.FINISHED_MASK))
    total = len(instances)
    if isinstance(spec, SequentialMultiInstanceTask):
        cardinality = mi_task.internal_data.get("cardinality")
        total = cardinality if cardinality is not None else total + len(mi_task.internal_data.get("remaining", []))
        active = 1 if active or total > completed else 0
    return LoopCounts(total=total, completed=completed, active=active)


def loop_instance(task, counts: dict | None = None) -> LoopInstance | None:
    """The multi-instance a task is an instance of, itself or through the subprocesses it is
    in (the innermost one); None for a task of no multi-instance. ``counts`` keeps each
    multi-instance's number of instances between calls."""
    while task is not None:
        parent = task.parent
        if (parent is not None and isinstance(parent.task_spec, MULTI_INSTANCE)
                and task.task_spec.name == parent.task_spec.task_spec):
            local = task.data
            element = parent.task_spec.input_item.bpmn_id
            if counts is None or parent.id not in counts:
                total = loop_counts(parent).total
                if counts is not None:
                    counts[parent.id] = total
            else:
                total = counts[parent.id]
            return LoopInstance(key=str(parent.id), counter=int(local.get(LOOP_COUNTER, 0)), total=total,
                                item=local.get(element) if element else None)
        workflow = task.workflow
        if workflow.parent_task_id is None:
            return None
        task = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return None


class MultiInstanceParser(TaskParser):
    """Builds the multi-instance specs above from what Camunda Modeler (or plain BPMN) writes."""

    def _add_multiinstance_task(self, loop_characteristics):
        prefix = "bpmn:multiInstanceLoopCharacteristics"

        def text(tag: str) -> str | None:
            found = self.xpath(f"./{prefix}/bpmn:{tag}")
            return (found[0].text or "").strip() or None if found else None

        def item_name(tag: str) -> str | None:
            found = self.xpath(f"./{prefix}/bpmn:{tag}")
            return (found[0].get("name") or found[0].get("id")) if found else None

        collection = loop_characteristics.get(f"{{{CAMUNDA_NS}}}collection") or text("loopDataInputRef")
        element = loop_characteristics.get(f"{{{CAMUNDA_NS}}}elementVariable") or item_name("inputDataItem")
        cardinality = text("loopCardinality")
        if (cardinality is None) == (collection is None):
            self.raise_validation_exception("A multi-instance step needs either a collection or a loop cardinality")
        output = text("loopDataOutputRef")
        output_item = item_name("outputDataItem")
        params = {
            "task_spec": "",
            "cardinality": cardinality,
            "data_input": TaskDataReference(collection) if collection else None,
            "data_output": TaskDataReference(output) if output else None,
            "input_item": LoopItem(element or ""),
            "output_item": TaskDataReference(output_item) if output_item else None,
            "condition": text("completionCondition"),
        }
        original = self.spec.task_specs.pop(self.task.name)
        kind = (AppSequentialMultiInstanceTask if loop_characteristics.get("isSequential") == "true"
                else AppParallelMultiInstanceTask)
        description = "Sequential MultiInstance" if kind is AppSequentialMultiInstanceTask else "Parallel MultiInstance"
        self.task = kind(self.spec, original.name, description=description, **params)
        self._copy_task_attrs(original, loop_characteristics)
        # SpiffWorkflow connects an instance's completion to the multi-instance task when it
        # creates an instance, on the spec in memory: a request loaded by another process (or
        # after a restart) would never hear of its instances completing. Connect it here, once.
        original.completed_event.connect(self.task.merge_child)


def with_multi_instance(classes: dict) -> dict:
    """The parser classes, each task parser given the multi-instance reading above."""
    made: dict = {}
    for tag, (parser_class, spec_class) in classes.items():
        if issubclass(parser_class, TaskParser) and not issubclass(parser_class, MultiInstanceParser):
            parser_class = type(f"App{parser_class.__name__}", (MultiInstanceParser, parser_class), {})
        made[tag] = (parser_class, spec_class)
    return made


def prepare_collections(root) -> list[tuple[Any, str]]:
    """Camunda's ``camunda:collection="${members}"`` names the variable ``members``: write it
    so, in place; the (element, problem) of a collection that is not one plain name."""
    problems = []
    key = f"{{{CAMUNDA_NS}}}collection"
    for node in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}multiInstanceLoopCharacteristics"):
        value = (node.get(key) or "").strip()
        if not value:
            continue
        match = _COLLECTION.fullmatch(value)
        if match is None:
            problems.append((node, f"the collection {value} must name one variable, as ${{members}} or members"))
        else:
            node.set(key, match.group(1) or match.group(2))
    return problems


_COLLECTION = re.compile(r"[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}|([A-Za-z_][A-Za-z0-9_]*)")
