"""Signing in and out: the sign-ins (one per browser) that sessions and remember-me cookies
stand for.

Settings, each read where used with its default: REMEMBER_ME_DAYS (14) and
SIGN_IN_IDLE_HOURS (12).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditEvent, SignIn, User
from app.models.base import utcnow

SEEN_EVERY = dt.timedelta(minutes=5)  # "last seen" may be this stale: no write on every request


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def remember_duration() -> dt.timedelta:
    """How long "Keep me signed in" lasts from sign-in: REMEMBER_ME_DAYS."""
    return dt.timedelta(days=_setting("REMEMBER_ME_DAYS", 14))


def _idle_limit() -> dt.timedelta:
    return dt.timedelta(hours=_setting("SIGN_IN_IDLE_HOURS", 12))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User, remember: bool) -> str:
    """Open a sign-in for one browser and return the random key its cookies will carry.

    Only the key's hash is stored. It lasts REMEMBER_ME_DAYS from now when remembered, else
    until SIGN_IN_IDLE_HOURS pass without a request.
    """
    now = utcnow()
    db.session.execute(delete(SignIn).where(SignIn.expires_at <= now))
    key = secrets.token_urlsafe(32)
    row = SignIn(key_hash=_key_hash(key), user_id=user.id, remember=remember, created_at=now, last_seen_at=now,
                 expires_at=now + (remember_duration() if remember else _idle_limit()))
    db.session.add(row)
    db.session.flush()
    user.use_sign_in(key, row.id)
    return key


def signed_in_user(key: str) -> User | None:
    """The active person whose unexpired sign-in ``key`` opened, else None: signed out."""
    row = db.session.scalar(select(SignIn).options(joinedload(SignIn.user)).where(SignIn.key_hash == _key_hash(key)))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    row.user.use_sign_in(key, row.id)
    return row.user


def touch_session(user: User) -> bool:
    """Note that the browser is in use, at most every few minutes, which keeps a sign-in
    without remember-me going; returns whether there is something to commit."""
    row = db.session.get(SignIn, user.sign_in_id) if user.sign_in_id is not None else None
    now = utcnow()
    if row is None or now - row.last_seen_at < SEEN_EVERY:
        return False
    row.last_seen_at = now
    if not row.remember:
        row.expires_at = now + _idle_limit()
    return True


def end_session(user: User) -> None:
    """Sign out the browser ``user`` was loaded for: its key stops working, copies included."""
    if user.sign_in_id is not None:
        db.session.execute(delete(SignIn).where(SignIn.id == user.sign_in_id))


def end_sessions(user: User) -> None:
    """Sign ``user`` out everywhere: every browser's sign-in and remember-me cookie stops working.

    Whatever sets a password, changes roles or deactivates a person calls this.
    """
    db.session.execute(delete(SignIn).where(SignIn.user_id == user.id))


def sign_out_everywhere(actor: User) -> None:
    """The person's own "Sign out everywhere"."""
    end_sessions(actor)
    db.session.add(AuditEvent(actor_id=actor.id, channel="web", action="signed_out_everywhere",
                              summary=f"{actor.name} signed out everywhere"))
