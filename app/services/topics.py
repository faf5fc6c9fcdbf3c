"""Service tasks: the application functions a diagram may call by camunda:topic.

Each takes the task's data and the service task's properties, and returns the values to
merge into the task data. The upload checks refuse a topic that is not in TOPICS.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.engine import load_model
from app.extensions import db
from app.models import GroupMembership, Organisation, OrganisationType, Role, TaskState, User, UserRole, WorkingGroup
from app.outbox.queue import queue_notice, queue_task_emails
from app.services.meetings import meeting_attended
from app.services.people import join_group
from app.steps import Told, add_candidates, current_step, record, said, told_line
from app.steps.lanes import initiators_own, lane_kind, resolve_lane

from .progress import ROLE_WORDS


def group_member_count(data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """How many organisations the instance's working group has."""
    group_id = data.get("working_group_id")
    count: int | None = 0
    if group_id is not None:
        count = db.session.scalar(
            select(func.count()).select_from(GroupMembership).where(GroupMembership.group_id == int(group_id))
        )
    return {"group_member_count": int(count or 0)}


def group_members(data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """The member organisations of the instance's working group, oldest member first, each with
    the email addresses of its active buyers: a collection a multi-instance step can go over
    (``camunda:collection="${group_members}"``, one instance per organisation). The property
    ``variable`` names the data key (default ``group_members``)."""
    group_id = data.get("working_group_id")
    members: list[dict[str, Any]] = []
    if group_id is not None:
        rows = db.session.execute(
            select(Organisation.id, Organisation.name, Organisation.country)
            .join(GroupMembership, GroupMembership.organisation_id == Organisation.id)
            .where(GroupMembership.group_id == int(group_id))
            .order_by(GroupMembership.joined_at, GroupMembership.id)).all()
        buyers: dict[int | None, list[str]] = {}
        for organisation_id, email in db.session.execute(
                select(User.organisation_id, User.email).join(UserRole, UserRole.user_id == User.id)
                .where(User.organisation_id.in_([row.id for row in rows]), User.active.is_(True),
                       UserRole.role == Role.BUYER).order_by(User.id)):
            buyers.setdefault(organisation_id, []).append(email)
        members = [{"name": row.name, "country": row.country, "buyers": buyers.get(row.id, [])}
                   for row in rows]
    return {props.get("variable") or "group_members": members}


def add_group_member(data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """Make the applicant's organisation a member of the instance's working group.

    It joins through join_group, as an administrator's addition does: a group that filled up
    since the diagram counted its members refuses it, and nothing of the step is saved.
    """
    step = current_step()
    instance = step.instance
    initiator: User = instance.initiator
    organisation = initiator.organisation  # the applicant's own joins, whatever name was typed
    if organisation is None:
        organisation = initiator.organisation = _new_organisation(initiator, data)
    group_id = int(data["working_group_id"])
    exists = db.session.scalar(select(GroupMembership).where(
        GroupMembership.group_id == group_id, GroupMembership.organisation == organisation))
    group_name = instance.working_group.name if instance.working_group else "the group"
    if exists is not None:  # made a member meanwhile (by an administrator): not added, nor welcomed, twice
        record(instance, step.actor, step.channel, "member_added",
               said("member_already", organisation=organisation.name, group=group_name))
        return {"membership_added": False}
    join_group(db.session.get_one(WorkingGroup, group_id), organisation)
    record(instance, step.actor, step.channel, "member_added",
           said("member_joined", organisation=organisation.name, group=group_name))
    return {"membership_added": True}


def _new_organisation(initiator: User, data: dict[str, Any]) -> Organisation:
    """An organisation for an applicant who has none, named as they typed it. A name another
    organisation has is not taken as theirs (that would make its people's requests and groups
    the applicant's): the new one is named after the applicant too, and the history says so."""
    name = " ".join((data.get("organisation_name") or "").split()) or f"Organisation of {initiator.name}"
    if db.session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        typed, name = name, f"{name} ({initiator.name})"[:200]
        step = current_step()
        record(step.instance, step.actor, step.channel, "member_added",
               said("organisation_renamed", user=initiator.name, typed=typed, organisation=name))
    organisation = Organisation(
        name=name, type=OrganisationType(data.get("organisation_type") or "other_public_authority"),
        country=str(data.get("country") or "BE")[:2])
    db.session.add(organisation)
    return organisation


def notify(data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """Queue a notice from a template to a lane, a role or the initiator."""
    step = current_step()
    template = props.get("template", "notice")
    to = props.get("to", "initiator")
    recipients = resolve_lane(to, step.instance) if lane_kind(to) else []
    sent = queue_notice(step.instance, template, recipients, data)
    record(step.instance, step.actor, step.channel, "notice", told_line(sent, template),
           {"template": template, "to": to, "recipients": recipients})
    step.told.update(recipients)
    step.notices.append(Told(tuple(person.id for person, _ in sent), sent[0][1] if sent else ""))
    return {}


def escalate(data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """Add the people of lane ``to`` as candidates of the waiting task ``task``."""
    step = current_step()
    instance = step.instance
    # A called process's task rows are <process id>:<task id>; its escalate names the task by its id.
    rows = [row for row in instance.tasks
            if row.bpmn_id.rsplit(":", 1)[-1] == props.get("task") and row.state == TaskState.READY]
    for row in rows:
        model = load_model(instance.version, instance.called)
        people = resolve_lane(props.get("to"), instance)
        definition = model.tasks.get(row.bpmn_id)
        if definition is not None and not initiators_own(definition, model.start_lane):
            people = [uid for uid in people if uid != instance.initiator_id]  # separation of duties
        added = add_candidates(row, people)
        asked = list(db.session.scalars(select(User).where(User.id.in_(added)).order_by(User.name)))
        names, role = [person.name for person in asked], ROLE_WORDS.get(lane_kind(props.get("to")) or "")
        line = (said("escalated_nobody", task=row.name) if not asked else
                said("escalated_role", task=row.name, people=names, role=role) if role else
                said("escalated", task=row.name, people=names))
        record(instance, step.actor, step.channel, "escalated", line, {"added": added, "to": props.get("to")},
               task=row)
        queue_task_emails(instance.id, row.id, added)
    return {}


TOPICS = {
    "group_member_count": group_member_count,
    "group_members": group_members,
    "add_group_member": add_group_member,
    "notify": notify,
    "escalate": escalate,
    "meeting_attended": meeting_attended,
}
