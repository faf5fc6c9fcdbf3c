"""The filtered list of every request and its CSV: plain SQL over instance, task and candidate
rows, never a workflow."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, select, union

from app.engine import load_model
from app.extensions import db
from app.models import (
    HumanTask,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    RequestFigures,
    Role,
    TaskCandidate,
    TaskState,
    User,
    UserRole,
    WorkingGroup,
)
from app.services.spreadsheet import csv_chunks
from app.services.versions import process_names
from app.steps import status_word
from app.steps.lanes import GROUP_LEAD_LANES, INITIATOR_LANES
from forms.translations import diagram_text

from .access import _require_monitor

PER_PAGE = 25
# The list counts the requests that match up to this many and then says "more than": counting
# every one of a million requests costs more than the page itself (docs/SCALING.md).
COUNT_LIMIT = 10_000
WAITING_CHUNK = 1_000  # rows whose waiting tasks one query reads (the CSV holds many)
STATUS_LABELS = {
    InstanceStatus.RUNNING: _l("In progress"), InstanceStatus.COMPLETED: _l("Finished"),
    InstanceStatus.CANCELLED: _l("Cancelled"), InstanceStatus.ERROR: _l("Needs attention"),
}
# Who a request can wait for, as the "waiting for" filter offers it: the secretariat's roles
# (a lane of that name, or a candidate holding the role, as after an escalation), the lead
# of the request's group, or the person who started it.
WAITING_ROLES = {
    "coordinator": _l("Coordinators"), "finance": _l("Finance"), "commission": _l("Commission"),
    "group_lead": _l("The group lead"), "initiator": _l("The person who started it"),
    "nobody": _l("Nobody who can act"),  # each candidate was deactivated, or a role has nobody left
}
# The CSV's headings follow the reader's language; its values are data.
CSV_COLUMNS = [_l("ID"), _l("Process"), _l("Version"), _l("Title"), _l("Status"), _l("Working group"),
               _l("Started by"), _l("Started"), _l("Ended"), _l("Waiting for")]



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
    parts: dict | None  # the title's raw values, for a reader of another language (app/outbox/shown.py)
    waiting: list[str] = field(default_factory=list)  # "Check the claim: Clara Schmidt, Tom Peeters"
    finished_as: str = ""  # a finished request's status word: "Paid"

    @property
    def status_label(self) -> str:
        return self.finished_as or str(STATUS_LABELS.get(self.status, self.status))


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` where the secretariat works, in UTC as stored."""
    return dt.datetime.combine(day, dt.time(), tzinfo=_zone()).astimezone(dt.UTC)


def instance_conditions(f: InstanceFilter, rows: type[ProcessInstance] | type[RequestFigures] = ProcessInstance
                        ) -> list:
    """WHERE clauses on process_instance alone, or on the copies of its columns that
    request_figures keeps (``rows=RequestFigures``, for the reports); the waiting filters are
    indexed IN subqueries."""
    request = rows.instance_id if issubclass(rows, RequestFigures) else rows.id
    where: list = []
    if f.process_id:
        where.append(rows.process_id == f.process_id)
    if f.version_id:
        where.append(rows.version_id == f.version_id)
    if f.status:
        where.append(rows.status == f.status)
    if f.group_id:
        where.append(rows.working_group_id == f.group_id)
    if f.started_from:
        where.append(rows.started_at >= _day_start(f.started_from))
    if f.started_to:
        where.append(rows.started_at < _day_start(f.started_to + dt.timedelta(days=1)))
    if f.waiting_person_id:
        where.append(request.in_(
            select(HumanTask.instance_id).join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
            .where(TaskCandidate.user_id == f.waiting_person_id, TaskCandidate.ready.is_(True),
                   HumanTask.state == TaskState.READY)))
    if f.waiting_role:
        where.append(request.in_(_waiting_on_role(f.waiting_role)))
    return where


def _waiting_on_role(key: str):
    """The requests waiting for ``key`` (a key of WAITING_ROLES): a query of their ids."""
    if key == "nobody":
        able = (select(TaskCandidate.task_id).join(User, User.id == TaskCandidate.user_id)
                .where(TaskCandidate.ready.is_(True), User.active.is_(True)))
        return select(HumanTask.instance_id).where(HumanTask.state == TaskState.READY, HumanTask.id.not_in(able))
    if key == "group_lead":
        lanes = GROUP_LEAD_LANES
    elif key == "initiator":
        lanes = INITIATOR_LANES
    else:
        lanes = frozenset({key})
    by_lane = select(HumanTask.instance_id).where(HumanTask.state == TaskState.READY,
                                                  func.lower(HumanTask.lane).in_(sorted(lanes)))
    if key not in {role.value for role in Role}:
        return by_lane
    by_people = (select(HumanTask.instance_id)
                 .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
                 .join(UserRole, UserRole.user_id == TaskCandidate.user_id)
                 .where(HumanTask.state == TaskState.READY, TaskCandidate.ready.is_(True),
                        UserRole.role == Role(key)))
    return union(by_lane, by_people)


def _rows_query(f: InstanceFilter):
    return (
        select(ProcessInstance.id, ProcessDefinition.name, ProcessVersion.number, ProcessInstance.title,
               ProcessInstance.status, WorkingGroup.name, User.name, ProcessInstance.started_at,
               ProcessInstance.ended_at, ProcessInstance.outcome, ProcessInstance.version_id, ProcessInstance.parts)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessVersion.definition_id)
        .join(User, User.id == ProcessInstance.initiator_id)
        .outerjoin(WorkingGroup, WorkingGroup.id == ProcessInstance.working_group_id)
        .where(*instance_conditions(f))
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    )


