"""Completing tasks, and the inbox that lists them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import contains_eager, joinedload, undefer
from sqlalchemy.orm.util import identity_key

from app.engine import EngineError, ProcessModel, TaskNotReady, load_model
from app.errors import NotAllowed, ServiceError, TaskUnavailable
from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskCandidate, TaskState, User
from app.steps import Step, close_task, conflict_means_unavailable, engine, step, sync_instance
from app.steps.lanes import still_named

from .attachments import store_uploads
from .instances import step_limits

CANDIDATE = TaskCandidate.__table__
# Built once: a completion's queries.
TASK_FOR_STEP = select(HumanTask).where(HumanTask.id == bindparam("task_id")).options(
    joinedload(HumanTask.instance).options(undefer(ProcessInstance.state),
                                           joinedload(ProcessInstance.version)))
IS_CANDIDATE = select(CANDIDATE.c.user_id).where(CANDIDATE.c.task_id == bindparam("task_id"),
                                                 CANDIDATE.c.user_id == bindparam("user_id"))


def is_candidate(user: User, task: HumanTask) -> bool:
    """Whether the task waits (or waited) for ``user``; uses its candidates if loaded.

    A waiting task is checked against its lanes again (``may_do``): someone who lost the role
    or the group lead's place that made them a candidate, or who started the request and is
    not the one to approve it, is no longer one, whatever the candidate rows say.
    """
    if "candidates" in task.__dict__:
        listed = any(c.user_id == user.id for c in task.candidates)
    else:
        db.session.flush()
        found = db.session.connection().execute(IS_CANDIDATE, {"task_id": task.id, "user_id": user.id})
        listed = found.first() is not None
    if not listed or task.state != TaskState.READY:
        return listed
    return still_named(user, task)


def load_task(task_id: int) -> HumanTask | None:
    """The task with its instance (state included) and the instance's version, in one round
    trip, unless this transaction loaded it already."""
    task = db.session.identity_map.get(identity_key(HumanTask, task_id))
    if task is None:
        task = db.session.execute(TASK_FOR_STEP, {"task_id": task_id}).scalar_one_or_none()
    return task


def task_form_data(task: HumanTask, model: ProcessModel) -> tuple[dict[str, Any], Any]:
    """The data the task's form reads its defaults from, and the instance's workflow, loaded
    from ``model``, for ``complete_task`` to reuse rather than load it again."""
    wf = engine().load(model, task.instance.state)
    return engine().task_data(wf, task.spiff_task_id), wf


def complete_task(actor: User, task_id: int, data: dict[str, Any], uploads: dict | None = None,
                  channel: str = "web", wf=None) -> Step:
    """Complete a READY task as ``actor`` with validated form data; run to the next wait.

    ``wf`` is the instance's workflow if the caller loaded it in this transaction already (the
    task page does, for the form's defaults). Of two people completing the same task at once,
    the second one finds the task no longer READY, or the instance's version counter moved,
    and gets TaskUnavailable. Returns the step: what it opened and who it emailed, for
    saying what comes next (``progress.after_step``).
    """
    task = load_task(task_id)
    if task is None or task.state != TaskState.READY:
        raise TaskUnavailable(task_id)
    if not is_candidate(actor, task):
        raise NotAllowed(_("This task is no longer waiting for you."))
    instance = task.instance
    model = load_model(instance.version, instance.called)
    if wf is None:
        wf = engine().load(model, instance.state)
    values = dict(data)
    values.update(store_uploads(uploads or {}, actor, instance, task))
    with step(instance, actor, channel) as current:
        try:
            with step_limits():
                engine().complete(wf, task.spiff_task_id, values)
        except TaskNotReady as exc:
            raise TaskUnavailable(task_id) from exc
        except EngineError as exc:
            raise ServiceError(_("The next step could not run, so nothing was saved: %(problem)s",
                                 problem=exc)) from exc
        with conflict_means_unavailable(task_id):
            close_task(task, actor, channel, values)
            sync_instance(instance, model, wf, actor, channel)
    return current


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
        .options(undefer(HumanTask.loop_done),
                 contains_eager(HumanTask.instance).selectinload(ProcessInstance.initiator),
                 contains_eager(HumanTask.instance).selectinload(ProcessInstance.working_group))
        .where(TaskCandidate.user_id == user.id, TaskCandidate.ready.is_(True))
        .order_by(TaskCandidate.task_created_at.desc(), TaskCandidate.task_id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return rows, total or 0
