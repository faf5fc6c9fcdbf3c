"""Two-step sign-in: a person's authenticator secret and their single-use recovery codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow
from .people import User


class SecondFactor(Model):
    """A person's authenticator app (TOTP, RFC 6238), one per person.

    Until ``confirmed_at`` is set it is a set-up in progress: the secret has been shown but no
    code from the app has proved it was stored. The server needs the secret itself to check
    codes, so it is kept as is (base32), like the password hash only in the database.
    """

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The 30-second time step of the last code accepted: a code of that step or an earlier one
    # is refused, so a code seen over someone's shoulder cannot be used again.
    last_step: Mapped[int | None] = mapped_column(Integer)
    # Wrong codes since the password was last checked; kept here rather than in the session
    # cookie, which a client could send again as it was before the wrong codes.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """One of the codes shown once at set-up, usable once instead of a code from the app.

    Only the SHA-256 of the code is kept: the codes are random (60 bits), not chosen by people.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
