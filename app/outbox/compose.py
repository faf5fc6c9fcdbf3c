"""What an outbox e-mail says, and the message as it goes over SMTP."""

from __future__ import annotations

import base64
import binascii
import secrets
from email.utils import formataddr, formatdate, parseaddr, quote
from typing import Any

from app.engine import load_model
from app.extensions import db
from app.models import HumanTask, OutboxMessage, User

from .queue import decide_marker, external_url
from .render import Rendered, render_email


def task_context(task: HumanTask, recipient: User) -> dict[str, Any]:
    instance = task.instance
    return {
        "task": task, "instance": instance, "recipient": recipient,
        "group_name": instance.working_group.name if instance.working_group else "",
        "task_url": external_url(f"/tasks/{task.id}"),
        "request_url": external_url(f"/requests/{instance.id}"),
    }


def decision_options(task: HumanTask) -> list[tuple[str, str]]:
    """(value, label) of a decision step's ``decision`` field; empty for other tasks."""
    if not task.is_decision:
        return []
    definition = load_model(task.instance.version).tasks.get(task.bpmn_id)
    return list(definition.form.decisions) if definition else []


def write_task_email(row: OutboxMessage) -> Rendered:
    """The task e-mail queued by queue_task_emails, with decision markers for its links."""
    task = db.session.get(HumanTask, row.task_id)
    context = task_context(task, row.recipient)
    context["decisions"] = [(label, decide_marker(task, value)) for value, label in decision_options(task)]
    actions = [("Open the form", context["task_url"])] + [
        (f"{label}…", marker) for label, marker in context["decisions"]]
    rendered = render_email("email/task.txt", context, actions)
    return Rendered(rendered.subject[:300], rendered.text, rendered.html)


def written_message(row: OutboxMessage) -> Rendered:
    """The row's message, decision markers in it: as queued, or a task e-mail written now."""
    return Rendered(row.subject, row.text_body, row.html_body) if row.text_body else write_task_email(row)


def write_message(*, sender: str, to: tuple[str, str], subject: str, text: str, html: str,
                  message_id: str, date: float | None = None) -> bytes:
    """An outbox e-mail as it goes over SMTP: multipart/alternative, text and HTML.

    Written here rather than by Python's ``email`` package, whose generator (Flask-Mail's
    ``Message.as_bytes``) took ≈ 2 ms a message, more than the SMTP exchange: every outbox
    message has this one shape. Both parts are UTF-8 in quoted-printable, so no line is longer
    than 76 characters whatever the text; the subject and names are encoded (RFC 2047) only
    where they need it, and no header line is longer than 78. ``sender`` is a header value
    made by ``address``. An address that is not ASCII is written as UTF-8 (SMTPUTF8).
    """
    boundary = f"=_bbw_{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable
    head = "\r\n".join((
        f"From: {sender}",
        f"To: {address(to)}",
        f"Subject: {_encoded_words(subject)}",
        f"Date: {formatdate(date, localtime=True)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ))
    parts = b"".join(
        (f"\r\n--{boundary}\r\nContent-Type: text/{kind}; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii")
        + binascii.b2a_qp(content.replace("\r\n", "\n").encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
        for kind, content in (("plain", text), ("html", html))
    )
    return head.encode("utf-8") + b"\r\n" + parts + f"\r\n--{boundary}--\r\n".encode("ascii")


def address(value: str | tuple[str, str]) -> str:
    """'Name <address>' for a header, the name encoded only if it needs to be."""
    name, mailbox = value if isinstance(value, tuple) else parseaddr(value)
    if not mailbox.isascii():  # only an SMTPUTF8 relay takes it, and UTF-8 headers with it (RFC 6532)
        return f'"{quote(name)}" <{mailbox}>' if name else mailbox
    return formataddr((name, mailbox), charset="utf-8")


def _encoded_words(text: str) -> str:
    """A header value as is if it is short plain ASCII, else as RFC 2047 encoded words.

    Each word holds at most 42 bytes of UTF-8, never a character cut in two, so that with the
    header's name every line stays within 78 characters.
    """
    text = " ".join(text.split())
    if text.isascii() and len(text) <= 66 and "=?" not in text:
        return text
    chunks, chunk = [], b""
    for char in text:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 42:
            chunks.append(chunk)
            chunk = b""
        chunk += encoded
    chunks.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks)


