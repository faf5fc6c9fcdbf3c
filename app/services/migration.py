"""Moving running requests to another version of their process.

A request keeps the version it started on. An administrator may move running requests to
another version when nothing they have already done is changed or removed there (the rule
lives in app.engine.migrate); what they wait for restarts on the new version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.engine import EngineError, MigrationError, MigrationPlan, ProcessModel, load_model, migrate, plan_migration
from app.errors import InvalidData
from app.extensions import db
from app.models import (
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    TaskState,
    User,
)
from app.steps import Conflict, engine, is_conflict, record, said, step, sync_instance
from app.steps.writer import retitle_task, withdraw_task

MAX_REASON = 1000


@dataclass
class InstancePlan:
    """One running request and whether it can move to the target version."""

    instance: ProcessInstance
    movable: bool
    reasons: list[str]
    plan: MigrationPlan | None = None  # what differs between its version and the target


@dataclass
class MigrationResult:
    """What a move did: the requests moved, and those left where they were, with why."""

    target: ProcessVersion
    moved: list[ProcessInstance] = field(default_factory=list)
    not_moved: list[tuple[ProcessInstance | None, int, list[str]]] = field(default_factory=list)


def version_of(process_id: str, number: int) -> ProcessVersion | None:
    return db.session.scalar(
        select(ProcessVersion).join(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id, ProcessVersion.number == number)
    )


def running_elsewhere(target: ProcessVersion) -> list[ProcessInstance]:
    """The running requests of ``target``'s process that are on another version, oldest first."""
    return list(db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.process_id == target.definition.process_id,
               ProcessInstance.status == InstanceStatus.RUNNING,
               ProcessInstance.version_id != target.id)
        .order_by(ProcessInstance.started_at, ProcessInstance.id)
    ))


# Moving would have to choose the called versions anew: not done (docs/DIAGRAMS.md, Call activities).
CALLS_DO_NOT_MOVE = _l("It calls other processes (call activities), and such requests stay on the version they "
                       "started on.")


def dry_run(target: ProcessVersion) -> list[InstancePlan]:
    """For each running request on another version: can it move to ``target``, and if not, why.

    Nothing is changed: each request is loaded and the move is tried on a copy.
    """
    new_model = load_model(target)
    return [_plan(instance, new_model, target) for instance in running_elsewhere(target)]


def _plan(instance: ProcessInstance, new_model: ProcessModel, target: ProcessVersion) -> InstancePlan:
    if new_model.calls or instance.called_versions:
        return InstancePlan(instance, False, [str(CALLS_DO_NOT_MOVE)])
    try:
        wf = engine().load(load_model(instance.version, instance.called), instance.state)
    except (KeyError, ValueError, TypeError) as exc:
        return InstancePlan(instance, False, [_("Its saved state could not be read: %(error)s", error=exc)])
    plan = plan_migration(wf, new_model, f"version {target.number}")
    return InstancePlan(instance, plan.movable, plan.reasons, plan)


