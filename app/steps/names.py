"""Names in diagrams: what the user and group names of an uploaded diagram stand for.

Camunda Modeler diagrams name people by their own names (``demo``, ``management``). An
administrator maps each such name once (Administration → Names in diagrams) to a person, a
role or a group role; ``mapped_kinds`` reads those mappings for ``lanes``, which resolves
them as it resolves lane names. Until a name is mapped it names nobody, and the task it
belongs to waits for the administrators (``lanes.task_candidates``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from app.engine.assignments import AssignmentError, evaluate_assignment, is_expression
from app.extensions import db
from app.models import NameMapping, User

NAMES_PAGE = "Administration → Names in diagrams"

__all__ = ["AssignmentError", "NAMES_PAGE", "evaluate_assignment", "is_expression", "known_emails",
           "mapped_kinds", "mappings_of", "unmapped_why"]


def mappings_of(names: Iterable[str]) -> dict[str, NameMapping]:
    """The mappings of these names, by their key (stripped, lower case)."""
    keys = {NameMapping.key_of(n) for n in names if n and n.strip()}
    if not keys:
        return {}
    return {m.name_key: m for m in db.session.scalars(select(NameMapping).where(NameMapping.name_key.in_(keys)))}


def mapped_kinds(names: Iterable[str]) -> dict[str, str]:
    """What each mapped name stands for, by key: ``user:<id>``, a role's value or a group role."""
    return {key: mapping.kind for key, mapping in mappings_of(names).items()}


def known_emails(emails: Iterable[str]) -> set[str]:
    """Of these e-mail addresses (lower case), those of someone with an account, active or not."""
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    if not wanted:
        return set()
    return set(db.session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(wanted))))


def unmapped_why(names: list[str]) -> str:
    """What the task page and history say of a task that waits for administrators for these names."""
    quoted = ", ".join(f"‘{name}’" for name in names)
    return (f"Nobody is named for this step yet: an administrator can map {quoted} under {NAMES_PAGE}. "
            "Until then it waits for the administrators.")


def names_from(expression: str, data: dict[str, Any]) -> tuple[list[str], str]:
    """The names an expression gives on a task's data, and what went wrong ('' when nothing)."""
    try:
        names = evaluate_assignment(expression, data)
    except AssignmentError as exc:
        return [], f"{expression} could not be worked out: {exc}"
    if not names:
        return [], f"{expression} named nobody"
    return names, ""
