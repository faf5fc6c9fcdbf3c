"""Following every request: the filtered list and its CSV, an instance's steps and diagram
markers, and the administrator's cancel, retry and reassign.

The list and the CSV are plain SQL over instance, task and candidate rows: they never load
a workflow, so they cost the same at ten requests or ten thousand. Only one instance's page
loads its workflow, to say which steps are done.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, or_, select

from app.engine import EngineError, load_model, parse_xml
from app.errors import NotAllowed, ServiceError
from app.extensions import db
from app.models import (
    Attachment,
    AuditEvent,
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
from app.models.base import utcnow
from app.outbox.queue import queue_notice, queue_task_emails
from app.steps import add_candidates, drop_candidates, engine, lock_instance, record, save_instance, step, sync_instance
from app.steps.lanes import GROUP_LEAD_LANES, INITIATOR_LANES, lane_label

from .history import Entry
from .instances import SECRETARIAT

PER_PAGE = 25
MAX_REASON = 400  # the reason is shown whole in the history line (500 characters)
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


def may_monitor(user: User) -> bool:
    """Coordinators, finance, the Commission and administrators follow every request."""
    return bool(user.is_authenticated and user.roles & SECRETARIAT)


def may_administer(user: User) -> bool:
    return user.has_role(Role.ADMINISTRATOR)


def _require_monitor(actor: User) -> None:
    if not may_monitor(actor):
        raise NotAllowed("Only the secretariat can follow every request.")


def _require_admin(actor: User) -> None:
    if not may_administer(actor):
        raise NotAllowed("Only administrators can change a request this way.")


# -- the list ---------------------------------------------------------------------------------

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
    waiting: list[str] = field(default_factory=list)  # "Check the claim: Clara Schmidt, Tom Peeters"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, str(self.status))


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
               ProcessInstance.ended_at)
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


class RowPagination(Pagination):
    """Flask-SQLAlchemy's pagination (pages, iter_pages, ...) over MonitorRow items."""

    def _query_items(self) -> list[MonitorRow]:
        query = self._query_args["query"].limit(self.per_page).offset(self._query_offset)
        rows = [MonitorRow(*values) for values in db.session.execute(query).all()]
        if rows:
            _attach_waiting(rows, [row.id for row in rows])
        return rows

    def _query_count(self) -> int:
        return db.session.scalar(
            select(func.count()).select_from(ProcessInstance).where(*self._query_args["where"])) or 0


def list_instances(actor: User, filters: InstanceFilter, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """Every request the filters let through, newest first, one page of them."""
    _require_monitor(actor)
    return RowPagination(page=page, per_page=per_page, error_out=False, query=_rows_query(filters),
                         where=_conditions(filters))


def _excel_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_instances_csv(actor: User, filters: InstanceFilter) -> str:
    """The whole filtered list as CSV, UTF-8 with a byte order mark so Excel reads it right."""
    _require_monitor(actor)
    zone = _zone()
    query = _rows_query(filters)
    rows = [MonitorRow(*values) for values in db.session.execute(query).all()]
    ids = select(ProcessInstance.id).where(*_conditions(filters)).scalar_subquery()
    if rows:
        _attach_waiting(rows, ids)

    def moment(value: dt.datetime | None) -> str:
        if value is None:
            return ""
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.id, _excel_safe(row.process), row.version, _excel_safe(row.title),
                         row.status_label, _excel_safe(row.group), _excel_safe(row.initiator),
                         moment(row.started_at), moment(row.ended_at), _excel_safe("; ".join(row.waiting))])
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


# -- one instance -----------------------------------------------------------------------------

@dataclass
class Step:
    bpmn_id: str
    name: str
    detail: str = ""  # who did it and when, or who it waits for
    task_id: int | None = None  # of a waiting task


@dataclass
class Steps:
    done: list[Step]
    current: list[Step]
    failed: list[Step]
    left: list[Step]  # user tasks not reached yet; some happen only on some paths


AUTOMATIC = frozenset({"serviceTask", "scriptTask", "businessRuleTask", "sendTask"})


def diagram_xml(actor: User, instance: ProcessInstance) -> str:
    """The .bpmn of the instance's own version, as it was stored."""
    _require_monitor(actor)
    files = instance.version.files
    name = next((n for n in sorted(files) if n.endswith(".bpmn")), None)
    if name is None:
        raise ServiceError("This version has no diagram.")
    return files[name]


