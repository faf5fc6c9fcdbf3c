"""Python's syntax errors in the words of whoever draws the diagram: where, what is wrong and
what to write instead, for the validation report (``validate.code_problems``, DMN tables)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Python's words for a mistake, and the same in plain words for whoever draws the diagram.
_SYNTAX_REASONS = (
    ("Maybe you meant '==' or ':=' instead of '='", _l("to compare two values write == (a single = stores a value)")),
    ("invalid syntax", _l("something is missing or out of place: an operator, a value or a bracket")),
    ("expected ':'", _l("the line must end with a colon (:)")),
    ("unexpected indent", _l("the line is indented more than the one before it")),
    ("expected an indented block", _l("the lines under it must be indented")),
    ("unindent does not match", _l("its indentation does not match the lines before it")),
    ("inconsistent use of tabs", _l("it mixes tabs and spaces: indent with spaces only")),
    ("unterminated string", _l("a quotation mark is missing: close the text with the same mark that opens it")),
    ("unterminated triple-quoted", _l("a quotation mark is missing: close the text with the same marks that open it")),
    ("was never closed", _l("a bracket is opened and never closed")),
    ("unmatched", _l("a bracket is closed that was never opened")),
    ("does not match opening parenthesis", _l("the brackets do not pair up")),
    ("cannot assign to", _l("a value cannot be stored there: to compare two values write ==")),
    ("invalid decimal literal", _l("a number runs into a name: put an operator or a space between them")),
    ("leading zeros", _l("a number may not start with 0 (write 7, not 07)")),
)
_SYNTAX = re.compile(r"(?:Line (\d+): )?(?:SyntaxError|IndentationError|TabError): (.*?)"
                     r"(?: at statement: (?P<q>['\"])(.*)(?P=q))?", re.S)
_SINGLE_EQUALS = re.compile(r"(?<![=<>!])=(?!=)")
_ADVICE = {
    "condition": _l("write a condition that is true or false, such as amount > 1000 or decision == \"approve\" "
                    "(or ${amount > 1000})"),
    "timer": _l("write an ISO 8601 value such as P5D or 2030-01-31T09:00:00Z, or an expression that gives one, "
                "such as iso(add_days(event_date, 1))"),
    "script": _l("correct that line of the script"),
    "dmn cell": _l("write a test such as \"text\", 10, < 10, [1..10] or not(\"a\")"),
    "expression": _l("write it as a Python expression, such as amount * 2 or decision == \"approve\""),
}


def plain_syntax(message: str, mode: str) -> str | None:
    """A Python syntax error as its reader can act on it: where, what is wrong, what to write.
    None when ``message`` is not a syntax error (RestrictedPython's own refusals read well)."""
    match = _SYNTAX.fullmatch(message.strip().rstrip("."))
    if match is None:
        return None
    line, said, statement = match.group(1), match.group(2), match.group(4)
    statement = (statement or "").strip()
    reason = next((plain for words, plain in _SYNTAX_REASONS if words in said), said[:1].lower() + said[1:])
    if mode != "script" and _SINGLE_EQUALS.search(statement):
        reason = _SYNTAX_REASONS[0][1]  # Python says so only at the start of a line
    if mode == "script":
        if statement:
            return _("line %(line)s, ‘%(statement)s’, is not valid Python: %(reason)s; %(advice)s",
                     line=line or 1, statement=statement, reason=reason, advice=_ADVICE["script"])
        return _("line %(line)s is not valid Python: %(reason)s; %(advice)s", line=line or 1, reason=reason,
                 advice=_ADVICE["script"])
    advice = _ADVICE.get(mode, _ADVICE["expression"])
    if statement:
        return _("‘%(statement)s’ is not a valid expression: %(reason)s; %(advice)s", statement=statement,
                 reason=reason, advice=advice)
    return _("it is not a valid expression: %(reason)s; %(advice)s", reason=reason, advice=advice)
