"""Who a lane names: the initiator, a role within the instance's working group, or a role.

A user task may name its people the Camunda way instead of by its lane: ``camunda:assignee``
and ``camunda:candidateUsers`` hold email addresses or ``${initiator}``, and
``camunda:candidateGroups`` holds names that resolve as lane names do (``coordinator``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased

from app.engine import load_model
from app.engine.model import TaskDef
from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance, Role, User, UserRole

from .audit import ADD_EVENTS, event_row
from .context import running_step

INITIATOR_LANES = frozenset({"applicant", "claimant", "requester", "initiator"})
GROUP_LEAD_LANES = frozenset({"group lead", "group_lead", "lead"})
ROLE_LANES = {role.value: role for role in Role}
# Built once: resolving a lane is on every step's path.
ROLE_PEOPLE = (select(User.id).join(UserRole)
               .where(UserRole.role == bindparam("role"), User.active.is_(True)).order_by(User.id))
DEPUTY = aliased(User)
# Of these people, those away on a day who have an active deputy: (id, name, last day, deputy's id, name).
AWAY_WITH_DEPUTY = (
    select(User.id, User.name, User.away_to, DEPUTY.id, DEPUTY.name)
    .join(DEPUTY, DEPUTY.id == User.deputy_id)
    .where(User.id.in_(bindparam("ids", expanding=True)), User.away_from <= bindparam("day"),
           User.away_to >= bindparam("day"), DEPUTY.active.is_(True), DEPUTY.id != User.id)
    .order_by(User.id))
DEPUTY_ADDED = "deputy_added"  # the history row of a deputy asked because of an absence


def lane_kind(lane: str | None) -> str | None:
    """'initiator', 'group_lead', a role name, or None when the lane names nobody we know."""
    key = (lane or "").strip().lower()
    if key in INITIATOR_LANES:
        return "initiator"
    if key in GROUP_LEAD_LANES:
        return "group_lead"
    if key in ROLE_LANES:
        return ROLE_LANES[key].value
    return None


def resolve_lane(lane: str | None, instance: ProcessInstance) -> list[int]:
    """The ids of the active users the lane names for this instance."""
    kind = lane_kind(lane)
    if kind == "initiator":
        return [instance.initiator_id]
    if kind == "group_lead":
        group = instance.working_group
        return [group.lead_id] if group is not None and group.lead_id else []
    if kind is None:
        return []
    return list(db.session.scalars(ROLE_PEOPLE, {"role": Role(kind)}))


def lane_label(lane: str | None, instance: ProcessInstance) -> str:
    """How the lane reads to a person: 'you', 'the group lead of X', 'coordinators'."""
    kind = lane_kind(lane)
    if kind == "initiator":
        return instance.initiator.name
    if kind == "group_lead":
        group = instance.working_group
        return f"Group lead ({group.lead.name})" if group and group.lead else "Group lead"
    return lane or "nobody"


INITIATOR_REFERENCES = frozenset({"${initiator}", "#{initiator}"})
LANE_NAMES = ("Applicant", "Claimant", "Requester", "Initiator", "Group lead",
              *(role.value.capitalize() for role in Role))


def user_ids_by_email(emails: list[str]) -> dict[str, int]:
    """Active users' ids by their email address (lower case)."""
    wanted = {e.strip().lower() for e in emails if e.strip()}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(func.lower(User.email), User.id).where(func.lower(User.email).in_(wanted), User.active.is_(True))
    )
    return dict(rows.all())


def _lanes_of(definition: TaskDef) -> list[str]:
    """The lane names a task's people come from: its lane, or its candidate groups, and ``also``."""
    lanes = list(definition.candidate_groups) if definition.has_assignment else [definition.lane or ""]
    return lanes + [lane for lane in (definition.properties.get("also") or "").split(",") if lane.strip()]


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
    return any(lane_kind(lane) in own for lane in _lanes_of(definition))


