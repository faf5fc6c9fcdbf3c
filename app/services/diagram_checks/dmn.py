"""Check the .dmn files of an upload: decision tables (several to a file, with requirements
between them) whose cells run: FEEL unary tests or Python (app/engine/dmn.py)."""

from __future__ import annotations

from functools import partial

from flask_babel import gettext as _
from lxml import etree

from app.engine.dmn import cell_language, required_decisions, requirement_problems
from app.engine.validate import (
    DMN_AGGREGATIONS,
    DMN_HIT_POLICIES,
    DMN_NAMESPACES,
    dmn_expression_problems,
    dmn_input_problems,
    dmn_values_problems,
)

from .report import _TOO_MUCH_CODE, _Findings


class Decisions(dict[str, str]):
    """Each decision id of the upload with the file it is in; ``required`` holds what each requires."""

    def __init__(self) -> None:
        super().__init__()
        self.required: dict[str, list[str]] = {}

    def needed(self, called: set[str]) -> set[str]:
        """The decisions ``called`` and every decision they require, directly or not."""
        found: set[str] = set()
        pending = list(called)
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                pending.extend(self.required.get(current, []))
        return found


def _check_dmn_files(roots: dict[str, etree._Element], found: _Findings) -> Decisions:
    """Check each .dmn file; return every decision of every file, with its file."""
    decisions = Decisions()
    nodes: dict[str, tuple[str, etree._Element]] = {}
    for name, root in roots.items():
        namespace = etree.QName(root).namespace
        if etree.QName(root).localname != "definitions" or namespace not in DMN_NAMESPACES:
            found.error(name, _("not a DMN file: it starts with <%(localname)s> in %(value)s; DMN 1.1 to 1.3 "
                                "(Camunda Modeler) are read",
                                localname=etree.QName(root).localname, value=namespace or 'no namespace'),
                        line=root.sourceline)
            continue
        d = f"{{{namespace}}}"
        found_decisions = root.findall(f"{d}decision")
        if not found_decisions:
            found.error(name, _("the file holds no decision"), line=root.sourceline)
        for decision in found_decisions:
            decision_id = decision.get("id") or ""
            if decision_id in decisions:
                found.error(name, _("the decision %(decision_id)s is also in %(decisions)s",
                                    decision_id=decision_id, decisions=decisions[decision_id]), decision)
                continue
            decisions[decision_id] = name
            decisions.required[decision_id] = required_decisions(decision)
            nodes[decision_id] = (name, decision)
            _check_decision(name, decision, d, found)
    for decision_id, problem in requirement_problems(decisions.required).items():
        file, node = nodes[decision_id]
        found.error(file, problem, node)
    return decisions


def _check_decision(name: str, decision: etree._Element, d: str, found: _Findings) -> None:
    label = " ".join((decision.get("name") or "").split()) or decision.get("id") or ""
    tables = decision.findall(f"{d}decisionTable")
    if len(tables) != 1:
        found.error(name, _("the decision “%(label)s” must be one decision table (literal expressions are not "
                            "supported)", label=label), decision)
        return
    table = tables[0]
    outputs = table.findall(f"{d}output")
    _check_policy(name, table, len(outputs), found)
    inputs = []
    for column in table.findall(f"{d}input"):
        expression = column.find(f"{d}inputExpression")
        text_node = expression.find(f"{d}text") if expression is not None else None
        text = (text_node.text or "").strip() if text_node is not None else ""
        _check_language(name, expression, found)
        if not text:
            found.error(name, _("the input column has no input expression"), column)
        else:
            for problem in _problems(found, text, dmn_expression_problems):
                found.error(name, _("the input expression cannot run: %(problem)s", problem=problem), column)
        inputs.append((text, column.get("label") or text or column.get("id") or ""))
    for column in outputs:
        if not (column.get("name") or "").strip():
            found.error(name, _("the output column has no name: its value would have no variable to go into"),
                        column)
        values = column.find(f"{d}outputValues/{d}text")
        for problem in dmn_values_problems(values.text if values is not None else None):
            found.error(name, problem, column)
    policy = " ".join((table.get("hitPolicy") or "").upper().split())
    if policy in ("PRIORITY", "OUTPUT ORDER") and all(c.find(f"{d}outputValues") is None for c in outputs):
        found.warning(name, _("the hit policy %(policy)s orders the matching rules by each output's list of "
                              "values, and no output has one: rule order decides", policy=policy), table)
    for number, rule in enumerate(table.findall(f"{d}rule"), start=1):
        _check_rule(name, label, number, rule, inputs, len(outputs), d, found)


def _check_policy(name: str, table: etree._Element, outputs: int, found: _Findings) -> None:
    policy = " ".join((table.get("hitPolicy") or "UNIQUE").upper().split())
    if policy not in DMN_HIT_POLICIES:
        found.error(name, _("the hit policy %(policy)s is not supported: use UNIQUE, FIRST, ANY, PRIORITY, RULE "
                            "ORDER, OUTPUT ORDER or COLLECT", policy=policy), table)
    aggregation = (table.get("aggregation") or "").strip().upper()
    if not aggregation:
        return
    if aggregation not in DMN_AGGREGATIONS:
        found.error(name, _("COLLECT with %(aggregation)s is not supported: use SUM, MIN, MAX or COUNT",
                            aggregation=aggregation), table)
    elif policy != "COLLECT":
        found.error(name, _("the aggregation %(aggregation)s works only with the hit policy COLLECT",
                            aggregation=aggregation), table)
    elif outputs != 1:
        found.error(name, _("COLLECT with %(aggregation)s needs exactly one output column (%(outputs)s found)",
                            aggregation=aggregation, outputs=outputs), table)


def _check_rule(name: str, label: str, number: int, rule: etree._Element, inputs: list[tuple[str, str]],
                outputs: int, d: str, found: _Findings) -> None:
    entries = rule.findall(f"{d}inputEntry")
    results = rule.findall(f"{d}outputEntry")
    if len(entries) != len(inputs) or len(results) != outputs:
        found.error(name, _("the decision “%(label)s”, rule %(number)s: the rule does not have one cell per column",
                            label=label, number=number),
                    rule)
        return
    for entry, (expression, column) in zip(entries, inputs, strict=True):
        _check_language(name, entry, found)
        cell = entry.find(f"{d}text")
        text = (cell.text or "").strip() if cell is not None else ""
        if not expression:
            continue
        check = partial(dmn_input_problems, language=cell_language(entry))
        for problem in _problems(found, text, check):
            found.error(name, _("the decision “%(label)s”, rule %(number)s, column “%(column)s”: %(problem)s",
                                label=label, number=number, column=column, problem=problem), entry)
    for entry in results:
        _check_language(name, entry, found)
        cell = entry.find(f"{d}text")
        text = (cell.text or "").strip() if cell is not None else ""
        if text:
            for problem in _problems(found, text, dmn_expression_problems):
                found.error(name, _("the decision “%(label)s”, rule %(number)s: the output cell cannot run: "
                                    "%(problem)s", label=label, number=number, problem=problem),
                            entry)


def _problems(found: _Findings, text: str, check) -> list[str]:
    """The problems ``check`` finds in a piece of code, within the upload's compile budget."""
    return check(text) if found.code_budget(text) else [_TOO_MUCH_CODE]


def _check_language(name: str, node: etree._Element | None, found: _Findings) -> None:
    language = (node.get("expressionLanguage") or "").strip().lower() if node is not None else ""
    if language and not any(known in language for known in ("python", "feel", "juel")):
        found.error(name, _("the expression language %(language)s is not supported: cells are FEEL or Python",
                            language=language), node)
