"""Checks on a diagram that need the engine: XSD, timers, code under the restricted evaluator.

``app.services.diagram_checks`` runs these with the rest of the upload checks; nothing here
runs diagram code, it only compiles and inspects it.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import re
import threading

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from .juel_runtime import JUEL_HELPERS
from .scripting import HELPERS, SAFE_BUILTINS, ScriptError, compile_expression, compile_script

DMN_NAMESPACES = frozenset(DMN_SCHEMAS)
# How SpiffWorkflow's DMN engine reads hit policies: the first matching rule wins for each of
# these, and COLLECT gathers every match into lists. Others would silently behave like FIRST.
DMN_HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "ANY", "COLLECT"})
MAX_XSD_PROBLEMS = 20

_validator: BpmnValidator | None = None
_validator_lock = threading.Lock()
_SHORT_NAMESPACES = {
    "{http://www.omg.org/spec/BPMN/20100524/MODEL}": "bpmn:",
    "{http://www.omg.org/spec/BPMN/20100524/DI}": "bpmndi:",
    "{http://www.omg.org/spec/DD/20100524/DC}": "dc:",
    "{http://www.omg.org/spec/DD/20100524/DI}": "di:",
}


def xsd_problems(root: etree._Element) -> list[tuple[int | None, str]]:
    """Where ``root`` breaks the BPMN 2.0 schema: (line, message) pairs, [] when valid."""
    global _validator
    tree = copy.deepcopy(root)  # the validator rewrites bpmn-js's correlation tags in place
    with _validator_lock:  # one schema, built once; its error log is not shared between threads
        if _validator is None:
            _validator = BpmnValidator()
        _validator.preprocess(tree)
        if _validator.validator.validate(tree):
            return []
        errors = [(e.line or None, _shorten(e.message)) for e in _validator.validator.error_log]
    return errors[:MAX_XSD_PROBLEMS]


def _shorten(message: str) -> str:
    for long, short in _SHORT_NAMESPACES.items():
        message = message.replace(long, short)
    return message


# --- Code: scripts, conditions, DMN cells, timer expressions ----------------------------------

# Names that reach outside the evaluator if they ever became available: refused wherever they appear.
FORBIDDEN_NAMES = frozenset({
    "open", "eval", "exec", "compile", "__import__", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "breakpoint", "input", "help", "exit", "quit", "memoryview", "__builtins__",
})
FEEL_WORDS = {"true": "True", "false": "False", "null": "None"}
MAX_SCRIPT_CHARS = 20_000  # the longest shipped script is under 1 000
MAX_EXPRESSION_CHARS = 10_000
# Translated JUEL calls juel_… functions (juel.py); they are not offered to Python code.
CALLABLE = frozenset(SAFE_BUILTINS) | frozenset(HELPERS) | frozenset(JUEL_HELPERS) | {"juel_variable"}
OFFERED = frozenset(n for n in CALLABLE if n[0].islower() and not n.startswith("juel_"))


def code_problems(source: str, mode: str = "expression") -> list[str]:
    """What stops ``source`` from running under the restricted evaluator ([] when nothing).

    ``mode`` is ``expression`` (conditions, DMN cells, timers) or ``script``. Beyond compiling,
    refuses names that must never be reached and calls to functions that do not exist here.
    """
    text = source if mode == "script" else source.strip()
    if not text.strip():
        return ["it is empty"]
    limit = MAX_SCRIPT_CHARS if mode == "script" else MAX_EXPRESSION_CHARS
    if len(text) > limit:
        return [f"it is {len(text)} characters long; at most {limit} are allowed"]
    try:
        if mode == "script":
            compile_script(text)
        else:
            compile_expression(text)
        tree = ast.parse(text, mode="exec" if mode == "script" else "eval")
    except ScriptError as exc:
        return [_restricted_message(str(exc), strip_line=mode != "script")]
    except (RecursionError, MemoryError, ValueError, SyntaxError):
        return ["it is nested too deeply or too long to compile"]
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    defined |= {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign | ast.AnnAssign)
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name) and isinstance(node.value, ast.Lambda)}
    assigned = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in FORBIDDEN_NAMES:
                problems.append(f"it uses {node.id}, which diagrams may not use")
            elif node.id in FEEL_WORDS and node.id not in assigned:
                problems.append(f"{node.id} is not a value here: write {FEEL_WORDS[node.id]}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in CALLABLE and name not in defined and name not in FORBIDDEN_NAMES:
                problems.append(f"it calls {name}(), which does not exist here; the functions available are "
                                + ", ".join(sorted(OFFERED)))
    return list(dict.fromkeys(problems))


def _restricted_message(message: str, strip_line: bool) -> str:
    """RestrictedPython's message; without its 'Line 1:' prefix for an expression (one line)."""
    if strip_line:
        message = re.sub(r"\bLine 1: ", "", message)
    return message.replace(".; ", "; ").rstrip(".")


