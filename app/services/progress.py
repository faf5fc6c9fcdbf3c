"""What happens next on a request, in sentences people read: who it waits for, what they will
be asked later, what a step just did, and who handed a task on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from app.engine import has_tasks_after_timers, load_model
from app.extensions import db
from app.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, Role, User
from app.models.base import N_
from app.steps import Step, engine, names_line, outcome_label
from app.steps.lanes import day_label, lane_kind, task_candidates
from app.steps.messages import waits_of
from forms.translations import diagram_text

# In English, as a history line stores a part's word (``role``); shown through gettext.
ROLE_WORDS = {Role.COORDINATOR.value: N_("coordinator"), Role.FINANCE.value: N_("finance"),
              Role.COMMISSION.value: N_("Commission"), "group_lead": N_("group lead")}
# Languages whose nouns keep their capital letter: a step's name stays as drawn inside a sentence.
KEEP_CASE = frozenset({"de"})


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
        return [NextStep(_("Finished: %(outcome)s.", outcome=_outcome(instance)))]
    if instance.status == InstanceStatus.CANCELLED:
        return [NextStep(_("Cancelled."))]
    if instance.status == InstanceStatus.ERROR:
        return [NextStep(_("Stopped: an administrator needs to look at it."))]
    found = [_waiting(task, instance, viewer) for task in instance.tasks if task.is_ready]
    found += _later(instance, viewer)
    if not found and instance.current_step:  # messages from other requests: "Waiting for “x”"
        names = dict.fromkeys(_name(instance, wait.name) for wait in waits_of(instance.id))
        found += [NextStep(_("Waiting for “%(message)s”.", message=name)) for name in names] or [
            NextStep(f"{instance.current_step}.")]
    return found


def _waiting(task: HumanTask, instance: ProcessInstance, viewer: User) -> NextStep:
    people = sorted((c.user for c in task.candidates if c.ready), key=lambda person: person.name)
    name = _name(instance, task.name)
    since = day_label(_local_day(task.created_at))
    if any(person.id == viewer.id for person in people):
        return NextStep(_("Waiting for you: %(task)s, since %(day)s.", task=name, day=since), task.id)
    if not people:
        return NextStep(_("%(task)s waits for someone who can do it, since %(day)s: "
                          "an administrator can give it to a person.", task=name, day=since))
    return NextStep(_("Waiting for %(who)s to %(step)s, since %(day)s.", who=who_line(people, task.lane, "or"),
                      step=_verb(name), day=since))


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
            name = _name(instance, definition.name)
            ids = task_candidates(definition, instance, model.start_lane)
            when = day_label(_local_day(due))
            if viewer.id in ids:
                found.append(NextStep(_("From %(day)s, you will be asked to %(step)s.", day=when,
                                        step=_verb(name))))
            elif ids:
                people = list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
                found.append(NextStep(_("From %(day)s, %(who)s will be asked to %(step)s.", day=when,
                                        who=who_line(people, definition.lane, "or"), step=_verb(name))))
            else:
                found.append(NextStep(_("From %(day)s: %(task)s.", day=when, task=name)))
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
        name = _name(instance, opened.name)
        if [person.id for person in people] == [viewer.id]:
            lines.append(_("You will %(step)s next.", step=_verb(name)))
        elif people:
            lines.append(_("%(who)s will %(step)s.", who=who_line(people, opened.lane, "or"), step=_verb(name)))
        else:
            lines.append(_("%(task)s waits for someone who can do it: an administrator can give it to a person.",
                           task=name))
    for notice in done.notices:
        told = sorted(names[uid].name for uid in notice.people if uid in names)
        if told and notice.subject:
            joined = names_line(told, _("and"))
            lines.append(ngettext("%(names)s was emailed “%(subject)s”.", "%(names)s were emailed “%(subject)s”.",
                                  len(told), names=joined, subject=notice.subject))
    if instance.status == InstanceStatus.COMPLETED:
        lines.append(_("The request is finished: %(outcome)s.", outcome=_outcome(instance)))
    elif not done.opened:
        lines += [step.text for step in what_next(instance, viewer)]
    return lines


def handed_on(task: HumanTask, viewer: User) -> str:
    """Who started the request and, where someone else did, who asked ``viewer`` for this task:
    "Started by Kati Tamm for Circular ICT on 1 December. Clara Schmidt (coordinator) asked you
    on 3 December." """
    instance = task.instance
    group = instance.working_group.name if instance.working_group else None
    started = day_label(_local_day(instance.started_at))
    if instance.initiator_id == viewer.id:
        line = _("You started this request for %(group)s on %(day)s.", group=group, day=started) if group else \
            _("You started this request on %(day)s.", day=started)
    else:
        name = instance.initiator.name
        line = _("Started by %(name)s for %(group)s on %(day)s.", name=name, group=group, day=started) if group else \
            _("Started by %(name)s on %(day)s.", name=name, day=started)
    opened = db.session.execute(
        select(AuditEvent.id, AuditEvent.actor_id).where(AuditEvent.task_id == task.id,
                                                         AuditEvent.action == "task_ready")).first()
    asked = day_label(_local_day(task.created_at))
    actor = db.session.get(User, opened.actor_id) if opened is not None and opened.actor_id else None
    if opened is None or actor is None or actor.id in (instance.initiator_id, viewer.id):
        return _("%(started)s Waiting for you since %(day)s.", started=line, day=asked)
    lane: str | None = db.session.scalar(  # the lane of the task the actor completed in that step
        select(HumanTask.lane).join(AuditEvent, AuditEvent.task_id == HumanTask.id)
        .where(AuditEvent.instance_id == instance.id, AuditEvent.action == "task_completed",
               AuditEvent.actor_id == actor.id, AuditEvent.id < opened.id)
        .order_by(AuditEvent.id.desc()).limit(1))
    return _("%(started)s %(who)s asked you on %(day)s.", started=line, who=who_line([actor], lane), day=asked)


def who_line(people: list[User], lane: str | None, last: str = "and") -> str:
    """'Clara Schmidt or Tom Peeters (coordinator)': the people, and the part their lane names;
    ``last`` joins the last two names: "and" or "or", in the page's language."""
    kind = lane_kind(lane)
    word = ROLE_WORDS.get(kind or "")
    names = names_line([person.name for person in people], _("or") if last == "or" else _("and"))
    return _("%(names)s (%(role)s)", names=names, role=_(word)) if word else names


def _verb(name: str) -> str:
    """A step's name after 'to' or 'will': 'Check claim' -> 'check claim' (an acronym stays, and
    so does a name in a language whose nouns keep their capital)."""
    locale = get_locale()
    if (len(name) > 1 and name[1].isupper()) or (locale is not None and locale.language in KEEP_CASE):
        return name
    return name[:1].lower() + name[1:]


def _name(instance: ProcessInstance, text: str) -> str:
    """A task's (or message's) name as the request's diagram words it in the page's language."""
    return diagram_text(instance.version, text)


def _outcome(instance: ProcessInstance) -> str:
    """How the end the request reached reads ('Claim paid'), in the page's language."""
    return _name(instance, outcome_label(instance.outcome, _model(instance)))


def _local_day(moment: dt.datetime) -> dt.date:
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(zone).date()


def _model(instance: ProcessInstance):
    return load_model(instance.version, instance.called)
