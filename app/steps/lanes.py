"""Who a lane names: the initiator, a role within the instance's working group, or a role.

A user task may name its people the Camunda way instead of by its lane: ``camunda:assignee``
and ``camunda:candidateUsers`` hold email addresses, user names or ``${initiator}``, and
``camunda:candidateGroups`` holds names that resolve as lane names do (``coordinator``).

A name the app does not know (``management``, ``demo``) resolves through the administrators'
mapping (``names``); until it is mapped, it stands for the administrators. So does a task
that names nobody at all. An expression (``${reviewer}``) is worked out on the task's data
when the task opens; what it gave is kept in the request's history and resolves the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased

from app.engine import load_model
from app.engine.model import TaskDef
from app.extensions import db
from app.models import AuditEvent, GroupMembership, HumanTask, ProcessInstance, Role, User, UserRole
from app.outbox.lines import Line, said
from forms.text import format_date
from forms.translations import diagram_text

from .audit import ADD_EVENTS, event_row
from .context import running_step

# The names the app knows live in names.py; read here too, as before.
from .names import GROUP_LEAD_LANES as GROUP_LEAD_LANES
from .names import INITIATOR_LANES as INITIATOR_LANES
from .names import (
    INITIATOR_REFERENCES,
    Naming,
    expressions_of,
    is_expression,
    lane_kind,
    lanes_of,
    mapped_kinds,
    names_from,
    plain_names,
    task_naming,
)
from .names import LANE_NAMES as LANE_NAMES
from .names import ROLE_LANES as ROLE_LANES

# Built once: resolving a lane is on every step's path.
ROLE_PEOPLE = (select(User.id).join(UserRole)
               .where(UserRole.role == bindparam("role"), User.active.is_(True)).order_by(User.id))
# The buyers of the member organisations of a working group.
GROUP_MEMBERS = (select(User.id).join(UserRole)
                 .join(GroupMembership, GroupMembership.organisation_id == User.organisation_id)
                 .where(GroupMembership.group_id == bindparam("group_id"), UserRole.role == Role.BUYER,
                        User.active.is_(True)).order_by(User.id))
DEPUTY = aliased(User)
# Of these people, those away on a day who have an active deputy: (id, name, last day, deputy's id, name).
AWAY_WITH_DEPUTY = (
    select(User.id, User.name, User.away_to, DEPUTY.id, DEPUTY.name)
    .join(DEPUTY, DEPUTY.id == User.deputy_id)
    .where(User.id.in_(bindparam("ids", expanding=True)), User.away_from <= bindparam("day"),
           User.away_to >= bindparam("day"), DEPUTY.active.is_(True), DEPUTY.id != User.id)
    .order_by(User.id))
DEPUTY_ADDED = "deputy_added"  # the history row of a deputy asked because of an absence
WORKED_OUT = "assignment_worked_out"  # the history row of what an assignment expression gave
FOR_ADMINISTRATORS = "waits_for_administrators"  # the history row saying why a task went to them


def name_kind(name: str | None) -> str | None:
    """What a lane or group name stands for: as ``lane_kind``, or through the administrators'
    mapping (also ``user:<id>``); None when it names nobody yet."""
    return lane_kind(name) or (mapped_kinds([name]).get(" ".join(name.split()).lower()) if name else None)


def resolve_lane(lane: str | None, instance: ProcessInstance) -> list[int]:
    """The ids of the active users the lane names for this instance."""
    return resolve_kind(name_kind(lane), instance)


def resolve_kind(kind: str | None, instance: ProcessInstance) -> list[int]:
    """The ids of the active users a kind (``lane_kind``, ``user:<id>``, ``email:<address>``) names."""
    if kind == "initiator":
        return [instance.initiator_id]
    if kind == "group_lead":
        group = instance.working_group
        return [group.lead_id] if group is not None and group.lead_id else []
    if kind is None:
        return []
    if kind == "group_members":
        group_id = instance.working_group_id
        return list(db.session.scalars(GROUP_MEMBERS, {"group_id": group_id})) if group_id else []
    if kind.startswith("user:"):
        user = db.session.get(User, int(kind[5:]))
        return [user.id] if user is not None and user.active else []
    if kind.startswith("email:"):
        return list(user_ids_by_email([kind[6:]]).values())
    return list(db.session.scalars(ROLE_PEOPLE, {"role": Role(kind)}))


def lane_label(lane: str | None, instance: ProcessInstance) -> str:
    """How the lane reads to a person: 'you', 'the group lead of X', 'coordinators'."""
    kind = lane_kind(lane)
    if kind == "initiator":
        return instance.initiator.name
    if kind == "group_lead":
        group = instance.working_group
        return _("Group lead (%(name)s)", name=group.lead.name) if group and group.lead else _("Group lead")
    return diagram_text(instance.version, lane) if lane else _("nobody")  # the lane's name as drawn, translated


def user_ids_by_email(emails: list[str]) -> dict[str, int]:
    """Active users' ids by their email address (lower case)."""
    wanted = {e.strip().lower() for e in emails if e.strip()}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(func.lower(User.email), User.id).where(func.lower(User.email).in_(wanted), User.active.is_(True))
    )
    return dict(rows.all())


