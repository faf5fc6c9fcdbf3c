"""camunda:inputOutput: input parameters before an activity runs, output parameters after it.

SpiffWorkflow's camunda parser does not read ``camunda:inputOutput``. This module reads it from
the diagram (``read_input_output``) and hooks it onto the task spec that SpiffWorkflow built for
the element (``attach``), through the spec's own events, so it works with every task spec class
(stock or the app's own) without subclassing any:

- ``update_event`` fires in ``TaskSpec._update_hook`` right after the task took its data from
  the task before it, and before it becomes ready (a subprocess copies its data into its
  subprocess after that): the input parameters are evaluated on that data and set in it;
- ``completed_event`` fires at the end of ``_on_complete_hook``, before the next task takes the
  data: the output parameters are evaluated on the task's data, the input parameters' names get
  back the values they had before (or are removed), then the outputs are set.

So, as in Camunda, input parameters are the activity's local variables (a form's ``${name}``
defaults and a script or service see them; the rest of the process does not), and output
parameters are what the activity hands back. Unlike Camunda there is no separate local scope:
what the activity itself sets (form fields, script variables, service results) reaches the
process as before, as Camunda's non-local ``setVariable`` does.

Values: text (a literal, as Camunda keeps it: trimmed; empty is null), ``${...}`` JUEL
(translated by ``juel.text_to_python``; text around it makes a text: ``Dear ${name}``),
``camunda:list``, ``camunda:map`` (literal keys), and ``camunda:script`` with
``scriptFormat="python"`` holding one Python expression. All code is compiled by the
restricted evaluator when the diagram is read.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from .juel import JuelError, is_juel, text_to_python
from .validate import code_problems

CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_SAVED = "camunda_input_locals"  # task.internal_data: what the input parameters covered
# Where Camunda 7 reads camunda:inputOutput: activities, intermediate and end events.
HOSTS = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "manualTask", "callActivity", "subProcess", "transaction", "intermediateCatchEvent",
    "intermediateThrowEvent", "endEvent",
})
PYTHON_FORMATS = frozenset({"python", "python3", "py"})



class MappingError(ValueError):
    """A camunda:inputOutput that cannot run here; ``node`` is where."""

    def __init__(self, detail: str, node: etree._Element):
        super().__init__(detail)
        self.detail = detail
        self.node = node


@dataclass(frozen=True)
class Value:
    kind: str  # "null", "literal", "code", "list", "map"
    text: str = ""  # the literal, or the Python to evaluate
    items: tuple = ()  # of a list: Values; of a map: (key, Value) pairs


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Value


@dataclass(frozen=True)
class InputOutput:
    inputs: tuple[Parameter, ...]
    outputs: tuple[Parameter, ...]


def mapping_nodes(root: etree._Element):
    """Each camunda:inputOutput of an element's extensions (not those inside a connector)."""
    for node in root.iter(f"{CAMUNDA}inputOutput"):
        parent = node.getparent()
        if parent is not None and parent.tag == f"{BPMN}extensionElements":
            yield node


def read_input_output(node: etree._Element) -> InputOutput:
    """The parameters of one camunda:inputOutput element; MappingError when one cannot run."""
    element = node.getparent().getparent()
    kind = etree.QName(element).localname
    if kind not in HOSTS or element.get("triggeredByEvent") == "true":
        what = "an event subprocess" if kind == "subProcess" else f"bpmn:{kind}"
        raise MappingError(f"camunda:inputOutput on {what} does not run (nor in Camunda): put the mapping on a "
                           "task, subprocess, intermediate event or end event", element)
    inputs: list[Parameter] = []
    outputs: list[Parameter] = []
    for child in node:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if child.tag not in (f"{CAMUNDA}inputParameter", f"{CAMUNDA}outputParameter"):
            raise MappingError(f"camunda:{local} is not read inside camunda:inputOutput: use camunda:inputParameter "
                               "or camunda:outputParameter", child)
        name = (child.get("name") or "").strip()
        if not name.isidentifier() or name.startswith("_"):
            raise MappingError(f"the {local} name {name!r} cannot be a variable: use letters, digits and _, "
                               "starting with a letter", child)
        (inputs if local == "inputParameter" else outputs).append(Parameter(name, _value(child, local)))
    return InputOutput(tuple(inputs), tuple(outputs))


def _value(node: etree._Element, what: str) -> Value:
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        return _text_value(node, what)
    if len(children) > 1 or (node.text or "").strip():
        raise MappingError(f"the {what} holds several values: give it one text, ${{...}}, camunda:list, "
                           "camunda:map or camunda:script", node)
    child = children[0]
    local = etree.QName(child).localname
    if child.tag == f"{CAMUNDA}list":
        items = [c for c in child if isinstance(c.tag, str)]
        return Value("list", items=tuple(_value(item, "list value") for item in items))
    if child.tag == f"{CAMUNDA}map":
        entries = []
        for entry in (c for c in child if isinstance(c.tag, str)):
            key = entry.get("key")
            if entry.tag != f"{CAMUNDA}entry" or key is None:
                raise MappingError("a camunda:map holds camunda:entry elements, each with a key", entry)
            if is_juel(key):
                raise MappingError(f"the map key {key} is an expression: write the key as text", entry)
            entries.append((key, _value(entry, f"map entry {key!r}")))
        return Value("map", items=tuple(entries))
    if child.tag == f"{CAMUNDA}script":
        return _script_value(child)
    if child.tag == f"{CAMUNDA}value":  # an item of a camunda:list
        return _value(child, what)
    raise MappingError(f"camunda:{local} is not a value here: use text, ${{...}}, camunda:list, camunda:map or "
                       "camunda:script", child)


