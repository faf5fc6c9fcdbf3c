"""Flow: where the time goes. Per process and step: requests started, finished, rejected; the
median and 90th percentile time to finish and waiting at each step; tasks overdue now, by
person and by lane; decisions made from email and from the web.

All from aggregate queries over request and task rows (a request's time from started_at to
ended_at, a step's wait from a task row's created_at to completed_at; a step done twice in a
request, as after "request changes", counts twice). The names of ends and steps, and the
reminders drawn on steps, come from each version's parsed diagram, kept once per version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, join, or_, select

from app.engine import reminder_delays
from app.extensions import db
from app.models import (
    HumanTask,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    TaskCandidate,
    TaskState,
    User,
)
from app.models.base import utcnow
from app.services.versions import load_model
from app.steps import status_word

from .access import may_see_flow, require
from .filters import FilterSpec, instance_conditions
from .sql import days, percentiles, seconds_between
from .tables import Table

Ends = list[tuple[str, InstanceStatus, str, int]]  # (process id, status, status word, requests)
REJECTED = "rejected"  # the status word of an end named "… rejected" (app/steps/outcome.py)


@dataclass
class FlowReport:
    """The flow report's tables, and the waits to draw on the chosen process's diagram."""

    processes: Table
    outcomes: Table
    steps: Table
    overdue_people: Table
    overdue_lanes: Table
    channels: Table
    diagram_version: ProcessVersion | None = None  # the chosen process's diagram, if one is chosen
    waits: dict[str, float | None] = field(default_factory=dict)  # its steps' median days waiting

    @property
    def tables(self) -> dict[str, Table]:
        return {table.name: table for table in (self.processes, self.outcomes, self.steps, self.overdue_people,
                                                self.overdue_lanes, self.channels)}


def flow_report(actor, spec: FilterSpec, now: dt.datetime | None = None) -> FlowReport:
    """The flow of the requests the filters let through (started in the period); tasks
    overdue are those waiting ``now``, whenever their request started."""
    require(may_see_flow(actor))
    where = instance_conditions(spec)
    versions = _versions(where)
    names = _process_names()
    steps, waits = _steps(where, versions, names)
    diagram = _diagram_version(spec)
    people, lanes = _overdue(spec, now or utcnow())
    ends = _ends(where, versions)
    return FlowReport(
        processes=_processes(where, ends, names), outcomes=_outcomes(ends, names), steps=steps,
        overdue_people=people, overdue_lanes=lanes, channels=_channels(where, names), diagram_version=diagram,
        waits={bpmn_id: median for (process_id, bpmn_id), median in waits.items()
               if diagram is not None and process_id == diagram.definition.process_id})


def _process_names() -> dict[str, str]:
    return {process_id: name for process_id, name in db.session.execute(
        select(ProcessDefinition.process_id, ProcessDefinition.name))}


def _versions(where: list) -> dict[int, ProcessVersion]:
    """The versions the matching requests run, by id (their diagrams name ends and steps)."""
    ids = select(ProcessInstance.version_id).where(*where).distinct().scalar_subquery()
    return {version.id: version for version in db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.id.in_(ids)))}


def _ends(where: list, versions: dict[int, ProcessVersion]) -> Ends:
    """(process id, status, status word, requests) for each end the matching requests reached."""
    rows = db.session.execute(
        select(ProcessInstance.version_id, ProcessInstance.status, ProcessInstance.outcome, func.count())
        .where(*where).group_by(ProcessInstance.version_id, ProcessInstance.status, ProcessInstance.outcome))
    found = []
    for version_id, status, outcome, count in rows:
        version = versions[version_id]
        word = status_word(outcome, load_model(version)) if status == InstanceStatus.COMPLETED else ""
        found.append((version.definition.process_id, status, word, count))
    return found


def _processes(where: list, ends: Ends, names: dict[str, str]) -> Table:
    counts: dict[str, dict[str, int]] = {}
    for process_id, status, word, count in ends:
        row = counts.setdefault(process_id, dict.fromkeys(("started", "finished", "rejected", "cancelled", "open"), 0))
        row["started"] += count
        if status == InstanceStatus.COMPLETED:
            row["finished"] += count
            row["rejected"] += count if word.lower() == REJECTED else 0
        elif status == InstanceStatus.CANCELLED:
            row["cancelled"] += count
        else:
            row["open"] += count
    finish = percentiles([ProcessInstance.process_id],
                         seconds_between(ProcessInstance.started_at, ProcessInstance.ended_at),
                         [*where, ProcessInstance.status == InstanceStatus.COMPLETED])
    rows = []
    for process_id, row in sorted(counts.items(), key=lambda item: names.get(item[0], item[0])):
        times = finish.get((process_id,), {})
        rows.append((names.get(process_id, process_id), row["started"], row["finished"], row["rejected"],
                     row["cancelled"], row["open"], days(times.get(50)), days(times.get(90))))
    return Table("processes", _("Requests started in the period, by process"),
                 (_("Process"), _("Started"), _("Finished"), _("Rejected"), _("Cancelled"), _("Still open"),
                  _("Median days to finish"), _("90th percentile days to finish")), rows)


def _outcomes(ends: Ends, names: dict[str, str]) -> Table:
    totals: dict[tuple[str, str], int] = {}
    for process_id, status, word, count in ends:
        if status == InstanceStatus.COMPLETED:
            key = (names.get(process_id, process_id), word)
            totals[key] = totals.get(key, 0) + count
    return Table("outcomes", _("How the finished requests ended"), (_("Process"), _("Outcome"), _("Requests")),
                 [(process, word, count) for (process, word), count in sorted(totals.items())])


def _steps(where: list, versions: dict[int, ProcessVersion],
           names: dict[str, str]) -> tuple[Table, dict[tuple[str, str], float | None]]:
    """Per process and step: times it waited (repeats included), still waiting, and the
    median and 90th percentile days a completed wait took."""
    tasks = join(HumanTask, ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
    keys = [ProcessInstance.process_id, HumanTask.bpmn_id]
    counts = db.session.execute(
        select(*keys, func.count(), func.sum(case((HumanTask.state == TaskState.READY, 1), else_=0)),
               func.max(HumanTask.name))
        .select_from(tasks).where(*where, HumanTask.state != TaskState.CANCELLED).group_by(*keys))
    waited = percentiles(keys, seconds_between(HumanTask.created_at, HumanTask.completed_at),
                         [*where, HumanTask.state == TaskState.COMPLETED], tasks)
    step_names = _step_names(versions)
    rows, medians = [], {}
    for row in counts:
        process_id, bpmn_id, count, ready, name = tuple(row)
        times = waited.get((process_id, bpmn_id), {})
        medians[(process_id, bpmn_id)] = days(times.get(50))
        rows.append((names.get(process_id, process_id), step_names.get((process_id, bpmn_id), name), count,
                     int(ready or 0), days(times.get(50)), days(times.get(90))))
    rows.sort(key=lambda row: (row[0], -(row[4] or 0), row[1]))
    return Table("steps", _("Time waiting at each step"),
                 (_("Process"), _("Step"), _("Times reached"), _("Waiting now"), _("Median days waiting"),
                  _("90th percentile days waiting")), rows), medians


def _step_names(versions: dict[int, ProcessVersion]) -> dict[tuple[str, str], str]:
    """Each step's name as its newest diagram among the versions draws it (a multi-instance
    step's task rows carry their item: "Endorse: Tallinn City")."""
    found: dict[tuple[str, str], str] = {}
    for version in sorted(versions.values(), key=lambda v: v.number):
        model = load_model(version)
        found.update({(model.process_id, key): task.name for key, task in model.tasks.items()})
    return found


