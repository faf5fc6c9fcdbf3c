"""Options the app supplies to enum fields with a ``choices`` property."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import EU_COUNTRIES, GroupMembership, User, WorkingGroup

from .meetings import meeting_choices


def groups_of(user: User) -> list[WorkingGroup]:
    """The working groups the person's organisation belongs to, and those they lead."""
    query = select(WorkingGroup).outerjoin(GroupMembership).where(
        (WorkingGroup.lead_id == user.id)
        | (GroupMembership.organisation_id == (user.organisation_id or -1))
    ).distinct().order_by(WorkingGroup.name)
    return list(db.session.scalars(query))


def led_groups(user: User) -> list[WorkingGroup]:
    return list(db.session.scalars(
        select(WorkingGroup).where(WorkingGroup.lead_id == user.id).order_by(WorkingGroup.name)))


def choices_for(user: User) -> dict[str, list[tuple[str, str]]]:
    def options(groups):
        return [(str(g.id), f"{g.name} ({g.sector})") for g in groups]

    return {
        "my_groups": options(groups_of(user)),
        "led_groups": options(led_groups(user)),
        "working_groups": options(db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.name))),
        "eu_countries": sorted(EU_COUNTRIES.items(), key=lambda item: item[1]),
        # The in-person meetings of the last 60 days the person attended, and "not listed".
        "attended_meetings": meeting_choices(user),
    }