def _text_value(node: etree._Element, what: str) -> Value:
    text = (node.text or "").strip()
    if not text:
        return Value("null")
    if "${" in text or "#{" in text:
        try:
            return Value("code", _compiled(text_to_python(text), node, what))
        except JuelError as exc:
            raise MappingError(f"the {what} {text} cannot run here: {exc}", node) from None
    return Value("literal", text)


def _script_value(node: etree._Element) -> Value:
    language = (node.get("scriptFormat") or "").strip()
    if language.lower() not in PYTHON_FORMATS:
        raise MappingError(f"a camunda:script in {language or 'no language'} does not run here: write the value as "
                           "${...} or as one Python expression with scriptFormat=\"python\"", node)
    if node.get("resource"):
        raise MappingError("an external script resource is not read: put the Python expression in the element", node)
    text = (node.text or "").strip()
    if not text:
        raise MappingError("the camunda:script is empty", node)
    return Value("code", _compiled(text, node, "script"))


def _compiled(python: str, node: etree._Element, what: str) -> str:
    problems = code_problems(python)
    if problems:
        raise MappingError(f"the {what} cannot run: {problems[0]}", node)
    return python


def mapping_problems(root: etree._Element) -> list[MappingError]:
    """Why each camunda:inputOutput of a diagram that cannot run cannot ([] when all can)."""
    problems = []
    for node in mapping_nodes(root):
        try:
            read_input_output(node)
        except MappingError as exc:
            problems.append(exc)
    return problems


# --- running ------------------------------------------------------------------------------------

def attach_mappings(root: etree._Element, task_specs: Iterable[Any]) -> None:
    """Hook each element's camunda:inputOutput onto the task specs SpiffWorkflow built for it
    (of a multi-instance or loop activity, onto the spec each instance runs)."""
    by_id: dict[str | None, list] = {}
    for task_spec in task_specs:
        if not isinstance(task_spec, LoopTask):
            by_id.setdefault(getattr(task_spec, "bpmn_id", None), []).append(task_spec)
    for node in mapping_nodes(root):
        mapping = read_input_output(node)
        for task_spec in by_id.get(node.getparent().getparent().get("id"), []):
            attach(task_spec, mapping)


def attach(task_spec: Any, mapping: InputOutput) -> None:
    """Run ``mapping`` whenever a task of ``task_spec`` starts and completes."""
    if getattr(task_spec, "input_output", None) is not None:
        return
    task_spec.input_output = mapping
    if mapping.inputs:
        task_spec.update_event.connect(_on_update, mapping)
    if mapping.inputs or mapping.outputs:
        # Outputs are written before anything else hears of the completion: a multi-instance
        # step merges its instance's data on this event too (multi.py), and must see them.
        event = task_spec.completed_event
        others = list(event.hard_subscribers or [])
        for callback, _args, _kwargs in others:
            event.disconnect(callback)
        event.connect(_on_completed, mapping)
        for callback, args, kwargs in others:
            event.connect(callback, *args, **kwargs)


def _evaluate(value: Value, task: Any) -> Any:
    if value.kind == "null":
        return None
    if value.kind == "literal":
        return value.text
    if value.kind == "list":
        return [_evaluate(item, task) for item in value.items]
    if value.kind == "map":
        return {key: _evaluate(item, task) for key, item in value.items}
    result = task.workflow.script_engine.evaluate(task, value.text, external_context=task.workflow.data_objects)
    return copy.deepcopy(result)


def _on_update(workflow: Any, task: Any, mapping: InputOutput) -> None:
    if _SAVED not in task.internal_data:  # the first time only: a waiting event is updated again
        covered = {p.name: task.data[p.name] for p in mapping.inputs if p.name in task.data}
        task.internal_data[_SAVED] = {"values": copy.deepcopy(covered),
                                      "absent": [p.name for p in mapping.inputs if p.name not in task.data]}
    # Camunda evaluates every input on the enclosing scope, so none sees another.
    values = [(p.name, _evaluate(p.value, task)) for p in mapping.inputs]
    task.data.update(values)


def _on_completed(workflow: Any, task: Any, mapping: InputOutput) -> None:
    results = [(p.name, _evaluate(p.value, task)) for p in mapping.outputs]
    saved = task.internal_data.pop(_SAVED, None) or {"values": {}, "absent": []}
    for name in saved["absent"]:
        task.data.pop(name, None)
    task.data.update(saved["values"])
    for name, value in results:
        task.data[name] = value
