"""The outbox: e-mails are rows written with the step that causes them; the worker sends them.

Delivery is at least once and in order of writing: rows are claimed atomically (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, the single writer lock on SQLite) under a lease, so a worker
that dies mid-batch leaves its rows to be claimed again when the lease runs out, and two
workers never send the same row at once. Each row keeps one Message-ID for every try.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import re
import secrets
import smtplib
import uuid
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate, parseaddr, quote
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_mail import Connection
from sqlalchemy import Integer, String, and_, bindparam, cast, literal, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db, mail
from app.models import (
    ActionToken,
    HumanTask,
    NotifyMode,
    OutboxMessage,
    OutboxStatus,
    ProcessInstance,
    TaskState,
    User,
)
from app.models.base import utcnow

from .mail import Rendered, render_email

log = logging.getLogger(__name__)
DECIDE = re.compile(r"%%DECIDE:(\d+):([a-z_]+)%%")


def external_url(path: str) -> str:
    """An absolute link for e-mails, on the configured public address."""
    return current_app.config["EXTERNAL_BASE_URL"].rstrip("/") + path


def decide_marker(task: HumanTask, decision: str) -> str:
    return f"%%DECIDE:{task.id}:{decision}%%"


def _mail_host() -> str:
    return urlsplit(current_app.config["EXTERNAL_BASE_URL"]).hostname or "localhost"


def _message_id() -> str:
    return f"<bbw-{uuid.uuid4().hex}@{_mail_host()}>"


def queue_email(recipient: User, kind: str, rendered: Rendered, *, instance: ProcessInstance | None = None,
                task: HumanTask | None = None, template: str = "") -> OutboxMessage:
    row = OutboxMessage(
        message_id=_message_id(), kind=kind, template=template, recipient_id=recipient.id,
        to_address=recipient.email, subject=rendered.subject[:300], text_body=rendered.text,
        html_body=rendered.html, instance_id=instance.id if instance else None,
        task_id=task.id if task else None, next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


# -- what the e-mails say ---------------------------------------------------------------------

def _task_context(task: HumanTask, recipient: User) -> dict[str, Any]:
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
    from .versions import load_model

    definition = load_model(task.instance.version).tasks.get(task.bpmn_id)
    return list(definition.form.decisions) if definition else []


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
        "created_at": value("created_at"),
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
        "task_id": task_id, "next_attempt_at": now, "created_at": now, "user_ids": list(user_ids)})


def write_task_email(row: OutboxMessage) -> Rendered:
    """The task e-mail queued by queue_task_emails, with decision markers for its links."""
    task = db.session.get(HumanTask, row.task_id)
    context = _task_context(task, row.recipient)
    context["decisions"] = [(label, decide_marker(task, value)) for value, label in decision_options(task)]
    actions = [("Open the form", context["task_url"])] + [
        (f"{label}…", marker) for label, marker in context["decisions"]]
    rendered = render_email("email/task.txt", context, actions)
    return Rendered(rendered.subject[:300], rendered.text, rendered.html)


def written_message(row: OutboxMessage) -> Rendered:
    """The row's message, decision markers in it: as queued, or a task e-mail written now."""
    return Rendered(row.subject, row.text_body, row.html_body) if row.text_body else write_task_email(row)


def queue_notice(instance: ProcessInstance, template: str, user_ids: list[int], data: dict[str, Any]) -> None:
    """A notice from templates/email/notices/ to each person named."""
    env = current_app.jinja_env
    name = f"email/notices/{template}.txt"
    try:
        env.get_template(name)
    except Exception:  # noqa: BLE001 - an unknown template falls back to the generic notice
        name = "email/notices/notice.txt"
    people = db.session.scalars(select(User).where(User.id.in_(user_ids), User.active.is_(True))).all()
    for person in people:
        context = {
            "recipient": person, "instance": instance, "data": data, "template": template,
            "process_name": instance.version.definition.name if instance.version else "",
            "group_name": instance.working_group.name if instance.working_group else "",
            "request_url": external_url(f"/requests/{instance.id}"),
        }
        queue_email(person, "notice", render_email(name, context), instance=instance, template=template)


# -- digests ----------------------------------------------------------------------------------

