"""Completing tasks, and the inbox that lists them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload, undefer

from app.engine import EngineError, TaskNotReady
from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskCandidate, TaskState, User
from app.models.base import utcnow

from .attachments import store_uploads
from .errors import NotAllowed, ServiceError, TaskUnavailable
from .runs import conflict_means_unavailable, engine, flush_or_conflict, record, step, sync_instance
from .versions import load_model


def is_candidate(user: User, task: HumanTask) -> bool:
    return any(c.user_id == user.id for c in task.candidates)


def complete_task(actor: User, task_id: int, data: dict[str, Any], uploads: dict | None = None,
                  channel: str = "web", wf=None) -> HumanTask:
    """Complete a READY task as ``actor`` with validated form data; run to the next wait.

    ``wf`` is the instance's workflow if the caller loaded it in this transaction already (the
    task page does, for the form's defaults). The instance row carries a version counter: of
    two people completing the same task at once, the second one's flush finds the counter
    moved and gets TaskUnavailable.
    """
    # One round trip for the task, its candidates, its instance (state included), the
    # instance's version and its other task rows, which the step reads.
    task = db.session.get(HumanTask, task_id, options=[
        selectinload(HumanTask.candidates),
        joinedload(HumanTask.instance).options(
            undefer(ProcessInstance.state), joinedload(ProcessInstance.version),
            selectinload(ProcessInstance.tasks)),
    ])
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
    now = utcnow()
    with step(instance, actor, channel):
        try:
            engine().complete(wf, task.spiff_task_id, values)
        except TaskNotReady as exc:
            raise TaskUnavailable(task_id) from exc
        except EngineError as exc:
            raise ServiceError(f"The next step could not run, so nothing was saved: {exc}") from exc
        task.state = TaskState.COMPLETED
        task.completed_at = now
        task.completed_by = actor
        task.channel = channel
        for candidate in task.candidates:
            candidate.ready = False
        how = " by e-mail" if channel == "email" else ""
        record(instance, actor, channel, "task_completed", f"{actor.name} completed {task.name}{how}",
               values, task=task)
        with conflict_means_unavailable(task_id):
            sync_instance(instance, model, wf, actor, channel, completed=task)
    flush_or_conflict(task_id)
    return task


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
