"""Signing in and out: a password checked without telling who has an account, guesses
throttled in the database, and the sign-ins (one per browser) that sessions and remember-me
cookies stand for.

Settings (app/config.py): REMEMBER_ME_DAYS (14), SIGN_IN_IDLE_HOURS (12),
SIGN_IN_WINDOW_MINUTES (15), SIGN_IN_MAX_FAILURES (5 per address typed) and
SIGN_IN_MAX_FAILURES_PER_CLIENT (20 per client address).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload
from werkzeug import security

from app.errors import ServiceError
from app.extensions import db
from app.models import FailedSignIn, SignIn, User
from app.models.base import utcnow
from app.steps import Line, audit_event, said
from forms.text import period_text

NO_MATCH = _l("Enter a correct email address and password")
SEEN_EVERY = dt.timedelta(minutes=5)  # "last seen" may be this stale: no write on every request


class SignInRefused(ServiceError):
    """A refused sign-in, in words that do not say whether the address has an account."""


def _setting(name: str) -> float:
    return float(current_app.config[name])


def remember_duration() -> dt.timedelta:
    """How long "Keep me signed in" lasts from sign-in: REMEMBER_ME_DAYS."""
    return dt.timedelta(days=_setting("REMEMBER_ME_DAYS"))


def _idle_limit() -> dt.timedelta:
    return dt.timedelta(hours=_setting("SIGN_IN_IDLE_HOURS"))


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=_setting("SIGN_IN_WINDOW_MINUTES"))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash made as people's are, checked when nobody active has the address typed."""
    return security.generate_password_hash(secrets.token_urlsafe(16), method=method)


def _minutes(wait: dt.timedelta) -> int:
    """A wait in whole minutes, at least one."""
    return max(1, math.ceil(wait.total_seconds() / 60))


def check_sign_in(email: str, password: str, client: str) -> User:
    """The active person with this email address and password.

    Refused (SignInRefused) while the address typed has failed SIGN_IN_MAX_FAILURES times, or
    the client address SIGN_IN_MAX_FAILURES_PER_CLIENT times, within SIGN_IN_WINDOW_MINUTES —
    even with the right password — saying when to try again; and for a wrong password, an
    unknown address or a deactivated account, all in the same words and with the same work
    (one password hash, against a dummy when nobody active has the address), so neither the
    answer nor its time tells who has an account. The count lives in the database, so every
    web process and node shares it.

    A failure is recorded (its failed_sign_in row and an audit event the administrators see)
    and flushed before the refusal is raised: the caller commits it.
    """
    now = utcnow()
    email = (email or "").strip().lower()[:254]
    client = (client or "unknown")[:64]
    wait = _locked_for(email, client, now)
    if wait is not None:
        raise SignInRefused(_("Too many attempts: try again in %(wait)s", wait=period_text(_minutes(wait), "minute")))
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    usable = user is not None and user.active
    stored = user.password_hash if user is not None and usable else \
        _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    if security.check_password_hash(stored, password) and user is not None and usable:
        db.session.execute(delete(FailedSignIn).where(FailedSignIn.email == email))
        return user
    _record_failure(email, client, user, now)
    raise SignInRefused(str(NO_MATCH))


def _limits() -> tuple[tuple[str, int], ...]:
    return (("email", int(_setting("SIGN_IN_MAX_FAILURES"))),
            ("client", int(_setting("SIGN_IN_MAX_FAILURES_PER_CLIENT"))))


def _locked_for(email: str, client: str, now: dt.datetime) -> dt.timedelta | None:
    """How long until the address typed and the client may try again, or None: now.

    A lock ends when the failure that reached the limit leaves the window.
    """
    window = _window()
    values = {"email": email, "client": client}
    waits = []
    for name, limit in _limits():
        column = getattr(FailedSignIn, name)
        recent = db.session.scalars(
            select(FailedSignIn.attempted_at).where(column == values[name], FailedSignIn.attempted_at > now - window)
            .order_by(FailedSignIn.attempted_at.desc()).limit(limit)).all()
        if len(recent) >= limit:
            waits.append(recent[limit - 1] + window - now)
    return max(waits) if waits else None


def _record_failure(email: str, client: str, user: User | None, now: dt.datetime) -> None:
    """Count the failure and tell the administrators; the address typed is named only when it
    is someone's (people type passwords into the email field)."""
    window = _window()
    db.session.execute(delete(FailedSignIn).where(FailedSignIn.attempted_at <= now - window))
    db.session.add(FailedSignIn(email=email, client=client, attempted_at=now))
    db.session.flush()
    who = {"user": user.name, "email": user.email} if user is not None else {}
    data = {"client": client, "user_id": user.id if user is not None else None}
    _audit("sign_in_failed", said("sign_in_failed" if who else "sign_in_failed_unknown", client=client, **who),
           data, now)
    values = {"email": email, "client": client}
    for name, limit in _limits():
        column = getattr(FailedSignIn, name)
        failures = db.session.scalar(select(func.count()).select_from(FailedSignIn)
                                     .where(column == values[name], FailedSignIn.attempted_at > now - window))
        if failures == limit:  # this failure started a lock-out
            key = "sign_in_locked_client" if name != "email" else "sign_in_locked" if who else \
                "sign_in_locked_unknown"
            whose = who if name == "email" else {"client": client}
            _audit("sign_in_locked", said(key, period=[_minutes(window), "minute"], limit=limit, **whose),
                   {**data, "limit": name}, now)


def _audit(action: str, line: Line, data: dict, now: dt.datetime) -> None:
    db.session.add(audit_event(None, "web", action, line, data, created_at=now))


def start_session(user: User, remember: bool, language: str | None = None) -> str:
    """Open a sign-in for one browser and return the random key its cookies will carry.

    Only the key's hash is stored. It lasts REMEMBER_ME_DAYS from now when remembered, else
    until SIGN_IN_IDLE_HOURS pass without a request. ``language``, the browser's, becomes the
    person's language if they have none yet (their first sign-in).
    """
    now = utcnow()
    if user.language is None and language:
        user.language = language
    db.session.execute(delete(SignIn).where(SignIn.expires_at <= now))
    key = secrets.token_urlsafe(32)
    row = SignIn(key_hash=_key_hash(key), user_id=user.id, remember=remember, created_at=now, last_seen_at=now,
                 expires_at=now + (remember_duration() if remember else _idle_limit()))
    db.session.add(row)
    db.session.flush()
    user.use_sign_in(key, row.id, row)
    return key


def signed_in_user(key: str) -> User | None:
    """The active person whose unexpired sign-in ``key`` opened, else None: signed out."""
    # One statement: the sign-in, its person and their roles, which nearly every page reads.
    row = db.session.execute(select(SignIn).options(joinedload(SignIn.user).joinedload(User.role_rows))
                             .where(SignIn.key_hash == _key_hash(key))).unique().scalar_one_or_none()
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    row.user.use_sign_in(key, row.id, row)
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
    db.session.add(audit_event(actor, "web", "signed_out_everywhere", said("signed_out_everywhere")))