def _naming(definition: TaskDef, extras: Extras | None) -> Naming:
    return task_naming(definition, extras.worked_out, extras.failures) if extras else task_naming(definition)


def initiators_own(definition: TaskDef, start_lane: str | None = None) -> bool:
    """Whether the task is the initiator's own step, which they may do on their own request.

    It is when it names the initiator: an initiator lane (Applicant, Claimant, Requester,
    Initiator, in its lane, candidate groups or ``also``), ``${initiator}`` as assignee or
    candidate user, or the lane the request is started from (a group lead's event proposal
    comes back to the lead who proposed it). Every other step of one's own request (an
    approval, a check, a payment) is someone else's to do: separation of duties.
    """
    own = {"initiator"}
    if lane_kind(start_lane) is not None:
        own.add(lane_kind(start_lane) or "")
    if definition.has_assignment and any(
            u in INITIATOR_REFERENCES for u in (definition.assignee, *definition.candidate_users) if u):
        return True
    lanes = lanes_of(definition)
    if any(lane_kind(lane) in own for lane in lanes):
        return True
    users = [u for u in (definition.assignee, *definition.candidate_users) if u] if definition.has_assignment else []
    unknown = [name for name in (*lanes, *users)  # a query only for names the app does not know
               if name.strip() and not is_expression(name) and lane_kind(name) is None and "@" not in name]
    return bool(unknown) and "initiator" in mapped_kinds(unknown).values()


def lane_names(lane: str | None, instance: ProcessInstance, user: User) -> bool:
    """Whether the lane names this person for this instance (as ``resolve_lane`` would list them)."""
    return kind_names(lane_kind(lane), instance, user)


def kind_names(kind: str | None, instance: ProcessInstance, user: User) -> bool:
    """Whether a kind (``lane_kind``'s, ``user:<id>``, ``email:<address>``) names this person here."""
    if not user.active or kind is None:
        return False
    if kind.startswith("user:"):
        return kind == f"user:{user.id}"
    if kind.startswith("email:"):
        return user.email.lower() == kind[6:]
    if kind == "group_members":
        group = instance.working_group
        return (group is not None and Role.BUYER in user.roles
                and any(m.organisation_id == user.organisation_id for m in group.memberships))
    if kind == "initiator":
        return instance.initiator_id == user.id
    if kind == "group_lead":
        group = instance.working_group
        return group is not None and group.lead_id == user.id
    return Role(kind) in user.roles


@dataclass
class Extras:
    """What was done to a waiting task beyond its diagram: lanes escalated to, a reassignment."""

    lanes: list[str] = field(default_factory=list)  # escalated to, since any reassignment
    assigned: int | None = None  # the person an administrator gave it to, if they did
    deputies: set[int] = field(default_factory=set)  # asked for someone away, since any reassignment
    worked_out: list[str] = field(default_factory=list)  # what its assignment expressions gave
    failures: list[str] = field(default_factory=list)  # why an expression gave nobody