def _attach_waiting(rows: list[MonitorRow], versions: dict[int, ProcessVersion]) -> None:
    """Fill each row's ``waiting`` from its READY tasks and their candidates, a query per
    thousand rows: the rows' own ids, never the filter again (a filter over a UNION, re-run by
    PostgreSQL for each task without fresh statistics, took the CSV past the statement timeout)."""
    for start in range(0, len(rows), WAITING_CHUNK):
        _attach_waiting_chunk(rows[start:start + WAITING_CHUNK], versions)


def _attach_waiting_chunk(rows: list[MonitorRow], versions: dict[int, ProcessVersion]) -> None:
    ids = [row.id for row in rows]
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
        version = versions.get(row.version_id)
        row.waiting = [_("%(task)s: %(people)s", task=diagram_text(version, name), people=", ".join(people)) if people
                       else _("%(task)s: nobody in the %(lane)s lane", task=diagram_text(version, name),
                                                                lane=diagram_text(version, lane))
                       if lane else _("%(task)s: nobody in the unnamed lane", task=diagram_text(version, name))
                       for name, lane, people in tasks.get(row.id, {}).values()]


def _versions(ids: set[int]) -> dict[int, ProcessVersion]:
    """The process versions of these ids, by id (a page names a few)."""
    return {version.id: version for version in db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.id.in_(ids)))} if ids else {}


def _attach_outcomes(rows: list[MonitorRow], versions: dict[int, ProcessVersion]) -> None:
    """Each row's process name and each finished row's status word (from the end event its
    diagram names, ``status_word``), as its version's diagram words them in the page's language."""
    finished = {row.version_id for row in rows if row.status == InstanceStatus.COMPLETED}
    models = {version.id: load_model(version) for version in versions.values() if version.id in finished}
    for row in rows:
        version = versions.get(row.version_id)
        row.process = diagram_text(version, row.process)
        if row.version_id in models:
            row.finished_as = diagram_text(version, status_word(row.outcome, models[row.version_id]))


class RowPagination(Pagination):
    """Flask-SQLAlchemy's pagination (pages, iter_pages, ...) over MonitorRow items."""

    count_limit = COUNT_LIMIT

    def _query_items(self) -> list[MonitorRow]:
        query = self._query_args["query"].limit(self.per_page).offset(self._query_offset)
        rows = [MonitorRow(*values) for values in db.session.execute(query).all()]
        if rows:
            versions = _versions({row.version_id for row in rows})  # one query for the page's words
            _attach_waiting(rows, versions)
            _attach_outcomes(rows, versions)
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
                         where=instance_conditions(filters))


def export_instances_csv(actor: User, filters: InstanceFilter) -> Iterator[str]:
    """The whole filtered list as CSV, UTF-8 with a byte order mark so Excel reads it right.

    The permission is checked at once; the text then comes as the heading, then a thousand rows at a time, read
    from the database as they are written out, so a list of any size neither sits in memory
    nor runs as one long statement (on PostgreSQL a server-side cursor, each FETCH its own
    statement under DATABASE_STATEMENT_TIMEOUT).
    """
    _require_monitor(actor)
    return _csv_chunks(_rows_query(filters), _zone())


def _csv_chunks(query, zone: ZoneInfo) -> Iterator[str]:
    def moment(value: dt.datetime | None) -> str:
        if value is None:
            return ""
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def batches() -> Iterator[list[list]]:
        for part in db.session.execute(query, execution_options={"yield_per": WAITING_CHUNK}).partitions():
            rows = [MonitorRow(*values) for values in part]
            versions = _versions({row.version_id for row in rows})  # one query for the page's words
            _attach_waiting(rows, versions)
            _attach_outcomes(rows, versions)
            yield [[row.id, row.process, row.version, row.title, row.status_label, row.group, row.initiator,
                    moment(row.started_at), moment(row.ended_at), "; ".join(row.waiting)] for row in rows]

    # The heading comes before any query (app/web/monitor.py says why), in the reader's language.
    return csv_chunks([str(heading) for heading in CSV_COLUMNS], batches())


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: processes, versions, groups, people."""
    names = process_names()  # in the page's language, as the diagrams word them
    versions = db.session.execute(
        select(ProcessVersion.id, ProcessDefinition.process_id, ProcessVersion.number, ProcessVersion.active)
        .join(ProcessDefinition).order_by(ProcessDefinition.name, ProcessVersion.number.desc())).all()
    return {
        "process_id": sorted(names.items(), key=lambda item: item[1].lower()),
        "version": [(str(vid), _("%(process)s, version %(number)s (in use)", process=names[pid], number=number)
                     if active else _("%(process)s, version %(number)s", process=names[pid], number=number))
                    for vid, pid, number, active in versions],
        "status": [(status.value, str(label)) for status, label in STATUS_LABELS.items()],
        "group": [(str(gid), name) for gid, name in db.session.execute(
            select(WorkingGroup.id, WorkingGroup.name).order_by(WorkingGroup.name))],
        "waiting_role": [(key, str(label)) for key, label in WAITING_ROLES.items()],
        "waiting_person": [(str(uid), name) for uid, name in db.session.execute(
            select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))],
    }
