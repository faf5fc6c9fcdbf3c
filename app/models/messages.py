"""What running requests wait for: one row per message a request waits for.

Kept in step with each save of the request (app/steps/messages.py), so the app finds the
receivers of a message by its name and correlation key with one indexed query, never by
loading workflows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model

from .base import UTCDateTime, utcnow


class MessageSubscription(Model):
    __table_args__ = (Index("ix_message_subscription_name_key", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str] = mapped_column(String(200), default="")  # "" for none
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
