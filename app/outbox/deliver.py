"""Sending the outbox: the worker claims due rows, writes each message and sends it.

Delivery is at least once and in order of writing: rows are claimed atomically (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, the single writer lock on SQLite) under a short lease
(``MAIL_LEASE_SECONDS``) that the worker renews for the rows it still holds while it works
through the batch (before a message, at most once a second). A living worker keeps its rows
however long the batch takes; a worker that dies leaves them to be claimed again once the
lease runs out (a minute by default), and two workers never send the same row at once.

A row is marked sent, and committed, right after the server accepts its message. A worker that
dies between the two leaves the row "sending": it is sent again when the lease runs out, with
the same Message-ID (each row keeps one for every try), so mail systems drop the copy. That
window, from the server's answer to one commit, is what remains of "at least once".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr
from threading import Event
from typing import cast

from flask import current_app
from flask_mail import Connection
from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db, mail
from app.logs import bound_request_id, job
from app.models import ActionToken, HumanTask, OutboxMessage, OutboxStatus, ProcessInstance, TaskState, User
from app.models.base import utcnow

from .account_links import mint_account_links
from .answer_links import mint_answer_links
from .compose import compose_message, written_message
from .queue import DECIDE, external_url
from .render import Rendered


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


@dataclass
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    connected: bool = False  # the SMTP server answered this batch
    unreachable: str = ""  # why the SMTP server could not be reached, or went away mid-batch
    released: int = 0  # rows given back unsent because the worker is stopping


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


RENEW_EVERY = 1.0  # seconds: a batch renews its lease before a message, at most this often


class Lease:
    """The rows of one batch a worker still holds, and their lease.

    ``holds`` renews the lease of every row of the batch the worker still holds (an UPDATE,
    committed before the message goes out) when the last renewal is a second old, and says
    whether the row is still this worker's: one whose lease ran out (a connection that took
    longer than the lease) may have been taken by another worker, and is left to it.
    """

    def __init__(self, worker: str, ids: list[int], now: dt.datetime):
        self.worker, self.ids, self.held, self.now = worker, ids, set(ids), now
        self.started = self.renewed = time.monotonic()

    def holds(self, row_id: int) -> bool:
        if time.monotonic() - self.renewed >= RENEW_EVERY:
            self.renew()
        return row_id in self.held

    def renew(self) -> None:
        self.renewed = time.monotonic()
        # The clock of the batch: ``now`` (which tests may set) moved on by the time it took.
        until = self.now + dt.timedelta(seconds=self.renewed - self.started
                                        + current_app.config["MAIL_LEASE_SECONDS"])
        held = db.session.execute(RENEW, {"renewer": self.worker, "ids": self.ids, "until": until}).scalars()
        self.held = set(held)
        db.session.commit()


def _mint_links(row: OutboxMessage, written: Rendered, now: dt.datetime) -> tuple[str, str]:
    """Replace decision and account markers with fresh one-use links; only their hashes are stored."""
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
                               "meeting_id": None,
                               "user_id": row.recipient_id, "decision": match.group(2), "created_at": now,
                               "expires_at": expires, "used_at": None})
                minted[marker] = external_url(f"/decide/{secret}")
        return minted[marker]

    text, html = DECIDE.sub(link, written.text), DECIDE.sub(link, written.html)
    if tokens:  # in the message's transaction: a message that is not sent leaves no token
        db.session.connection().execute(ADD_TOKENS, tokens)
    text, html = mint_answer_links(row, text, html, now)
    return mint_account_links(row, text, html, now)


OUTBOX = cast(Table, OutboxMessage.__table__)
ADD_TOKENS = cast(Table, ActionToken.__table__).insert()
SENT_COLUMNS = ("subject", "text_body", "html_body", "delivered_text", "delivered_html", "status", "transport",
                "sent_at", "claimed_by", "lease_until", "last_error")
RENEW = (update(OUTBOX)
         .where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)), OUTBOX.c.claimed_by == bindparam("renewer"),
                OUTBOX.c.status == OutboxStatus.SENDING)
         .values(lease_until=bindparam("until")).returning(OUTBOX.c.id))
MARK_SENT = update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id")).values(
    {name: bindparam(f"new_{name}") for name in SENT_COLUMNS})


def _mark_sent(row: OutboxMessage, written: Rendered, transport: str, now: dt.datetime,
               delivered: tuple[str, str] = ("", "")) -> None:
    """Record the row as sent, with what it said, and commit (its tokens with it).

    A plain UPDATE, as the ORM's flush of the one row cost as much as writing the message; the
    session's copy of the row is expired, so it is read again if anything still looks at it.
    """
    values = {"subject": written.subject, "text_body": written.text, "html_body": written.html,
              "delivered_text": delivered[0], "delivered_html": delivered[1], "status": OutboxStatus.SENT,
              "transport": transport, "sent_at": now, "claimed_by": "", "lease_until": None, "last_error": ""}
    db.session.connection().execute(MARK_SENT, {"row_id": row.id, **{f"new_{k}": v for k, v in values.items()}})
    db.session.expire(row)
    db.session.commit()


def _keep_for_batch(rows: list[OutboxMessage]) -> list:
    """Load what the batch's task emails say — tasks, their requests, groups, versions and the
    recipients with their roles — in three queries, and hold it: the session keeps only objects something refers
    to, and each message would otherwise read its task and request again."""
    task_ids = {row.task_id for row in rows if row.task_id}
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)).options(
        joinedload(HumanTask.instance).options(joinedload(ProcessInstance.initiator),
                                               joinedload(ProcessInstance.working_group),
                                               joinedload(ProcessInstance.version)))).all() if task_ids else []
    people = db.session.scalars(select(User).options(selectinload(User.role_rows))  # compose reads them
                                .where(User.id.in_({row.recipient_id for row in rows}))).all()
    return [*tasks, *people]


def _permanent(exc: Exception) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    return code is not None and 500 <= code < 600


def _retry_later(row_id: int, error: str, now: dt.datetime, delivery: Delivery, attempted: bool = True) -> str:
    row = db.session.get_one(OutboxMessage, row_id)
    if attempted:
        row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_by, row.lease_until = "", None
    give_up = row.created_at + dt.timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"])
    if now >= give_up:
        row.status = OutboxStatus.FAILED
        delivery.failed += 1
        outcome = "failed"
    else:
        delay = min(current_app.config["MAIL_RETRY_SECONDS"] * 2 ** max(row.attempts - 1, 0),
                    current_app.config["MAIL_RETRY_MAX_SECONDS"])
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + dt.timedelta(seconds=delay)
        delivery.retrying += 1
        outcome = "to retry"
    db.session.commit()
    return outcome


def deliver_outbox(worker: str | None = None, size: int | None = None, now: dt.datetime | None = None,
                   stop: Event | None = None) -> Delivery:
    """Send one batch of due emails over one SMTP connection (or into the local mailbox).

    Each message is committed on its own, so that a crash sends none twice; within the batch
    the loaded requests, tasks and people are kept across those commits instead of being
    read again for every message (they only feed the text; a link for a task decided in the
    meantime is refused when used). Once ``stop`` is set (the worker was asked to stop), the
    message in hand is finished and the rest of the batch is given back unsent, at once.
    """
    session = db.session()  # the scoped session's own Session, whose option this is
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        return _deliver(worker, size, now, stop)
    finally:
        session.expire_on_commit = keep


def _deliver(worker: str | None, size: int | None, now: dt.datetime | None, stop: Event | None) -> Delivery:
    worker = worker or uuid.uuid4().hex
    now = now or utcnow()
    delivery = Delivery()
    rows = claim_batch(worker, size or current_app.config["MAIL_BATCH_SIZE"], now)
    if not rows:
        return delivery
    ids = [row.id for row in rows]
    lease = Lease(worker, ids, now)
    kept = _keep_for_batch(rows)  # noqa: F841 - held until the batch is done
    if not current_app.config["MAIL_SERVER"]:
        for position, row in enumerate(rows):
            if stop is not None and stop.is_set():
                _release(worker, ids[position:], delivery)
                break
            if not lease.holds(row.id):
                continue
            with bound_request_id(row.request_id), job("email", outbox_id=row.id, template=row.template) as done:
                written = written_message(row)
                _mark_sent(row, written, "mailbox", now, delivered=_mint_links(row, written, now))
                delivery.sent += 1
                done["outcome"] = "sent to the local mailbox"
        return delivery
    state = mail.init_mail(current_app.config)  # read each batch: settings may change while running
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    sender = sender if isinstance(sender, tuple) else parseaddr(sender)  # Flask-Mail takes either
    try:
        with TimedConnection(state, current_app.config["MAIL_TIMEOUT"]) as connection:
            host = connection.host
            if host is None:  # Flask-Mail opens none while MAIL_SUPPRESS_SEND is on
                raise smtplib.SMTPServerDisconnected("sending is switched off (MAIL_SUPPRESS_SEND)")
            delivery.connected = True
            for position, row_id in enumerate(ids):
                if stop is not None and stop.is_set():
                    _release(worker, ids[position:], delivery)
                    return delivery
                if not lease.holds(row_id):  # its lease ran out and another worker may have it
                    continue
                row = db.session.get_one(OutboxMessage, row_id)
                with bound_request_id(row.request_id), job("email", outbox_id=row_id, template=row.template) as done:
                    done["outcome"] = _send(host, sender, row, now, delivery)
                if delivery.unreachable:  # the connection failed: the rest wait for the next round
                    for rest in ids[position + 1:]:
                        if rest in lease.held:
                            _retry_later(rest, f"not tried: the connection failed ({delivery.unreachable})", now,
                                         delivery, attempted=False)
                    return delivery
    except (smtplib.SMTPException, OSError) as exc:  # could not connect at all
        db.session.rollback()
        delivery.errors.append(str(exc))
        delivery.unreachable = f"{type(exc).__name__}: {exc}"
        for row_id in ids:
            row = db.session.get_one(OutboxMessage, row_id)
            if row.status == OutboxStatus.SENDING and row.claimed_by == worker:
                _retry_later(row_id, f"{type(exc).__name__}: {exc}", now, delivery)
    return delivery


def _send(host, sender: tuple[str, str], row: OutboxMessage, now: dt.datetime, delivery: Delivery) -> str:
    """Write and send one message; record what became of it and say it in a word."""
    row_id = row.id
    written = written_message(row)
    text, html = _mint_links(row, written, now)
    to = (row.recipient.name if row.recipient else "", row.to_address)
    message = compose_message(sender=sender, to=to, subject=written.subject, text=text, html=html,
                              message_id=row.message_id, attachments=row.attachments)
    try:  # with SMTPUTF8 when an address needs it; SMTPNotSupportedError if the relay lacks it
        host.send_message(message, sender[1], [row.to_address])
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
        db.session.rollback()  # drops the tokens minted for this message
        error = (f"recipient refused: {exc.recipients}" if isinstance(exc, smtplib.SMTPRecipientsRefused)
                 else f"{exc.smtp_code} {exc.smtp_error!r}")
        if _permanent(exc):
            _fail(row_id, error, delivery)
            return "failed"
        return _retry_later(row_id, error, now, delivery)
    except smtplib.SMTPNotSupportedError:
        db.session.rollback()
        _fail(row_id, "the mail server does not take addresses with characters other than ASCII "
                      "(it does not offer SMTPUTF8): change the person's email address", delivery)
        return "failed"
    except (smtplib.SMTPException, OSError) as exc:
        db.session.rollback()
        delivery.unreachable = f"{type(exc).__name__}: {exc}"
        return _retry_later(row_id, delivery.unreachable, now, delivery)
    _mark_sent(row, written, "smtp", now)  # at once: the server has accepted it
    delivery.sent += 1
    return "sent"


def _release(worker: str, ids: list[int], delivery: Delivery) -> None:
    """Give back the rows of the batch not begun: the worker is stopping. They are due at
    once for any worker (this one after its restart), and none of them was sent."""
    released = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
                                    OutboxMessage.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.PENDING, claimed_by="", lease_until=None).returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)).scalars().all()
    db.session.commit()
    delivery.released += len(released)


def _fail(row_id: int, error: str, delivery: Delivery) -> None:
    row = db.session.get_one(OutboxMessage, row_id)
    row.attempts += 1
    row.status, row.last_error = OutboxStatus.FAILED, error[:2000]
    row.claimed_by, row.lease_until = "", None
    db.session.commit()
    delivery.failed += 1
