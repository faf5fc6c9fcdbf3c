"""The restricted evaluator for scripts, conditions, DMN cells and timer expressions.

Diagrams are uploaded by administrators, so nothing in them may reach the server: code is
compiled with RestrictedPython (no imports, no names or attributes starting with ``_``, guarded
item and attribute access) and runs with a short allow-list of builtins.
"""

from __future__ import annotations

import datetime as _dt
import operator
from decimal import Decimal
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import WorkflowException


class ScriptError(SyntaxError):
    """An expression or script that does not compile under the restricted evaluator.

    A SyntaxError, because SpiffWorkflow's DMN engine tells a cell that is not a plain
    expression (`<= 5000`, Camunda's unary test style) by catching SyntaxError.
    """


def _as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value)[:10])


def add_days(value: Any, days: int) -> _dt.date:
    """Return the date ``days`` after ``value`` (a date or an ISO date string)."""
    return _as_date(value) + _dt.timedelta(days=int(days))


def days_between(start: Any, end: Any) -> int:
    """Return the number of days from ``start`` to ``end``."""
    return (_as_date(end) - _as_date(start)).days


def today() -> _dt.date:
    return _dt.date.today()


def iso(value: Any) -> str:
    """Return an ISO 8601 text with its offset (a date means its midnight, UTC).

    The offset matters: SpiffWorkflow reads a time without one in the server's local zone,
    while the instance row stores timers in UTC.
    """
    if isinstance(value, _dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
        return moment.isoformat()
    if isinstance(value, _dt.date):
        return _dt.datetime.combine(value, _dt.time(), _dt.UTC).isoformat()
    return str(value)


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
}


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    try:
        return _INPLACE[op](left, right)
    except KeyError:
        raise ScriptError(f"the operator {op} is not allowed") from None


SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(__import__("builtins"), name)
    for name in ("abs", "bool", "dict", "float", "int", "len", "list", "max", "min", "round",
                 "sorted", "str", "sum", "True", "False", "None", "isinstance", "any", "all")
}
HELPERS: dict[str, Any] = {
    "Decimal": Decimal, "date": _dt.date, "today": today, "add_days": add_days,
    "days_between": days_between, "iso": iso,
}
BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    **HELPERS,
}


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression under the restricted evaluator, or raise ScriptError."""
    result = compile_restricted_eval(source.strip())
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "does not compile")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile a script under the restricted evaluator, or raise ScriptError."""
    result = compile_restricted_exec(source)
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "does not compile")
    return result.code


def _keep(name: str, value: Any) -> bool:
    return not name.startswith("_") and not callable(value) and not isinstance(value, ModuleType)


class RestrictedEnvironment(TaskDataEnvironment):
    """Evaluate and execute diagram code under RestrictedPython; call registered services."""

    def __init__(self, services: dict[str, Any] | None = None):
        super().__init__({})
        self.services = services or {}

    def evaluate(self, expression, context, external_context=None):
        scope = dict(BASE_GLOBALS)
        scope.update(external_context or {})
        scope.update(context)
        return eval(compile_expression(expression), scope)  # noqa: S307 - restricted code

    def execute(self, script, context, external_context=None):
        scope = dict(BASE_GLOBALS)
        scope.update(external_context or {})
        scope.update(context)
        exec(compile_script(script), scope)  # noqa: S102 - restricted code
        for name in [k for k in context if k not in scope]:
            del context[name]
        for name, value in scope.items():
            if name in BASE_GLOBALS or (external_context and name in external_context):
                continue
            if _keep(name, value):
                context[name] = value
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):
        try:
            service = self.services[operation_name]
        except KeyError:
            raise ScriptError(f"no service task named {operation_name!r} is registered") from None
        return service(dict(context), dict(operation_params or {}))


class RestrictedScriptEngine(PythonScriptEngine):
    def validate(self, expression):
        compile_expression(expression)

    def call_service(self, task, **kwargs):
        # The library's version refers to an undefined name on error; report errors plainly.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except WorkflowException:
            raise
        except Exception as exc:
            name = kwargs.get("operation_name")
            raise WorkflowTaskException(f"service task {name!r} failed: {exc}", task=task,
                                        exception=exc) from exc
