"""Options the app supplies to enum fields with a ``choices`` property."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import GroupMembership, User, WorkingGroup, eu_countries

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


def member_groups(user: User) -> list[WorkingGroup]:
    """The working groups the person's organisation is a member of (not those they only lead)."""
    if user.organisation_id is None:
        return []
    return list(db.session.scalars(select(WorkingGroup).join(GroupMembership).where(
        GroupMembership.organisation_id == user.organisation_id).order_by(WorkingGroup.name)))


def choices_for(user: User) -> dict[str, list[tuple[str, str]]]:
    """Each choice list, for forms whose person is ``user`` (a task's: the request's initiator).

    ``joinable_groups`` are the groups the person's organisation is not a member of; the
    others are listed under ``joinable_groups.refused`` with the reason, which the form says
    when one is sent anyway and shows under the question.
    """
    def options(groups):
        return [(str(g.id), f"{g.name} ({g.sector})") for g in groups]

    every = list(db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.name)))
    member_of = member_groups(user)
    organisation = user.organisation.name if user.organisation is not None else ""
    return {
        "joinable_groups": options(g for g in every if g not in member_of),
        "joinable_groups.refused": [(str(g.id), _("%(organisation)s is already a member of %(group)s, so it cannot "
                                                  "apply to it again", organisation=organisation, group=g.name))
                                    for g in member_of],
        "my_groups": options(groups_of(user)),
        "led_groups": options(led_groups(user)),
        "working_groups": options(every),
        "eu_countries": eu_countries(),
        # The in-person meetings of the last 60 days the person attended, and "not listed".
        "attended_meetings": meeting_choices(user),
    }
