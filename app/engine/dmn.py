"""Read DMN decision tables as Camunda Modeler writes them: every decision of every .dmn file,
the requirements between them (a DRD), FEEL or Python cells. ``decide.py`` runs them.

Which language an input cell is in: the cell's ``expressionLanguage`` (or, failing that, the
``expressionLanguage`` of the file's ``definitions``) when it names Python or FEEL; otherwise
the cell is read as FEEL if it is a FEEL unary test (``feel.py``), and as Python if it is not
but compiles as Python (``? <= 400``, ``5000 < ? <= 15000``, ``in ("a", "b")``, ...). The
two readings agree wherever both accept a cell (``"air"``, ``<= 400``, ``-``, ``10``), so the
tables written for SpiffWorkflow's Python cells keep their meaning. A Python cell means what
SpiffWorkflow made of it: ``?`` stands for the input; a cell that is an expression is compared
with ``==``; one that starts with an operator (``<= 6``) continues the input.

Output cells and input expressions are Python expressions, in which ``true``, ``false`` and
``null`` mean ``True``, ``False`` and ``None``, or JUEL (``${input1}``); an empty output
cell gives null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .code_errors import plain_syntax
from .feel import INPUT, FeelError, feel_literals_to_python, literal_values, unary_tests_to_python
from .juel import JuelError, is_juel, to_python
from .scripting import ScriptError, compile_expression

HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "PRIORITY", "RULE ORDER", "OUTPUT ORDER", "COLLECT")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
SINGLE_HIT = ("UNIQUE", "FIRST", "ANY", "PRIORITY")
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # as SpiffWorkflow finds it


class DmnError(ValueError):
    """A decision that cannot run; ``node`` is the element to point at."""

    def __init__(self, message: str, node: etree._Element | None = None):
        super().__init__(message)
        self.node = node


@dataclass(frozen=True)
class InputCell:
    text: str  # as written
    language: str  # "any", "feel" or "python"
    code: str  # Python over cellInput


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    name: str  # outputs: the variable the value goes into
    code: str  # inputs: the input expression, as Python; "" when empty
    values_text: str = ""  # outputs: the listed output values (FEEL), in decreasing priority

    @property
    def values(self) -> tuple:
        return tuple(literal_values(self.values_text))


@dataclass(frozen=True)
class Rule:
    id: str
    number: int
    inputs: tuple[InputCell, ...]
    outputs: tuple[str, ...]  # Python; "None" for an empty cell


@dataclass(frozen=True)
class Decision:
    id: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rules: tuple[Rule, ...]
    required: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return self.name or self.id


# --- Cells ----------------------------------------------------------------------------------

def cell_language(node: etree._Element) -> str:
    """``python``, ``feel`` or ``auto`` for a cell, from its own or its file's expressionLanguage."""
    for candidate in (node, node.getroottree().getroot()):
        language = (candidate.get("expressionLanguage") or "").strip().lower()
        if "python" in language:
            return "python"
        if "feel" in language:
            return "feel"
    return "auto"


def python_cell(text: str) -> str:
    """A Python input cell as an expression over ``cellInput``, as SpiffWorkflow reads it
    (``true``, ``false`` and ``null`` read as in FEEL)."""
    text = feel_literals_to_python(text)
    replaced = _QUESTION_MARK.sub(INPUT, text)
    if INPUT in replaced and replaced != text:
        compile_expression(replaced)
        return replaced
    try:
        compile_expression(text)
        code = f"{INPUT} == ({text})"
    except ScriptError:
        code = f"{INPUT} {text}"
    compile_expression(code)
    return code


