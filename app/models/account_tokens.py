"""Account links: the emailed, single-use links with which a person chooses a password."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow
from .people import User


class AccountTokenPurpose(enum.StrEnum):
    INVITATION = "invitation"  # an administrator added the person, or sent them a new link
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password: the person forgot theirs


class AccountToken(Model):
    """One emailed link to choose a password, bound to one person.

    Only the SHA-256 of the link's secret is kept, and only once the worker sends the email
    (until then ``token_hash`` is empty: the outbox row holds a marker, not a link). A link
    works once, until ``expires_at``, and dies when a newer one is made for the same person
    (``revoked_at``).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[AccountTokenPurpose] = mapped_column(Enum(AccountTokenPurpose, native_enum=False, length=20))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_live(self, now: dt.datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
