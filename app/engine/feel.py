"""FEEL unary tests (what Camunda Modeler writes in DMN input cells), translated to Python.

A small, strict translator: a cell is tokenised and parsed against the unary-test forms listed
below; anything else is refused with a one-line reason. The Python it produces is built from
the parsed tokens only (literals are re-written with ``repr``), so no text of the cell reaches
the evaluator as code, and that Python still runs under the restricted evaluator. The input
value is the name ``cellInput`` (Camunda's name for it); comparisons go through the ``feel_*``
functions below, which give FEEL's answers: values of different kinds never match, and null
only equals null.

Forms read (FEEL 1.3 simple unary tests, as Camunda 7 documents them):
``-`` or nothing (any value), ``"text"``, ``10``, ``-2.5``, ``true``, ``false``, ``null``,
``date("2024-01-31")``, a variable name or path (``limit``, ``claim.limit``), comparisons
``< <= > >=`` with one of those, intervals ``[1..10]``, ``(1..10)``, ``]1..10[``, ``[1..10)``,
lists of any of them separated by commas (any one matches), and ``not(...)`` around a list.

No library: the one on PyPI (bkflow-feel) was last released in 2023; Camunda's FEEL engine is
Scala. Conditions (``expression_to_python``): the boolean expressions Camunda Modeler writes in a
form's ``conditional.hide``: comparisons ``= != < <= > >=`` between values, ``and``, ``or``,
``not(...)``, parentheses, a bare variable (true when it is ``true``) and ``x is null``.

Output cells and input expressions stay Python; ``true``, ``false`` and ``null`` in
them are read as Python's ``True``, ``False`` and ``None`` (``feel_literals_to_python``).
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

INPUT = "cellInput"
MAX_CELL_CHARS = 2_000


class FeelError(ValueError):
    """A cell that is not a FEEL unary test; the message says why in a few words."""


# --- Tokens ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>\.\.|<=|>=|!=|[<>=\[\]().,-])
""", re.VERBOSE)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}
_OPEN = {"[": True, "(": False, "]": False}
_CLOSE = {"]": True, ")": False, "[": False}
_COMPARISONS = ("<", "<=", ">", ">=")
_WORDS = {"true": "True", "false": "False", "null": "None"}


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char == "'":
                raise FeelError("texts are written in double quotes in FEEL")
            if char == "?":
                raise FeelError("? belongs to a Python cell, not FEEL")
            raise FeelError(f"{char} is not allowed here")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def _unquote(token: str) -> str:
    body = token[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                raise FeelError(f"\\{escaped} is not an escape FEEL knows")
            out.append(_ESCAPES[escaped])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


# --- Parser ---------------------------------------------------------------------------------

class _Parser:
    """Recursive descent over the tokens; each method returns Python source."""

    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, value: str, what: str) -> None:
        kind, found = self.take()
        if found != value or kind == "string":
            raise FeelError(f"{what} is missing" if kind == "end" else f"expected {value} but found {found}")

    def tests(self) -> str:
        if self.peek() == ("op", "-") and self.peek(1)[0] == "end":
            return "True"
        if self.peek() == ("name", "not") and self.peek(1) == ("op", "("):
            self.index += 2
            inner = self.positive_list()
            self.expect(")", "the closing ) of not(...)")
            python = f"not ({inner})"
        else:
            python = self.positive_list()
        if self.peek()[0] != "end":
            raise FeelError(f"{self.peek()[1]} is not expected here")
        return python

    def positive_list(self) -> str:
        tests = [self.positive()]
        while self.peek() == ("op", ","):
            self.index += 1
            tests.append(self.positive())
        return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"

    def positive(self) -> str:
        kind, value = self.peek()
        if kind == "op" and value in _COMPARISONS:
            self.index += 1
            return f"feel_compare({INPUT}, {value!r}, {self.endpoint()})"
        if kind == "op" and value in _OPEN:
            self.index += 1
            low = self.endpoint()
            self.expect("..", "the .. between the two ends of the range")
            high = self.endpoint()
            kind, close = self.take()
            if kind != "op" or close not in _CLOSE:
                raise FeelError("the range must end with ] or ) or [")
            return f"feel_between({INPUT}, {low}, {high}, {_OPEN[value]}, {_CLOSE[close]})"
        return f"feel_equal({INPUT}, {self.endpoint()})"

    def endpoint(self) -> str:
        kind, value = self.take()
        if kind == "op" and value == "-" and self.peek()[0] == "number":
            return _number("-" + self.take()[1])
        if kind == "number":
            return _number(value)
        if kind == "string":
            return repr(_unquote(value))
        if kind == "name":
            return self.name(value)
        if kind == "end":
            raise FeelError("a value is missing")
        if value in ("=", "!="):  # a comparison belongs to a condition, not a unary test
            raise FeelError(f"{value} is not allowed here")
        raise FeelError(f"{value} is not a value")

    def name(self, first: str) -> str:
        if first in _WORDS:
            return _WORDS[first]
        if first == "date" and self.peek() == ("op", "("):
            self.index += 1
            kind, text = self.take()
            if kind != "string":
                raise FeelError('date(...) takes a text such as date("2024-01-31")')
            self.expect(")", "the closing ) of date(...)")
            try:
                day = dt.date.fromisoformat(_unquote(text))
            except ValueError:
                raise FeelError(f"{text} is not a date written as \"YYYY-MM-DD\"") from None
            return f"date({day.year}, {day.month}, {day.day})"
        parts = [_variable(first)]
        while self.peek() == ("op", ".") and self.peek(1)[0] == "name":
            self.index += 1
            parts.append(repr(self.take()[1]))
        if self.peek() == ("op", "("):
            raise FeelError(f"the function {first}() is not available in a FEEL cell")
        return parts[0] if len(parts) == 1 else f"feel_path({', '.join(parts)})"


