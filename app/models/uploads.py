"""Diagram uploads an administrator has checked but not yet stored as a version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow
from .people import User


class PendingUpload(Model):
    """Files kept on the server between the validation report and the confirmation.

    The confirmation names this row by its random id and only its uploader may use it, so
    what is stored is exactly what was checked, never something the browser sends back.
    """

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, unguessable
    process_id: Mapped[str] = mapped_column(String(100))
    files: Mapped[dict] = mapped_column(JSON)  # {file name: XML text}
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    uploaded_by: Mapped[User] = relationship()