def input_cell(text: str | None, language: str = "auto") -> InputCell:
    """Translate one input cell; raise FeelError (FEEL, or neither) or ScriptError (Python)."""
    source = (text or "").strip()
    if source in ("", "-"):
        return InputCell(source, "any", "True")
    if language == "python":
        return InputCell(source, "python", python_cell(source))
    if language == "auto" and _QUESTION_MARK.search(source):
        return InputCell(source, "python", python_cell(source))
    try:
        code = unary_tests_to_python(source)
    except FeelError:
        if language == "feel":
            raise
        try:
            return InputCell(source, "python", python_cell(source))
        except ScriptError:
            pass
        raise
    compile_expression(code)
    return InputCell(source, "feel", code)


def expression(text: str | None) -> str:
    """An output cell or input expression as Python ("None" when empty): JUEL (``${input1}``, as
    Camunda's older tables write them) through ``juel.py``, else Python with FEEL's words.
    ScriptError if it does not compile."""
    source = (text or "").strip()
    if not source:
        return "None"
    if is_juel(source):
        try:
            code = to_python(source)
        except JuelError as exc:
            raise ScriptError(f"the JUEL expression {source} cannot run here: {exc}") from None
    else:
        code = feel_literals_to_python(source)
    compile_expression(code)
    return code


# --- Files ----------------------------------------------------------------------------------

def _text(node: etree._Element | None, d: str) -> str:
    found = node.find(f"{d}text") if node is not None else None
    return (found.text or "").strip() if found is not None else ""


def decision_nodes(root: etree._Element) -> list[etree._Element]:
    return root.findall(f"{{{etree.QName(root).namespace}}}decision")


def required_decisions(decision: etree._Element) -> list[str]:
    """The ids of the decisions ``decision`` requires (``href="#dish"``), in order, once each."""
    d = f"{{{etree.QName(decision).namespace}}}"
    refs = [r.get("href", "") for r in decision.iterfind(f"{d}informationRequirement/{d}requiredDecision")]
    return list(dict.fromkeys(ref.rpartition("#")[2] for ref in refs if ref.strip()))


def read_decision(node: etree._Element) -> Decision:
    """Read one decision element; DmnError names what is wrong and where."""
    d = f"{{{etree.QName(node).namespace}}}"
    decision_id, name = node.get("id") or "", " ".join((node.get("name") or "").split())
    label = name or decision_id
    tables = node.findall(f"{d}decisionTable")
    if len(tables) != 1:
        raise DmnError(f"the decision “{label}” must be a decision table (literal expressions are not "
                       "supported)", node)
    table = tables[0]
    policy = " ".join((table.get("hitPolicy") or "UNIQUE").upper().split())
    if policy not in HIT_POLICIES:
        raise DmnError(f"the hit policy {policy} is not supported: use one of {', '.join(HIT_POLICIES)}", table)
    aggregation = (table.get("aggregation") or "").strip().upper() or None
    inputs, outputs = [], []
    for column in table.findall(f"{d}input"):
        text = _text(column.find(f"{d}inputExpression"), d)
        column_label = column.get("label") or text or column.get("id") or ""
        try:
            code = expression(text) if text else ""
        except ScriptError as exc:
            raise DmnError(f"the input expression {text} of “{column_label}” cannot run: "
                           f"{plain_syntax(str(exc), 'expression') or exc}", column) from None
        inputs.append(Column(column.get("id") or "", column_label, "", code))
    for column in table.findall(f"{d}output"):
        output_name = (column.get("name") or "").strip()
        values = _text(column.find(f"{d}outputValues"), d)
        try:
            literal_values(values)
        except FeelError as exc:
            raise DmnError(f"the output values of “{column.get('label') or output_name}” cannot be read: {exc}",
                           column) from None
        outputs.append(Column(column.get("id") or "", column.get("label") or output_name, output_name, "", values))
    _check_policy(label, policy, aggregation, outputs, table)
    rules = []
    for number, rule in enumerate(table.findall(f"{d}rule"), start=1):
        rules.append(_read_rule(label, rule, number, inputs, outputs, d))
    return Decision(decision_id, name, policy, aggregation, tuple(inputs), tuple(outputs), tuple(rules),
                    tuple(required_decisions(node)))


