"""A working group's page: its people, meetings, requests and year; the year-end reminder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Meeting, ProcessInstance, User, WorkingGroup
from app.models.base import utcnow
from app.outbox.queue import external_url, queue_email
from app.outbox.render import render_email

from .access import coordinators, group_buyers, is_coordinator

REMINDER_DAYS = 30  # the coordinators hear a month before a group's year ends
PROCESSES = (("market_engagement", _l("Market engagement events")), ("expert_request", _l("Expert requests")),
             ("travel_reimbursement", _l("Travel claims")))


@dataclass
class GroupOverview:
    group: WorkingGroup
    members: list[User]
    coming: list[Meeting]
    past: list[Meeting]
    requests: list[tuple[str, list[ProcessInstance]]] = field(default_factory=list)  # headed in the reader's words


def group_overview(viewer: User, group: WorkingGroup, now: dt.datetime | None = None) -> GroupOverview:
    """What the group's page shows the viewer. Travel claims carry personal details: members
    see their own, coordinators all of them."""
    now = now or utcnow()
    meetings = list(db.session.scalars(select(Meeting).where(Meeting.group_id == group.id)
                                       .order_by(Meeting.starts_at, Meeting.id)))
    overview = GroupOverview(group, group_buyers(group),
                             coming=[m for m in meetings if m.ends_at > now],
                             past=[m for m in reversed(meetings) if m.ends_at <= now])
    for process_id, label in PROCESSES:
        query = select(ProcessInstance).where(ProcessInstance.working_group_id == group.id,
                                              ProcessInstance.process_id == process_id)
        if process_id == "travel_reimbursement" and not is_coordinator(viewer):
            query = query.where(ProcessInstance.initiator_id == viewer.id)
        overview.requests.append((str(label), list(db.session.scalars(
            query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc()).limit(50)))))
    return overview


def set_group_year(group: WorkingGroup, starts_on: dt.date | None, ends_on: dt.date | None) -> WorkingGroup:
    """Set the group's year; a new end date means a new reminder."""
    if ends_on != group.ends_on:
        group.year_reminder_sent_at = None
    group.starts_on, group.ends_on = starts_on, ends_on
    db.session.flush()
    return group


def queue_year_reminders(today: dt.date) -> int:
    """E-mail the coordinators about each group whose year ends within a month, once per
    group and end date; return how many groups they were told about."""
    due = db.session.scalars(select(WorkingGroup).where(
        WorkingGroup.ends_on.is_not(None), WorkingGroup.ends_on >= today,
        WorkingGroup.ends_on <= today + dt.timedelta(days=REMINDER_DAYS),
        WorkingGroup.year_reminder_sent_at.is_(None)).order_by(WorkingGroup.id)).all()
    people = coordinators()
    for group in due:
        assert group.ends_on is not None  # the query's condition
        for person in people:
            rendered = render_email("email/group_year_ending.txt", {
                "group": group, "recipient": person, "days": (group.ends_on - today).days,
                "group_url": external_url(f"/groups/{group.id}")}, to=person)
            queue_email(person, "notice", rendered, template="group_year_ending")
        group.year_reminder_sent_at = utcnow()
    db.session.flush()
    return len(due)
