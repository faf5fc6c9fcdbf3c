"""The initiative: what the working groups did in a period, per group and in all.

Members over time (the member organisations at the end of each month, from when each joined),
meetings held and who came (app/models/meetings.py), market engagement events held and who
came, expert days approved, joint statements published. Aggregate SQL; no workflow is loaded.

An organisation that left a group no longer has a membership row, so it is counted in no
month; a meeting counts as held when it was not cancelled and has begun; attendance is counted
for the meetings whose attendance was recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select

from app.extensions import db
from app.models import (
    Answer,
    GroupMembership,
    InstanceStatus,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    ProcessInstance,
    WorkingGroup,
)

from .money import EVENT, EXPERT, EXPERT_APPROVED_AT, STATEMENT, Period, amount, day_of, narrowed, reached, requests_of


@dataclass
class GroupFigures:
    """One group's figures for the period (or the whole initiative's, ``group_id`` None)."""

    name: str
    group_id: int | None = None
    members: int = 0  # member organisations at the end of the period
    joined: int = 0  # of which joined during it
    meetings: int = 0
    invited: int = 0  # at the meetings whose attendance was recorded
    in_person: int = 0
    online: int = 0
    events: int = 0
    suppliers: int = 0
    buyers: int = 0
    expert_requests: int = 0  # approved
    expert_days: int = 0
    statements: int = 0
    members_by_month: list[int] = field(default_factory=list)

    @property
    def attended(self) -> int:
        return self.in_person + self.online

    def add(self, other: GroupFigures) -> None:
        for name in ("members", "joined", "meetings", "invited", "in_person", "online", "events", "suppliers",
                     "buyers", "expert_requests", "expert_days", "statements"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.members_by_month = [a + b for a, b in zip(self.members_by_month or [0] * len(other.members_by_month),
                                                       other.members_by_month, strict=True)]


@dataclass
class Initiative:
    groups: list[GroupFigures]
    total: GroupFigures
    months: list[str]


def _month_ends(period: Period) -> list[dt.datetime]:
    """The UTC moment each month of the period ends (the period's end for the last)."""
    first, after = period.bounds
    ends = []
    for month in period.months():
        year, number = map(int, month.split("-"))
        following = dt.date(year + number // 12, number % 12 + 1, 1)
        ends.append(min(Period(following, following, period.zone).bounds[0], after))
    return ends


def initiative(period: Period) -> Initiative:
    """Each group's figures for the period, and the initiative's."""
    query = select(WorkingGroup).order_by(WorkingGroup.name)
    if period.group_ids is not None:
        query = query.where(WorkingGroup.id.in_(period.group_ids))
    groups = {g.id: GroupFigures(g.name, g.id) for g in db.session.scalars(query)}
    first, after = period.bounds
    ends = _month_ends(period)
    for figures in groups.values():
        figures.members_by_month = [0] * len(ends)

    joined = select(GroupMembership.group_id, GroupMembership.joined_at).where(
        GroupMembership.group_id.in_(groups), GroupMembership.joined_at < after)
    for group_id, joined_at in db.session.execute(joined):
        figures = groups[group_id]
        figures.members += 1
        figures.joined += joined_at >= first
        figures.members_by_month = [count + (joined_at < end) for count, end in zip(
            figures.members_by_month, ends, strict=True)]

    recorded = Meeting.attendance_recorded_at.is_not(None)
    meetings = select(
        Meeting.group_id, func.count(func.distinct(Meeting.id)),
        func.sum(case((and_(recorded, MeetingInvitee.id.is_not(None)), 1), else_=0)),
        func.sum(case((and_(recorded, MeetingInvitee.attended == Answer.IN_PERSON), 1), else_=0)),
        func.sum(case((and_(recorded, MeetingInvitee.attended == Answer.ONLINE), 1), else_=0)),
    ).outerjoin(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id).where(
        Meeting.group_id.in_(groups), Meeting.status == MeetingStatus.PLANNED, Meeting.starts_at >= first,
        Meeting.starts_at < min(after, dt.datetime.now(dt.UTC))).group_by(Meeting.group_id)
    for group_id, count, invited, in_person, online in db.session.execute(meetings):
        figures = groups[group_id]
        figures.meetings, figures.invited = count, int(invited or 0)
        figures.in_person, figures.online = int(in_person or 0), int(online or 0)

    # Events held in the period: by the day they took place, with their report.
    held = day_of("event_date")
    events = narrowed(select(
        ProcessInstance.working_group_id, func.count(ProcessInstance.id),
        func.sum(amount("suppliers_attending")), func.sum(amount("buyers_attending"))).where(
        ProcessInstance.process_id == EVENT, ProcessInstance.status != InstanceStatus.CANCELLED,
        ProcessInstance.figures["suppliers_attending"].as_string().is_not(None),
        held >= period.start.isoformat(), held <= period.end.isoformat()), period).group_by(
        ProcessInstance.working_group_id)
    for group_id, count, suppliers, buyers in db.session.execute(events):
        if group_id in groups:
            figures = groups[group_id]
            figures.events, figures.suppliers, figures.buyers = count, int(suppliers or 0), int(buyers or 0)

    experts = requests_of(EXPERT, period, ProcessInstance.working_group_id, func.count(ProcessInstance.id),
                          func.sum(amount("expert_days"))).where(reached(EXPERT_APPROVED_AT)).group_by(
        ProcessInstance.working_group_id)
    for group_id, count, days in db.session.execute(experts):
        if group_id in groups:
            groups[group_id].expert_requests, groups[group_id].expert_days = count, int(days or 0)

    published = day_of("publication_date")
    statements = narrowed(select(ProcessInstance.working_group_id, func.count(ProcessInstance.id)).where(
        ProcessInstance.process_id == STATEMENT, ProcessInstance.status == InstanceStatus.COMPLETED,
        published >= period.start.isoformat(), published <= period.end.isoformat()), period).group_by(
        ProcessInstance.working_group_id)
    for group_id, count in db.session.execute(statements):
        if group_id in groups:
            groups[group_id].statements = count

    total = GroupFigures("")
    total.members_by_month = [0] * len(ends)
    for figures in groups.values():
        total.add(figures)
    return Initiative(list(groups.values()), total, period.months())
