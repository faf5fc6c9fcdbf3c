"""Starting requests, firing their timers, and who may see them."""

from __future__ import annotations

import datetime as dt
from threading import Event
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.engine import DiagramError, EngineError, ProcessModel, load_model, script_limits
from app.errors import NotAllowed, ServiceError
from app.extensions import db
from app.logs import bound_request_id, job
from app.models import (
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    Role,
    TaskCandidate,
    User,
    WorkingGroup,
)
from app.models.base import utcnow
from app.steps import Conflict, Step, create_instance, engine, record, said, save_instance, step, sync_instance
from app.steps.lanes import lane_kind, still_named
from forms.translations import diagram_text

from .attachments import store_uploads
from .versions.calls import CallProblem, resolve_calls

SECRETARIAT = frozenset({Role.COORDINATOR, Role.FINANCE, Role.COMMISSION, Role.ADMINISTRATOR})


def step_limits():
    """What the diagram code of one step may use: ``SCRIPT_CPU_SECONDS`` of processor time and
    ``SCRIPT_MEMORY_MB`` of memory, for all its scripts, conditions, cells and timers together
    (docs/DIAGRAMS.md). Going over fails the step with the reason."""
    config = current_app.config
    return script_limits(config["SCRIPT_CPU_SECONDS"], config["SCRIPT_MEMORY_MB"])


def service_refusal(exc: BaseException) -> ServiceError | None:
    """The ServiceError a service task raised, behind the engine's error, if that is what
    stopped the step (``meeting_attended`` refusing a second claim, say)."""
    cause: BaseException | None = exc
    for _attempt in range(10):
        if cause is None or isinstance(cause, ServiceError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def starts_by_message(model: ProcessModel) -> bool:
    """Whether the process starts only when a request sends it a message (docs/DIAGRAMS.md)."""
    return not engine().startable(model)


def may_start(user: User, model: ProcessModel) -> bool:
    """Buyers start processes; one whose start event sits in the group lead lane needs a lead.
    Nobody starts one marked camunda:isStartableInTasklist="false" (it runs when called), nor
    one that starts only by a message (``starts_by_message``)."""
    if not user.has_role(Role.BUYER) or not model.startable or starts_by_message(model):
        return False
    if lane_kind(model.start_lane) == "group_lead":
        return db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.lead_id == user.id).limit(1)) is not None
    return True


def start_instance(actor: User, version: ProcessVersion, data: dict[str, Any],
                   uploads: dict | None = None, channel: str = "web") -> Step:
    """Start a request from its validated start form; run it to the first wait. The step
    written (its ``instance``, what it opened and queued: ``progress.after_step`` reads it)."""
    model = load_model(version)
    if not may_start(actor, model):
        raise NotAllowed(_("You cannot start “%(process)s”.", process=diagram_text(version, model.name)))
    called = _called_versions(version, model)
    model = load_model(version, called)
    group_id = data.get("working_group_id")
    instance = create_instance(
        version=version, process_id=model.process_id, initiator=actor, state="",
        working_group_id=int(group_id) if group_id not in (None, "") else None,
        title=model.name, called_versions={v.definition.process_id: v.id for v in called} or None,
    )
    start_data = dict(data)
    if start_data.get("working_group_id") not in (None, ""):
        start_data["working_group_id"] = int(start_data["working_group_id"])
    start_data.update(store_uploads(uploads or {}, actor, instance))
    start_data.update({"initiator_id": actor.id, "filed_on": dt.date.today()})
    if model.initiator_variable:  # camunda:initiator on the start event: who started it, as Camunda sets it
        start_data[model.initiator_variable] = actor.email
    with step(instance, actor, channel) as current:
        try:
            with step_limits():
                wf = engine().start(model, start_data)
        except EngineError as exc:
            refusal = service_refusal(exc)
            if refusal is not None:  # a service task refused the data: say it as it said it
                raise refusal from exc
            raise ServiceError(_("“%(process)s” could not start: %(problem)s",
                                 process=diagram_text(version, model.name), problem=exc)) from exc
        record(instance, actor, channel, "started", said("started", process=model.name),
               {k: v for k, v in start_data.items() if k not in ("initiator_id",)})
        sync_instance(instance, model, wf, actor, channel)
    db.session.flush()
    return current


