"""Translate the simple JUEL expressions Camunda Modeler writes into Python for our evaluator.

Camunda 7 writes gateway conditions as JUEL: ``${amount > 10000}``, ``${decision == 'approve'}``.
The app runs Python under RestrictedPython, so a JUEL condition is translated once, when the
diagram is parsed. Only a small, unambiguous part of JUEL is accepted:

- literals: ``'text'`` or ``"text"``, numbers, ``true``, ``false``, ``null``;
- variable names (plain identifiers: no ``a.b``, no ``a[0]``);
- ``==  !=  <  >  <=  >=`` and ``eq ne lt gt le ge``;
- ``&&  ||  !`` and ``and or not``; ``empty x`` (x is null, ``''`` or an empty list);
- ``+  -  *  /  %`` and ``div mod``; parentheses.

Anything richer (method calls, ``execution``, functions, ternaries, indexing, text around the
expression) is refused with a message that says what to write instead. Each translated operator
keeps JUEL's grouping (``a < b < c`` is ``(a < b) < c``, as in JUEL, not Python's chain).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass


class JuelError(ValueError):
    """A JUEL expression outside the part the app translates; the message says why."""


_WRAPPED = re.compile(r"\A\s*[$#]\{(?P<body>.*)\}\s*\Z", re.DOTALL)
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")")
_WORD_OPERATORS = {
    "and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "div": "/", "mod": "%", "empty": "empty",
}
_LITERAL_WORDS = {"true": "True", "false": "False", "null": "None"}
# Camunda's engine objects and built-in beans: nothing like them exists here.
_CAMUNDA_OBJECTS = frozenset({
    "execution", "task", "externalTask", "variableScope", "authenticatedUserId", "currentUser",
    "currentUserGroups", "dateTime", "connection",
})
_REFUSED = {
    ".": "dotted names and method calls (a.b, a.b()) are not supported; use a plain variable name",
    "[": "indexing (a[0], a['key']) is not supported; use a plain variable name",
    "?": "the conditional operator (a ? b : c) is not supported; split it into two flows",
    ":": "functions (fn:name()) and the conditional operator are not supported",
    ",": "lists and function arguments are not supported",
    "=": "assignment is not supported; compare with == or eq",
    ";": "several expressions are not supported; write one condition",
    "{": "write one ${...} expression, with no second one inside or beside it",
    "}": "write one ${...} expression, with no second one inside or beside it",
    "$": "write one ${...} expression, with no second one inside or beside it",
    "#": "write one ${...} expression, with no second one inside or beside it",
    "'": "a text in quotes is not closed",
    '"': "a text in quotes is not closed",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # "op", "name", "literal", "end"
    value: str


def is_juel(text: str | None) -> bool:
    """Whether ``text`` is written as a JUEL expression (``${...}`` or ``#{...}``)."""
    stripped = (text or "").strip()
    return stripped[:2] in ("${", "#{")


def juel_to_python(text: str) -> str:
    """Return the Python expression equivalent to the JUEL expression ``text``, or raise JuelError."""
    match = _WRAPPED.match(text or "")
    if match is None:
        raise JuelError("write the whole condition as one ${...} expression, with nothing around it")
    body = match.group("body")
    if not body.strip():
        raise JuelError("the expression ${} is empty")
    parser = _Parser(_tokens(body))
    result = parser.expression()
    if parser.peek().kind != "end":
        raise JuelError(f"unexpected {parser.peek().value!r}: write one condition")
    return _unwrap(result)


def _unwrap(python: str) -> str:
    """Drop one pair of parentheses around the whole expression, for readability."""
    if python.startswith("(") and python.endswith(")"):
        depth = 0
        for index, char in enumerate(python):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and index < len(python) - 1:
                return python
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
            tokens.append(_Token("literal", repr(value)))
            continue
        number = _NUMBER.match(body, index)
        if number and (char.isdigit() or char == "."):
            tokens.append(_Token("literal", _number(number.group())))
            index = number.end()
            continue
        ident = _IDENT.match(body, index)
        if ident:
            word = ident.group()
            index = ident.end()
            if word in _WORD_OPERATORS:
                tokens.append(_Token("op", _WORD_OPERATORS[word]))
            elif word in _LITERAL_WORDS:
                tokens.append(_Token("literal", _LITERAL_WORDS[word]))
            elif word == "instanceof":
                raise JuelError("instanceof is not supported")
            elif body[index:].lstrip().startswith("("):
                raise JuelError(f"function calls ({word}(...)) are not supported")
            else:
                tokens.append(_Token("name", _name(word)))
            continue
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


def _name(word: str) -> str:
    if word in _CAMUNDA_OBJECTS:
        raise JuelError(f"{word} is a Camunda engine object; a condition here can only use the request's data")
    if "$" in word:
        raise JuelError(f"the name {word!r} may not contain $")
    if word.startswith("_"):
        raise JuelError(f"the name {word!r} may not start with _")
    if keyword.iskeyword(word):
        raise JuelError(f"the name {word!r} is a reserved word here; rename the variable")
    return word


class _Parser:
    """Recursive descent over JUEL's precedence levels, lowest first."""

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))
    _PYTHON = {"||": "or", "&&": "and"}

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.position = 0

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> str:
        return self.binary(0)

    def binary(self, level: int) -> str:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().value in self._LEVELS[level]:
            operator = self.take().value
            right = self.binary(level + 1)
            left = f"({left} {self._PYTHON.get(operator, operator)} {right})"
        return left

    def unary(self) -> str:
        token = self.peek()
        if token.kind == "op" and token.value == "!":
            self.take()
            return f"(not {self.unary()})"
        if token.kind == "op" and token.value == "-":
            self.take()
            return f"(-{self.unary()})"
        if token.kind == "op" and token.value == "empty":
            self.take()
            operand = self.unary()
            return f"({operand} is None or {operand} == '' or {operand} == [] or {operand} == {{}})"
        return self.primary()

    def primary(self) -> str:
        token = self.take()
        if token.kind == "literal":
            return token.value
        if token.kind == "name":
            return token.value
        if token.kind == "op" and token.value == "(":
            inner = self.expression()
            closing = self.take()
            if closing.kind != "op" or closing.value != ")":
                raise JuelError("a ( is not closed")
            return inner  # every operator below is parenthesised already
        if token.kind == "end":
            raise JuelError("the expression ends too early")
        raise JuelError(f"unexpected {token.value!r}")