def _element_names(instance: ProcessInstance) -> dict[str, tuple[str, str]]:
    """bpmn id -> (name, element kind) of every named element of the instance's version."""
    files = instance.version.files
    found: dict[str, tuple[str, str]] = {}
    for file_name in sorted(n for n in files if n.endswith(".bpmn")):
        for element in parse_xml(file_name, files[file_name]).iter():
            if not isinstance(element.tag, str):
                continue
            bpmn_id, name = element.get("id"), element.get("name")
            if bpmn_id and name:
                found[bpmn_id] = (" ".join(name.split()), element.tag.rsplit("}", 1)[-1])
    return found


def _failed_ids(instance: ProcessInstance) -> list[str]:
    if instance.status != InstanceStatus.ERROR:
        return []
    data = db.session.scalar(
        select(AuditEvent.data).where(AuditEvent.instance_id == instance.id, AuditEvent.action == "error")
        .order_by(AuditEvent.id.desc()).limit(1))
    bpmn_id = (data or {}).get("bpmn_id")
    return [bpmn_id] if bpmn_id else []


def _trail(instance: ProcessInstance) -> list[str]:
    """The bpmn ids the instance completed, in order; loads its workflow."""
    model = load_model(instance.version)
    return engine().trail(engine().load(model, instance.state))


def instance_markers(actor: User, instance: ProcessInstance) -> dict[str, list[str]]:
    """Which elements to mark on the diagram: completed, current (READY) and failed ids."""
    _require_monitor(actor)
    current = [t.bpmn_id for t in instance.tasks if t.state == TaskState.READY]
    return {"completed": list(dict.fromkeys(_trail(instance))), "current": list(dict.fromkeys(current)),
            "failed": _failed_ids(instance)}


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(_zone())
    return f"{local.day} {local:%b %Y, %H:%M}"


def instance_steps(actor: User, instance: ProcessInstance) -> Steps:
    """The steps as text, for people who do not see the diagram: done, current, failed, left."""
    _require_monitor(actor)
    model = load_model(instance.version)
    trail = _trail(instance)
    names = _element_names(instance)
    completed_rows: dict[str, list[HumanTask]] = defaultdict(list)
    for row in instance.tasks:
        if row.state == TaskState.COMPLETED:
            completed_rows[row.bpmn_id].append(row)
    done = []
    for bpmn_id in trail:
        name, kind = names.get(bpmn_id, ("", ""))
        if not name or kind.endswith("Gateway"):
            continue
        detail = ""
        if completed_rows.get(bpmn_id):
            row = completed_rows[bpmn_id].pop(0)
            who = row.completed_by.name if row.completed_by else "someone"
            detail = f"{who}, {_when(row.completed_at)}" + (" (by e-mail)" if row.channel == "email" else "")
        elif kind == "startEvent":
            detail = f"{instance.initiator.name}, {_when(instance.started_at)}"
        elif kind in AUTOMATIC:
            detail = "automatic"
        done.append(Step(bpmn_id, name, detail))
    current = []
    for row in instance.tasks:
        if row.state != TaskState.READY:
            continue
        people = [c.user.name for c in row.candidates if c.ready]
        who = ", ".join(people) if people else f"nobody yet ({lane_label(row.lane, instance)})"
        current.append(Step(row.bpmn_id, row.name, f"waiting for {who} since {_when(row.created_at)}", row.id))
    failed = [Step(bpmn_id, names.get(bpmn_id, (bpmn_id, ""))[0], instance.error)
              for bpmn_id in _failed_ids(instance)]
    reached = set(trail) | {s.bpmn_id for s in current}
    left = [Step(t.bpmn_id, t.name, lane_label(t.lane, instance) if t.lane else "") for t in model.tasks.values()
            if t.bpmn_id not in reached] if instance.status in (InstanceStatus.RUNNING, InstanceStatus.ERROR) else []
    return Steps(done, current, failed, left)


@dataclass
class FormData:
    title: str
    entry: Entry  # its latest submission


def latest_form_data(history: list[Entry], model) -> list[FormData]:
    """The last data sent through each form (start form and each task's), in order of first use."""
    latest: dict[str, FormData] = {}
    for entry in history:
        event = entry.event
        if event.action == "started":
            key, title = "", f"Start: {model.name}"
        elif event.action == "task_completed" and event.task is not None:
            key, title = event.task.bpmn_id, event.task.name
        else:
            continue
        if entry.fields or entry.files:
            if key in latest:
                latest[key].entry = entry
            else:
                latest[key] = FormData(title, entry)
    return list(latest.values())


