"""Translate JUEL as Camunda's examples write it into Python for our restricted evaluator.

Camunda 7 writes expressions in JUEL: ``${amount > 10000}``, ``${approved.equals('yes')}``,
``${execution.getVariable('total') > 5 ? 'big' : 'small'}``, ``${customer.age >= 18}``. The app
runs Python under RestrictedPython, so a JUEL expression is translated once, when the diagram is
parsed, and the Python is compiled by ``scripting.compile_expression`` like any other; JUEL text
is never evaluated as such. ``to_python`` is the one entry point. Accepted:

- literals: ``'text'`` or ``"text"``, numbers, ``true``, ``false``, ``null``;
- variable names; ``a.b`` and ``a['b']`` into records (dicts) and lists (``a[0]``);
- ``x.equals(y)``; ``execution.getVariable('name')`` (``null`` when the variable is not set);
- ``==  !=  <  >  <=  >=`` and ``eq ne lt gt le ge``; ``&&  ||  !`` and ``and or not``;
  ``empty x``; ``+  -  *  /  %`` and ``div mod``; ``a ? b : c``; parentheses.

The operators keep JUEL's grouping (``a < b < c`` is ``(a < b) < c``) and, through the
functions of ``juel_runtime``, JUEL's coercions (``'100' == 100`` holds; ``null`` is false).
A variable that is not set is an error, as in Camunda ("Cannot resolve identifier"), except
through ``execution.getVariable``. Anything else (other method calls, functions, other
``execution`` methods, Camunda's beans, lambdas, text around the ``${...}``) is refused with a
message that says what is not supported. No name starting with ``_`` gets through.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass


class JuelError(ValueError):
    """A JUEL expression outside the part the app translates; the message says why."""


_WRAPPED = re.compile(r"\A\s*[$#]\{(?P<body>.*)\}\s*\Z", re.DOTALL)
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")",
              "?", ":", ".", "[", "]", ",")
_WORD_OPERATORS = {
    "and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "div": "/", "mod": "%", "empty": "empty",
}
_LITERAL_WORDS = {"true": ("True", "bool"), "false": ("False", "bool"), "null": ("None", "any")}
# Camunda's engine objects and built-in beans: nothing like them exists here.
_CAMUNDA_OBJECTS = frozenset({
    "execution", "task", "externalTask", "variableScope", "authenticatedUserId", "currentUser",
    "currentUserGroups", "dateTime", "connection", "S", "XML", "JSON",
})
_REFUSED = {
    "=": "assignment is not supported; compare with == or eq",
    ";": "several expressions are not supported; write one expression",
    "{": "write one ${...} expression, with no second one inside or beside it",
    "}": "write one ${...} expression, with no second one inside or beside it",
    "$": "write one ${...} expression, with no second one inside or beside it",
    "#": "write one ${...} expression, with no second one inside or beside it",
    "'": "a text in quotes is not closed",
    '"': "a text in quotes is not closed",
}
_ONLY_CALLS = "only x.equals(...) and execution.getVariable('name') can be called"


@dataclass(frozen=True)
class _Token:
    kind: str  # "op", "name", "literal", "end"
    value: str
    type: str = "any"  # of a literal: "number", "text", "bool" or "any"


@dataclass(frozen=True)
class _Expr:
    python: str
    type: str = "any"  # "bool", "number", "text" or "any": what the value is known to be


def is_juel(text: str | None) -> bool:
    """Whether ``text`` is written as a JUEL expression (``${...}`` or ``#{...}``)."""
    stripped = (text or "").strip()
    return stripped[:2] in ("${", "#{")


def to_python(text: str, condition: bool = False) -> str:
    """The Python expression equivalent to the JUEL expression ``text``, or raise JuelError.

    ``condition``: the result is read as true or false, as Camunda reads a condition (so the
    text ``'false'`` is false, not a non-empty string).
    """
    match = _WRAPPED.match(text or "")
    if match is None:
        raise JuelError("write the whole expression as one ${...}, with nothing around it")
    body = match.group("body")
    if not body.strip():
        raise JuelError("the expression ${} is empty")
    parser = _Parser(_tokens(body))
    result = parser.expression()
    if parser.peek().kind != "end":
        raise JuelError(_unexpected(parser.peek()) + ": write one expression")
    return _unwrap(_bool(result) if condition else result.python)


def text_to_python(text: str) -> str:
    """The Python for a value written as text with ``${...}`` in it (a parameter's value).

    One ``${...}`` alone gives its value, of any type; text around or between expressions makes
    a text, each value written as text and ``null`` as nothing, as Camunda's composite
    expressions do (``Dear ${name}``).
    """
    parts = _template(text)
    if len(parts) == 1 and parts[0][0] == "code":
        return parts[0][1]
    return " + ".join(code if kind == "text" else f"juel_text({code})" for kind, code in parts) or "''"


def _template(text: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    index = 0
    while index < len(text):
        starts = [at for at in (text.find("${", index), text.find("#{", index)) if at >= 0]
        start = min(starts, default=len(text))
        if start > index:
            parts.append(("text", repr(text[index:start])))
        if start == len(text):
            break
        end = _closing(text, start + 2)
        parts.append(("code", _unwrap(to_python(text[start:end + 1]))))
        index = end + 1
    return parts


def _closing(text: str, index: int) -> int:
    """Where the ``}`` that closes an expression starting before ``index`` is (quotes skipped)."""
    quote = None
    while index < len(text):
        char = text[index]
        if quote and char == "\\":
            index += 2
            continue
        if char in "'\"":
            quote = None if quote == char else (quote or char)
        elif char == "}" and quote is None:
            return index
        index += 1
    raise JuelError("a ${ is not closed")


def _unwrap(python: str) -> str:
    """Drop one pair of parentheses around the whole expression, for readability."""
    if python.startswith("(") and python.endswith(")"):
        depth, quote, index = 0, None, 0
        while index < len(python):
            char = python[index]
            if quote:  # inside a text literal (as repr writes it): its brackets do not count
                index += 2 if char == "\\" else 1
                quote = None if char == quote else quote
                continue
            quote = char if char in "'\"" else None
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and index < len(python) - 1:
                return python
            index += 1
        return python[1:-1]
    return python


def _tokens(body: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char.isspace():
            index += 1
            continue
        if char in "'\"":
            value, index = _string(body, index)
            tokens.append(_Token("literal", repr(value), "text"))
            continue
        number = _NUMBER.match(body, index)
        if number and (char.isdigit() or (char == "." and body[index + 1:index + 2].isdigit())):
            tokens.append(_Token("literal", _number(number.group()), "number"))
            index = number.end()
            continue
        ident = _IDENT.match(body, index)
        if ident:
            word = ident.group()
            index = ident.end()
            if tokens and tokens[-1] == _Token("op", "."):
                tokens.append(_Token("name", _checked(word)))  # a key: reserved words are fine
            elif word in _WORD_OPERATORS:
                tokens.append(_Token("op", _WORD_OPERATORS[word]))
            elif word in _LITERAL_WORDS:
                tokens.append(_Token("literal", *_LITERAL_WORDS[word]))
            elif word == "instanceof":
                raise JuelError("instanceof is not supported")
            else:
                tokens.append(_Token("name", _checked(word)))
            continue
        if body.startswith("->", index):
            raise JuelError("lambda expressions (x -> ...) are not supported")
        operator = next((op for op in _OPERATORS if body.startswith(op, index)), None)
        if operator is not None:
            tokens.append(_Token("op", operator))
            index += len(operator)
            continue
        raise JuelError(_REFUSED.get(char, f"the character {char!r} is not supported"))
    tokens.append(_Token("end", "end of the expression"))
    return tokens


def _string(body: str, start: int) -> tuple[str, int]:
    quote = body[start]
    chars: list[str] = []
    index = start + 1
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in "\\'\"":
            chars.append(body[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    raise JuelError(_REFUSED[quote])


def _number(text: str) -> str:
    if re.fullmatch(r"\d+", text):
        return str(int(text))
    # Money in task data is Decimal: a Decimal literal compares and adds exactly with it.
    return f'Decimal("{text}")'


def _checked(word: str) -> str:
    """Any name, variable or key: never one that could reach Python's insides."""
    if word.startswith("_"):
        raise JuelError(f"the name {word!r} may not start with _")
    if "$" in word:
        raise JuelError(f"the name {word!r} may not contain $")
    return word


def _variable(word: str) -> str:
    if word in _CAMUNDA_OBJECTS:
        raise JuelError(f"{word} is a Camunda engine object; an expression here can only use the request's data "
                        "(and execution.getVariable('name'))")
    if keyword.iskeyword(word):
        raise JuelError(f"the name {word!r} is a reserved word here; rename the variable")
    if word.startswith("juel_"):
        raise JuelError(f"the name {word!r} is reserved here (juel_…); rename the variable")
    return word


def _unexpected(token: _Token) -> str:
    if token.kind == "op" and token.value == ",":
        return "lists and several arguments are not supported"
    return f"unexpected {token.value!r}"


def _bool(expr: _Expr) -> str:
    return expr.python if expr.type == "bool" else f"juel_bool({expr.python})"


def _num(expr: _Expr) -> str:
    return expr.python if expr.type == "number" else f"juel_number({expr.python})"


class _Parser:
    """Recursive descent over JUEL's precedence levels, lowest first."""

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.position = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.tokens[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def at(self, value: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.value == value

    def expect(self, value: str, problem: str) -> None:
        if not self.at(value):
            raise JuelError(problem)
        self.take()

    def expression(self) -> _Expr:
        condition = self.binary(0)
        if not self.at("?"):
            return condition
        self.take()
        then = self.expression()
        self.expect(":", "a ? b : c needs its : c part")
        otherwise = self.expression()
        return _Expr(f"({then.python} if {_bool(condition)} else {otherwise.python})",
                     then.type if then.type == otherwise.type else "any")

    def binary(self, level: int) -> _Expr:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().value in self._LEVELS[level]:
            operator = self.take().value
            right = self.binary(level + 1)
            left = self._combine(operator, left, right)
        return left

    @staticmethod
    def _combine(operator: str, left: _Expr, right: _Expr) -> _Expr:
        if operator in ("||", "&&"):
            word = "or" if operator == "||" else "and"
            return _Expr(f"({_bool(left)} {word} {_bool(right)})", "bool")
        if operator == "==":
            return _Expr(f"juel_eq({left.python}, {right.python})", "bool")
        if operator == "!=":
            return _Expr(f"(not juel_eq({left.python}, {right.python}))", "bool")
        if operator in ("<", ">", "<=", ">="):
            return _Expr(f"juel_cmp({operator!r}, {left.python}, {right.python})", "bool")
        return _Expr(f"({_num(left)} {operator} {_num(right)})", "number")

    def unary(self) -> _Expr:
        token = self.peek()
        if token.kind == "op" and token.value == "!":
            self.take()
            return _Expr(f"(not {_bool(self.unary())})", "bool")
        if token.kind == "op" and token.value == "-":
            self.take()
            return _Expr(f"(-{_num(self.unary())})", "number")
        if token.kind == "op" and token.value == "empty":
            self.take()
            return _Expr(f"juel_empty({self.unary().python})", "bool")
        return self.suffixes(self.primary())

    def primary(self) -> _Expr:
        token = self.take()
        if token.kind == "literal":
            return _Expr(token.value, token.type)
        if token.kind == "name":
            if token.value == "execution" and self.at("."):
                return self.execution()
            if self.at("("):
                raise JuelError(f"function calls ({token.value}(...)) are not supported; {_ONLY_CALLS}")
            if self.at(":") and self.peek(1).kind == "name" and self.at("(", 2):
                raise JuelError(f"functions ({token.value}:{self.peek(1).value}()) are not supported")
            return _Expr(_variable(token.value))
        if token.kind == "op" and token.value == "(":
            inner = self.expression()
            self.expect(")", "a ( is not closed")
            return inner  # every operator below is parenthesised already
        if token.kind == "end":
            raise JuelError("the expression ends too early")
        raise JuelError(_unexpected(token))

    def execution(self) -> _Expr:
        self.take()  # .
        method = self.take()
        if method.kind != "name" or method.value != "getVariable" or not self.at("("):
            raise JuelError(f"execution.{method.value} is not supported; of execution, only "
                            "execution.getVariable('name') is")
        self.take()  # (
        name = self.take()
        if name.type != "text" or not self.at(")"):
            raise JuelError("execution.getVariable needs one variable name in quotes: execution.getVariable('name')")
        self.take()  # )
        variable = ast.literal_eval(name.value)  # the repr of a str the tokenizer built
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", variable):
            raise JuelError(f"execution.getVariable({name.value}): a variable name has letters, digits and _, "
                            "and starts with a letter")
        return _Expr(f"juel_variable({name.value})")

    def suffixes(self, base: _Expr) -> _Expr:
        while self.at(".") or self.at("["):
            if self.take().value == "[":
                key = self.expression()
                self.expect("]", "a [ is not closed")
                if key.type == "text" and key.python[1:2] == "_":
                    raise JuelError(f"the name {key.python} may not start with _")
                base = _Expr(f"juel_get({base.python}, {key.python})")
                continue
            name = self.take()
            if name.kind != "name":
                raise JuelError(f"a name must follow the dot, not {name.value!r}")
            if not self.at("("):
                base = _Expr(f"juel_get({base.python}, {name.value!r})")
                continue
            if name.value != "equals":
                raise JuelError(f"method calls (.{name.value}(...)) are not supported; {_ONLY_CALLS}")
            self.take()  # (
            other = self.expression()
            self.expect(")", "equals(...) takes one value: x.equals('text')")
            base = _Expr(f"juel_equals({base.python}, {other.python})", "bool")
        return base
