"""The machinery every step shares: the engine, the step context, syncing task rows."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

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

AUDIT = AuditEvent.__table__
TASK = HumanTask.__table__
CANDIDATE = TaskCandidate.__table__
INSTANCE = ProcessInstance.__table__

# A step's statements, built once: building and hashing a statement on each call cost more
# than running it. Parameters are bound by name at execution.
ADD_EVENTS = AUDIT.insert()
ADD_TASK = TASK.insert()
ADD_CANDIDATES = CANDIDATE.insert()
OPEN_TASKS = select(TASK.c.id, TASK.c.spiff_task_id, TASK.c.name).where(
    TASK.c.instance_id == bindparam("instance_id"), TASK.c.state == TaskState.READY)
WITHDRAW_TASKS = update(TASK).where(TASK.c.id.in_(bindparam("ids", expanding=True))).values(
    state=TaskState.CANCELLED, completed_at=bindparam("now"))
UNREADY_CANDIDATES = update(CANDIDATE).where(
    CANDIDATE.c.task_id.in_(bindparam("ids", expanding=True))).values(ready=False)
INSTANCE_COLUMNS = ("summary", "title", "state", "next_timer_at", "current_step", "lock_version",
                    "status", "outcome", "ended_at")
SAVE_INSTANCE = update(INSTANCE).where(
    INSTANCE.c.id == bindparam("instance_id"), INSTANCE.c.lock_version == bindparam("loaded_version")
).values({name: bindparam(f"new_{name}") for name in INSTANCE_COLUMNS})


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
           summary: str, data: dict | None = None, task: HumanTask | None = None) -> None:
    """Add a history row, written at once (a plain INSERT: history is on every step's path)."""
    if (instance is not None and instance.id is None) or (task is not None and task.id is None):
        db.session.flush()  # the row it refers to is still only in the session
    db.session.connection().execute(ADD_EVENTS, event_row(
        instance.id if instance else None, task.id if task else None, actor, channel, action, summary, data))


def event_row(instance_id: int | None, task_id: int | None, actor: User | None, channel: str,
              action: str, summary: str, data: dict | None = None) -> dict:
    return {"instance_id": instance_id, "task_id": task_id, "actor_id": actor.id if actor else None,
            "channel": channel, "action": action, "summary": summary[:500],
            "data": to_jsonable(data or {}), "created_at": utcnow()}


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
                  channel: str) -> None:
    """After the engine ran: task rows, candidates, state, status and timers match the workflow.

    Whatever the caller changed through the ORM is flushed first; the step's own rows are then
    written as plain statements (a step is on every completion's path, and the ORM's unit of
    work cost more than the engine). The instance row is updated only if its version counter
    is still the one loaded: otherwise someone else changed the request meanwhile, and the step
    fails with StaleDataError, as an ORM flush would. The instance object is brought up to date
    without a reload; task rows loaded before the step are expired.
    """
    eng = engine()
    db.session.flush()
    conn = db.session.connection()
    now = utcnow()
    data = eng.data(wf)
    ready = eng.ready_tasks(wf)
    ready_ids = {t.id for t in ready}
    events: list[dict] = []
    opened = {spiff_id: (row_id, name) for row_id, spiff_id, name
              in conn.execute(OPEN_TASKS, {"instance_id": instance.id})}
    gone = [(row_id, name) for spiff_id, (row_id, name) in opened.items() if spiff_id not in ready_ids]
    if gone:
        ids = [row_id for row_id, _ in gone]
        conn.execute(WITHDRAW_TASKS, {"ids": ids, "now": now})
        conn.execute(UNREADY_CANDIDATES, {"ids": ids})
        events += [event_row(instance.id, row_id, actor, channel, "task_withdrawn", f"{name} withdrawn")
                   for row_id, name in gone]
        expire_tasks(ids)
    created = []
    for task in ready:
        if task.id in opened:
            continue
        definition = task.definition
        row_id = conn.execute(ADD_TASK, {
            "instance_id": instance.id, "spiff_task_id": task.id, "bpmn_id": definition.bpmn_id,
            "name": definition.name, "lane": assignment_label(definition),
            "form_key": definition.form.key, "is_decision": bool(definition.form.decisions),
            "state": TaskState.READY, "created_at": now, "channel": ""}).inserted_primary_key[0]
        people = task_candidates(definition, instance)
        if people:
            conn.execute(ADD_CANDIDATES, [{"task_id": row_id, "user_id": uid, "ready": True,
                                               "task_created_at": now} for uid in people])
        events.append(event_row(instance.id, row_id, actor, channel, "task_ready",
                                f"{definition.name} is waiting"))
        created.append((row_id, people))

    summary = summary_of(model, data)
    first = next(iter(summary.values()), "")
    values = {
        "summary": summary, "title": f"{model.name}: {first}"[:300] if first else model.name,
        "state": eng.dump(wf), "next_timer_at": eng.next_timer(wf),
        "current_step": ", ".join(t.definition.name for t in ready)[:200],
        "lock_version": instance.lock_version + 1,
        "status": instance.status, "outcome": instance.outcome, "ended_at": instance.ended_at,
    }
    finished = eng.is_completed(wf) and instance.status == InstanceStatus.RUNNING
    if finished:
        values.update(status=InstanceStatus.COMPLETED, outcome=eng.ended_at(wf) or "", ended_at=now,
                      next_timer_at=None)
        events.append(event_row(instance.id, None, actor, channel, "completed",
                                f"Finished: {outcome_label(values['outcome'])}"))
    moved = conn.execute(SAVE_INSTANCE, {"instance_id": instance.id, "loaded_version": instance.lock_version,
                                         **{f"new_{name}": value for name, value in values.items()}})
    if moved.rowcount != 1:
        raise StaleDataError(f"process instance {instance.id} was changed by someone else meanwhile")
    for key, value in values.items():
        set_committed_value(instance, key, value)
    if "tasks" in instance.__dict__:
        db.session.expire(instance, ["tasks"])
    if events:
        conn.execute(ADD_EVENTS, events)
    for row_id, people in created:
        queue_task_emails(instance.id, row_id, people)
    if finished:
        current = _current.get()
        if current is not None and instance.initiator_id not in current.told:
            # Whoever started a request hears when it ends, if the diagram's last step did not
            # tell them itself (the expert request's last notice goes to finance).
            queue_notice(instance, "request_finished", [instance.initiator_id], data)


def expire_tasks(ids: list[int]) -> None:
    """Expire the session's objects of these task rows and their candidates: plain statements
    changed them, and the session would otherwise show the old values until the commit."""
    for row_id in ids:
        task = db.session.identity_map.get(identity_key(HumanTask, row_id))
        if task is None:
            continue
        for candidate in task.__dict__.get("candidates", ()):
            db.session.expire(candidate)
        db.session.expire(task)


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


def is_lock_error(exc: OperationalError) -> bool:
    """A concurrent writer got in the way: SQLite's busy or locked database, PostgreSQL's
    serialization failure or deadlock (whose victim's transaction is rolled back)."""
    text = str(exc.orig).lower() if exc.orig else str(exc).lower()
    return any(word in text for word in ("locked", "busy", "could not serialize", "deadlock detected"))


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