def _overdue(spec: FilterSpec, now: dt.datetime) -> tuple[Table, Table]:
    """Tasks waiting past the first timer drawn on their step (its reminder), by person and lane."""
    where = [*instance_conditions(spec, period=False), HumanTask.state == TaskState.READY]
    joined = (ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
    pairs = db.session.execute(select(ProcessInstance.version_id, HumanTask.bpmn_id).join(*joined)
                               .where(*where).distinct()).all()
    delays: dict[int, dict[str, dt.timedelta]] = {}
    late = []
    for version_id, bpmn_id in pairs:
        if version_id not in delays:
            delays[version_id] = reminder_delays(load_model(db.session.get_one(ProcessVersion, version_id)))
        if bpmn_id in delays[version_id]:
            late.append(and_(ProcessInstance.version_id == version_id, HumanTask.bpmn_id == bpmn_id,
                             HumanTask.created_at < now - delays[version_id][bpmn_id]))
    by_person: list[tuple] = []
    by_lane: list[tuple] = []
    if late:
        overdue = [*where, or_(*late)]
        by_person = [tuple(row) for row in db.session.execute(
            select(User.name, func.count()).select_from(HumanTask).join(*joined)
            .join(TaskCandidate, and_(TaskCandidate.task_id == HumanTask.id, TaskCandidate.ready.is_(True)))
            .join(User, User.id == TaskCandidate.user_id).where(*overdue)
            .group_by(User.id, User.name).order_by(func.count().desc(), User.name))]
        by_lane = [(lane or _("No lane"), count) for lane, count in db.session.execute(
            select(HumanTask.lane, func.count()).join(*joined).where(*overdue)
            .group_by(HumanTask.lane).order_by(func.count().desc(), HumanTask.lane))]
    return (Table("overdue-people", _("Tasks overdue now, by person"), (_("Person"), _("Tasks overdue")), by_person),
            Table("overdue-lanes", _("Tasks overdue now, by lane"), (_("Lane"), _("Tasks overdue")), by_lane))


def _channels(where: list, names: dict[str, str]) -> Table:
    """Decisions (approve, reject, request changes) made from an email's link and on the web."""
    counts: dict[str, dict[str, int]] = {}
    for process_id, channel, count in db.session.execute(
            select(ProcessInstance.process_id, HumanTask.channel, func.count())
            .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
            .where(*where, HumanTask.is_decision.is_(True), HumanTask.state == TaskState.COMPLETED)
            .group_by(ProcessInstance.process_id, HumanTask.channel)):
        row = counts.setdefault(process_id, {"email": 0, "web": 0})
        row["email" if channel == "email" else "web"] += count
    rows = [(names.get(process_id, process_id), row["email"], row["web"], row["email"] + row["web"])
            for process_id, row in sorted(counts.items(), key=lambda item: names.get(item[0], item[0]))]
    return Table("decisions", _("Decisions made from email and on the web"),
                 (_("Process"), _("From email"), _("On the web"), _("Decisions")), rows)


def _diagram_version(spec: FilterSpec) -> ProcessVersion | None:
    """The diagram the bottleneck view draws: the chosen version, or the chosen process's active one."""
    if spec.version_id:
        return db.session.get(ProcessVersion, spec.version_id)
    if spec.process_id:
        return db.session.scalar(select(ProcessVersion).join(ProcessDefinition).where(
            ProcessDefinition.process_id == spec.process_id, ProcessVersion.active.is_(True)))
    return None
