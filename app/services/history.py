"""An instance's history as people read it: who did what, when, with which data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.engine import FormSpec, ProcessModel
from app.extensions import db
from app.models import Attachment, AuditEvent, ProcessInstance
from app.steps.summary import display_options, option_labels
from forms import display_value

SHOWN = ("started", "task_completed", "task_ready", "task_withdrawn", "notice", "escalated",
         "member_added", "completed", "cancelled", "error", "migrated", "reassigned",
         "retried", "task_released", "lanes_rechecked")


@dataclass
class Entry:
    event: AuditEvent
    fields: list[tuple[str, str]]  # (label, value as text)
    files: list[Attachment]


def instance_history(instance: ProcessInstance, model: ProcessModel) -> list[Entry]:
    """Every recorded event, oldest first, with submitted data labelled by its form."""
    labels = option_labels()
    events = db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor), selectinload(AuditEvent.task))
        .where(AuditEvent.instance_id == instance.id, AuditEvent.action.in_(SHOWN))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    attachments = {a.id: a for a in db.session.scalars(
        select(Attachment).where(Attachment.instance_id == instance.id))}
    entries = []
    for event in events:
        form: FormSpec | None = None
        if event.action == "started":
            form = model.start_form
        elif event.action == "task_completed" and event.task and event.task.bpmn_id in model.tasks:
            form = model.tasks[event.task.bpmn_id].form
        fields, files = [], []
        if form is not None:
            for spec in form.fields:
                if spec.id not in event.data or spec.constraints.get("readonly") == "true":
                    continue
                value = event.data[spec.id]
                if spec.type == "file":
                    files += [attachments[i] for i in value or [] if i in attachments]
                    continue
                fields.append((spec.label, display_value(spec, value, options=display_options(spec, labels))))
        entries.append(Entry(event, fields, files))
    return entries
