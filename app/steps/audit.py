"""The history of a request: one append-only row per thing that happened."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table

from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance, User
from app.models.base import utcnow
from app.outbox.lines import KEY, Line, said

from .jsonsafe import to_jsonable

ADD_EVENTS = cast(Table, AuditEvent.__table__).insert()


def record(instance: ProcessInstance | None, actor: User | None, channel: str, action: str,
           summary: str | Line, data: dict[str, Any] | None = None, task: HumanTask | None = None) -> None:
    """Add a history row, written at once (a plain INSERT: history is on every step's path).
    ``summary`` is a ``Line`` (``said(...)``), shown in the reader's language, or, for what has
    no line yet, an English sentence shown as written."""
    if (instance is not None and instance.id is None) or (task is not None and task.id is None):
        db.session.flush()  # the row it refers to is still only in the session
    db.session.connection().execute(ADD_EVENTS, event_row(
        instance.id if instance else None, task.id if task else None, actor, channel, action, summary, data))


def event_row(instance_id: int | None, task_id: int | None, actor: User | None, channel: str,
              action: str, summary: str | Line, data: dict[str, Any] | None = None) -> dict[str, Any]:
    if isinstance(summary, Line):
        data = {**(data or {}), KEY: summary.stored()}
        summary = summary.english(actor)
    return {"instance_id": instance_id, "task_id": task_id, "actor_id": actor.id if actor else None,
            "channel": channel, "action": action, "summary": summary[:500],
            "data": to_jsonable(data or {}), "created_at": utcnow()}


def audit_event(actor: User | None, channel: str, action: str, line: Line,
                data: dict[str, Any] | None = None, **columns: Any) -> AuditEvent:
    """A history row that is no step of a request (an administrator's record, a sign-in), for
    the session to add: its line kept as ``record`` keeps it, the English sentence as summary."""
    return AuditEvent(actor_id=actor.id if actor else None, channel=channel, action=action,
                      summary=line.english(actor)[:500], data=to_jsonable({**(data or {}), KEY: line.stored()}),
                      **columns)


def told_line(sent: list[tuple[User, str]], template: str) -> Line:
    """The history's line for a notice: who was emailed what ('Marta Nowak was emailed “Your
    travel claim has been paid”'), or that nobody was."""
    if not sent:
        return said("notice_nobody", template=template.replace("_", " "))
    people = sorted(person.name for person, _ in sent)
    return said("notice_one" if len(people) == 1 else "notice_many", people=people, subject=sent[0][1])
