"""Who a lane names: the initiator, a role within the instance's working group, or a role."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, Role, User, UserRole

INITIATOR_LANES = frozenset({"applicant", "claimant", "requester", "initiator"})
GROUP_LEAD_LANES = frozenset({"group lead", "group_lead", "lead"})
ROLE_LANES = {role.value: role for role in Role}


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
    return list(db.session.scalars(
        select(User.id).join(UserRole).where(UserRole.role == Role(kind), User.active.is_(True))
        .order_by(User.id)
    ))


def lane_label(lane: str | None, instance: ProcessInstance) -> str:
    """How the lane reads to a person: 'you', 'the group lead of X', 'coordinators'."""
    kind = lane_kind(lane)
    if kind == "initiator":
        return instance.initiator.name
    if kind == "group_lead":
        group = instance.working_group
        return f"Group lead ({group.lead.name})" if group and group.lead else "Group lead"
    return lane or "nobody"