def queue_digests(now: dt.datetime | None = None) -> int:
    """Once a day, after DIGEST_HOUR, gather each digest reader's new tasks into one e-mail."""
    from zoneinfo import ZoneInfo

    now = now or utcnow()
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    local = now.astimezone(zone)
    moment = local.replace(hour=current_app.config["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if local < moment:
        moment -= dt.timedelta(days=1)
    moment = moment.astimezone(dt.UTC)
    query = select(User).where(User.notify_mode == NotifyMode.DIGEST, User.active.is_(True),
                               or_(User.last_digest_at.is_(None), User.last_digest_at < moment))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    queued = 0
    for person in db.session.scalars(query).all():
        since = person.last_digest_at or (moment - dt.timedelta(days=1))
        from app.models import TaskCandidate

        tasks = db.session.scalars(
            select(HumanTask).join(TaskCandidate)
            .where(TaskCandidate.user_id == person.id, TaskCandidate.ready.is_(True),
                   TaskCandidate.task_created_at > since)
            .order_by(TaskCandidate.task_created_at)
        ).all()
        if tasks:
            items = []
            for task in tasks:
                context = _task_context(task, person)
                context["decisions"] = [(label, decide_marker(task, value))
                                        for value, label in decision_options(task)]
                items.append(context)
            rendered = render_email("email/digest.txt", {"recipient": person, "items": items,
                                                         "inbox_url": external_url("/inbox")})
            queue_email(person, "digest", rendered, template="digest")
            queued += 1
        person.last_digest_at = now
    db.session.commit()
    return queued


# -- delivery ---------------------------------------------------------------------------------

class TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout: a silent server must not hang the worker."""

    def __init__(self, state, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self):
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=self.timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        try:
            super().__exit__(exc_type, exc_value, tb)
        except (smtplib.SMTPException, OSError):
            pass  # the server went away after our last message; nothing left to say to it


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


@dataclass
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def claim_batch(worker: str, size: int, now: dt.datetime) -> list[OutboxMessage]:
    """Atomically take up to ``size`` due rows (or rows whose lease ran out) for ``worker``."""
    lease = now + dt.timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    due = or_(and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
              and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now))
    ids = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(size)
    if db.engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids.scalar_subquery()))
        .values(status=OutboxStatus.SENDING, claimed_by=worker, lease_until=lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.claimed_by == worker,
                                    OutboxMessage.status == OutboxStatus.SENDING)
        .order_by(OutboxMessage.id)
    ))


def _mint_links(row: OutboxMessage, written: Rendered, now: dt.datetime) -> tuple[str, str]:
    """Replace decision markers with fresh one-use links; only their hashes are stored."""
    minted: dict[str, str] = {}
    tokens: list[dict] = []
    tasks: dict[int, HumanTask | None] = {}
    expires = now + dt.timedelta(days=current_app.config["ACTION_TOKEN_DAYS"])

    def link(match: re.Match) -> str:
        marker = match.group(0)
        if marker not in minted:
            task_id = int(match.group(1))
            if task_id not in tasks:
                tasks[task_id] = db.session.get(HumanTask, task_id)
            task = tasks[task_id]
            if task is None or task.state != TaskState.READY or row.recipient_id is None:
                minted[marker] = external_url(f"/tasks/{task_id}")
            else:
                secret = secrets.token_urlsafe(32)
                tokens.append({"token_hash": hashlib.sha256(secret.encode()).hexdigest(), "task_id": task_id,
                               "user_id": row.recipient_id, "decision": match.group(2), "created_at": now,
                               "expires_at": expires, "used_at": None})
                minted[marker] = external_url(f"/decide/{secret}")
        return minted[marker]

    text, html = DECIDE.sub(link, written.text), DECIDE.sub(link, written.html)
    if tokens:  # in the message's transaction: a message that is not sent leaves no token
        db.session.connection().execute(ADD_TOKENS, tokens)
    return text, html


ADD_TOKENS = ActionToken.__table__.insert()
SENT_COLUMNS = ("subject", "text_body", "html_body", "delivered_text", "delivered_html", "status", "transport",
                "sent_at", "claimed_by", "lease_until", "last_error")
MARK_SENT = update(OutboxMessage.__table__).where(OutboxMessage.__table__.c.id == bindparam("row_id")).values(
    {name: bindparam(f"new_{name}") for name in SENT_COLUMNS})


def _mark_sent(row: OutboxMessage, written: Rendered, transport: str, now: dt.datetime,
               delivered: tuple[str, str] = ("", "")) -> None:
    """Record the row as sent, with what it said, and commit (its tokens with it).

    A plain UPDATE, as the ORM's flush of the one row cost as much as writing the message; the
    session's copy of the row is made to match.
    """
    values = {"subject": written.subject, "text_body": written.text, "html_body": written.html,
              "delivered_text": delivered[0], "delivered_html": delivered[1], "status": OutboxStatus.SENT,
              "transport": transport, "sent_at": now, "claimed_by": "", "lease_until": None, "last_error": ""}
    db.session.connection().execute(MARK_SENT, {"row_id": row.id, **{f"new_{k}": v for k, v in values.items()}})
    for key, value in values.items():
        set_committed_value(row, key, value)
    db.session.commit()


def _keep_for_batch(rows: list[OutboxMessage]) -> list:
    """Load what the batch's task e-mails say — tasks, their requests, groups, versions and the
    recipients — in two queries, and hold it: the session keeps only objects something refers
    to, and each message would otherwise read its task and request again."""
    task_ids = {row.task_id for row in rows if row.task_id}
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)).options(
        joinedload(HumanTask.instance).options(joinedload(ProcessInstance.initiator),
                                               joinedload(ProcessInstance.working_group),
                                               joinedload(ProcessInstance.version)))).all() if task_ids else []
    people = db.session.scalars(select(User).where(User.id.in_({row.recipient_id for row in rows}))).all()
    return [*tasks, *people]


def _permanent(exc: Exception) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    return code is not None and 500 <= code < 600


def _retry_later(row_id: int, error: str, now: dt.datetime, delivery: Delivery, attempted: bool = True) -> None:
    row = db.session.get(OutboxMessage, row_id)
    if attempted:
        row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_by, row.lease_until = "", None
    give_up = row.created_at + dt.timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"])
    if now >= give_up:
        row.status = OutboxStatus.FAILED
        delivery.failed += 1
    else:
        delay = min(current_app.config["MAIL_RETRY_SECONDS"] * 2 ** max(row.attempts - 1, 0),
                    current_app.config["MAIL_RETRY_MAX_SECONDS"])
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + dt.timedelta(seconds=delay)
        delivery.retrying += 1
    db.session.commit()


def deliver_outbox(worker: str | None = None, size: int | None = None, now: dt.datetime | None = None) -> Delivery:
    """Send one batch of due e-mails over one SMTP connection (or into the local mailbox).

    Each message is committed on its own, so that a crash sends none twice; within the batch
    the loaded requests, tasks and people are kept across those commits instead of being
    read again for every message (they only feed the text; a link for a task decided in the
    meantime is refused when used).
    """
    session = db.session()  # the scoped session's own Session, whose option this is
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        return _deliver(worker, size, now)
    finally:
        session.expire_on_commit = keep


def _deliver(worker: str | None, size: int | None, now: dt.datetime | None) -> Delivery:
    worker = worker or uuid.uuid4().hex
    now = now or utcnow()
    delivery = Delivery()
    rows = claim_batch(worker, size or current_app.config["MAIL_BATCH_SIZE"], now)
    if not rows:
        return delivery
    ids = [row.id for row in rows]
    kept = _keep_for_batch(rows)  # noqa: F841 - held until the batch is done
    if not current_app.config["MAIL_SERVER"]:
        for row in rows:
            written = written_message(row)
            _mark_sent(row, written, "mailbox", now, delivered=_mint_links(row, written, now))
            delivery.sent += 1
        return delivery
    state = mail.init_mail(current_app.config)  # read each batch: settings may change while running
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    sender_header, envelope_sender = address(sender), parseaddr(sender)[1]
    try:
        with TimedConnection(state, current_app.config["MAIL_TIMEOUT"]) as connection:
            for position, row_id in enumerate(ids):
                row = db.session.get(OutboxMessage, row_id)
                written = written_message(row)
                text, html = _mint_links(row, written, now)
                to = (row.recipient.name if row.recipient else "", row.to_address)
                raw = write_message(sender=sender_header, to=to, subject=written.subject, text=text, html=html,
                                    message_id=row.message_id)
                try:
                    connection.host.sendmail(envelope_sender, [row.to_address], raw,
                                             [] if raw.isascii() else ["SMTPUTF8"])
                except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                    db.session.rollback()  # drops the tokens minted for this message
                    error = (f"recipient refused: {exc.recipients}" if isinstance(exc, smtplib.SMTPRecipientsRefused)
                             else f"{exc.smtp_code} {exc.smtp_error!r}")
                    if _permanent(exc):
                        _fail(row_id, error, delivery)
                    else:
                        _retry_later(row_id, error, now, delivery)
                    continue
                except smtplib.SMTPNotSupportedError:
                    db.session.rollback()
                    _fail(row_id, "the mail server does not take addresses with characters other than ASCII "
                                  "(it does not offer SMTPUTF8): change the person's e-mail address", delivery)
                    continue
                except (smtplib.SMTPException, OSError) as exc:
                    db.session.rollback()
                    _retry_later(row_id, f"{type(exc).__name__}: {exc}", now, delivery)
                    for rest in ids[position + 1:]:
                        _retry_later(rest, f"not tried: the connection failed ({exc})", now, delivery,
                                     attempted=False)
                    return delivery
                _mark_sent(row, written, "smtp", now)
                delivery.sent += 1
    except (smtplib.SMTPException, OSError) as exc:  # could not connect at all
        db.session.rollback()
        delivery.errors.append(str(exc))
        for row_id in ids:
            row = db.session.get(OutboxMessage, row_id)
            if row.status == OutboxStatus.SENDING and row.claimed_by == worker:
                _retry_later(row_id, f"{type(exc).__name__}: {exc}", now, delivery)
    return delivery


def _fail(row_id: int, error: str, delivery: Delivery) -> None:
    row = db.session.get(OutboxMessage, row_id)
    row.attempts += 1
    row.status, row.last_error = OutboxStatus.FAILED, error[:2000]
    row.claimed_by, row.lease_until = "", None
    db.session.commit()
    delivery.failed += 1
