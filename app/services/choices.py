"""Options the app supplies to enum fields with a ``choices`` property."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import GroupMembership, User, WorkingGroup, eu_countries

from .meetings import meeting_choices

if TYPE_CHECKING:
    from app.engine.model import FormSpec


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


def choices_for(user: User, form: FormSpec) -> dict[str, list[tuple[str, str]]]:
    """The choice lists ``form``'s fields name, for forms whose person is ``user`` (a task's:
    the request's initiator); each list is read only when a field names it.

    ``joinable_groups`` are the groups the person's organisation is not a member of; the
    others are listed under ``joinable_groups.refused`` with the reason, which the form says
    when one is sent anyway and shows under the question.
    """
    def options(groups):
        return [(str(g.id), f"{g.name} ({g.sector})") for g in groups]

    @functools.cache
    def every():
        return list(db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.name)))

    @functools.cache
    def member_of():
        return member_groups(user)

    def joinable():
        return options(g for g in every() if g not in member_of())

    def refused():
        organisation = user.organisation.name if user.organisation is not None else ""
        return [(str(g.id), _("%(organisation)s is already a member of %(group)s, so it cannot "
                              "apply to it again", organisation=organisation, group=g.name))
                for g in member_of()]

    lists = {
        "joinable_groups": joinable,
        "joinable_groups.refused": refused,
        "my_groups": lambda: options(groups_of(user)),
        "led_groups": lambda: options(led_groups(user)),
        "working_groups": lambda: options(every()),
        "eu_countries": eu_countries,
        # The in-person meetings of the last 60 days the person attended, and "not listed".
        "attended_meetings": lambda: meeting_choices(user),
    }
    named = {f.properties["choices"] for f in form.fields if f.properties.get("choices")}
    named |= {f"{name}.refused" for name in named}
    return {name: make() for name, make in lists.items() if name in named}
