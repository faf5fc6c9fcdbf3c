"""What happens next on a request, in sentences people read: who it waits for, what they will
be asked later, what a step just did, and who handed a task on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.engine import has_tasks_after_timers, load_model
from app.extensions import db
from app.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, Role, User
from app.steps import Step, engine, names_line, outcome_label
from app.steps.lanes import day_label, lane_kind, task_candidates

ROLE_WORDS = {Role.COORDINATOR.value: "coordinator", Role.FINANCE.value: "finance",
              Role.COMMISSION.value: "Commission", "group_lead": "group lead"}


@dataclass(frozen=True)
class NextStep:
    """One thing a request waits for, as a sentence; ``task_id`` links the viewer's own task."""

    text: str
    task_id: int | None = None


def what_next(instance: ProcessInstance, viewer: User) -> list[NextStep]:
    """Who the request waits for and what for, what the diagram asks of someone after a timer it
    waits for, or how it ended: each as a sentence addressed to ``viewer``.

    Reads the waiting task rows with their people, and loads the workflow only when the
    request waits for a timer that the diagram follows with someone's task.
    """
    if instance.status == InstanceStatus.COMPLETED:
        return [NextStep(f"Finished: {outcome_label(instance.outcome, _model(instance))}.")]
    if instance.status == InstanceStatus.CANCELLED:
        return [NextStep("Cancelled.")]
    if instance.status == InstanceStatus.ERROR:
        return [NextStep("Stopped: an administrator needs to look at it.")]
    found = [_waiting(task, instance, viewer) for task in instance.tasks if task.is_ready]
    found += _later(instance, viewer)
    if not found and instance.current_step:  # messages from other requests: "Waiting for “x”"
        found.append(NextStep(f"{instance.current_step}."))
    return found


def _waiting(task: HumanTask, instance: ProcessInstance, viewer: User) -> NextStep:
    people = sorted((c.user for c in task.candidates if c.ready), key=lambda person: person.name)
    since = day_label(_local_day(task.created_at))
    if any(person.id == viewer.id for person in people):
        return NextStep(f"Waiting for you: {task.name}, since {since}.", task.id)
    if not people:
        return NextStep(f"{task.name} waits for someone who can do it, since {since}: "
                        "an administrator can give it to a person.")
    return NextStep(f"Waiting for {who_line(people, task.lane, 'or')} to {_verb(task.name)}, "
                    f"since {since}.")


def _later(instance: ProcessInstance, viewer: User) -> list[NextStep]:
    """What the diagram asks of people once the timers the request waits for come due."""
    if instance.next_timer_at is None or instance.status != InstanceStatus.RUNNING:
        return []
    model = _model(instance)
    if not has_tasks_after_timers(model):
        return []
    found = []
    for due, keys in engine().timers_ahead(engine().load(model, instance.state)):
        for key in keys:
            definition = model.tasks[key]
            ids = task_candidates(definition, instance, model.start_lane)
            when = day_label(_local_day(due))
            if viewer.id in ids:
                found.append(NextStep(f"From {when}, you will be asked to {_verb(definition.name)}."))
            elif ids:
                people = list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
                found.append(NextStep(f"From {when}, {who_line(people, definition.lane, 'or')} "
                                      f"will be asked to {_verb(definition.name)}."))
            else:
                found.append(NextStep(f"From {when}: {definition.name}."))
    return found


def after_step(done: Step, viewer: User) -> list[str]:
    """What the step ``done`` set going, for the person who made it: who acts next and who was
    emailed ("Felix Wagner (finance) will approve payment.", "Marta Nowak was emailed …"), or
    that the request is finished, from what the step opened and queued."""
    instance = done.instance
    ids = {uid for opened in done.opened for uid in opened.people} | {uid for n in done.notices for uid in n.people}
    names = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    lines = []
    for opened in done.opened:
        people = [names[uid] for uid in opened.people if uid in names]
        if [person.id for person in people] == [viewer.id]:
            lines.append(f"You will {_verb(opened.name)} next.")
        elif people:
            lines.append(f"{who_line(people, opened.lane, 'or')} will {_verb(opened.name)}.")
        else:
            lines.append(f"{opened.name} waits for someone who can do it: an administrator can give it to a person.")
    for notice in done.notices:
        told = sorted(names[uid].name for uid in notice.people if uid in names)
        if told and notice.subject:
            lines.append(f"{names_line(told)} {'was' if len(told) == 1 else 'were'} emailed “{notice.subject}”.")
    if instance.status == InstanceStatus.COMPLETED:
        lines.append(f"The request is finished: {outcome_label(instance.outcome, _model(instance))}.")
    elif not done.opened:
        lines += [step.text for step in what_next(instance, viewer)]
    return lines


def handed_on(task: HumanTask, viewer: User) -> str:
    """Who started the request and, where someone else did, who asked ``viewer`` for this task:
    "Started by Kati Tamm for Circular ICT on 1 December. Clara Schmidt (coordinator) asked you
    on 3 December." """
    instance = task.instance
    group = f" for {instance.working_group.name}" if instance.working_group else ""
    started = day_label(_local_day(instance.started_at))
    if instance.initiator_id == viewer.id:
        line = f"You started this request{group} on {started}."
    else:
        line = f"Started by {instance.initiator.name}{group} on {started}."
    opened = db.session.execute(
        select(AuditEvent.id, AuditEvent.actor_id).where(AuditEvent.task_id == task.id,
                                                         AuditEvent.action == "task_ready")).first()
    asked = day_label(_local_day(task.created_at))
    actor = db.session.get(User, opened.actor_id) if opened is not None and opened.actor_id else None
    if opened is None or actor is None or actor.id in (instance.initiator_id, viewer.id):
        return f"{line} Waiting for you since {asked}."
    lane: str | None = db.session.scalar(  # the lane of the task the actor completed in that step
        select(HumanTask.lane).join(AuditEvent, AuditEvent.task_id == HumanTask.id)
        .where(AuditEvent.instance_id == instance.id, AuditEvent.action == "task_completed",
               AuditEvent.actor_id == actor.id, AuditEvent.id < opened.id)
        .order_by(AuditEvent.id.desc()).limit(1))
    return f"{line} {who_line([actor], lane)} asked you on {asked}."


def who_line(people: list[User], lane: str | None, last: str = "and") -> str:
    """'Clara Schmidt or Tom Peeters (coordinator)': the people, and the part their lane names."""
    kind = lane_kind(lane)
    word = ROLE_WORDS.get(kind or "")
    return names_line([person.name for person in people], last) + (f" ({word})" if word else "")


def _verb(name: str) -> str:
    """A step's name after 'to' or 'will': 'Check claim' -> 'check claim' (an acronym stays)."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def _local_day(moment: dt.datetime) -> dt.date:
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(zone).date()


def _model(instance: ProcessInstance):
    return load_model(instance.version, instance.called)
