"""Run a decision of a DMN model: its required decisions first, then its table and hit policy.

The business rule task (``camunda:decisionRef``) runs the named decision through
``DecisionEngine.result``; its outputs go into the request's data by their names. Required
decisions' outputs are visible, by their names, to the input expressions and cells of the
decisions that require them (as in Camunda), but only the called decision's outputs are kept.

Hit policies: UNIQUE (more than one match stops the step), FIRST, ANY (matches must agree),
PRIORITY and OUTPUT ORDER (by the order of each output's listed values, outputs from left to
right; rule order among equals), RULE ORDER and COLLECT (lists, in rule order), COLLECT with
SUM, MIN, MAX or COUNT (one value, nulls left out). With no match, a single-hit table gives
null for each output and a multiple-hit table empty lists (SUM, MIN and MAX: null; COUNT: 0).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import WorkflowException

from .dmn import INPUT, SINGLE_HIT, Column, Decision, DmnError, InputCell, Rule, read_file, requirement_problems
from .feel import FEEL_FUNCTIONS
from .limits import ScriptLimitError


class DecisionError(Exception):
    """A decision that could not give a result; the message names the decision and rule."""


class DecisionEngine:
    """What a business rule task holds: the decision it calls and every decision it may need."""

    def __init__(self, decision_id: str, decisions: dict[str, Decision]):
        self.decision_id = decision_id
        self.decisions = decisions

    @property
    def decision(self) -> Decision:
        return self.decisions[self.decision_id]

    def result(self, task) -> dict[str, Any]:
        environment = task.workflow.script_engine.environment
        return evaluate(self.decisions, self.decision_id, dict(task.data), environment.evaluate)

    def needed(self) -> dict[str, Decision]:
        """The called decision and those it requires, directly or not."""
        found: dict[str, Decision] = {}
        pending = [self.decision_id]
        while pending:
            current = pending.pop()
            if current not in found and current in self.decisions:
                found[current] = self.decisions[current]
                pending.extend(found[current].required)
        return found


def evaluate(decisions: dict[str, Decision], decision_id: str, data: dict[str, Any], run) -> dict[str, Any]:
    """The outputs of ``decision_id`` on ``data``; ``run(code, scope)`` evaluates Python."""
    done: dict[str, dict[str, Any]] = {}
    return _evaluate(decisions, decision_id, data, run, done, ())


def _evaluate(decisions, decision_id, data, run, done, chain) -> dict[str, Any]:
    if decision_id in done:
        return done[decision_id]
    if decision_id in chain:
        raise DecisionError(f"the decision {decision_id} requires itself")
    decision = decisions[decision_id]
    scope = dict(data)
    for required in decision.required:
        scope.update(_evaluate(decisions, required, data, run, done, (*chain, decision_id)))
    scope.update(FEEL_FUNCTIONS)
    done[decision_id] = _table(decision, scope, run)
    return done[decision_id]


def _table(decision: Decision, scope: dict[str, Any], run) -> dict[str, Any]:
    values: dict[int, Any] = {}
    matched: list[tuple[Rule, dict[str, Any]]] = []
    for rule in decision.rules:
        if all(_matches(decision, rule, index, cell, scope, values, run) for index, cell in enumerate(rule.inputs)):
            scope.pop(INPUT, None)
            matched.append((rule, _outputs(decision, rule, scope, run)))
            if decision.hit_policy == "FIRST":
                break
    return _apply_policy(decision, matched)


def _matches(decision: Decision, rule: Rule, index: int, cell: InputCell, scope, values, run) -> bool:
    if cell.language == "any":
        return True
    column = decision.inputs[index]
    if index not in values:
        values[index] = _run(run, column.code, scope, decision, f"the input expression of “{column.label}”")
    scope[INPUT] = values[index]
    return bool(_run(run, cell.code, scope, decision, f"rule {rule.number}, column “{column.label}” ({cell.text})"))


def _outputs(decision: Decision, rule: Rule, scope, run) -> dict[str, Any]:
    return {column.name: _run(run, code, scope, decision, f"rule {rule.number}, output “{column.label}”")
            for column, code in zip(decision.outputs, rule.outputs, strict=True)}


def _run(run, code: str, scope: dict[str, Any], decision: Decision, where: str) -> Any:
    try:
        return run(code, scope)
    except (ScriptLimitError, WorkflowException):
        raise
    except Exception as exc:  # whatever the cell raised, said with where it was
        raise DecisionError(f"the decision “{decision.label}”, {where}: {type(exc).__name__}: {exc}") from exc


def _apply_policy(decision: Decision, matched: list[tuple[Rule, dict[str, Any]]]) -> dict[str, Any]:
    policy, names = decision.hit_policy, [c.name for c in decision.outputs]
    numbers = [rule.number for rule, _ in matched]
    if policy == "UNIQUE" and len(matched) > 1:
        raise DecisionError(f"the decision “{decision.label}” has the hit policy UNIQUE, but rules "
                            f"{_and(numbers)} all match: make the rules exclusive, or use FIRST or COLLECT")
    if policy == "ANY" and any(out != matched[0][1] for _, out in matched[1:]):
        raise DecisionError(f"the decision “{decision.label}” has the hit policy ANY, but rules {_and(numbers)} "
                            "match with different outputs")
    if policy in ("PRIORITY", "OUTPUT ORDER"):
        matched = sorted(matched, key=lambda hit: _priority(decision.outputs, hit[1]))
    if policy in SINGLE_HIT:
        return dict(matched[0][1]) if matched else dict.fromkeys(names)
    if decision.aggregation is not None:
        values = [out[names[0]] for _, out in matched if out[names[0]] is not None]
        return {names[0]: _aggregate(decision, values)}
    return {name: [out[name] for _, out in matched] for name in names}


def _priority(outputs: tuple[Column, ...], values: dict[str, Any]) -> tuple[int, ...]:
    """Where each output's value stands in its column's list of values (unlisted: last)."""
    key = []
    for column in outputs:
        listed = column.values
        value = values[column.name]
        key.append(next((i for i, v in enumerate(listed) if _same(v, value)), len(listed)))
    return tuple(key)


def _same(listed: Any, value: Any) -> bool:
    if listed is None or value is None:
        return listed is value
    return isinstance(listed, bool) == isinstance(value, bool) and listed == value


def _aggregate(decision: Decision, values: list[Any]) -> Any:
    if decision.aggregation == "COUNT":
        return len(values)
    if not values:
        return None
    try:
        if decision.aggregation == "SUM":
            return sum(values[1:], values[0])
        return min(values) if decision.aggregation == "MIN" else max(values)
    except TypeError as exc:
        raise DecisionError(f"the decision “{decision.label}” cannot take the {decision.aggregation} of "
                            f"{values!r}: {exc}") from exc


def _and(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


# --- The business rule task -----------------------------------------------------------------

def _set_path(data: dict[str, Any], name: str, value: Any) -> None:
    """Put ``value`` at ``name``; a dotted name (``claim.level``) goes into nested dictionaries."""
    *parents, last = name.split(".")
    for part in parents:
        child = data.get(part)
        if not isinstance(child, dict):
            child = data[part] = {}
        data = child
    data[last] = value


class AppBusinessRuleTask(BusinessRuleTask):
    """Camunda's business rule task, running the decision with ``DecisionEngine``; each output
    replaces the variable of its name (SpiffWorkflow's merge would add to an earlier list)."""

    def _run_hook(self, my_task):
        try:
            result = self.dmnEngine.result(my_task)
        except (DecisionError, ScriptLimitError) as exc:  # a limit is named by EngineError.from_workflow
            raise WorkflowTaskException(str(exc), task=my_task, exception=exc) from exc
        for name, value in result.items():
            _set_path(my_task.data, name, value)
        return super(BusinessRuleTaskMixin, self)._run_hook(my_task)  # the rest of the chain, not the merge


class AppBusinessRuleTaskParser(BusinessRuleTaskParser):
    def create_task(self):
        decision_ref = self.get_decision_ref(self.node)
        return AppBusinessRuleTask(self.spec, self.bpmn_id,
                                   dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
                                   **self.bpmn_attributes)


class DecisionParserMixin:
    """For the BPMN parser: read every decision of each .dmn file added; check requirements."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.app_decisions: dict[str, Decision] = {}

    def add_dmn_xml(self, node, filename=None):
        schema = self.dmn_schemas.get(etree.QName(node).namespace)
        if self.validator and schema is not None:  # as SpiffWorkflow does
            BpmnValidator(schema).validate(node, filename)
        decisions = self.app_decisions
        try:
            found = read_file(node)
        except DmnError as exc:
            raise ValidationException(str(exc), node=exc.node, file_name=filename) from None
        for decision in found:
            if decision.id in decisions:
                raise ValidationException(f"the decision {decision.id} is in more than one .dmn file",
                                          file_name=filename)
            decisions[decision.id] = decision

    def get_engine(self, decision_ref, node):
        decisions = self.app_decisions
        if decision_ref not in decisions:
            known = ", ".join(sorted(decisions)) or "none"
            raise ValidationException(f"the decision {decision_ref!r} is in none of the .dmn files (decisions "
                                      f"found: {known})", node=node, file_name="")
        problems = requirement_problems({d.id: list(d.required) for d in decisions.values()})
        engine = DecisionEngine(decision_ref, decisions)
        for decision_id in engine.needed():
            if decision_id in problems:
                raise ValidationException(problems[decision_id], node=node, file_name="")
        return DecisionEngine(decision_ref, engine.needed())


class AppBusinessRuleTaskConverter(TaskSpecConverter):
    """Saves the decision with its requirements as plain data (a changed table shows as changed)."""

    def to_dict(self, spec):
        dct = self.get_default_attributes(spec)
        dct["decision_ref"] = spec.dmnEngine.decision_id
        dct["decision_table"] = {key: _plain(d) for key, d in sorted(spec.dmnEngine.decisions.items())}
        return dct

    def from_dict(self, dct):
        decisions = {key: _decision(value) for key, value in dct.pop("decision_table").items()}
        dct["dmnEngine"] = DecisionEngine(dct.pop("decision_ref"), decisions)
        return self.task_spec_from_dict(dct)


def _plain(decision: Decision) -> dict[str, Any]:
    return {
        "id": decision.id, "name": decision.name, "hit_policy": decision.hit_policy,
        "aggregation": decision.aggregation, "required": list(decision.required),
        "inputs": [vars(c) for c in decision.inputs], "outputs": [vars(c) for c in decision.outputs],
        "rules": [{"id": r.id, "number": r.number, "inputs": [vars(c) for c in r.inputs],
                   "outputs": list(r.outputs)} for r in decision.rules],
    }


def _decision(dct: dict[str, Any]) -> Decision:
    return Decision(
        dct["id"], dct["name"], dct["hit_policy"], dct["aggregation"],
        tuple(Column(**c) for c in dct["inputs"]), tuple(Column(**c) for c in dct["outputs"]),
        tuple(Rule(r["id"], r["number"], tuple(InputCell(**c) for c in r["inputs"]), tuple(r["outputs"]))
              for r in dct["rules"]),
        tuple(dct["required"]),
    )
