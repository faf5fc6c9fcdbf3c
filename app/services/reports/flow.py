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
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, func, join, or_, select

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
from app.services.versions import load_model, process_names
from app.steps import status_word
from forms.translations import diagram_text

from .access import may_see_flow, require
from .filters import FilterSpec, flow_conditions, instance_conditions
from .sql import days, percentile
from .tables import Table

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
    names = _process_names()
    requests, tasks = _requests(spec), _tasks(spec)
    wanted = {row.version_id for row in requests} | {row.version_id for row in tasks}  # one started between
    versions = {version.id: version for version in db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.id.in_(wanted)))}
    steps, waits = _steps(tasks, versions, names)
    diagram = _diagram_version(spec)
    people, lanes = _overdue(spec, now or utcnow())
    return FlowReport(
        processes=_processes(requests, versions, names), outcomes=_outcomes(requests, versions, names),
        steps=steps, overdue_people=people, overdue_lanes=lanes, channels=_channels(tasks, versions, names),
        diagram_version=diagram,
        waits={bpmn_id: median for (process_id, bpmn_id), median in waits.items()
               if diagram is not None and process_id == diagram.definition.process_id})


def _process_names() -> dict[str, str]:
    return process_names()  # in the page's language


def _requests(spec: FilterSpec) -> list:
    """The matching requests counted by whole hours from start to end, version, status and end
    reached: one pass over ix_instance_flow, read in the order it groups by (SQLite's GROUP BY
    sorts its rows unless an index gives them in order), a year at a time."""
    keys = (ProcessInstance.started_year, ProcessInstance.version_id, ProcessInstance.status,
            ProcessInstance.outcome, ProcessInstance.hours_to_end.label("hours"))
    return list(db.session.execute(
        select(*keys, func.count().label("count")).where(*flow_conditions(spec, ProcessInstance)).group_by(*keys)))


def _tasks(spec: FilterSpec) -> list:
    """The matching requests' task rows counted by whole hours waited (none while waiting),
    version, step, state and channel: one pass over ix_human_task_flow, whose rows copy their
    request's columns the filters read, in the order it groups by. Whether a step is a decision,
    and its name, come from its diagram."""
    keys = (HumanTask.request_year, HumanTask.request_version_id.label("version_id"), HumanTask.bpmn_id,
            HumanTask.state, HumanTask.channel, HumanTask.hours_waited.label("hours"))
    return list(db.session.execute(select(*keys, func.count().label("count")).where(
        *flow_conditions(spec, HumanTask), HumanTask.state != TaskState.CANCELLED).group_by(*keys)))


def _word(row, versions: dict[int, ProcessVersion]) -> str:
    """A finished request's status word, from the end its version's diagram names, in the page's language."""
    version = versions[row.version_id]
    return diagram_text(version, status_word(row.outcome, load_model(version)))


def _processes(requests: list, versions: dict[int, ProcessVersion], names: dict[str, str]) -> Table:
    counts: dict[str, dict[str, int]] = {}
    finish: dict[str, Counter] = {}
    for row in requests:
        process_id = versions[row.version_id].definition.process_id
        tally = counts.setdefault(process_id, dict.fromkeys(
            ("started", "finished", "rejected", "cancelled", "open"), 0))
        tally["started"] += row.count
        if row.status == InstanceStatus.COMPLETED:
            tally["finished"] += row.count
            tally["rejected"] += row.count if _word(row, versions).lower() == REJECTED else 0
            finish.setdefault(process_id, Counter())[row.hours] += row.count
        elif row.status == InstanceStatus.CANCELLED:
            tally["cancelled"] += row.count
        else:
            tally["open"] += row.count
    rows = []
    for process_id, tally in sorted(counts.items(), key=lambda item: names.get(item[0], item[0])):
        hours = finish.get(process_id, Counter())
        rows.append((names.get(process_id, process_id), tally["started"], tally["finished"], tally["rejected"],
                     tally["cancelled"], tally["open"], days(percentile(hours, 50)), days(percentile(hours, 90))))
    return Table("processes", _("Requests started in the period, by process"),
                 (_("Process"), _("Started"), _("Finished"), _("Rejected"), _("Cancelled"), _("Still open"),
                  _("Median days to finish"), _("90th percentile days to finish")), rows)


def _outcomes(requests: list, versions: dict[int, ProcessVersion], names: dict[str, str]) -> Table:
    totals: Counter = Counter()
    for row in requests:
        if row.status == InstanceStatus.COMPLETED:
            process_id = versions[row.version_id].definition.process_id
            totals[(names.get(process_id, process_id), _word(row, versions))] += row.count
    return Table("outcomes", _("How the finished requests ended"), (_("Process"), _("Outcome"), _("Requests")),
                 [(process, word, count) for (process, word), count in sorted(totals.items())])


