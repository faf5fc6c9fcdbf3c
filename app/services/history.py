"""An instance's history as people read it: who did what, when, with which data."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.engine import FieldSpec, FormSpec, ProcessModel, load_model
from app.extensions import db
from app.models import Attachment, AuditEvent, ProcessInstance, ProcessVersion, Role, User
from app.outbox.summary import display_options, option_labels
from app.steps import event_line
from forms import display_value, masked_value, personal_kind

SHOWN = ("started", "task_completed", "task_ready", "task_withdrawn", "notice", "escalated",
         "member_added", "completed", "cancelled", "error", "migrated", "reassigned",
         "retried", "task_released", "lanes_rechecked", "message_sent", "message_received", "event",
         "legal_hold", "legal_hold_lifted", "purged")
# Who reads personal data (fields with a ``personal`` property, e.g. ``bank``) besides the
# person who started the request: the secretariat staff who handle it, not the Commission,
# which sees amounts, nor administrators, nor a lead or anyone a task was given to.
PERSONAL_READERS = frozenset({Role.COORDINATOR, Role.FINANCE})


def sees_personal(user: User | None, instance: ProcessInstance) -> bool:
    """Whether ``user`` may read the request's personal data (bank details, receipts)."""
    if user is None or not user.is_authenticated:
        return False
    return user.id == instance.initiator_id or bool(user.roles & PERSONAL_READERS)


def personal_fields(model: ProcessModel, instance: ProcessInstance | None = None) -> set[str]:
    """The ids of the fields that hold personal data: those any form of the process marks
    ``personal`` (the diagram says which, so a revised diagram's fields are covered without a
    change of code) and every ``iban`` field. For a request, the marks of its process's active
    version count too: a request started on a version from before a field was marked is
    masked like the new ones."""
    models = [model]
    if instance is not None:
        active = db.session.scalar(select(ProcessVersion).where(
            ProcessVersion.definition_id == instance.version.definition_id, ProcessVersion.active.is_(True)))
        if active is not None and active.id != instance.version_id:
            models.append(load_model(active))
    return {spec.id for m in models for spec in personal_specs(m)}


def personal_specs(model: ProcessModel) -> list[FieldSpec]:
    """The fields of every form of ``model`` that hold personal data: marked ``personal`` by
    the diagram, or an ``iban``; in the order the forms ask for them, each id once."""
    found: dict[str, FieldSpec] = {}
    for form in (model.start_form, *(t.form for t in model.tasks.values())):
        for spec in form.fields:
            if (personal_kind(spec) or spec.type == "iban") and spec.id not in found:
                found[spec.id] = spec
    return list(found.values())


def may_download(user: User | None, attachment: Attachment, instance: ProcessInstance, model: ProcessModel) -> bool:
    """A file of a personal field (receipts) only for those who see personal data."""
    return sees_personal(user, instance) or attachment.field_id not in personal_fields(model, instance)


def hide_personal(form: Any, spec: FormSpec, personal: set[str]) -> None:
    """Mask the personal fields a task's form shows (readonly ones) and empty those it asks for,
    for someone who may not read them."""
    for field_spec in spec.fields:
        if field_spec.id in personal and field_spec.id in form:
            field = form[field_spec.id]
            field.data = masked_value(field_spec, field.data) if field_spec.readonly else None


@dataclass
class Answer:
    """One field of a sent form as ``viewer`` may read it: its value as text, or its files."""

    field_id: str
    label: str
    value: str = ""
    files: list[Attachment] = dc_field(default_factory=list)
    empty: bool = False  # nothing was given ("—")


@dataclass
class Entry:
    event: AuditEvent
    answers: list[Answer]
    line: str  # what happened, in the reader's language (``event_line``)

    @property
    def fields(self) -> list[tuple[str, str]]:
        """(label, value as text) of the answers that are not files."""
        return [(a.label, a.value) for a in self.answers if not a.files]

    @property
    def files(self) -> list[Attachment]:
        return [f for a in self.answers for f in a.files]


def form_answers(form: FormSpec, data: dict[str, Any], hidden: set[str], attachments: dict[int, Attachment],
                 labels: dict) -> list[Answer]:
    """What ``data`` sent through ``form`` says, labelled by the form: every field it holds
    but the plain readonly ones (they repeat data sent elsewhere; a computed total is new),
    the ``hidden`` ones masked (a file's name and link too), files as the attachments they are."""
    answers = []
    for spec in form.fields:
        if spec.id not in data or (spec.readonly and not spec.properties.get("computed")):
            continue
        value = data[spec.id]
        if spec.id in hidden:
            answers.append(Answer(spec.id, spec.label, masked_value(spec, value)))
        elif spec.type == "file":
            files = [attachments[i] for i in value or [] if i in attachments]
            if files:
                answers.append(Answer(spec.id, spec.label, files=files))
        else:
            answers.append(Answer(spec.id, spec.label, display_value(spec, value, options=display_options(
                spec, labels)), empty=value is None or value == ""))
    return answers


def instance_history(instance: ProcessInstance, model: ProcessModel, viewer: User | None) -> list[Entry]:
    """Every recorded event, oldest first, with submitted data labelled by its form, as
    ``viewer`` may read it: personal fields masked and their files left out unless
    ``sees_personal``."""
    labels = option_labels()
    hidden = set() if sees_personal(viewer, instance) else personal_fields(model, instance)
    events = db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor), selectinload(AuditEvent.task))
        .where(AuditEvent.instance_id == instance.id, AuditEvent.action.in_(SHOWN))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    attachments = {a.id: a for a in db.session.scalars(
        select(Attachment).where(Attachment.instance_id == instance.id))}
    entries = []
    for event in events:
        form = _form_of(event, model)
        answers: list[Answer] = []
        if form is not None:
            answers = form_answers(form, event.data, hidden, attachments, labels)
        elif event.action in ("message_sent", "message_received"):  # the message's data, by name
            payload = event.data.get("payload") or {}
            answers = [Answer(name, name, str(value)) for name, value in payload.items() if name not in hidden]
        entries.append(Entry(event, answers, event_line(event, instance.version)))
    return entries


def _form_of(event: AuditEvent, model: ProcessModel) -> FormSpec | None:
    """The form whose data the event recorded: the start form's, or a completed task's."""
    if event.action == "started":
        return model.start_form
    if event.action == "task_completed" and event.task and event.task.bpmn_id in model.tasks:
        return model.tasks[event.task.bpmn_id].form
    return None
