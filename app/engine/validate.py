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

from .code_errors import plain_syntax
from .dmn import AGGREGATIONS, HIT_POLICIES, expression, input_cell
from .feel import FeelError, literal_values
from .juel_runtime import JUEL_HELPERS
from .scripting import HELPERS, SAFE_BUILTINS, ScriptError, compile_expression, compile_script

DMN_NAMESPACES = frozenset(DMN_SCHEMAS)
DMN_HIT_POLICIES = frozenset(HIT_POLICIES)  # what app/engine/decide.py runs
DMN_AGGREGATIONS = frozenset(AGGREGATIONS)
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
    "delattr", "breakpoint", "help", "exit", "quit", "memoryview", "__builtins__",
})
FEEL_WORDS = {"true": "True", "false": "False", "null": "None"}
MAX_SCRIPT_CHARS = 20_000  # the longest shipped script is under 1 000
MAX_EXPRESSION_CHARS = 10_000
# Translated JUEL calls juel_… functions (juel.py); they are not offered to Python code.
CALLABLE = frozenset(SAFE_BUILTINS) | frozenset(HELPERS) | frozenset(JUEL_HELPERS) | {"juel_variable"}
OFFERED = frozenset(n for n in CALLABLE if n[0].islower() and not n.startswith("juel_"))


def code_problems(source: str, mode: str = "expression") -> list[str]:
    """What stops ``source`` from running under the restricted evaluator ([] when nothing).

    ``mode`` is ``script`` or an expression's use: ``condition``, ``timer`` or ``expression``
    (DMN cells, mappings, …); a mistake in the Python is said in plain words with what to write
    instead for that use (``code_errors``). Beyond compiling, refuses names that must never be
    reached and calls to functions that do not exist here.
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
        return [plain_syntax(str(exc), mode) or _restricted_message(str(exc), strip_line=mode != "script")]
    except (RecursionError, MemoryError, ValueError, SyntaxError):
        return ["it is nested too deeply or too long to compile: split it into simpler steps"]
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


def dmn_input_problems(cell: str | None, language: str = "auto") -> list[str]:
    """What stops an input cell from running (app/engine/dmn.py says how a cell is read).

    ``language`` is ``feel``, ``python`` or ``auto`` (FEEL if the cell is a FEEL unary test,
    else Python). A cell tests the value of its column's input expression.
    """
    text = (cell or "").strip()
    try:
        translated = input_cell(text, language)
    except FeelError as exc:
        nor = "" if language == "feel" else ", nor a Python expression"
        return [f"{text} is not a FEEL unary test ({exc}){nor}: write e.g. \"text\", 10, < 10, [1..10], "
                "\"a\",\"b\" or not(\"a\")"]
    except ScriptError as exc:
        plain = plain_syntax(str(exc), "dmn cell")
        return [f"{text} cannot run as Python: {plain}" if plain
                else _restricted_message(f"{text} cannot run as Python: {exc}", strip_line=True)]
    if translated.language == "python":  # the names and functions Python cells may not use
        return code_problems(translated.code)
    return []


def dmn_expression_problems(text: str) -> list[str]:
    """What stops an output cell or input expression (Python with FEEL's true, false and null, or JUEL)."""
    try:
        code = expression(text)
    except ScriptError as exc:
        return [plain_syntax(str(exc), "expression") or _restricted_message(str(exc), strip_line=True)]
    return code_problems(code)


def dmn_values_problems(text: str | None) -> list[str]:
    """What is wrong with an output's list of values (``"low","high"``), used by PRIORITY and OUTPUT ORDER."""
    try:
        literal_values(text)
    except FeelError as exc:
        return [f"the output values {(text or '').strip()} cannot be read: {exc}"]
    return []


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
    problems = code_problems(text, "timer")
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
