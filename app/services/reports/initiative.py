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

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from app.extensions import db
from app.models import (
    Answer,
    GroupMembership,
    InstanceStatus,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    RequestFigures,
    User,
    WorkingGroup,
)
from app.services.meetings.access import may_see_group

from .filters import FilterSpec, instance_conditions
from .money import (
    EVENT,
    EXPERT,
    EXPERT_APPROVED_AT,
    STATEMENT,
    amount,
    day_of,
    month_label,
    months,
    reached,
    requests_of,
    share,
)
from .tables import Table


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


def may_see_group_report(user: User, group: WorkingGroup) -> bool:
    """A group's figures are for its members and lead, and the secretariat."""
    return may_see_group(user, group)


def _month_ends(spec: FilterSpec) -> list[dt.datetime]:
    """The UTC moment each month of the period ends (the period's end for the last)."""
    ends = []
    for month in months(spec):
        year, number = map(int, month.split("-"))
        following = dt.date(year + number // 12, number % 12 + 1, 1)
        ends.append(min(FilterSpec(following, following).begins, spec.ends))
    return ends


def initiative(spec: FilterSpec) -> Initiative:
    """Each group's figures for the period, and the initiative's (of the filters' group only,
    when one is chosen; the organisation and process filters narrow the requests counted)."""
    query = select(WorkingGroup).order_by(WorkingGroup.name)
    if spec.group_id is not None:
        query = query.where(WorkingGroup.id == spec.group_id)
    groups = {g.id: GroupFigures(g.name, g.id) for g in db.session.scalars(query)}
    first, after = spec.begins, spec.ends
    ends = _month_ends(spec)
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
    events = select(
        RequestFigures.working_group_id, func.count(RequestFigures.instance_id),
        func.sum(amount("suppliers_attending")), func.sum(amount("buyers_attending"))).where(
        RequestFigures.process_id == EVENT, RequestFigures.status != InstanceStatus.CANCELLED,
        RequestFigures.figures["suppliers_attending"].as_string().is_not(None),
        held >= spec.start.isoformat(), held <= spec.end.isoformat(),
        *instance_conditions(spec, period=False, rows=RequestFigures)).group_by(RequestFigures.working_group_id)
    for owner, count, suppliers, buyers in db.session.execute(events):
        if owner in groups:
            figures = groups[owner]
            figures.events, figures.suppliers, figures.buyers = count, int(suppliers or 0), int(buyers or 0)

    experts = requests_of(EXPERT, spec, RequestFigures.working_group_id, func.count(RequestFigures.instance_id),
                          func.sum(amount("expert_days"))).where(reached(EXPERT_APPROVED_AT)).group_by(
        RequestFigures.working_group_id)
    for owner, count, days in db.session.execute(experts):
        if owner in groups:
            groups[owner].expert_requests, groups[owner].expert_days = count, int(days or 0)

    published = day_of("publication_date")
    statements = select(RequestFigures.working_group_id, func.count(RequestFigures.instance_id)).where(
        RequestFigures.process_id == STATEMENT, RequestFigures.status == InstanceStatus.COMPLETED,
        published >= spec.start.isoformat(), published <= spec.end.isoformat(),
        *instance_conditions(spec, period=False, rows=RequestFigures)).group_by(RequestFigures.working_group_id)
    for owner, count in db.session.execute(statements):
        if owner in groups:
            groups[owner].statements = count

    total = GroupFigures("")
    total.members_by_month = [0] * len(ends)
    for figures in groups.values():
        total.add(figures)
    return Initiative(list(groups.values()), total, months(spec))


@dataclass
class InitiativeReport:
    figures: Initiative
    tables: dict[str, Table]


def initiative_report(spec: FilterSpec) -> InitiativeReport:
    """The initiative's figures for the filters, as tables: each group's row, then the whole
    initiative's (when there is more than one group)."""
    figures = initiative(spec)
    rows = [*figures.groups, *([figures.total] if len(figures.groups) > 1 else [])]

    def name(row: GroupFigures) -> str:
        return row.name or _("All working groups")

    tables = {table.name: table for table in (
        Table("members-meetings", _("Members and meetings by working group"),
              (_("Working group"), _("Member organisations"), _("Joined in the period"), _("Meetings held"),
               _("People invited"), _("Came in person"), _("Came online"), _("Attendance (%)")),
              [(name(r), r.members, r.joined, r.meetings, r.invited, r.in_person, r.online,
                share(r.attended, r.invited)) for r in rows], shares=(7,)),
        Table("work", _("Events, experts and joint statements by working group"),
              (_("Working group"), _("Events held"), _("Suppliers attending"), _("Buyers attending"),
               _("Expert requests approved"), _("Expert days approved"), _("Joint statements published")),
              [(name(r), r.events, r.suppliers, r.buyers, r.expert_requests, r.expert_days, r.statements)
               for r in rows]),
        Table("members-by-month", _("Member organisations at the end of each month"),
              (_("Month"), *(g.name for g in figures.groups)),
              [(month_label(month), *(g.members_by_month[index] for g in figures.groups))
               for index, month in enumerate(figures.months)]),
    )}
    return InitiativeReport(figures, tables)