def _check_policy(label: str, policy: str, aggregation: str | None, outputs: list[Column],
                  table: etree._Element) -> None:
    if not outputs:
        raise DmnError(f"the decision “{label}” has no output column", table)
    for column in outputs:
        if not column.name:
            raise DmnError(f"the output column “{column.label or column.id}” has no name: its value would have "
                           "no variable to go into", table)
    if aggregation is not None:
        if policy != "COLLECT":
            raise DmnError(f"the aggregation {aggregation} works only with the hit policy COLLECT", table)
        if aggregation not in AGGREGATIONS:
            raise DmnError(f"COLLECT with {aggregation} is not supported: use SUM, MIN, MAX or COUNT", table)
        if len(outputs) != 1:
            raise DmnError(f"COLLECT with {aggregation} needs exactly one output column "
                           f"({len(outputs)} found)", table)


def _read_rule(label: str, rule: etree._Element, number: int, inputs: list[Column], outputs: list[Column],
               d: str) -> Rule:
    entries, results = rule.findall(f"{d}inputEntry"), rule.findall(f"{d}outputEntry")
    if len(entries) != len(inputs) or len(results) != len(outputs):
        raise DmnError(f"the decision “{label}”, rule {number}: the rule does not have one cell per column", rule)
    cells = []
    for entry, column in zip(entries, inputs, strict=True):
        text = _text(entry, d)
        try:
            cell = input_cell(text, cell_language(entry))
        except (FeelError, ScriptError) as exc:
            raise DmnError(f"the decision “{label}”, rule {number}, column “{column.label}”: {text} "
                           f"{_cell_reason(exc)}", entry) from None
        if cell.language != "any" and not column.code:
            raise DmnError(f"the decision “{label}”, rule {number}, column “{column.label}”: the column has "
                           "no input expression to test", entry)
        cells.append(cell)
    codes = []
    for entry, column in zip(results, outputs, strict=True):
        text = _text(entry, d)
        try:
            codes.append(expression(text))
        except ScriptError as exc:
            raise DmnError(f"the decision “{label}”, rule {number}, output “{column.label}”: {text} cannot "
                           f"run: {plain_syntax(str(exc), 'expression') or exc}", entry) from None
    return Rule(rule.get("id") or f"rule_{number}", number, tuple(cells), tuple(codes))


def _cell_reason(exc: Exception) -> str:
    if isinstance(exc, FeelError):
        return f"is not a FEEL unary test ({exc}) nor a Python cell"
    return f"cannot run as Python: {plain_syntax(str(exc), 'dmn cell') or str(exc).removeprefix('Line 1: ')}"


def read_file(root: etree._Element) -> list[Decision]:
    """Every decision of a DMN file, in the file's order; DmnError on the first that cannot run."""
    return [read_decision(node) for node in decision_nodes(root)]


# --- Requirements ---------------------------------------------------------------------------

def requirement_problems(required: dict[str, list[str]]) -> dict[str, str]:
    """What is wrong with the requirements between decisions: {decision id: message}.

    ``required`` maps each decision to the decisions it requires. A required decision that is
    missing, and a cycle (a decision that ends up requiring itself), are refused.
    """
    problems: dict[str, str] = {}
    for decision, needs in required.items():
        missing = [n for n in needs if n not in required]
        if missing:
            problems[decision] = (f"the decision {decision} requires {', '.join(missing)}, which is in none of "
                                  "the uploaded .dmn files")
    for decision in required:
        path = _cycle(decision, required)
        if path and decision not in problems:
            problems[decision] = ("the decisions require each other in a circle ("
                                  + " → ".join(path) + "): a decision cannot depend on its own result")
    return problems


def _cycle(start: str, required: dict[str, list[str]]) -> list[str] | None:
    """The path from ``start`` back to itself through the requirements, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, path = stack.pop()
        for need in required.get(current, []):
            if need == start:
                return path + [start]
            if need not in seen:
                seen.add(need)
                stack.append((need, path + [need]))
    return None
