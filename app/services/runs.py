"""The machinery every step shares: the engine, the step context, syncing task rows."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.engine import Engine, ProcessModel
from app.extensions import db
from app.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskState,
    User,
)
from app.models.base import utcnow
from forms import display_value

from .choices import display_options, option_labels
from .errors import TaskUnavailable
from .jsonsafe import to_jsonable
from .lanes import assignment_label, task_candidates
from .outbox import queue_notice, queue_task_emails


@dataclass
class Step:
    """What a service task needs to know about the step that runs it."""

    instance: ProcessInstance
    actor: User | None
    channel: str
    told: set[int] = field(default_factory=set)  # who a notice of this step went to


_current: ContextVar[Step | None] = ContextVar("current_step", default=None)


def current_step() -> Step:
    step = _current.get()
    if step is None:
        raise RuntimeError("a service task ran outside a step")
    return step


@contextmanager
def step(instance: ProcessInstance, actor: User | None, channel: str):
    token = _current.set(Step(instance, actor, channel))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


_ENGINE: Engine | None = None


def engine() -> Engine:
    """The process-wide engine, with the application's service tasks registered."""
    global _ENGINE
    if _ENGINE is None:
        from .topics import TOPICS

        _ENGINE = Engine(services=TOPICS)
    return _ENGINE


def record(instance: ProcessInstance | None, actor: User | None, channel: str, action: str,
           summary: str, data: dict | None = None, task: HumanTask | None = None) -> AuditEvent:
    event = AuditEvent(instance_id=instance.id if instance else None, task=task,
                       actor_id=actor.id if actor else None, channel=channel, action=action,
                       summary=summary[:500], data=to_jsonable(data or {}))
    db.session.add(event)
    return event


def summary_of(model: ProcessModel, data: dict) -> dict[str, str]:
    """The key fields (property summary=true) of the instance, by label, as text."""
    labels: dict | None = None  # queried only if a shown field takes its options from the app
    shown: dict[str, str] = {}
    for form in [model.start_form, *(t.form for t in model.tasks.values())]:
        for spec in form.fields:
            if spec.id == "working_group_id":  # shown on its own, by name
                continue
            if spec.properties.get("summary") == "true" and spec.id in data and spec.label not in shown:
                if spec.properties.get("choices") and labels is None:
                    labels = option_labels()
                shown[spec.label] = display_value(spec, data[spec.id],
                                                  options=display_options(spec, labels or {}))
    return shown


def sync_instance(instance: ProcessInstance, model: ProcessModel, wf, actor: User | None,
                  channel: str, completed: HumanTask | None = None) -> None:
    """After the engine ran: task rows, candidates, state, status and timers match the workflow.

    Nothing read here depends on rows written here, so autoflush is off: the step's rows go
    to the database in one flush, then the new tasks' e-mails as plain INSERTs.
    """
    eng = engine()
    with db.session.no_autoflush:
        data = eng.data(wf)
        instance.summary = summary_of(model, data)
        first = next(iter(instance.summary.values()), "")
        instance.title = f"{model.name}: {first}"[:300] if first else model.name
        ready = eng.ready_tasks(wf)
        ready_ids = {t.id for t in ready}
        open_rows = {row.spiff_task_id: row for row in instance.tasks if row.state == TaskState.READY}
        now = utcnow()
        for spiff_id, row in open_rows.items():
            if spiff_id not in ready_ids and row is not completed:
                row.state = TaskState.CANCELLED
                row.completed_at = now
                for candidate in row.candidates:
                    candidate.ready = False
                record(instance, actor, channel, "task_withdrawn", f"{row.name} withdrawn", task=row)
        created = []
        for task in ready:
            if task.id in open_rows:
                continue
            definition = task.definition
            row = HumanTask(instance=instance, spiff_task_id=task.id, bpmn_id=definition.bpmn_id,
                            name=definition.name, lane=assignment_label(definition),
                            form_key=definition.form.key, is_decision=bool(definition.form.decisions),
                            created_at=now)
            db.session.add(row)
            people = task_candidates(definition, instance)
            row.candidates = [TaskCandidate(user_id=uid, task_created_at=now) for uid in people]
            record(instance, actor, channel, "task_ready", f"{definition.name} is waiting", task=row)
            created.append((row, people))

        instance.state = eng.dump(wf)
        instance.next_timer_at = eng.next_timer(wf)
        instance.current_step = ", ".join(t.definition.name for t in ready)[:200]
        if eng.is_completed(wf) and instance.status == InstanceStatus.RUNNING:
            instance.status = InstanceStatus.COMPLETED
            instance.outcome = eng.ended_at(wf) or ""
            instance.ended_at = now
            instance.next_timer_at = None
            record(instance, actor, channel, "completed", f"Finished: {outcome_label(instance.outcome)}")
            current = _current.get()
            if current is not None and instance.initiator_id not in current.told:
                # Whoever started a request hears when it ends, if the diagram's last step did not
                # tell them itself (the expert request's last notice goes to finance).
                queue_notice(instance, "request_finished", [instance.initiator_id], data)
    if created:
        db.session.flush()  # the new task rows get their ids, which their e-mails refer to
        for row, people in created:
            queue_task_emails(row, people)


def outcome_label(outcome: str) -> str:
    """'end_claim_paid' -> 'claim paid'."""
    return outcome.removeprefix("end_").replace("_", " ") or "done"


@contextmanager
def conflict_means_unavailable(task_id: int):
    """A concurrent change to the same instance, seen at any flush inside, is TaskUnavailable."""
    try:
        yield
    except (StaleDataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_lock_error(exc):
            raise
        raise TaskUnavailable(task_id) from exc


def flush_or_conflict(task_id: int) -> None:
    """Flush; a concurrent change to the same instance becomes TaskUnavailable."""
    with conflict_means_unavailable(task_id):
        db.session.flush()


def is_lock_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig else str(exc).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text


def as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def commit_or_conflict(task_id: int) -> None:
    """Commit; a concurrent change to the same instance rolls back and becomes TaskUnavailable."""
    try:
        db.session.commit()
    except (StaleDataError, OperationalError) as exc:
        db.session.rollback()
        if isinstance(exc, OperationalError) and not is_lock_error(exc):
            raise
        raise TaskUnavailable(task_id) from exc
