"""Erasure (GDPR Article 17): an administrator erases a person at their request.

The person's account becomes their pseudonym ("Person 4F2A9C": name, email address,
password, roles, absence), so every page, list, CSV and history that names them shows the
pseudonym, and they can no longer sign in; the tasks waiting for them go back to the other
people of their lanes (people/accounts.py, ``release_waiting_tasks``); the emails sent to
them are deleted; the finished requests they started are purged at once (purge.py). What
must be kept is kept, with the reason shown before and recorded: a request still in progress
(the secretariat finishes it; it is purged when its retention period ends), a request on
legal hold, and a request whose end the diagram keeps under a rule (``retention_basis``,
e.g. paid claims under financial rules) until its retention period ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from app.errors import ServiceError
from app.extensions import db
from app.models import (
    AccountToken,
    ActionToken,
    AuditEvent,
    HumanTask,
    OutboxMessage,
    ProcessInstance,
    Role,
    TaskCandidate,
    TaskState,
    User,
    WorkingGroup,
)
from app.models.base import utcnow
from app.outbox.lines import KEY as LINE
from app.services.people.accounts import release_waiting_tasks
from app.services.people.pseudonyms import DOMAIN, UNUSABLE_HASH, pseudonym_of
from app.services.people.signins import end_sessions
from app.steps import audit_event, said

from .periods import request_retention
from .purge import FINISHED, purge_request
from .scrub import Scrub


@dataclass
class Kept:
    instance: ProcessInstance
    reason: str


@dataclass
class ErasurePlan:
    person: User
    erased: list[ProcessInstance] = field(default_factory=list)  # finished: purged now
    kept: list[Kept] = field(default_factory=list)
    tasks: list[HumanTask] = field(default_factory=list)  # waiting for the person: back to their lanes
    refused: str = ""  # why it cannot be done now ('' when it can)


def plan_erasure(actor: User, person: User) -> ErasurePlan:
    """What erasing ``person`` deletes, what it keeps and why; nothing is changed."""
    plan = ErasurePlan(person)
    led = [g.name for g in db.session.scalars(select(WorkingGroup).where(WorkingGroup.lead_id == person.id))]
    if person.erased_at is not None:
        plan.refused = _("This person has already been erased.")
    elif person.id == actor.id:
        plan.refused = _("You cannot erase your own account. Ask another administrator.")
    elif led:
        plan.refused = _("%(name)s leads %(groups)s. Choose another lead first.", name=person.name,
                         groups=", ".join(led))
    started = db.session.scalars(select(ProcessInstance).where(ProcessInstance.initiator_id == person.id)
                                 .order_by(ProcessInstance.started_at, ProcessInstance.id)).all()
    for instance in started:
        if instance.purged_at is not None:
            continue
        if instance.held_at is not None:
            plan.kept.append(Kept(instance, _("On legal hold: %(reason)s", reason=instance.hold_reason or "")))
        elif instance.status not in FINISHED:
            plan.kept.append(Kept(instance, _("Still in progress: the secretariat can finish it; its personal "
                                              "data is deleted when its retention period ends")))
        else:
            period, basis = request_retention(instance)
            if basis and period is not None:
                plan.kept.append(Kept(instance, _("%(basis)s (kept %(period)s after it finished)", basis=basis,
                                                  period=period.text())))
            else:
                plan.erased.append(instance)
    plan.tasks = list(db.session.scalars(
        select(HumanTask).join(TaskCandidate).where(TaskCandidate.user_id == person.id,
                                                    HumanTask.state == TaskState.READY).order_by(HumanTask.id)))
    return plan


def erase_person(actor: User, person: User) -> ErasurePlan:
    """Erase ``person`` as ``plan_erasure`` says (refused, with its reason, when it says so).
    The caller commits."""
    if not actor.has_role(Role.ADMINISTRATOR):
        raise ServiceError(_("Only an administrator can erase a person."))
    plan = plan_erasure(actor, person)
    if plan.refused:
        raise ServiceError(plan.refused)
    pseudonym = pseudonym_of(person)
    scrub = Scrub(set(), set(), {person.name: pseudonym.name, person.email: pseudonym.email})
    db.session.execute(delete(ActionToken).where(ActionToken.user_id == person.id))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient_id == person.id))
    for instance in plan.erased:
        purge_request(instance, actor, "admin", said("purged_by_erasure", pseudonym=pseudonym.name))
    code = pseudonym.email.partition("@")[0].removeprefix("person-")
    end_sessions(person)
    person.name, person.email, person.password_hash = pseudonym.name, f"erased-{code}@{DOMAIN}", UNUSABLE_HASH
    person.active, person.erased_at = False, utcnow()
    person.set_absence(None, None, None)
    person.set_roles([])
    db.session.execute(update(User).where(User.deputy_id == person.id).values(deputy_id=None))
    db.session.flush()
    release_waiting_tasks(actor, person)  # written after the renaming: the history says the pseudonym
    for event in db.session.scalars(select(AuditEvent).where(
            or_(*(AuditEvent.summary.contains(text) for text in scrub.texts)))):
        event.summary = scrub.text(event.summary)[:500]
        if isinstance(event.data, dict) and LINE in event.data:  # the names in its line, not the answers kept
            event.data = {**event.data, LINE: scrub.value(event.data[LINE])}
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == person.id))
    db.session.add(audit_event(actor, "admin", "user_erased",
                               said("user_erased", pseudonym=pseudonym.name, erased=len(plan.erased),
                                    kept=len(plan.kept), tasks=len(plan.tasks)),
                               {"user_id": person.id, "erased": [i.id for i in plan.erased],
                                "kept": {str(k.instance.id): k.reason for k in plan.kept}}))
    db.session.flush()
    return plan

