"""Who a user task names, as Camunda 7 reads a diagram, and the expressions among those names.

Besides ``camunda:assignee``, ``camunda:candidateUsers`` and ``camunda:candidateGroups``, Camunda 7
reads the BPMN elements ``humanPerformer`` (the assignee) and ``potentialOwner`` (candidates:
``user(kermit), group(management)``; a name without ``user(...)`` or ``group(...)`` is a group),
each with a ``resourceAssignmentExpression/formalExpression``. ``parser.assignment_from_xml``
reads them all through ``performers_from_xml``.

A name may be an expression, ``${reviewer}`` or ``#{reviewers}``, worked out when the task
opens, on its data: JUEL is turned into Python (``juel.to_python``) and evaluated by the
restricted evaluator. Its result is an e-mail address or a name, or a list of them.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .juel import JuelError, is_juel, text_to_python, to_python
from .juel_runtime import juel_text
from .scripting import RestrictedEnvironment

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_FORMAL = "bpmn:resourceAssignmentExpression/bpmn:formalExpression"
_NS = {"bpmn": BPMN_NS}
_TAGGED = re.compile(r"\A(user|group)\s*\((.*)\)\Z", re.DOTALL)
MAX_NAMES = 200  # an expression naming more people than this is surely a mistake


class AssignmentError(ValueError):
    """An assignment expression that could not be worked out; the message says why."""


def is_expression(text: str | None) -> bool:
    """Whether a name is written as an expression (``${...}`` or ``#{...}``)."""
    return is_juel(text)


def split_names(text: str | None) -> list[str]:
    """Comma-separated names, each stripped; commas inside ``${...}`` or ``(...)`` do not split."""
    parts, depth, current = [], 0, ""
    for char in text or "":
        if char in "{(":
            depth += 1
        elif char in "})":
            depth = max(depth - 1, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [" ".join(part.split()) if not is_juel(part) else part.strip() for part in parts if part.strip()]


def performers_from_xml(node: etree._Element) -> tuple[str | None, list[str], list[str]]:
    """A user task's BPMN ``humanPerformer`` and ``potentialOwner``: (assignee, users, groups)."""
    assignee = None
    for formal in node.iterfind(f"bpmn:humanPerformer/{_FORMAL}", _NS):
        names = split_names(formal.text)
        assignee = names[0] if names else assignee
    users: list[str] = []
    groups: list[str] = []
    for formal in node.iterfind(f"bpmn:potentialOwner/{_FORMAL}", _NS):
        for name in split_names(formal.text):
            tagged = _TAGGED.match(name)
            if tagged is None:
                groups.append(name)  # as Camunda 7: a name without user(...) is a group
            elif tagged.group(2).strip():
                (users if tagged.group(1) == "user" else groups).append(tagged.group(2).strip())
    return assignee, users, groups


def assignment_python(text: str) -> str:
    """The Python of an assignment expression, or raise AssignmentError."""
    try:
        return to_python(text)
    except JuelError as exc:
        raise AssignmentError(str(exc)) from None


def evaluate_assignment(text: str, data: dict[str, Any]) -> list[str]:
    """The e-mail addresses or names an expression gives on a task's data, or raise AssignmentError.

    A text is split at commas (as Camunda reads a candidate list); a list, tuple or set gives
    each of its items; None or an empty text gives nobody.
    """
    python = assignment_python(text)
    try:
        value = RestrictedEnvironment().evaluate(python, dict(data))
    except NameError as exc:
        name = getattr(exc, "name", None) or str(exc)
        raise AssignmentError(f"the request's data has no {name}") from None
    except Exception as exc:  # noqa: BLE001 - whatever diagram code raises (a ScriptLimitError too)
        raise AssignmentError(f"{type(exc).__name__}: {exc}") from None
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    names: list[str] = []
    for item in values:
        if item is None:
            continue
        if not isinstance(item, str):
            raise AssignmentError(f"it gave {item!r}, not an email address or a name")
        names.extend(n for n in split_names(item) if not is_juel(n))
    if len(names) > MAX_NAMES:
        raise AssignmentError(f"it gave {len(names)} names; at most {MAX_NAMES} are taken")
    return list(dict.fromkeys(names))


def worked_out_name(text: str, data: dict[str, Any]) -> str:
    """A task's name with its ``${...}`` worked out on the task's data, as Camunda names a task
    ("My Task ${loopCounter}" -> "My Task 2"); the name as written when an expression fails."""
    if "${" not in text and "#{" not in text:
        return text
    try:
        value = RestrictedEnvironment().evaluate(text_to_python(text), dict(data))
    except Exception:  # noqa: BLE001 - a name is shown, never a reason to stop the step
        return text
    return " ".join(juel_text(value).split()) or text
