"""The filtered list of every request and its CSV: plain SQL over instance, task and candidate
rows, never a workflow."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, or_, select

from app.engine import load_model
from app.extensions import db
from app.models import (
    HumanTask,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    Role,
    TaskCandidate,
    TaskState,
    User,
    UserRole,
    WorkingGroup,
)
from app.steps import status_word
from app.steps.lanes import GROUP_LEAD_LANES, INITIATOR_LANES

from .access import _require_monitor

PER_PAGE = 25
# The list counts the requests that match up to this many and then says "more than": counting
# every one of a million requests costs more than the page itself (docs/SCALING.md).
COUNT_LIMIT = 10_000
STATUS_LABELS = {
    InstanceStatus.RUNNING: "In progress", InstanceStatus.COMPLETED: "Finished",
    InstanceStatus.CANCELLED: "Cancelled", InstanceStatus.ERROR: "Needs attention",
}
# Who a request can wait for, as the "waiting for" filter offers it: the secretariat's roles
# (a lane of that name, or a candidate holding the role, as after an escalation), the lead
# of the request's group, or the person who started it.
WAITING_ROLES = {
    "coordinator": "Coordinators", "finance": "Finance", "commission": "Commission",
    "group_lead": "The group lead", "initiator": "The person who started it",
    "nobody": "Nobody who can act",  # each candidate was deactivated, or a role has nobody left
}
CSV_COLUMNS = ["ID", "Process", "Version", "Title", "Status", "Working group", "Started by",
               "Started", "Ended", "Waiting for"]



@dataclass(frozen=True)
class InstanceFilter:
    """What the list is narrowed to; None means any."""

    process_id: str | None = None
    version_id: int | None = None
    status: InstanceStatus | None = None
    group_id: int | None = None
    waiting_role: str | None = None  # a key of WAITING_ROLES
    waiting_person_id: int | None = None
    started_from: dt.date | None = None
    started_to: dt.date | None = None  # inclusive


@dataclass
class MonitorRow:
    id: int
    process: str
    version: int
    title: str
    status: InstanceStatus
    group: str
    initiator: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str  # the end event reached
    version_id: int
    waiting: list[str] = field(default_factory=list)  # "Check the claim: Clara Schmidt, Tom Peeters"
    finished_as: str = ""  # a finished request's status word: "Paid"

    @property
    def status_label(self) -> str:
        return self.finished_as or STATUS_LABELS.get(self.status, str(self.status))


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` where the secretariat works, in UTC as stored."""
    return dt.datetime.combine(day, dt.time(), tzinfo=_zone()).astimezone(dt.UTC)


def _conditions(f: InstanceFilter) -> list:
    """WHERE clauses on process_instance alone; the waiting filters are indexed IN subqueries."""
    where: list = []
    if f.process_id:
        where.append(ProcessInstance.process_id == f.process_id)
    if f.version_id:
        where.append(ProcessInstance.version_id == f.version_id)
    if f.status:
        where.append(ProcessInstance.status == f.status)
    if f.group_id:
        where.append(ProcessInstance.working_group_id == f.group_id)
    if f.started_from:
        where.append(ProcessInstance.started_at >= _day_start(f.started_from))
    if f.started_to:
        where.append(ProcessInstance.started_at < _day_start(f.started_to + dt.timedelta(days=1)))
    if f.waiting_person_id:
        where.append(ProcessInstance.id.in_(
            select(HumanTask.instance_id).join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
            .where(TaskCandidate.user_id == f.waiting_person_id, TaskCandidate.ready.is_(True),
                   HumanTask.state == TaskState.READY)))
    if f.waiting_role:
        where.append(_waiting_on_role(f.waiting_role))
    return where


def _waiting_on_role(key: str):
    if key == "nobody":
        able = (select(TaskCandidate.task_id).join(User, User.id == TaskCandidate.user_id)
                .where(TaskCandidate.ready.is_(True), User.active.is_(True)))
        return ProcessInstance.id.in_(select(HumanTask.instance_id).where(
            HumanTask.state == TaskState.READY, HumanTask.id.not_in(able)))
    if key == "group_lead":
        lanes = GROUP_LEAD_LANES
    elif key == "initiator":
        lanes = INITIATOR_LANES
    else:
        lanes = frozenset({key})
    by_lane = select(HumanTask.instance_id).where(HumanTask.state == TaskState.READY,
                                                  func.lower(HumanTask.lane).in_(sorted(lanes)))
    if key not in {role.value for role in Role}:
        return ProcessInstance.id.in_(by_lane)
    by_people = (select(HumanTask.instance_id)
                 .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
                 .join(UserRole, UserRole.user_id == TaskCandidate.user_id)
                 .where(HumanTask.state == TaskState.READY, TaskCandidate.ready.is_(True),
                        UserRole.role == Role(key)))
    return or_(ProcessInstance.id.in_(by_lane), ProcessInstance.id.in_(by_people))


def _rows_query(f: InstanceFilter):
    return (
        select(ProcessInstance.id, ProcessDefinition.name, ProcessVersion.number, ProcessInstance.title,
               ProcessInstance.status, WorkingGroup.name, User.name, ProcessInstance.started_at,
               ProcessInstance.ended_at, ProcessInstance.outcome, ProcessInstance.version_id)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessVersion.definition_id)
        .join(User, User.id == ProcessInstance.initiator_id)
        .outerjoin(WorkingGroup, WorkingGroup.id == ProcessInstance.working_group_id)
        .where(*_conditions(f))
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    )