def task_extras(task_ids: list[int]) -> dict[int, Extras]:
    """Escalations, deputies and reassignments of these tasks, from their history, by task id.

    A reassignment gives the task to one person in place of its lanes (and deputies); an
    escalation adds a lane (the history row's ``to``, or the lane its summary names for rows
    written before); a deputy asked because a candidate was away adds that person (``to``).
    """
    found: dict[int, Extras] = {}
    if not task_ids:
        return found
    rows = db.session.execute(
        select(AuditEvent.task_id, AuditEvent.action, AuditEvent.data, AuditEvent.summary)
        .where(AuditEvent.task_id.in_(task_ids),
               AuditEvent.action.in_(("escalated", "reassigned", DEPUTY_ADDED, WORKED_OUT)))
        .order_by(AuditEvent.id))
    for task_id, action, data, summary in rows:
        extras = found.setdefault(task_id, Extras())
        if action == WORKED_OUT:
            extras.worked_out += (data or {}).get("names") or []
            extras.failures += [(data or {})["failure"]] if (data or {}).get("failure") else []
        elif action == "reassigned":
            extras.lanes, extras.assigned, extras.deputies = [], (data or {}).get("to"), set()
        elif action == DEPUTY_ADDED:
            extras.deputies.add(int((data or {}).get("to") or 0))
        else:
            extras.lanes.append((data or {}).get("to") or summary.rsplit(" escalated to ", 1)[-1])
    return found


def may_do(definition: TaskDef, instance: ProcessInstance, user: User, start_lane: str | None = None,
           extras: Extras | None = None) -> bool:
    """Whether the task's people include this person now: the one check behind every
    completion, by form or by emailed link, and behind re-resolving a task's people.

    Its lanes (or assignment, or the person an administrator gave it to) and the lanes it was
    escalated to name them, and separation of duties does not bar them (``initiators_own``).
    Query-free but for a group's lead: it runs on every completion.
    """
    if not user.active:
        return False
    extras = extras or Extras()
    if user.id == instance.initiator_id and not initiators_own(definition, start_lane):
        if extras.assigned != user.id:  # an administrator cannot give them such a task
            return False
    if any(lane_names(lane, instance, user) for lane in extras.lanes):
        return True
    if user.id in extras.deputies:  # asked because someone was away when the task opened
        return True
    if extras.assigned is not None:
        return extras.assigned == user.id
    kinds, emails, others = plain_names(definition, extras.worked_out)  # the common case needs no query
    if any(kind_names(kind, instance, user) for kind in kinds) or user.email.lower() in emails:
        return True
    if not (others or emails or expressions_of(definition)) and kinds:
        return False
    return any(kind_names(kind, instance, user) for kind in _naming(definition, extras).kinds)


def still_named(user: User, task: HumanTask) -> bool:
    """Whether the waiting task's lanes (with its escalations and reassignment) name ``user`` now."""
    instance = task.instance
    model = load_model(instance.version, instance.called)
    definition = model.tasks.get(task.bpmn_id)
    if definition is None:
        return False
    if not expressions_of(definition) and may_do(definition, instance, user, model.start_lane):
        return True  # the common case: no history read
    return may_do(definition, instance, user, model.start_lane, task_extras([task.id]).get(task.id))


def waiting_why(task: HumanTask) -> str:
    """Why a waiting task waits for the administrators ('' when it does not): what its page says."""
    instance = task.instance
    definition = load_model(instance.version).tasks.get(task.bpmn_id)
    if definition is None or not (expressions_of(definition) or task_naming(definition).why):
        return ""  # the common case: no history read
    extras = task_extras([task.id]).get(task.id)
    if extras is not None and extras.assigned is not None:
        return ""  # an administrator gave it to someone
    return _naming(definition, extras).why


