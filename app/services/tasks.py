"""Completing tasks, and the inbox that lists them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import contains_eager, joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from app.engine import EngineError, TaskNotReady
from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskCandidate, TaskState, User
from app.models.base import utcnow

from .attachments import store_uploads
from .errors import NotAllowed, ServiceError, TaskUnavailable
from .runs import (
    CANDIDATE,
    INSTANCE,
    TASK,
    conflict_means_unavailable,
    engine,
    record,
    step,
    sync_instance,
)
from .versions import load_model

# Built once (see runs.py): a completion's statements.
TASK_FOR_STEP = select(HumanTask).where(HumanTask.id == bindparam("task_id")).options(
    joinedload(HumanTask.instance).options(undefer(ProcessInstance.state),
                                           joinedload(ProcessInstance.version)))
IS_CANDIDATE = select(CANDIDATE.c.user_id).where(CANDIDATE.c.task_id == bindparam("task_id"),
                                                 CANDIDATE.c.user_id == bindparam("user_id"))
# The instance row is locked first (on PostgreSQL; SQLite has one writer), as the worker's
# timers lock it, so two steps on one request wait for each other instead of deadlocking.
LOCK_INSTANCE = select(INSTANCE.c.id).where(
    INSTANCE.c.id == bindparam("instance_id"), INSTANCE.c.lock_version == bindparam("loaded_version")
).with_for_update()
CLOSE_TASK = update(TASK).where(TASK.c.id == bindparam("closed_id"), TASK.c.state == TaskState.READY).values(
    state=TaskState.COMPLETED, completed_at=bindparam("now"), completed_by_id=bindparam("actor_id"),
    channel=bindparam("how"))
UNREADY_CANDIDATES = update(CANDIDATE).where(CANDIDATE.c.task_id == bindparam("closed_id")).values(ready=False)


def is_candidate(user: User, task: HumanTask) -> bool:
    """Whether the task waits (or waited) for ``user``; uses its candidates if loaded."""
    if "candidates" in task.__dict__:
        return any(c.user_id == user.id for c in task.candidates)
    db.session.flush()
    found = db.session.connection().execute(IS_CANDIDATE, {"task_id": task.id, "user_id": user.id})
    return found.first() is not None


def load_task(task_id: int) -> HumanTask | None:
    """The task with its instance (state included) and the instance's version, in one round
    trip, unless this transaction loaded it already."""
    task = db.session.identity_map.get(identity_key(HumanTask, task_id))
    if task is None:
        task = db.session.execute(TASK_FOR_STEP, {"task_id": task_id}).scalar_one_or_none()
    return task


def complete_task(actor: User, task_id: int, data: dict[str, Any], uploads: dict | None = None,
                  channel: str = "web", wf=None) -> HumanTask:
    """Complete a READY task as ``actor`` with validated form data; run to the next wait.

    ``wf`` is the instance's workflow if the caller loaded it in this transaction already (the
    task page does, for the form's defaults). Of two people completing the same task at once,
    the second one finds the task no longer READY, or the instance's version counter moved,
    and gets TaskUnavailable.
    """
    task = load_task(task_id)
    if task is None or task.state != TaskState.READY:
        raise TaskUnavailable(task_id)
    if not is_candidate(actor, task):
        raise NotAllowed("This task is not waiting for you.")
    instance = task.instance
    model = load_model(instance.version)
    if wf is None:
        wf = engine().load(model, instance.state)
    values = dict(data)
    values.update(store_uploads(uploads or {}, actor, instance, task))
    with step(instance, actor, channel):
        try:
            engine().complete(wf, task.spiff_task_id, values)
        except TaskNotReady as exc:
            raise TaskUnavailable(task_id) from exc
        except EngineError as exc:
            raise ServiceError(f"The next step could not run, so nothing was saved: {exc}") from exc
        with conflict_means_unavailable(task_id):
            close_task(task, actor, channel, values)
            sync_instance(instance, model, wf, actor, channel)
    return task


def close_task(task: HumanTask, actor: User, channel: str, values: dict[str, Any]) -> None:
    """Mark the task completed by ``actor``, unless someone else completed it first."""
    conn = db.session.connection()
    instance = task.instance
    locked = conn.execute(LOCK_INSTANCE, {"instance_id": instance.id, "loaded_version": instance.lock_version})
    if locked.first() is None:
        raise StaleDataError(f"process instance {instance.id} was changed by someone else meanwhile")
    db.session.flush()  # what the step's service tasks changed through the ORM
    now = utcnow()
    closed = conn.execute(CLOSE_TASK, {"closed_id": task.id, "now": now, "actor_id": actor.id, "how": channel})
    if closed.rowcount != 1:
        raise StaleDataError(f"task {task.id} was completed or withdrawn meanwhile")
    conn.execute(UNREADY_CANDIDATES, {"closed_id": task.id})
    # The session's copy says the same, without a reload.
    for key, value in (("state", TaskState.COMPLETED), ("completed_at", now), ("completed_by_id", actor.id),
                       ("channel", channel)):
        set_committed_value(task, key, value)
    for candidate in task.__dict__.get("candidates", ()):
        set_committed_value(candidate, "ready", False)
    db.session.expire(task, ["completed_by"])
    how = " by e-mail" if channel == "email" else ""
    record(instance, actor, channel, "task_completed", f"{actor.name} completed {task.name}{how}",
           values, task=task)


def inbox(user: User, page: int, per_page: int):
    """The READY tasks waiting for ``user``, newest first. Never loads a workflow."""
    total = db.session.scalar(
        select(func.count()).select_from(TaskCandidate)
        .where(TaskCandidate.user_id == user.id, TaskCandidate.ready.is_(True))
    )
    rows = db.session.scalars(
        select(HumanTask)
        .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .options(contains_eager(HumanTask.instance).selectinload(ProcessInstance.initiator),
                 contains_eager(HumanTask.instance).selectinload(ProcessInstance.working_group))
        .where(TaskCandidate.user_id == user.id, TaskCandidate.ready.is_(True))
        .order_by(TaskCandidate.task_created_at.desc(), TaskCandidate.task_id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return rows, total or 0
