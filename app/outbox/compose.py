"""What an outbox email says, and the message as it goes over SMTP."""

from __future__ import annotations

import datetime as dt
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import localtime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.locale import in_language
from app.models import AuditEvent, HumanTask, OutboxMessage, User
from forms.text import format_date, lower_label
from forms.translations import diagram_text

from .lines import event_line
from .queue import decide_marker, external_url
from .render import Rendered, render_email
from .shown import request_title


def task_context(task: HumanTask, recipient: User | None) -> dict[str, Any]:
    instance = task.instance
    return {
        "task": task, "instance": instance, "recipient": recipient,
        "group_name": instance.working_group.name if instance.working_group else "",
        "task_url": external_url(f"/tasks/{task.id}"),
        "request_url": external_url(f"/requests/{instance.id}"),
        "deputising": deputising(task, recipient),
        "why_administrators": why_administrators(task, recipient),
        "sentence": request_sentence(task, recipient),
    }


def request_sentence(task: HumanTask, recipient: User | None) -> str:
    """What the task email asks, as a person would: "Marta Nowak's travel claim for Circular
    ICT, 3rd meeting, Brussels, 12 March 2027: 412.50 EUR — please check it."

    The request's title (its process's title template) says what it is; the task's ``ask``
    property what to do with it, or else "please" and the task's name ("please approve
    payment"). The person who started the request reads "Your …"."""
    instance = task.instance
    what, ask = lower_label(request_title(instance)), task_ask(task)
    if recipient is not None and recipient.id == instance.initiator_id:
        return _("Your %(request)s — %(ask)s.", request=what, ask=ask)
    if instance.initiator:
        return _("%(name)s's %(request)s — %(ask)s.", name=instance.initiator.name, request=what, ask=ask)
    return _("The %(request)s — %(ask)s.", request=what, ask=ask)


def task_ask(task: HumanTask) -> str:
    """What the task asks of its people: its ``ask`` property, or "please" and its name (for an
    instance of a multi-instance step, "please endorse the joint statement for Tallinn City")."""
    definition = load_model(task.instance.version, task.instance.called).tasks.get(task.bpmn_id)
    ask = " ".join((definition.properties.get("ask", "") if definition else "").split())
    ask = diagram_text(task.instance.version, ask).rstrip(".")  # in the email's language
    if ask:
        return ask
    name = task.name.removesuffix(f": {task.loop_label}") if task.loop_label else task.name
    name = diagram_text(task.instance.version, name)
    if task.loop_label:
        return _("please %(task)s for %(item)s", task=lower_label(name), item=task.loop_label)
    return _("please %(task)s", task=lower_label(name))


def why_administrators(task: HumanTask, recipient: User | None) -> str:
    """Why the task came to the administrators, for an administrator: its history says so
    (``waits_for_administrators``, written when the task opened), in the email's language."""
    if recipient is None or not recipient.has_role("administrator"):
        return ""
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.task_id == task.id, AuditEvent.action == "waits_for_administrators").limit(1))
    return event_line(event, task.instance.version) if event is not None else ""  # in the email's language


def deputising(task: HumanTask, recipient: User | None) -> dict[str, Any] | None:
    """Whom the recipient was asked for, and until when, if the task came to them as a deputy.

    The request's history says so (``deputy_added``, written when the task opened), so the
    email says it even when sent after the absence ended.
    """
    if recipient is None:
        return None
    for data in db.session.scalars(select(AuditEvent.data).where(
            AuditEvent.task_id == task.id, AuditEvent.action == "deputy_added")):
        if (data or {}).get("to") == recipient.id:
            absent = db.session.get(User, data.get("for"))
            until = dt.date.fromisoformat(data["until"])
            return {"name": absent.name if absent else _("a colleague"),
                    "until": format_date(until, this_year=dt.date.today().year)}
    return None