def task_candidates(definition: TaskDef, instance: ProcessInstance, start_lane: str | None = None,
                    task_id: int | None = None, data: dict | None = None,
                    extras: Extras | None = None) -> list[int]:
    """The ids of the active users who may do a task, in order, each once.

    A task with a Camunda assignment (assignee, candidate users or groups) goes to those people
    and ignores its lane; otherwise it goes to its lane's people. The lanes its ``also`` property
    names are added either way. A name not mapped yet, or no name at all, stands for the
    administrators (``task_naming``). Whoever started the request is left out unless the task is their
    own step (``initiators_own``, with ``start_lane`` the lane of the process's start event).

    A task opening now (``task_id``) has its assignment expressions worked out on its ``data``;
    the history keeps what they gave (``WORKED_OUT``), and says why when the task goes to the
    administrators. A task already waiting reads them from ``extras``.

    Then, for each of them away today with an active deputy, the deputy, if not there already
    (and not the initiator of a step not theirs); for a task row (``task_id``: a task opening
    now) the request's history says each deputy was added, for whom and until when.
    """
    people: list[int] = []

    def add(ids: list[int]) -> None:
        people.extend(uid for uid in ids if uid not in people)

    if task_id is not None:
        extras = _work_out(definition, instance, task_id, data or {})
    naming = _naming(definition, extras)
    for kind in naming.kinds:
        add(resolve_kind(kind, instance))
    if task_id is not None and naming.line is not None:
        _history(instance, task_id, FOR_ADMINISTRATORS, naming.line, {"unmapped": naming.unmapped})
    if instance.initiator_id in people and not initiators_own(definition, start_lane):
        people.remove(instance.initiator_id)
    for absent_id, absent_name, until, deputy_id, deputy_name in (
            db.session.execute(AWAY_WITH_DEPUTY, {"ids": people, "day": local_today()}).all() if people else []):
        if until is None or deputy_id in people or (deputy_id == instance.initiator_id
                                   and not initiators_own(definition, start_lane)):
            continue
        people.append(deputy_id)
        if task_id is not None:
            _history(instance, task_id, DEPUTY_ADDED,
                     said("deputy_added", deputy=deputy_name, absent=absent_name, until=until.isoformat()),
                     {"to": deputy_id, "for": absent_id, "until": until.isoformat()})
    return people


def _history(instance: ProcessInstance, task_id: int, action: str, summary: str | Line, data: dict) -> None:
    step = running_step()
    db.session.connection().execute(ADD_EVENTS, event_row(
        instance.id, task_id, None, step.channel if step else "system", action, summary, data))


def _work_out(definition: TaskDef, instance: ProcessInstance, task_id: int, data: dict) -> Extras:
    """Work out the assignment's expressions on the task's data; keep each result in the history."""
    extras = Extras()
    for expression in expressions_of(definition):
        names, failure = names_from(expression, data)
        extras.worked_out += names
        extras.failures += [failure] if failure else []
        summary = said("worked_out_failed", task=definition.name, failure=failure) if failure else \
            said("worked_out", task=definition.name, expression=expression, names=", ".join(names))
        _history(instance, task_id, WORKED_OUT, summary, {"expression": expression, "names": names,
                                                          "failure": failure})
    return extras


def local_today() -> dt.date:
    """Today in the display time zone: the day an absence is checked against."""
    zone = ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE", "Europe/Brussels"))
    return dt.datetime.now(dt.UTC).astimezone(zone).date()


def day_label(day: dt.date) -> str:
    """'14 March', or '14 March 2027' for a day in another year than today."""
    return format_date(day, this_year=local_today().year)


def assignment_label(definition: TaskDef) -> str:
    """What a task's lane column says: its lane, or who its Camunda assignment names."""
    if not definition.has_assignment:
        return definition.lane or ""
    names = [u for u in (definition.assignee, *definition.candidate_users, *definition.candidate_groups) if u]
    words = ["Initiator" if u in INITIATOR_REFERENCES else "People the request names" if is_expression(u) else u
             for u in names]
    return ", ".join(dict.fromkeys(words))[:100]