def _steps(tasks: list, versions: dict[int, ProcessVersion],
           names: dict[str, str]) -> tuple[Table, dict[tuple[str, str], float | None]]:
    """Per process and step: times reached (repeats included), waiting now, and the median and
    90th percentile days a completed wait took."""
    reached: Counter = Counter()
    waiting: Counter = Counter()
    waited: dict[tuple[str, str], Counter] = {}
    for row in tasks:
        key = (versions[row.version_id].definition.process_id, row.bpmn_id)
        reached[key] += row.count
        if row.state == TaskState.READY:
            waiting[key] += row.count
        else:
            waited.setdefault(key, Counter())[row.hours] += row.count
    step_names = _step_names(versions)
    rows, medians = [], {}
    for key, count in reached.items():
        hours = waited.get(key, Counter())
        medians[key] = days(percentile(hours, 50))
        rows.append((names.get(key[0], key[0]), step_names.get(key) or _id_words(key[1]), count, waiting[key],
                     medians[key], days(percentile(hours, 90))))
    rows.sort(key=lambda row: (row[0], -(row[4] or 0), row[1]))
    return Table("steps", _("Time waiting at each step"),
                 (_("Process"), _("Step"), _("Times reached"), _("Waiting now"), _("Median days waiting"),
                  _("90th percentile days waiting")), rows), medians


def _step_names(versions: dict[int, ProcessVersion]) -> dict[tuple[str, str], str]:
    """Each step's name as its newest diagram among the versions draws it (a multi-instance
    step's task rows carry their item: "Endorse: Tallinn City"), in the page's language."""
    found: dict[tuple[str, str], str] = {}
    for version in sorted(versions.values(), key=lambda v: v.number):
        model = load_model(version)
        found.update({(model.process_id, key): diagram_text(version, task.name) for key, task in model.tasks.items()})
    return found


def _overdue(spec: FilterSpec, now: dt.datetime) -> tuple[Table, Table]:
    """Tasks waiting past the first timer drawn on their step (its reminder), by person and lane."""
    versions = db.session.scalars(select(ProcessVersion).join(ProcessDefinition).where(*(
        [ProcessDefinition.process_id == spec.process_id] if spec.process_id else []), *(
        [ProcessVersion.id == spec.version_id] if spec.version_id else [])))
    late = []
    for version in versions:
        for bpmn_id, delay in reminder_delays(load_model(version)).items():
            late.append((delay, and_(ProcessInstance.version_id == version.id, HumanTask.bpmn_id == bpmn_id,
                                     HumanTask.created_at < now - delay)))
    by_person: list[tuple] = []
    by_lane: list[tuple] = []
    if late:
        # Sargable first: only tasks older than the shortest reminder (ix_human_task_ready_since).
        where = [*instance_conditions(spec, period=False), HumanTask.state == TaskState.READY,
                 HumanTask.created_at < now - min(delay for delay, _ in late), or_(*(test for _, test in late))]
        tasks = join(HumanTask, ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
        by_person = [tuple(row) for row in db.session.execute(
            select(User.name, func.count()).select_from(tasks)
            .join(TaskCandidate, and_(TaskCandidate.task_id == HumanTask.id, TaskCandidate.ready.is_(True)))
            .join(User, User.id == TaskCandidate.user_id).where(*where)
            .group_by(User.id, User.name).order_by(func.count().desc(), User.name))]
        by_lane = [(lane or _("No lane"), count) for lane, count in db.session.execute(
            select(HumanTask.lane, func.count()).select_from(tasks).where(*where)
            .group_by(HumanTask.lane).order_by(func.count().desc(), HumanTask.lane))]
    return (Table("overdue-people", _("Tasks overdue now, by person"), (_("Person"), _("Tasks overdue")), by_person),
            Table("overdue-lanes", _("Tasks overdue now, by lane"), (_("Lane"), _("Tasks overdue")), by_lane))


def _channels(tasks: list, versions: dict[int, ProcessVersion], names: dict[str, str]) -> Table:
    """Decisions (approve, reject, request changes) made from an email's link and on the web: the
    steps whose form offers decisions, as the writer marks their task rows (``is_decision``)."""
    counts: dict[str, Counter] = {}
    for row in tasks:
        model = load_model(versions[row.version_id])
        step = model.tasks.get(row.bpmn_id)
        if row.state == TaskState.COMPLETED and step is not None and step.form.decisions:
            tally = counts.setdefault(model.process_id, Counter())
            tally["email" if row.channel == "email" else "web"] += row.count
    rows = [(names.get(process_id, process_id), tally["email"], tally["web"], tally["email"] + tally["web"])
            for process_id, tally in sorted(counts.items(), key=lambda item: names.get(item[0], item[0]))]
    return Table("decisions", _("Decisions made from email and on the web"),
                 (_("Process"), _("From email"), _("On the web"), _("Decisions")), rows)


def _id_words(bpmn_id: str) -> str:
    """A step no diagram at hand names (one of a called process): its id in words."""
    words = bpmn_id.rsplit(":", 1)[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _diagram_version(spec: FilterSpec) -> ProcessVersion | None:
    """The diagram the bottleneck view draws: the chosen version, or the chosen process's active one."""
    if spec.version_id:
        return db.session.get(ProcessVersion, spec.version_id)
    if spec.process_id:
        return db.session.scalar(select(ProcessVersion).join(ProcessDefinition).where(
            ProcessDefinition.process_id == spec.process_id, ProcessVersion.active.is_(True)))
    return None