def instance_attachments(actor: User, instance: ProcessInstance) -> list[Attachment]:
    _require_monitor(actor)
    return list(db.session.scalars(
        select(Attachment).where(Attachment.instance_id == instance.id).order_by(Attachment.id)))


def reassign_choices() -> list[tuple[str, str]]:
    return [(str(uid), name) for uid, name in db.session.execute(
        select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))]


# -- administrator actions --------------------------------------------------------------------

def _check_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("Give the reason: it goes into the request's history.")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"The reason must be {MAX_REASON} characters or fewer.")
    return reason


def cancel_instance(actor: User, instance: ProcessInstance, reason: str) -> None:
    """Stop a request for good: its waiting tasks are withdrawn, everyone involved is told.

    The people a task waited for and the person who started it get the request_cancelled
    notice with the reason.
    """
    _require_admin(actor)
    reason = _check_reason(reason)
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
        raise ServiceError("Only a request in progress or in error can be cancelled.")
    model = load_model(instance.version)
    wf = engine().load(model, instance.state)
    engine().cancel(wf)
    record(instance, actor, "admin", "cancelled", f"{actor.name} cancelled this request. Reason: {reason}",
           {"reason": reason})
    told = [instance.initiator_id]
    withdrawn = []
    for row in instance.tasks:
        if row.state != TaskState.READY:
            continue
        told += [c.user_id for c in row.candidates if c.ready and c.user_id not in told]
        withdrawn.append(row.name)
    sync_instance(instance, model, wf, actor, "admin", changes={
        "status": InstanceStatus.CANCELLED, "error": "", "ended_at": utcnow(), "next_timer_at": None,
        "current_step": ""})
    queue_notice(instance, "request_cancelled", told,
                 {"reason": reason, "cancelled_by": actor.name, "withdrawn": withdrawn})


def retry_instance(actor: User, instance: ProcessInstance, reason: str) -> bool:
    """Run an instance in error again from where it stopped: fire its due timers, run on.

    True when it ran: the instance is back in progress (or finished). False when it failed
    again: everything the attempt did is rolled back, and the instance stays in error with
    the new error text. Either way the history says so.
    """
    _require_admin(actor)
    reason = _check_reason(reason)
    if instance.status != InstanceStatus.ERROR:
        raise ServiceError("Only a request in error can be tried again.")
    instance_id = instance.id
    model = load_model(instance.version)
    try:
        with step(instance, actor, "admin"):
            wf = engine().load(model, instance.state)
            record(instance, actor, "admin", "retried",
                   f"{actor.name} ran the failed step again and it worked. Reason: {reason}", {"reason": reason})
            engine().fire_timers(wf)
            sync_instance(instance, model, wf, actor, "admin",
                          changes={"status": InstanceStatus.RUNNING, "error": ""})
        return True
    except EngineError as exc:
        db.session.rollback()
        instance = db.session.get(ProcessInstance, instance_id)
        save_instance(instance, {"status": InstanceStatus.ERROR, "error": str(exc)[:2000]})
        record(instance, actor, "admin", "error",
               f"{actor.name} ran the failed step again; it failed again: {exc}. Reason: {reason}",
               {"reason": reason, "bpmn_id": exc.bpmn_id})
        db.session.flush()
        return False


def reassign_task(actor: User, task: HumanTask, person: User, reason: str) -> None:
    """Give a waiting task to one person instead of its candidates.

    The person gets the task e-mail; the previous candidates lose it from their inbox and
    get the task_reassigned notice.
    """
    _require_admin(actor)
    reason = _check_reason(reason)
    if task.state != TaskState.READY:
        raise ServiceError("This task is no longer waiting, so it cannot be reassigned.")
    if not person.active:
        raise ServiceError(f"{person.name} cannot sign in any more: choose someone else.")
    previous = [c.user_id for c in task.candidates if c.user_id != person.id]
    instance = task.instance
    lock_instance(instance)
    drop_candidates(task, [c.user_id for c in task.candidates])
    # Now, not when the task became ready: the inbox lists newest first, and it is new to them.
    add_candidates(task, [person.id], created_at=utcnow())
    record(instance, actor, "admin", "reassigned",
           f"{actor.name} gave {task.name} to {person.name}. Reason: {reason}",
           {"reason": reason, "from": previous, "to": person.id}, task=task)
    queue_task_emails(instance.id, task.id, [person.id])
    queue_notice(instance, "task_reassigned", previous,
                 {"reason": reason, "task_name": task.name, "assignee": person.name, "reassigned_by": actor.name})
    db.session.flush()
