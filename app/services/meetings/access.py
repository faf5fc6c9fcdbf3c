"""Who may see a working group and its meetings, and who may plan them."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import GroupMembership, Meeting, Role, User, UserRole, WorkingGroup

SECRETARIAT = (Role.COORDINATOR, Role.FINANCE, Role.COMMISSION, Role.ADMINISTRATOR)


def is_coordinator(user: User) -> bool:
    return user.has_role(Role.COORDINATOR)


def is_member(user: User, group: WorkingGroup) -> bool:
    """The person's organisation belongs to the group, or they lead it."""
    if group.lead_id == user.id:
        return True
    if user.organisation_id is None:
        return False
    return db.session.scalar(select(GroupMembership.id).where(
        GroupMembership.group_id == group.id, GroupMembership.organisation_id == user.organisation_id)) is not None


def may_see_group(user: User, group: WorkingGroup) -> bool:
    """Members see their group's page and meetings; the secretariat sees every group."""
    return any(user.has_role(role) for role in SECRETARIAT) or is_member(user, group)


def may_plan(user: User, group: WorkingGroup) -> bool:
    """Coordinators plan any group's meetings; a lead plans their own group's."""
    return is_coordinator(user) or (group.lead_id == user.id and user.has_role(Role.BUYER))


def may_record_attendance(user: User, meeting: Meeting) -> bool:
    return may_plan(user, meeting.group)


def visible_groups(user: User) -> list[WorkingGroup]:
    """The groups whose pages the person may open, by name."""
    query = select(WorkingGroup).order_by(WorkingGroup.name)
    if not any(user.has_role(role) for role in SECRETARIAT):
        query = query.outerjoin(GroupMembership).where(
            (WorkingGroup.lead_id == user.id)
            | (GroupMembership.organisation_id == (user.organisation_id or -1))).distinct()
    return list(db.session.scalars(query))


def coordinators() -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole).where(
        UserRole.role == Role.COORDINATOR, User.active.is_(True)).order_by(User.id)))


def group_buyers(group: WorkingGroup) -> list[User]:
    """The people a meeting of the group invites: the active buyers of its member
    organisations, and its lead."""
    buyers = list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .join(GroupMembership, GroupMembership.organisation_id == User.organisation_id)
        .where(GroupMembership.group_id == group.id, User.active.is_(True), UserRole.role == Role.BUYER)
        .order_by(User.name, User.id)))
    if group.lead is not None and group.lead.active and group.lead not in buyers:
        buyers.append(group.lead)
    return buyers
