"""Who a lane names: the initiator, a role within the instance's working group, or a role.

A user task may name its people the Camunda way instead of by its lane: ``camunda:assignee``
and ``camunda:candidateUsers`` hold e-mail addresses or ``${initiator}``, and
``camunda:candidateGroups`` holds names that resolve as lane names do (``coordinator``).
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from app.engine.model import TaskDef
from app.extensions import db
from app.models import ProcessInstance, Role, User, UserRole

INITIATOR_LANES = frozenset({"applicant", "claimant", "requester", "initiator"})
GROUP_LEAD_LANES = frozenset({"group lead", "group_lead", "lead"})
ROLE_LANES = {role.value: role for role in Role}
# Built once: resolving a lane is on every step's path.
ROLE_PEOPLE = (select(User.id).join(UserRole)
               .where(UserRole.role == bindparam("role"), User.active.is_(True)).order_by(User.id))


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
    """Active users' ids by their e-mail address (lower case)."""
    wanted = {e.strip().lower() for e in emails if e.strip()}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(func.lower(User.email), User.id).where(func.lower(User.email).in_(wanted), User.active.is_(True))
    )
    return dict(rows.all())


def task_candidates(definition: TaskDef, instance: ProcessInstance) -> list[int]:
    """The ids of the active users who may do a task, in order, each once.

    A task with a Camunda assignment (assignee, candidate users or groups) goes to those people
    and ignores its lane; otherwise it goes to its lane's people. The lanes its ``also`` property
    names are added either way.
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
    return people


def assignment_label(definition: TaskDef) -> str:
    """What a task's lane column says: its lane, or who its Camunda assignment names."""
    if not definition.has_assignment:
        return definition.lane or ""
    users = [u for u in (definition.assignee, *definition.candidate_users) if u]
    words = ["Initiator" if u in INITIATOR_REFERENCES else u for u in users]
    words += [g for g in definition.candidate_groups]
    return ", ".join(dict.fromkeys(words))[:100]