def _number(text: str) -> str:
    return str(int(text)) if re.fullmatch(r"-?\d+", text) else f"Decimal({text!r})"


def _variable(name: str) -> str:
    if name in ("True", "False", "None"):
        raise FeelError(f"{name} is Python: FEEL writes {name.lower() if name != 'None' else 'null'}")
    if keyword.iskeyword(name) or name.startswith("feel_") or name == INPUT:
        raise FeelError(f"{name} cannot be used as a variable name in a FEEL cell")
    return name


def unary_tests_to_python(text: str | None) -> str:
    """The Python expression (over ``cellInput``) for a FEEL unary-tests cell, or FeelError.

    An empty cell and ``-`` match anything and give ``True``.
    """
    source = (text or "").strip()
    if not source:
        return "True"
    if len(source) > MAX_CELL_CHARS:
        raise FeelError(f"the cell is {len(source)} characters long; at most {MAX_CELL_CHARS} are allowed")
    return _Parser(source).tests()


class _ExpressionParser(_Parser):
    """A boolean FEEL expression, over variables that may be missing (each read as null)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.names: set[str] = set()

    def expression(self) -> str:
        python = self.disjunction()
        if self.peek()[0] != "end":
            raise FeelError(f"{self.peek()[1]} is not expected here")
        return python

    def disjunction(self) -> str:
        return self.chain("or", self.conjunction)

    def conjunction(self) -> str:
        return self.chain("and", self.comparison)

    def chain(self, word: str, operand: Callable[[], str]) -> str:
        """``a and b and c`` (or ``or``): FEEL's three-valued ``feel_and``/``feel_or`` of them."""
        parts = [operand()]
        while self.peek() == ("name", word):
            self.index += 1
            parts.append(operand())
        return parts[0] if len(parts) == 1 else f"feel_{word}({', '.join(parts)})"

    def comparison(self) -> str:
        left = self.operand()
        kind, value = self.peek()
        if (kind, value) == ("name", "is"):
            self.index += 1
            negate = self.peek() == ("name", "not")
            self.index += negate
            kind, word = self.take()
            if word != "null":
                raise FeelError("is must be followed by null (x is null)")
            return f"({left} is not None)" if negate else f"({left} is None)"
        if kind == "op" and value in ("=", "!="):
            self.index += 1
            test = f"feel_equal({left}, {self.operand()})"
            return f"(not {test})" if value == "!=" else test
        if kind == "op" and value in _COMPARISONS:
            self.index += 1
            return f"feel_compare({left}, {value!r}, {self.operand()})"
        return left

    def operand(self) -> str:
        if self.peek() == ("name", "not") and self.peek(1) == ("op", "("):
            self.index += 2
            inner = self.disjunction()
            self.expect(")", "the closing ) of not(...)")
            return f"feel_not({inner})"
        if self.peek() == ("op", "("):
            self.index += 1
            inner = self.disjunction()
            self.expect(")", "the closing )")
            return f"({inner})"
        return self.endpoint()

    def name(self, first: str) -> str:
        python = super().name(first)
        if first not in _WORDS and first != "date":
            self.names.add(first)
        return python