def _attach_waiting(rows: list[MonitorRow], ids) -> None:
    """Fill each row's ``waiting`` from its READY tasks and their candidates, in one query."""
    found = db.session.execute(
        select(HumanTask.instance_id, HumanTask.id, HumanTask.name, HumanTask.lane, User.name)
        .outerjoin(TaskCandidate, and_(TaskCandidate.task_id == HumanTask.id, TaskCandidate.ready.is_(True)))
        .outerjoin(User, User.id == TaskCandidate.user_id)
        .where(HumanTask.state == TaskState.READY, HumanTask.instance_id.in_(ids))
        .order_by(HumanTask.instance_id, HumanTask.id, User.name)
    ).all()
    tasks: dict[int, dict[int, tuple[str, str, list[str]]]] = defaultdict(dict)
    for instance_id, task_id, name, lane, person in found:
        entry = tasks[instance_id].setdefault(task_id, (name, lane, []))
        if person:
            entry[2].append(person)
    for row in rows:
        row.waiting = [f"{name}: {', '.join(people)}" if people else f"{name}: nobody in the {lane or 'unnamed'} lane"
                       for name, lane, people in tasks.get(row.id, {}).values()]


def _attach_outcomes(rows: list[MonitorRow]) -> None:
    """Each finished row's status word, from the end event its diagram names (``status_word``)."""
    wanted = {row.version_id for row in rows if row.status == InstanceStatus.COMPLETED}
    if not wanted:
        return
    versions = db.session.scalars(select(ProcessVersion).where(ProcessVersion.id.in_(wanted)))
    models = {version.id: load_model(version) for version in versions}
    for row in rows:
        if row.version_id in models:
            row.finished_as = status_word(row.outcome, models[row.version_id])


class RowPagination(Pagination):
    """Flask-SQLAlchemy's pagination (pages, iter_pages, ...) over MonitorRow items."""

    count_limit = COUNT_LIMIT

    def _query_items(self) -> list[MonitorRow]:
        query = self._query_args["query"].limit(self.per_page).offset(self._query_offset)
        rows = [MonitorRow(*values) for values in db.session.execute(query).all()]
        if rows:
            _attach_waiting(rows, [row.id for row in rows])
            _attach_outcomes(rows)
        return rows

    def _query_count(self) -> int:
        """The matching requests, counted up to one past ``count_limit``."""
        matching = select(ProcessInstance.id).where(*self._query_args["where"]).limit(self.count_limit + 1)
        return db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0

    @property
    def more(self) -> bool:
        """Whether more than ``count_limit`` requests match: ``total`` is then a floor, not the count."""
        return self.total is not None and self.total > self.count_limit

    @property
    def pages(self) -> int:
        """The pages counted; past ``count_limit``, at least up to the next page while this one is full."""
        counted = super().pages
        if not self.more:
            return counted
        return max(counted, self.page + 1 if len(self.items) == self.per_page else self.page)


def list_instances(actor: User, filters: InstanceFilter, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """Every request the filters let through, newest first, one page of them."""
    _require_monitor(actor)
    return RowPagination(page=page, per_page=per_page, error_out=False, query=_rows_query(filters),
                         where=_conditions(filters))


# A formula may start a cell, or any part of it that a spreadsheet splits off as a cell of its
# own (Excel splits on ';' where the decimal separator is a comma, as in BE, DE and FR).
_FORMULA_START = re.compile(r"(^|[;,\t\r\n])([=+\-@\t\r])")


def excel_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: each segment that would start a formula gets a '."""
    text = "" if value is None else str(value)
    return _FORMULA_START.sub(r"\1'\2", text)


def export_instances_csv(actor: User, filters: InstanceFilter) -> str:
    """The whole filtered list as CSV, UTF-8 with a byte order mark so Excel reads it right."""
    _require_monitor(actor)
    zone = _zone()
    query = _rows_query(filters)
    rows = [MonitorRow(*values) for values in db.session.execute(query).all()]
    ids = select(ProcessInstance.id).where(*_conditions(filters)).scalar_subquery()
    if rows:
        _attach_waiting(rows, ids)
        _attach_outcomes(rows)

    def moment(value: dt.datetime | None) -> str:
        if value is None:
            return ""
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # a quoted field is one cell, whatever it holds
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.id, excel_safe(row.process), row.version, excel_safe(row.title),
                         row.status_label, excel_safe(row.group), excel_safe(row.initiator),
                         moment(row.started_at), moment(row.ended_at), excel_safe("; ".join(row.waiting))])
    return out.getvalue()


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: processes, versions, groups, people."""
    versions = db.session.execute(
        select(ProcessVersion.id, ProcessDefinition.name, ProcessVersion.number, ProcessVersion.active)
        .join(ProcessDefinition).order_by(ProcessDefinition.name, ProcessVersion.number.desc())).all()
    return {
        "process_id": [(d.process_id, d.name) for d in db.session.scalars(
            select(ProcessDefinition).order_by(ProcessDefinition.name))],
        "version": [(str(vid), f"{name}, version {number}{' (in use)' if active else ''}")
                    for vid, name, number, active in versions],
        "status": [(status.value, label) for status, label in STATUS_LABELS.items()],
        "group": [(str(gid), name) for gid, name in db.session.execute(
            select(WorkingGroup.id, WorkingGroup.name).order_by(WorkingGroup.name))],
        "waiting_role": list(WAITING_ROLES.items()),
        "waiting_person": [(str(uid), name) for uid, name in db.session.execute(
            select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))],
    }
