"""Queueing emails: each is a row written with the step that causes it.

The worker sends them (``deliver``). Task emails are only rows here; the worker writes each
message when it sends it (``compose``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Integer, String, bindparam, cast, literal, select

from app.engine import load_model
from app.extensions import db
from app.locale import in_language
from app.logs import current_request_id
from app.models import HumanTask, NotifyMode, OutboxMessage, OutboxStatus, ProcessInstance, User
from app.models.base import utcnow
from forms.translations import diagram_text

from .render import Rendered, both_parts, render_email
from .shown import request_title
from .uploaded import notice_text, render_text

DECIDE = re.compile(r"%%DECIDE:(\d+):([a-z_]+)%%")


def external_url(path: str) -> str:
    """An absolute link for emails, on the configured public address."""
    return current_app.config["EXTERNAL_BASE_URL"].rstrip("/") + path


def decide_marker(task: HumanTask, decision: str) -> str:
    return f"%%DECIDE:{task.id}:{decision}%%"


def _mail_host() -> str:
    return urlsplit(current_app.config["EXTERNAL_BASE_URL"]).hostname or "localhost"


def _message_id() -> str:
    return f"<bbw-{uuid.uuid4().hex}@{_mail_host()}>"


def queue_email(recipient: User, kind: str, rendered: Rendered, *, instance: ProcessInstance | None = None,
                task: HumanTask | None = None, template: str = "",
                attachments: list[dict[str, str]] | None = None) -> OutboxMessage:
    row = OutboxMessage(
        message_id=_message_id(), kind=kind, template=template, recipient_id=recipient.id,
        to_address=recipient.email, subject=rendered.subject[:300], text_body=rendered.text,
        html_body=rendered.html, instance_id=instance.id if instance else None,
        task_id=task.id if task else None, next_attempt_at=utcnow(), attachments=attachments or None,
        request_id=current_request_id(),
    )
    db.session.add(row)
    return row


def _task_emails_statement():
    """INSERT ... SELECT: one outbox row per person named who is active and not on the digest.

    Built once: it runs on every step that opens a task. Each row's Message-ID is the step's
    random prefix plus the person's id, so it is unique and needs no round trip to make.
    """
    box, person = OutboxMessage.__table__, User.__table__

    def value(name: str):
        return bindparam(name, type_=box.c[name].type)

    columns = {
        "message_id": (bindparam("id_prefix", type_=String) + cast(person.c.id, String)
                       + bindparam("id_suffix", type_=String)),
        "kind": literal("task", String), "template": literal("task", String), "recipient_id": person.c.id,
        "to_address": person.c.email, "subject": literal("", String), "text_body": literal("", String),
        "html_body": literal("", String), "instance_id": value("instance_id"), "task_id": value("task_id"),
        "status": literal(OutboxStatus.PENDING, box.c.status.type), "attempts": literal(0, Integer),
        "next_attempt_at": value("next_attempt_at"), "claimed_by": literal("", String),
        "last_error": literal("", String), "transport": literal("", String),
        "delivered_text": literal("", String), "delivered_html": literal("", String),
        "created_at": value("created_at"), "request_id": value("request_id"),
    }
    people = select(*(expression.label(name) for name, expression in columns.items())).where(
        person.c.id.in_(bindparam("user_ids", expanding=True)), person.c.active.is_(True),
        person.c.notify_mode != NotifyMode.DIGEST)
    return box.insert().from_select(list(columns), people)


ADD_TASK_EMAILS = _task_emails_statement()


def queue_task_emails(instance_id: int, task_id: int, user_ids: list[int]) -> None:
    """Tell each person a task now waits for them, with one link per decision.

    Only the rows are written inside the step, by one statement; the worker writes each
    message when it sends it (write_task_email), so a step pays for an INSERT, not for
    rendering. People who chose the daily digest get it there instead.
    """
    if not user_ids:
        return
    now = utcnow()
    db.session.connection().execute(ADD_TASK_EMAILS, {
        "id_prefix": f"<bbw-{uuid.uuid4().hex}-", "id_suffix": f"@{_mail_host()}>", "instance_id": instance_id,
        "task_id": task_id, "next_attempt_at": now, "created_at": now, "user_ids": list(user_ids),
        "request_id": current_request_id()})


def queue_notice(instance: ProcessInstance, template: str, user_ids: list[int],
                 data: dict[str, Any]) -> list[tuple[User, str]]:
    """A notice to each person named: the text uploaded with the request's diagram
    (``<template>.txt``), else templates/email/notices/<template>.txt, else the generic notice.

    Returns each person emailed (the active ones) with the subject they were sent."""
    files = load_model(instance.version).files if instance.version else {}
    env = current_app.jinja_env
    name = f"email/notices/{template}.txt"
    try:
        env.get_template(name)
    except Exception:  # noqa: BLE001 - an unknown template falls back to the generic notice
        name = "email/notices/notice.txt"
    people = db.session.scalars(select(User).where(User.id.in_(user_ids), User.active.is_(True))).all()
    process_name = instance.version.definition.name if instance.version else ""
    group_name = instance.working_group.name if instance.working_group else ""
    request_url = external_url(f"/requests/{instance.id}")
    sent: list[tuple[User, str]] = []
    for person in people:
        # The recipient's language, once people choose one (issue 13): the text uploaded in it, else English.
        language = getattr(person, "language", None)
        uploaded = notice_text(files, template, language)
        if uploaded is not None:
            with in_language(person):
                rendered = both_parts(*render_text(uploaded, {
                    "recipient": {"name": person.name, "email": person.email},
                    "request": {"title": request_title(instance),
                                "started_by": instance.initiator.name if instance.initiator else ""},
                    "data": dict(data), "group_name": group_name, "request_url": request_url,
                    "process_name": diagram_text(instance.version, process_name),
                    "inbox_url": external_url("/inbox")}))
        else:
            rendered = render_email(name, {
                "recipient": person, "instance": instance, "data": data, "template": template,
                "process_name": process_name, "group_name": group_name, "request_url": request_url}, to=person)
        queue_email(person, "notice", rendered, instance=instance, template=template)
        sent.append((person, rendered.subject))
    return sent