def _called_versions(version: ProcessVersion, model: ProcessModel) -> list[ProcessVersion]:
    """The versions the request's call activities will run, fixed now (docs/DIAGRAMS.md)."""
    if not model.calls:
        return []
    try:
        called = list(resolve_calls(model).values())
        load_model(version, called)  # they fit together
    except (CallProblem, DiagramError) as exc:
        raise ServiceError(_("“%(process)s” cannot start: %(problem)s", process=diagram_text(version, model.name),
                                 problem=exc)) from exc
    return called


def fire_due_timers(now: dt.datetime | None = None, limit: int = 100, stop: Event | None = None) -> int:
    """Fire the timers of instances whose earliest timer is due; one transaction each.

    Commits per instance so one failing instance never holds back the others. Safe with
    several workers: each instance is claimed with a row lock (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL; SQLite has one writer) and checked again once claimed, so an instance another
    worker holds or has just fired is skipped; a step that still collides with a concurrent
    change (the optimistic lock) is rolled back and left for the next round. Once ``stop`` is
    set (the worker was asked to stop) no further instance is begun.

    Each firing is a job of the log, under the request id of the step that set the timer.
    """
    now = now or utcnow()
    due = (ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.next_timer_at <= now)
    ids = list(db.session.scalars(
        select(ProcessInstance.id).where(*due).order_by(ProcessInstance.next_timer_at).limit(limit)
    ))
    fired = 0
    for instance_id in ids:
        if stop is not None and stop.is_set():
            break
        instance = db.session.scalar(
            select(ProcessInstance).where(ProcessInstance.id == instance_id, *due)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)
        )
        if instance is None:  # another worker holds it, or fired it already
            continue
        with bound_request_id(instance.request_id), job("timer", instance_id=instance_id) as outcome:
            fired += _fire(instance, instance_id, outcome)
    return fired


def _fire(instance: ProcessInstance, instance_id: int, outcome: dict[str, Any]) -> int:
    model = load_model(instance.version, instance.called)
    try:
        with step(instance, None, "worker"):
            wf = engine().load(model, instance.state)
            with step_limits():
                engine().fire_timers(wf)
            sync_instance(instance, model, wf, None, "worker")
        db.session.commit()
        outcome["outcome"] = "fired"
        return 1
    except Conflict:
        db.session.rollback()  # changed by someone else meanwhile: the next round sees it anew
        outcome["outcome"] = "changed meanwhile"
    except EngineError as exc:
        db.session.rollback()
        instance = db.session.get_one(ProcessInstance, instance_id)
        save_instance(instance, {"status": InstanceStatus.ERROR, "error": str(exc)[:2000]})
        record(instance, None, "worker", "error", said("timer_failed", error=str(exc)[:400]),
               {"bpmn_id": exc.bpmn_id})
        db.session.commit()
        outcome["outcome"] = "error"
    return 0


def can_view(user: User, instance: ProcessInstance) -> bool:
    """Who may read a request (its page, its history, its files): the person who started it,
    the secretariat by the roles they hold now, and whoever one of its tasks waits or waited
    for, as long as that task's lanes still name them.

    So a group's lead follows the requests whose steps they were asked to do while they lead
    the group, and a coordinator while they are one; having been a candidate is no lasting
    pass: once the role or the lead's place that made someone a candidate is gone, so is the
    request (a task an administrator gave to someone stays theirs). Not the whole group, nor
    its lead by office: a claim carries a bank account, and even within the secretariat bank
    details are shown by role only (``sees_personal``).
    """
    if user.id == instance.initiator_id or user.roles & SECRETARIAT:
        return True
    tasks = db.session.scalars(
        select(HumanTask).join(TaskCandidate)
        .where(HumanTask.instance_id == instance.id, TaskCandidate.user_id == user.id)).all()
    return any(still_named(user, task) for task in tasks)


def my_requests(user: User, page: int, per_page: int):
    """The requests ``user`` started, newest first, with their tasks' people (for what happens next)."""
    return db.paginate(
        select(ProcessInstance).where(ProcessInstance.initiator_id == user.id)
        .options(selectinload(ProcessInstance.tasks).selectinload(HumanTask.candidates)
                 .selectinload(TaskCandidate.user))
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc()),
        page=page, per_page=per_page, error_out=False,
    )