_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # as SpiffWorkflow finds it
_LOOSE_INPUT = (ast.BoolOp, ast.Compare, ast.IfExp, ast.Lambda, ast.NamedExpr)


def dmn_input_problems(input_expression: str, cell: str | None) -> list[str]:
    """What stops an input cell from working the way SpiffWorkflow joins it with its input.

    With ``?`` the cell is evaluated with ``?`` standing for the input. Otherwise a cell that is
    an expression is compared with ``==``; a cell that starts with an operator (``<= 6``) is
    appended to the input expression as text.
    """
    text = (cell or "").strip()
    if text in ("", "-"):
        return []
    if text.startswith("[") or text.startswith("]") or ".." in text:
        return [f"the range {text} is FEEL, not Python: write it with ? standing for the input, "
                "e.g. 1000 <= ? <= 5000"]
    replaced = _QUESTION_MARK.sub("dmninputexpr", text)
    if "dmninputexpr" in replaced:
        return code_problems(replaced)
    try:
        compile_expression(text)
        compares = True
    except ScriptError:
        try:
            compile_expression(f"v {text}")
        except ScriptError:
            return [f"{text} is neither a value nor a comparison: write it with ? standing for the input, "
                    "e.g. ? <= 400"]
        compares = False
    if compares:
        try:
            value = ast.parse(text, mode="eval").body
        except SyntaxError:
            value = None
        if isinstance(value, ast.Tuple):
            return [f"{text} is a list of values (FEEL): write ? in ({text}) to match any of them"]
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
            return [f"{text} is FEEL's not(): write ? != ... (or ? not in (...)) instead"]
        return code_problems(f"({input_expression}) == ({text})")
    try:
        joined_input = ast.parse(input_expression.strip(), mode="eval").body
    except SyntaxError:
        joined_input = None
    if isinstance(joined_input, _LOOSE_INPUT) or (
            isinstance(joined_input, ast.UnaryOp) and isinstance(joined_input.op, ast.Not)):
        return [f"the input expression {input_expression.strip()} and {text} would be joined as "
                f"'{input_expression.strip()}{text}': write ? {text} instead"]
    return code_problems(f"{input_expression}{text}")


# --- Timers ---------------------------------------------------------------------------------

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"P(?=[\dT])(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
_CRON = re.compile(r"\S+(\s+\S+){4,6}")


def timer_problems(kind: str, expression: str | None) -> tuple[list[str], list[str]]:
    """Errors and warnings for a timer value (after normalisation: a Python expression).

    ``kind`` is timeDuration, timeDate or timeCycle. A literal text must be valid ISO 8601 of
    that kind; a computed value only has to compile.
    """
    text = (expression or "").strip()
    if not text:
        return ["the timer has no value"], []
    if _CRON.fullmatch(text):
        return [f"{text} looks like a cron expression, which is not supported: write an ISO 8601 "
                "cycle such as R/PT24H"], []
    problems = code_problems(text)
    if problems:
        return problems, []
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return [], []  # computed when the timer starts, e.g. iso(add_days(event_date, 1))
    if not isinstance(value, str):
        return [f"{text} is not an ISO 8601 text"], []
    value = value.strip()
    if kind == "timeDuration":
        return _duration_problems(value), []
    if kind == "timeDate":
        return _date_problems(value)
    return _cycle_problems(value), []


def _duration_problems(value: str) -> list[str]:
    if not _DURATION.fullmatch(value.upper()):
        return [f"{value} is not an ISO 8601 duration such as P5D, PT72H or P1M"]
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        return [f"{value} is not an ISO 8601 duration SpiffWorkflow reads (weeks cannot mix with days)"]
    return []


def _date_problems(value: str) -> tuple[list[str], list[str]]:
    if value.upper().startswith("P"):
        return [f"{value} is a duration: use a timeDuration, or give a date such as 2030-01-31T09:00:00Z"], []
    try:
        moment = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises ValueError, AttributeError or a bare Exception
        return [f"{value} is not an ISO 8601 date and time such as 2030-01-31T09:00:00Z"], []
    if not isinstance(moment, dt.datetime):
        return [f"{value} is not an ISO 8601 date and time such as 2030-01-31T09:00:00Z"], []
    if "W" not in value.upper() and dt.datetime.fromisoformat(value).tzinfo is None:
        return [], [f"{value} has no time zone, so it is read in the server's zone: add Z or an offset "
                    "such as +01:00"]
    return [], []


def _cycle_problems(value: str) -> list[str]:
    if not value.upper().startswith("R"):
        return [f"{value} is not an ISO 8601 cycle such as R3/PT24H or R/2030-01-01T09:00:00Z/P1D"]
    try:
        TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises ValueError, AttributeError or a bare Exception
        return [f"{value} is not an ISO 8601 cycle such as R3/PT24H or R/2030-01-01T09:00:00Z/P1D"]
    return []
