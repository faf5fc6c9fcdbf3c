"""Sign-ins: each browser a person is signed in on, and the failed attempts that throttle guessing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow
from .people import User


class SignIn(Model):
    """One browser a person signed in on.

    The session and the remember-me cookie carry this sign-in's random key, never the
    person's id; only its SHA-256 is stored. A cookie is therefore new at every sign-in,
    works only while its row exists and has not expired, and dies with it: signing out
    deletes this row, "sign out everywhere" (and a password, role or active change) all of
    the person's rows.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Remembered: REMEMBER_ME_DAYS after sign-in. Otherwise SIGN_IN_IDLE_HOURS after last seen.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()


class FailedSignIn(Model):
    """A wrong password (or an unknown address): counted per address typed and per client in
    a window, in the database so every web process and node sees the same count."""

    __table_args__ = (
        Index("ix_failed_sign_in_email_at", "email", "attempted_at"),
        Index("ix_failed_sign_in_client_at", "client", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # as typed, lower case: known or not
    client: Mapped[str] = mapped_column(String(64))  # the client's address (behind TRUSTED_PROXIES)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