def lane_names(lane: str | None, instance: ProcessInstance, user: User) -> bool:
    """Whether the lane names this person for this instance (as ``resolve_lane`` would list them)."""
    kind = lane_kind(lane)
    if not user.active or kind is None:
        return False
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
        .where(AuditEvent.task_id.in_(task_ids), AuditEvent.action.in_(("escalated", "reassigned", DEPUTY_ADDED)))
        .order_by(AuditEvent.id))
    for task_id, action, data, summary in rows:
        extras = found.setdefault(task_id, Extras())
        if action == "reassigned":
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
    if definition.has_assignment:
        users = {u.strip().lower() for u in (definition.assignee, *definition.candidate_users) if u}
        if users & INITIATOR_REFERENCES and user.id == instance.initiator_id:
            return True
        if user.email.lower() in users:
            return True
    return any(lane_names(lane, instance, user) for lane in _lanes_of(definition))


def still_named(user: User, task: HumanTask) -> bool:
    """Whether the waiting task's lanes (with its escalations and reassignment) name ``user`` now."""
    instance = task.instance
    model = load_model(instance.version)
    definition = model.tasks.get(task.bpmn_id)
    if definition is None:
        return False
    if may_do(definition, instance, user, model.start_lane):
        return True  # the common case: no history read
    return may_do(definition, instance, user, model.start_lane, task_extras([task.id]).get(task.id))


def task_candidates(definition: TaskDef, instance: ProcessInstance, start_lane: str | None = None,
                    task_id: int | None = None) -> list[int]:
    """The ids of the active users who may do a task, in order, each once.

    A task with a Camunda assignment (assignee, candidate users or groups) goes to those people
    and ignores its lane; otherwise it goes to its lane's people. The lanes its ``also`` property
    names are added either way. Whoever started the request is left out unless the task is their
    own step (``initiators_own``, with ``start_lane`` the lane of the process's start event).

    Then, for each of them away today with an active deputy, the deputy, if not there already
    (and not the initiator of a step not theirs); for a task row (``task_id``: a task opening
    now) the request's history says each deputy was added, for whom and until when.
    """
    people: list[int] = []

    def add(ids: list[int]) -> None:
        people.extend(uid for uid in ids if uid not in people)

    if definition.has_assignment:
        users = [u for u in (definition.assignee, *definition.candidate_users) if u]
        by_email = user_ids_by_email([u for u in users if u not in INITIATOR_REFERENCES])
        for user in users:
            if user in INITIATOR_REFERENCES:
                add([instance.initiator_id])
            elif user.strip().lower() in by_email:
                add([by_email[user.strip().lower()]])
        for group in definition.candidate_groups:
            add(resolve_lane(group, instance))
    else:
        add(resolve_lane(definition.lane, instance))
    for lane in filter(None, (definition.properties.get("also") or "").split(",")):
        add(resolve_lane(lane, instance))
    if instance.initiator_id in people and not initiators_own(definition, start_lane):
        people.remove(instance.initiator_id)
    for absent_id, absent_name, until, deputy_id, deputy_name in (
            db.session.execute(AWAY_WITH_DEPUTY, {"ids": people, "day": local_today()}).all() if people else []):
        if until is None or deputy_id in people or (deputy_id == instance.initiator_id
                                   and not initiators_own(definition, start_lane)):
            continue
        people.append(deputy_id)
        if task_id is not None:
            step = running_step()
            db.session.connection().execute(ADD_EVENTS, event_row(
                instance.id, task_id, None, step.channel if step else "system", DEPUTY_ADDED,
                f"{deputy_name} asked too: deputising for {absent_name}, who is away until {day_label(until)}",
                {"to": deputy_id, "for": absent_id, "until": until.isoformat()}))
    return people


def local_today() -> dt.date:
    """Today in the display time zone: the day an absence is checked against."""
    zone = ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE", "Europe/Brussels"))
    return dt.datetime.now(dt.UTC).astimezone(zone).date()


def day_label(day: dt.date) -> str:
    """'14 March', or '14 March 2027' for a day in another year than today."""
    return f"{day.day} {day:%B}" + (f" {day.year}" if day.year != local_today().year else "")


def assignment_label(definition: TaskDef) -> str:
    """What a task's lane column says: its lane, or who its Camunda assignment names."""
    if not definition.has_assignment:
        return definition.lane or ""
    users = [u for u in (definition.assignee, *definition.candidate_users) if u]
    words = ["Initiator" if u in INITIATOR_REFERENCES else u for u in users]
    words += [g for g in definition.candidate_groups]
    return ", ".join(dict.fromkeys(words))[:100]
