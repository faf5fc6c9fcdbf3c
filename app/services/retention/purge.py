"""The purge: a finished request's personal data deleted once its process's retention period
has run out (``periods.py``), unless the request is on legal hold; and the list of what is
due, for the administrators' preview.

A purge keeps the request and its history as "who did what, when": its files are deleted
from storage, the values of its personal fields (``personal`` in the diagram, IBANs) and its
files' lists are emptied in its history rows and its saved workflow, the people in it are
replaced by their pseudonyms (people/pseudonyms.py) in every row and text, and the emails
sent about it are deleted. Each request is purged in a transaction of its own, once: the row
is marked ``purged_at`` in the same UPDATE that writes it, so running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.engine import ProcessModel, load_model
from app.extensions import db
from app.models import (
    ActionToken,
    Attachment,
    AuditEvent,
    HumanTask,
    InstanceStatus,
    MeetingClaim,
    OutboxMessage,
    OutboxStatus,
    ProcessInstance,
    ProcessVersion,
    TaskCandidate,
    User,
)
from app.models.base import utcnow
from app.services.history import personal_fields
from app.services.people.pseudonyms import pseudonym_of
from app.services.storage import StorageRefused, storage
from app.steps import Line, record, said, status_word

from .periods import Period, declared_retention, governing_model
from .scrub import Scrub

FINISHED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
BATCH = 200  # requests purged in one worker round at most; the rest wait for the next


@dataclass
class Due:
    instance: ProcessInstance
    purge_on: dt.datetime
    period: Period

    @property
    def held(self) -> bool:
        return self.instance.held_at is not None


def due_requests(until: dt.datetime, *, held_too: bool = True, limit: int = 500) -> list[Due]:
    """The finished requests not yet purged whose retention ends by ``until``, soonest first.

    Worked out per version and end, as the diagram declares a period per end: each pair
    found among the requests is one query on the end date."""
    pending = (ProcessInstance.status.in_(FINISHED), ProcessInstance.purged_at.is_(None),
               ProcessInstance.ended_at.is_not(None))
    pairs = db.session.execute(select(ProcessInstance.version_id, ProcessInstance.outcome)
                               .where(*pending).distinct()).all()
    found: list[Due] = []
    for version_id, outcome in pairs:
        version = db.session.get_one(ProcessVersion, version_id)
        status = status_word(outcome, load_model(version)) if outcome else ""
        period = declared_retention(governing_model(version)).period_for(outcome, status)
        if period is None:
            continue
        query = (select(ProcessInstance).where(*pending, ProcessInstance.version_id == version_id,
                                               ProcessInstance.outcome == outcome,
                                               ProcessInstance.ended_at <= period.before(until))
                 .order_by(ProcessInstance.ended_at, ProcessInstance.id).limit(limit))
        if not held_too:
            query = query.where(ProcessInstance.held_at.is_(None))
        found.extend(Due(instance, period.after(instance.ended_at), period)  # type: ignore[arg-type]
                     for instance in db.session.scalars(query))
    found.sort(key=lambda due: (due.purge_on, due.instance.id))
    return found[:limit]


def purge_due(now: dt.datetime | None = None) -> int:
    """Purge what is due now (the worker's round); each request commits on its own. A request
    whose files the store will not delete is rolled back and tried again next round."""
    purged = 0
    for due in due_requests(now or utcnow(), held_too=False, limit=BATCH):
        instance_id = due.instance.id
        try:
            done = purge_request(due.instance, None, "worker",
                                 said("purged_by_retention", period=[due.period.count, due.period.unit]))
        except StorageRefused as problem:
            db.session.rollback()
            current_app.logger.error("request %s not purged: the store did not delete a file: %s",
                                     instance_id, problem)
            break
        db.session.commit()
        purged += done
    return purged


def file_fields(model: ProcessModel) -> set[str]:
    return {spec.id for form in (model.start_form, *(t.form for t in model.tasks.values()))
            for spec in form.fields if spec.type == "file"}


def _people(instance: ProcessInstance) -> list[User]:
    """Everyone the request's rows name: who started it, acted, was asked or was emailed."""
    task_ids = select(HumanTask.id).where(HumanTask.instance_id == instance.id)
    ids = {instance.initiator_id}
    for statement in (select(AuditEvent.actor_id).where(AuditEvent.instance_id == instance.id),
                      select(HumanTask.completed_by_id).where(HumanTask.instance_id == instance.id),
                      select(TaskCandidate.user_id).where(TaskCandidate.task_id.in_(task_ids)),
                      select(OutboxMessage.recipient_id).where(OutboxMessage.instance_id == instance.id),
                      select(MeetingClaim.user_id).where(MeetingClaim.instance_id == instance.id)):
        ids.update(i for i in db.session.scalars(statement) if i is not None)
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def _delete_files(instance: ProcessInstance) -> int:
    """Delete the request's files from storage (content another row still names stays) and
    their rows. Raises StorageRefused, the rows then untouched."""
    rows = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()
    for row in rows:
        shared = db.session.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.sha256 == row.sha256, Attachment.instance_id.is_distinct_from(instance.id)))
        if not shared:
            storage().delete(row.stored_path)
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def purge_request(instance: ProcessInstance, actor: User | None, channel: str, why: Line) -> int:
    """Delete ``instance``'s personal data (see the module's docstring); ``why`` is the line its
    history shows (``purged_by_…``), told how many answers and files went. Returns 1, or 0 when
    it was purged already, or is not finished, or still has an email to send (the next round
    tries again). The caller commits."""
    # taken FOR UPDATE: a second worker purging the same request waits, then finds it purged
    locked = db.session.execute(select(ProcessInstance.purged_at, ProcessInstance.lock_version)
                                .where(ProcessInstance.id == instance.id).with_for_update()).one()
    if locked.lock_version != instance.lock_version:
        db.session.refresh(instance)
    if locked.purged_at is not None or instance.status not in FINISHED or db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.instance_id == instance.id,
                OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))):
        return 0
    model = load_model(instance.version, instance.called)
    files = _delete_files(instance)
    people = _people(instance)
    pseudonyms = {person.id: pseudonym_of(person) for person in people}
    texts = {}
    for person in people:
        texts.update({person.name: pseudonyms[person.id].name, person.email: pseudonyms[person.id].email})
    scrub = Scrub(personal_fields(model, instance), file_fields(model) | file_fields(governing_model(
        instance.version)), texts)
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)):
        event.data = scrub.value(event.data)
        event.summary = scrub.text(event.summary)[:500]
        if event.actor_id in pseudonyms:
            event.actor_id = pseudonyms[event.actor_id].id
    task_ids = select(HumanTask.id).where(HumanTask.instance_id == instance.id).scalar_subquery()
    for person_id, pseudonym in pseudonyms.items():
        db.session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id,
                                                   HumanTask.completed_by_id == person_id)
                           .values(completed_by_id=pseudonym.id))
        db.session.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(task_ids),
                                                       TaskCandidate.user_id == person_id).values(user_id=pseudonym.id))
        db.session.execute(update(MeetingClaim).where(MeetingClaim.instance_id == instance.id,
                                                      MeetingClaim.user_id == person_id).values(user_id=pseudonym.id))
    db.session.execute(delete(ActionToken).where(ActionToken.task_id.in_(task_ids)))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.instance_id == instance.id))
    state = db.session.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance.id)) or ""
    written = db.session.execute(
        update(ProcessInstance).where(ProcessInstance.id == instance.id, ProcessInstance.purged_at.is_(None),
                                      ProcessInstance.lock_version == instance.lock_version)
        .values(state=scrub.state(state), summary=scrub.value(instance.summary), title=scrub.text(instance.title),
                parts=scrub.value(instance.parts),
                initiator_id=pseudonyms[instance.initiator_id].id, purged_at=utcnow(),
                lock_version=ProcessInstance.lock_version + 1)
        .execution_options(synchronize_session=False))
    if written.rowcount != 1:  # type: ignore[attr-defined]
        raise RuntimeError(f"request {instance.id} changed while it was purged")
    db.session.expire(instance)
    record(instance, actor, channel, "purged", said(why.key, **why.args, answers=scrub.removed, files=files),
           {"answers": scrub.removed, "files": files})
    return 1
