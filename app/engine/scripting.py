"""The restricted evaluator for scripts, conditions, DMN cells and timer expressions.

Diagrams are uploaded by administrators, so nothing in them may reach the server: code is
compiled with RestrictedPython (no imports, no names or attributes starting with ``_``, guarded
item and attribute access) and runs with a short allow-list of builtins.
"""

from __future__ import annotations

import ast
import datetime as _dt
import operator
from decimal import Decimal
from functools import lru_cache, partial
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
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import WorkflowException

from . import guards, limits
from .juel_runtime import JUEL_HELPERS
from .limits import LimitExceeded, ScriptLimitError


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
        function = _INPLACE[op]
    except KeyError:
        raise ScriptError(f"the operator {op} is not allowed") from None
    guards.check_inplace(op, left, right)
    return function(left, right)


_GUARDABLE = tuple(guards.METHOD_GUARDS)


def _getattr(obj: Any, name: str, default: Any = None, getattr: Any = getattr) -> Any:
    """``safer_getattr``; a method that can build something huge comes back checked."""
    value = safer_getattr(obj, name, default, getattr)
    if isinstance(obj, _GUARDABLE):
        methods = guards.METHOD_GUARDS.get(type(obj)) or next(
            guards.METHOD_GUARDS[t] for t in type(obj).__mro__ if t in guards.METHOD_GUARDS)
        guard = methods.get(name)
        if guard is not None:
            return partial(guard, obj)
    elif isinstance(obj, type):  # str.join(...) called on the type, or on its stand-in
        methods = guards.METHOD_GUARDS.get(guards.wrapped_type(obj), {})
        if name in methods:
            return methods[name]
    return value


SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(__import__("builtins"), name)
    for name in ("abs", "bool", "dict", "float", "int", "len", "list", "max", "min", "round",
                 "sorted", "str", "sum", "True", "False", "None", "isinstance", "any", "all")
}
# The same names; those that can build something huge from a small argument are checked.
GUARDED_BUILTINS: dict[str, Any] = {**SAFE_BUILTINS, **guards.GUARDED_BUILTINS}
HELPERS: dict[str, Any] = {
    "Decimal": Decimal, "date": _dt.date, "today": today, "add_days": add_days,
    "days_between": days_between, "iso": iso,
}
BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": GUARDED_BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_mul_": guards.guarded_mul,
    "_pow_": guards.guarded_pow,
    "_lshift_": guards.guarded_lshift,
    "_add_": guards.guarded_add,
    "_mod_": guards.guarded_mod,
    "_format_": guards.guarded_format,
    **HELPERS,
    **JUEL_HELPERS,  # what translated JUEL calls (juel.py); juel_variable is bound for each run
}

_GUARDED_OPERATORS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_",
                      ast.Mod: "_mod_"}


def _located(new: Any, old: ast.AST) -> Any:
    return ast.fix_missing_locations(ast.copy_location(new, old))


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class LimitingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks, plus the calls through which code keeps to its limits
    (``limits.py``): a tick at the top of every ``while`` body and function and in every
    lambda, and ``* ** << + %`` and f-string fields through functions that size their result
    before making it. (Loops and comprehensions tick through ``_getiter_``.)"""

    def visit_BinOp(self, node: Any) -> Any:
        node = super().visit_BinOp(node)
        name = _GUARDED_OPERATORS.get(type(node.op))
        if name is None:
            return node
        return _located(_call(name, node.left, node.right), node)

    def visit_While(self, node: Any) -> Any:
        node = super().visit_While(node)
        node.body.insert(0, _located(ast.Expr(_call("_tick_")), node))
        return node

    def visit_FunctionDef(self, node: Any) -> Any:
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _located(ast.Expr(_call("_tick_")), node))
        return node

    def visit_Lambda(self, node: Any) -> Any:
        node = super().visit_Lambda(node)
        node.body = _located(ast.BoolOp(op=ast.Or(), values=[_call("_tick_"), node.body]), node.body)
        return node

    def visit_FormattedValue(self, node: Any) -> Any:
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_", node.value, ast.Constant(node.conversion), spec)
        return _located(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression under the restricted evaluator, or raise ScriptError."""
    result = compile_restricted_eval(source.strip(), policy=LimitingTransformer)
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "does not compile")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile a script under the restricted evaluator, or raise ScriptError."""
    result = compile_restricted_exec(source, policy=LimitingTransformer)
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "does not compile")
    return result.code


def _variable(context: dict[str, Any], external: dict[str, Any], name: str) -> Any:
    """JUEL's ``execution.getVariable(name)``: the variable's value, or None when it is not set."""
    if not isinstance(name, str) or name.startswith("_"):
        raise ScriptError(f"{name!r} is not a variable name")
    return context[name] if name in context else external.get(name)


def _keep(name: str, value: Any) -> bool:
    return not name.startswith("_") and not callable(value) and not isinstance(value, ModuleType)


class RestrictedEnvironment(TaskDataEnvironment):
    """Evaluate and execute diagram code under RestrictedPython; call registered services."""

    def __init__(self, services: dict[str, Any] | None = None):
        super().__init__({})
        self.services = services or {}

    def evaluate(self, expression, context, external_context=None):
        result, _ = self._run(eval, compile_expression(expression), context, external_context)
        return result

    def execute(self, script, context, external_context=None):
        _, scope = self._run(exec, compile_script(script), context, external_context)
        for name in [k for k in context if k not in scope]:
            del context[name]
        for name, value in scope.items():
            if name in BASE_GLOBALS or (external_context and name in external_context):
                continue
            if _keep(name, value):
                context[name] = value
        return True

    @staticmethod
    def _run(run, code: CodeType, context, external_context) -> tuple[Any, dict[str, Any]]:
        """Run compiled diagram code within the step's budget; its result and its scope."""
        budget, own = limits.enter_run()
        scope = dict(BASE_GLOBALS)
        try:
            scope["_tick_"] = budget.tick
            scope["_getiter_"] = budget.getiter
            scope.update(external_context or {})
            scope.update(context)
            scope["juel_variable"] = partial(_variable, context, external_context or {})
            result = run(code, scope)  # restricted code, compiled by compile_expression/compile_script
        except LimitExceeded as exc:
            raise ScriptLimitError(str(exc)) from None
        finally:
            limits.leave_run(own)
        if budget.breach is not None:  # breached, caught by a bare except, and carried on
            raise ScriptLimitError(budget.breach)
        return result, scope

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