def expression_to_python(text: str) -> tuple[str, frozenset[str]]:
    """The Python (and the variable names it reads) for a boolean FEEL expression, or FeelError.

    A leading ``=`` (how Camunda Modeler marks an expression) is dropped.
    """
    source = text.strip().removeprefix("=").strip()
    if not source:
        raise FeelError("the condition is empty")
    if len(source) > MAX_CELL_CHARS:
        raise FeelError(f"the condition is {len(source)} characters long; at most {MAX_CELL_CHARS} are allowed")
    parser = _ExpressionParser(source)
    return parser.expression(), frozenset(parser.names)


def literal_values(text: str | None) -> list[Any]:
    """The values of an output's list of allowed values (``"low","medium","high"``), in order."""
    source = (text or "").strip()
    if not source:
        return []
    values: list[Any] = []
    parser = _Parser(source)
    while True:
        kind, token = parser.take()
        negative = False
        if (kind, token) == ("op", "-") and parser.peek()[0] == "number":
            negative, (kind, token) = True, parser.take()
        if kind == "string":
            values.append(_unquote(token))
        elif kind == "number":
            number = Decimal(token)
            values.append(-number if negative else number)
        elif kind == "name" and token in _WORDS:
            values.append({"true": True, "false": False, "null": None}[token])
        else:
            raise FeelError(f"{token or 'the end'} is not a plain value: list texts, numbers, true or false")
        kind, separator = parser.take()
        if kind == "end":
            return values
        if separator != ",":
            raise FeelError(f"expected a comma but found {separator}")


# --- Output cells and input expressions -----------------------------------------------------

_STRING_OR_WORD = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?<![\w.])(true|false|null)(?![\w])""")


def feel_literals_to_python(text: str) -> str:
    """``text`` with FEEL's ``true``, ``false`` and ``null`` outside quotes read as Python's."""
    return _STRING_OR_WORD.sub(lambda m: m.group(1) or _WORDS[m.group(2)], text)


# --- What the translated tests call ---------------------------------------------------------

_NUMBER_TYPES = (int, float, Decimal)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _NUMBER_TYPES):
        return "number"
    if isinstance(value, dt.datetime):
        return "date and time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _aligned(left: Any, right: Any) -> tuple[Any, Any] | None:
    """The two values if FEEL compares them (same kind); an ISO text against a date is read as one."""
    if isinstance(right, dt.date) and not isinstance(right, dt.datetime) and isinstance(left, str):
        try:
            left = dt.date.fromisoformat(left[:10])
        except ValueError:
            return None
    if isinstance(left, dt.datetime) and _kind(right) == "date":
        left = left.date()
    return (left, right) if _kind(left) == _kind(right) else None


def feel_equal(value: Any, expected: Any) -> bool:
    if value is None or expected is None:
        return value is None and expected is None
    pair = _aligned(value, expected)
    return pair is not None and pair[0] == pair[1]


_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
          ">=": lambda a, b: a >= b}


def feel_compare(value: Any, operator: str, bound: Any) -> bool:
    pair = _aligned(value, bound)
    if pair is None or _kind(pair[0]) not in ("number", "date", "date and time", "string"):
        return False
    return bool(_ORDER[operator](*pair))


def feel_between(value: Any, low: Any, high: Any, low_closed: bool, high_closed: bool) -> bool:
    return (feel_compare(value, ">=" if low_closed else ">", low)
            and feel_compare(value, "<=" if high_closed else "<", high))


def feel_path(value: Any, *keys: str) -> Any:
    """``a.b.c``: each step reads a key of a dictionary; a missing one is null."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def feel_not(value: Any) -> bool | None:
    """FEEL's ``not()``: null for anything but a boolean."""
    return (not value) if isinstance(value, bool) else None


def feel_and(*values: Any) -> bool | None:
    """FEEL's three-valued ``and``: false wins, then null."""
    if any(value is False for value in values):
        return False
    return True if all(value is True for value in values) else None


def feel_or(*values: Any) -> bool | None:
    """FEEL's three-valued ``or``: true wins, then null."""
    if any(value is True for value in values):
        return True
    return False if all(value is False for value in values) else None


FEEL_FUNCTIONS = {"feel_equal": feel_equal, "feel_compare": feel_compare, "feel_between": feel_between,
                  "feel_path": feel_path, "feel_not": feel_not, "feel_and": feel_and, "feel_or": feel_or}
