"""Names in diagrams: what the lane names, user and group names of a diagram stand for.

The app knows some names itself (``lane_kind``: Applicant, Group lead, Coordinator…) and
e-mail addresses. Camunda Modeler diagrams name people their own way too (``demo``,
``management``): an administrator maps each such name once (Administration → Names in
diagrams) to a person, a role or a group role, which ``mapped_kinds`` reads. ``task_naming``
says whom a user task names, as *kinds* that ``lanes`` resolves to people in a request:
``lane_kind``'s, ``user:<id>``, ``email:<address>``. A name not mapped yet, or a task that
names nobody, stands for the administrators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.engine.assignments import AssignmentError, evaluate_assignment, is_expression
from app.engine.model import TaskDef
from app.extensions import db
from app.models import NameMapping, Role, User
from app.models.base import N_
from app.outbox.lines import Line, said
from app.outbox.records import phrase, words

NAMES_PAGE_TEXT = N_("Administration → Names in diagrams")
NAMES_PAGE = _l(NAMES_PAGE_TEXT)

INITIATOR_LANES = frozenset({"applicant", "claimant", "requester", "initiator"})
GROUP_LEAD_LANES = frozenset({"group lead", "group_lead", "lead"})
GROUP_MEMBER_LANES = frozenset({"group members", "group_members"})
ROLE_LANES = {role.value: role for role in Role}
INITIATOR_REFERENCES = frozenset({"${initiator}", "#{initiator}"})
LANE_NAMES = ("Applicant", "Claimant", "Requester", "Initiator", "Group lead", "Group members",
              *(role.value.capitalize() for role in Role))
ADMINISTRATORS = Role.ADMINISTRATOR.value


def lane_kind(lane: str | None) -> str | None:
    """'initiator', 'group_lead', 'group_members' (the buyers of the request's working group's member
    organisations), a role name, or None when the lane names nobody we know."""
    key = (lane or "").strip().lower()
    if key in INITIATOR_LANES:
        return "initiator"
    if key in GROUP_LEAD_LANES:
        return "group_lead"
    if key in GROUP_MEMBER_LANES:
        return "group_members"
    if key in ROLE_LANES:
        return ROLE_LANES[key].value
    return None


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
    quoted = ", ".join(_("‘%(name)s’", name=name) for name in names)
    return _("Nobody is named for this step yet: an administrator can map %(names)s under %(page)s. "
             "Until then it waits for the administrators.", names=quoted, page=NAMES_PAGE)


def names_from(expression: str, data: dict[str, Any]) -> tuple[list[str], str]:
    """The names an expression gives on a task's data, and what went wrong ('' when nothing)."""
    try:
        names = evaluate_assignment(expression, data)
    except AssignmentError as exc:
        return [], f"{expression} could not be worked out: {exc}"
    if not names:
        return [], f"{expression} named nobody"
    return names, ""


def lanes_of(definition: TaskDef) -> list[str]:
    """The lane names a task's people come from: its lane, or its candidate groups, and ``also``."""
    lanes = [g for g in definition.candidate_groups if not is_expression(g)] if definition.has_assignment \
        else [definition.lane or ""]
    return lanes + [lane for lane in (definition.properties.get("also") or "").split(",") if lane.strip()]


def expressions_of(definition: TaskDef) -> list[str]:
    """The assignment's expressions worked out when the task opens (``${initiator}`` is not one)."""
    if not definition.has_assignment:
        return []
    return [name for name in (definition.assignee, *definition.candidate_users, *definition.candidate_groups)
            if name and is_expression(name) and name not in INITIATOR_REFERENCES]


@dataclass
class Naming:
    """Whom a task names: kinds (``lane_kind``'s, ``user:<id>``, ``email:<address>``), and why it
    waits for the administrators instead, if it does (names not mapped yet, or none at all)."""

    kinds: list[str]
    unmapped: list[str] = field(default_factory=list)
    why: str = ""
    line: Line | None = None  # ``why`` as the history keeps it


def plain_names(definition: TaskDef, worked_out: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(kinds known without a query, e-mail addresses, other names) of a task's names and of what
    its expressions gave (``worked_out``)."""
    kinds: list[str] = []
    emails: list[str] = []
    others: list[str] = []
    users = [u for u in (definition.assignee, *definition.candidate_users) if u] if definition.has_assignment else []
    for name in [*users, *lanes_of(definition), *worked_out]:
        if name in INITIATOR_REFERENCES:
            kinds.append("initiator")
        elif not name.strip() or is_expression(name):
            continue
        elif "@" in name:
            emails.append(name.strip().lower())
        elif lane_kind(name) is not None:
            kinds.append(lane_kind(name) or "")
        else:
            others.append(name)
    return kinds, emails, others


def uses_name(definition: TaskDef, worked_out: list[str], name: str) -> bool:
    """Whether one of the task's names (or what its expressions gave) is ``name``, in any case."""
    _kinds, emails, others = plain_names(definition, worked_out)
    key = " ".join(name.split()).lower()
    return any(" ".join(n.split()).lower() == key for n in (*emails, *others))


def task_naming(definition: TaskDef, worked_out: list[str] | None = None,
                failures: list[str] | None = None) -> Naming:
    """Whom a task names, with the administrators' mapping of names the app does not know;
    ``failures`` say why an expression gave nobody."""
    kinds, emails, others = plain_names(definition, worked_out or [])
    known = known_emails(emails)
    mapped = mapped_kinds([*others, *(e for e in emails if e not in known)])
    unmapped: list[str] = []
    for name in [*emails, *others]:
        kind = f"email:{name}" if name in known else mapped.get(" ".join(name.split()).lower())
        if kind:
            kinds.append(kind)
        else:
            unmapped.append(name)
    naming = Naming(list(dict.fromkeys(kinds)), list(dict.fromkeys(unmapped)))
    if naming.unmapped:
        naming.why = unmapped_why(naming.unmapped)
        naming.line = said("waits_unmapped", names=[phrase("quoted_name", name=name) for name in naming.unmapped],
                           page=words(NAMES_PAGE_TEXT))
    elif failures and not naming.kinds:
        naming.why = _("Nobody is named for this step: %(problems)s. It waits for the administrators.",
                       problems="; ".join(failures))
        naming.line = said("waits_failures", problems="; ".join(failures))
    elif not naming.kinds and not expressions_of(definition):
        naming.why = _("Nobody is named for this step: the diagram gives it no lane or assignment. It waits for "
                       "the administrators; an administrator can reassign it.")
        naming.line = said("waits_no_lane")
    if naming.why:
        naming.kinds.append(ADMINISTRATORS)
    return naming
