"""Email: the outbox the worker drains, and the tokens behind emailed decision links."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow
from .instances import HumanTask
from .people import User


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Model):
    """One email to one person, written in the same transaction as the step that caused it.

    Bodies may hold ``%%DECIDE:<task id>:<decision>%%`` markers: the worker mints each
    decision token when it sends, so the database never holds a usable token.
    """

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # task, notice, digest
    template: Mapped[str] = mapped_column(String(100), default="")
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=20), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    transport: Mapped[str] = mapped_column(String(20), default="")  # smtp or mailbox
    delivered_text: Mapped[str] = mapped_column(Text, default="")  # mailbox copies only
    delivered_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Files sent with the message: [{"filename", "content_type", "content"}], text content
    # only (a meeting's calendar invitation).
    attachments: Mapped[list | None] = mapped_column(JSON)
    # The HTTP request (or worker job) that queued it: the worker's lines about it name it.
    request_id: Mapped[str | None] = mapped_column(String(64))

    recipient: Mapped[User | None] = relationship()
    task: Mapped[HumanTask | None] = relationship()


class ActionToken(Model):
    """An emailed decision: only the SHA-256 of the link's secret is kept.

    It decides a task (``task_id``) or answers a meeting invitation (``meeting_id``, the
    decision being the answer): one of the two is set.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decision: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    task: Mapped[HumanTask | None] = relationship()
    user: Mapped[User] = relationship()