def migrate_instances(actor: User, target: ProcessVersion, instance_ids: list[int], reason: str,
                      channel: str = "admin") -> MigrationResult:
    """Move the given running requests to ``target``; each is checked again first.

    Each request moves in its own transaction, committed here (as the timer worker does):
    a long batch then never holds the database's writer lock for long, and a request that
    someone changes at the same moment fails alone and is reported while the others move.
    The emails for tasks a move creates are queued in the same commit as the move.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidData([("reason", _("Enter why these requests are moving"))])
    if len(reason) > MAX_REASON:
        raise InvalidData([("reason", _("The reason must be %(max)s characters or fewer", max=MAX_REASON))])
    result = MigrationResult(target)
    new_model = load_model(target)
    for instance_id in dict.fromkeys(instance_ids):
        instance = db.session.get(ProcessInstance, instance_id)
        refusal = _refusal(instance, target)
        if instance is None or refusal:
            result.not_moved.append((instance, instance_id, [refusal]))
            continue
        try:
            reasons = _move(actor, instance, target, new_model, reason, channel)
            if not reasons:
                db.session.commit()
        except EngineError as exc:
            reasons = [_("A step made ready by the move failed, so it was not moved: %(error)s", error=exc)]
        except (Conflict, OperationalError) as exc:  # at the step's writes or at the commit
            if not is_conflict(exc):
                raise
            reasons = [_("Someone changed it at the same moment, so it was not moved; try again.")]
        if reasons:
            db.session.rollback()
            result.not_moved.append((db.session.get(ProcessInstance, instance_id), instance_id, reasons))
            continue
        result.moved.append(instance)
    return result


def _refusal(instance: ProcessInstance | None, target: ProcessVersion) -> str:
    if instance is None or instance.process_id != target.definition.process_id:
        return _("There is no such request of this process.")
    if instance.status != InstanceStatus.RUNNING:
        return _("It is no longer running.")
    if instance.version_id == target.id:
        return _("It is already on version %(number)s.", number=target.number)
    if instance.called_versions or load_model(target).calls:
        return str(CALLS_DO_NOT_MOVE)
    return ""


def _move(actor: User, instance: ProcessInstance, target: ProcessVersion, new_model: ProcessModel,
          reason: str, channel: str) -> list[str]:
    """Move one request and record it; the reasons it cannot move, else nothing."""
    old_number = instance.version.number
    old_model = load_model(instance.version, instance.called)
    wf = engine().load(old_model, instance.state)
    plan = plan_migration(wf, new_model, f"version {target.number}")
    if not plan.movable:
        return plan.reasons
    with step(instance, actor, channel):
        try:
            moved = migrate(wf, new_model)
        except MigrationError as exc:
            return [str(exc)]
        record(instance, actor, channel, "migrated",
               said("migrated", old=old_number, new=target.number, reason=reason),
               {"from_version": old_number, "to_version": target.number, "reason": reason})
        _withdraw_reassigned(instance, old_model, moved, actor, channel)
        sync_instance(instance, new_model, moved, actor, channel, changes={"version_id": target.id})
        db.session.expire(instance, ["version"])
    return []


def _withdraw_reassigned(instance: ProcessInstance, old_model: ProcessModel, wf, actor: User,
                         channel: str) -> None:
    """Bring the open task rows in line with the new version's definitions of their tasks.

    A waiting task keeps its id through a move, so sync_instance keeps its row. If the new
    version gives the task to other people (lane or ``also``), the row is withdrawn here and
    sync_instance opens a new one for the right people; otherwise its name and form change
    in place.
    """
    ready = {task.id: task for task in engine().ready_tasks(wf)}
    for row in instance.tasks:
        task = ready.get(row.spiff_task_id)
        if row.state != TaskState.READY or task is None:
            continue
        definition = task.definition
        before = old_model.tasks.get(row.bpmn_id)
        same_people = (
            definition.bpmn_id == row.bpmn_id and (definition.lane or "") == row.lane
            and before is not None and before.properties.get("also") == definition.properties.get("also")
        )
        if same_people:
            retitle_task(row, definition, task.data)
        else:
            withdraw_task(row, actor, channel, why="task_withdrawn_new_version")



@dataclass
class ProcessVersions:
    """A process, its versions and how many requests are running on each."""

    definition: ProcessDefinition
    running: dict[int, int]  # version id -> running requests

    @property
    def running_total(self) -> int:
        return sum(self.running.values())


def versions_overview() -> list[ProcessVersions]:
    """Every process with its versions and their running requests, by process name."""
    counts = dict(db.session.execute(
        select(ProcessInstance.version_id, func.count())
        .where(ProcessInstance.status == InstanceStatus.RUNNING).group_by(ProcessInstance.version_id)
    ).all())
    definitions = db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.name))
    return [ProcessVersions(d, {v.id: counts.get(v.id, 0) for v in d.versions}) for d in definitions]


def changes_by_version(plans: list[InstancePlan]) -> list[tuple[int, MigrationPlan]]:
    """For each version the requests are on: what differs in the target, oldest version first."""
    seen: dict[int, MigrationPlan] = {}
    for item in plans:
        number = item.instance.version.number
        if item.plan is not None and number not in seen:
            seen[number] = item.plan
    return sorted(seen.items())
