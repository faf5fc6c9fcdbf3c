"""The administrator's actions on a request: cancel, retry and reassign."""

from __future__ import annotations

from flask_babel import gettext as _

from app.engine import EngineError, load_model
from app.errors import ServiceError
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskState, User
from app.models.base import utcnow
from app.outbox.queue import queue_notice, queue_task_emails
from app.services.instances import step_limits
from app.services.reasons import check_reason
from app.steps import (
    add_candidates,
    drop_candidates,
    engine,
    lock_instance,
    record,
    said,
    save_instance,
    step,
    sync_instance,
)
from app.steps.lanes import initiators_own

from .access import _require_admin


def cancel_instance(actor: User, instance: ProcessInstance, reason: str) -> None:
    """Stop a request for good: its waiting tasks are withdrawn, everyone involved is told.

    The people a task waited for and the person who started it get the request_cancelled
    notice with the reason.
    """
    _require_admin(actor)
    reason = check_reason(reason)
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
        raise ServiceError(_("Only a request in progress or in error can be cancelled."))
    model = load_model(instance.version, instance.called)
    wf = engine().load(model, instance.state)
    engine().cancel(wf)
    record(instance, actor, "admin", "cancelled", said("cancelled", reason=reason),
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
    reason = check_reason(reason)
    if instance.status != InstanceStatus.ERROR:
        raise ServiceError(_("Only a request in error can be tried again."))
    instance_id = instance.id
    model = load_model(instance.version, instance.called)
    try:
        with step(instance, actor, "admin"):
            wf = engine().load(model, instance.state)
            record(instance, actor, "admin", "retried", said("retried", reason=reason), {"reason": reason})
            with step_limits():
                engine().fire_timers(wf)
            sync_instance(instance, model, wf, actor, "admin",
                          changes={"status": InstanceStatus.RUNNING, "error": ""})
        return True
    except EngineError as exc:
        db.session.rollback()
        instance = db.session.get_one(ProcessInstance, instance_id)  # never deleted
        save_instance(instance, {"status": InstanceStatus.ERROR, "error": str(exc)[:2000]})
        record(instance, actor, "admin", "error",
               said("retry_failed", error=str(exc)[:400], reason=reason),
               {"reason": reason, "bpmn_id": exc.bpmn_id})
        db.session.flush()
        return False


def reassign_task(actor: User, task: HumanTask, person: User, reason: str) -> None:
    """Give a waiting task to one person instead of its candidates.

    The person gets the task email; the previous candidates lose it from their inbox and
    get the task_reassigned notice. The person who started the request cannot be given a step
    that is not their own (separation of duties, ``initiators_own``). The task then stays with
    the person given it when roles or leads change (``recheck_lanes``).
    """
    _require_admin(actor)
    reason = check_reason(reason)
    if task.state != TaskState.READY:
        raise ServiceError(_("This task is no longer waiting, so it cannot be reassigned."))
    if not person.active:
        raise ServiceError(_("%(name)s cannot sign in any more: choose someone else.", name=person.name))
    instance = task.instance
    model = load_model(instance.version, instance.called)
    definition = model.tasks.get(task.bpmn_id)
    if person.id == instance.initiator_id and definition is not None \
            and not initiators_own(definition, model.start_lane):
        raise ServiceError(_("%(name)s started this request, so “%(task)s” cannot be theirs: nobody approves a step "
                             "of their own request. Choose someone else.", name=person.name, task=task.name))
    previous = [c.user_id for c in task.candidates if c.user_id != person.id]
    lock_instance(instance)
    drop_candidates(task, [c.user_id for c in task.candidates])
    # Now, not when the task became ready: the inbox lists newest first, and it is new to them.
    add_candidates(task, [person.id], created_at=utcnow())
    record(instance, actor, "admin", "reassigned",
           said("reassigned", task=task.name, assignee=person.name, reason=reason),
           {"reason": reason, "from": previous, "to": person.id}, task=task)
    queue_task_emails(instance.id, task.id, [person.id])
    queue_notice(instance, "task_reassigned", previous,
                 {"reason": reason, "task_name": task.name, "assignee": person.name, "reassigned_by": actor.name})
    db.session.flush()