def decision_options(task: HumanTask) -> list[tuple[str, str]]:
    """(value, label) of a decision step's ``decision`` field; empty for other tasks."""
    if not task.is_decision:
        return []
    definition = load_model(task.instance.version, task.instance.called).tasks.get(task.bpmn_id)
    if definition is None:
        return []
    return [(value, diagram_text(task.instance.version, label)) for value, label in definition.form.decisions]


def write_task_email(row: OutboxMessage) -> Rendered:
    """The task email queued by queue_task_emails, with decision markers for its links."""
    task = db.session.get_one(HumanTask, row.task_id)
    with in_language(row.recipient):  # the sentences made here too, not only the template
        context = task_context(task, row.recipient)
        context["decisions"] = [(label, decide_marker(task, value)) for value, label in decision_options(task)]
        # The decisions first, as buttons; the form, where one signs in, after them (the template's
        # "after" block) – or, for a task without decisions, the form as its one button.
        actions = [(f"{label}…", marker) for label, marker in context["decisions"]] or [
            (_("Open the form"), context["task_url"])]
        rendered = render_email("email/task.txt", context, actions, to=row.recipient)
    return Rendered(rendered.subject[:300], rendered.text, rendered.html)


def written_message(row: OutboxMessage) -> Rendered:
    """The row's message, decision markers in it: as queued, or a task email written now."""
    return Rendered(row.subject, row.text_body, row.html_body) if row.text_body else write_task_email(row)


# RFC 2045 keeps quoted-printable lines within 76 characters; the policy's limit is what the
# content manager wraps bodies at (SMTP's 78 would make 78), and headers fold there too. A
# header set with set_raw is written as given, not refolded (and so decoded: see below).
ASCII_POLICY = SMTP.clone(max_line_length=76, refold_source="none")
UTF8_POLICY = ASCII_POLICY.clone(utf8=True)  # = SMTPUTF8 at that line length


def compose_message(*, sender: tuple[str, str], to: tuple[str, str], subject: str, text: str, html: str,
                    message_id: str, date: dt.datetime | None = None,
                    attachments: list[dict[str, str]] | None = None) -> EmailMessage:
    """An outbox email as Python's ``email`` package writes it: text and HTML alternatives.

    Both parts are UTF-8 in quoted-printable. An address that is not ASCII needs a relay that
    takes SMTPUTF8, and the message's headers are then UTF-8 too (RFC 6532); otherwise the
    policy encodes names and the subject (RFC 2047) only where they need it. ``sender`` and
    ``to`` are (name, address) pairs. ``attachments`` are text files ({"filename",
    "content_type", "content"}), such as a calendar invitation: the message becomes
    multipart/mixed, the alternatives first.
    """
    international = not (sender[1].isascii() and to[1].isascii())
    message = EmailMessage(policy=UTF8_POLICY if international else ASCII_POLICY)
    message["From"] = mailbox(sender)
    message["To"] = mailbox(to)
    subject = " ".join(subject.split())
    if "=?" in subject:
        # A header value set from text is parsed, and what looks like an encoded word in it is
        # decoded and then written back as plain text, so a reader would decode it: write such
        # a subject as encoded words throughout, as the parser reads it back exactly.
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
    else:
        message["Subject"] = subject
    message["Date"] = date or localtime()
    message["Message-ID"] = message_id
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    for attachment in attachments or []:
        maintype, _, rest = attachment["content_type"].partition("/")
        subtype, *params = [part.strip() for part in rest.split(";")]
        extra = dict(param.split("=", 1) for param in params if "=" in param and not param.startswith("charset"))
        message.add_attachment(attachment["content"], subtype=subtype, filename=attachment["filename"],
                               cte="quoted-printable", params=extra)
    return message


def mailbox(value: tuple[str, str]) -> Address:
    """(name, address) as a header's Address; the address split, not parsed, so that one with
    characters other than ASCII (for an SMTPUTF8 relay) is taken as it is."""
    name, spec = value
    username, _, domain = spec.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)
