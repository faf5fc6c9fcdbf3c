"""Two-step sign-in: after the password, a code from an authenticator app (TOTP, RFC 6238).

Administrators must have it, because the diagrams they upload run expressions on the server;
anyone who has set it up is asked for a code at every sign-in. A code is good for its own
30-second step and the ones either side of it (clocks drift), once: a code of a step no later
than the last one accepted is refused. Ten single-use recovery codes, shown once at set-up and
kept only as SHA-256 hashes, each stand in for a code when the phone is lost. Wrong codes are
counted on the person's row, so a replayed session cookie cannot win more tries;
TWO_STEP_MAX_TRIES of them in a row send the person back to their password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from app.errors import ServiceError
from app.extensions import db
from app.models import RecoveryCode, Role, SecondFactor, User
from app.models.base import utcnow
from app.steps import audit_event, said

from .admin import _record

ISSUER = "Big Buyers Workflow"
RECOVERY_CODES = 10
# Crockford's base32 letters: no i, l, o or u to misread; 12 of them make 60 random bits.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_LENGTH = 12
APP_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class CodeCheck:
    """What a submitted code did: accepted or not, how many tries are left, and, when it was a
    recovery code, how many of those are left."""

    accepted: bool
    tries_left: int
    recovery_codes_left: int | None = None


def max_tries() -> int:
    return current_app.config["TWO_STEP_MAX_TRIES"]


def _factor(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def has_second_factor(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator app."""
    factor = _factor(user)
    return factor is not None and factor.confirmed_at is not None


def needs_second_step(user: User) -> bool:
    """Administrators always need the second step; others once they have set it up."""
    return user.has_role(Role.ADMINISTRATOR) or has_second_factor(user)


def must_set_up(user: User) -> bool:
    """An administrator without a confirmed authenticator app may not use the app yet."""
    return user.has_role(Role.ADMINISTRATOR) and not has_second_factor(user)


def prepare_second_step(user: User) -> bool:
    """The password was right: start counting wrong codes afresh, and give a person who has no
    authenticator app yet a secret to set one up with. Returns whether a set-up is needed.

    A secret shown before but never confirmed is kept, so an app that scanned it still works.
    """
    factor = _factor(user)
    if factor is None:
        factor = SecondFactor(user_id=user.id, secret=pyotp.random_base32(), failures=0)
        db.session.add(factor)
    factor.failures = 0
    db.session.flush()
    return factor.confirmed_at is None


def set_up_secret(user: User) -> str:
    """The secret of ``user``'s set-up in progress, to show them."""
    factor = _factor(user)
    if factor is None or factor.confirmed_at is not None:
        raise ServiceError(_("There is no set-up of two-step sign-in in progress"))
    return factor.secret


def set_up_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_step(factor: SecondFactor, step: int) -> bool:
    """Record ``step`` as used, unless it (or a later one) was used already; one UPDATE, so of
    two requests with one code at the same moment only one gets in."""
    db.session.flush()
    result = db.session.connection().execute(
        update(SecondFactor)
        .where(SecondFactor.user_id == factor.user_id,
               or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step))
        .values(last_step=step, failures=0))
    db.session.expire(factor, ["last_step", "failures"])
    return result.rowcount == 1


def _refused(factor: SecondFactor) -> CodeCheck:
    factor.failures += 1
    db.session.flush()
    return CodeCheck(False, max(max_tries() - factor.failures, 0))


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def confirm_set_up(user: User, code: str, now: dt.datetime | None = None) -> tuple[CodeCheck, list[str]]:
    """Confirm the set-up with a current code from the app, and make the recovery codes.

    Returns the check and, when accepted, the recovery codes to show once. The caller commits
    either way: a wrong code counts.
    """
    factor = _factor(user)
    if factor is None or factor.confirmed_at is not None:
        raise ServiceError(_("There is no set-up of two-step sign-in in progress"))
    if factor.failures >= max_tries():
        return CodeCheck(False, 0), []
    code = _normalise(code)
    step = _matching_step(factor.secret, code, now or utcnow()) if APP_CODE.fullmatch(code) else None
    if step is None or not _accept_step(factor, step):
        return _refused(factor), []
    factor.confirmed_at = now or utcnow()
    codes = make_recovery_codes(user)
    db.session.add(audit_event(user, "web", "two_step_set_up", said("two_step_set_up")))
    db.session.flush()
    return CodeCheck(True, max_tries(), RECOVERY_CODES), codes


def check_code(user: User, code: str, now: dt.datetime | None = None) -> CodeCheck:
    """Check a code from the app, or a recovery code, at sign-in. The caller commits either
    way: a wrong code counts, a right one is used up."""
    factor = _factor(user)
    if factor is None or factor.confirmed_at is None:
        raise ServiceError(_("Two-step sign-in is not set up"))
    if factor.failures >= max_tries():
        return CodeCheck(False, 0)
    code = _normalise(code)
    if APP_CODE.fullmatch(code):
        step = _matching_step(factor.secret, code, now or utcnow())
        if step is not None and _accept_step(factor, step):
            return CodeCheck(True, max_tries())
        return _refused(factor)
    db.session.flush()
    used = db.session.connection().execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now or utcnow()))
    if used.rowcount != 1:
        return _refused(factor)
    factor.failures = 0
    left = recovery_codes_left(user)
    db.session.add(audit_event(user, "web", "recovery_code_used", said("recovery_code_used", left=left)))
    db.session.flush()
    return CodeCheck(True, max_tries(), left)


def make_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with new ones; returns them, to show once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    db.session.flush()
    return ["-".join(code[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)) for code in codes]


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def second_factor_since(user: User) -> dt.datetime | None:
    """When ``user`` confirmed their authenticator app, or None."""
    factor = _factor(user)
    return factor.confirmed_at if factor is not None else None


def reset_second_factor(actor: User, user: User) -> None:
    """Remove ``user``'s authenticator app and recovery codes, when they have lost their phone.

    Another administrator does it, never the person themselves, and it is audit-logged. An
    administrator reset is signed out at their next page and sets up a new app after their
    password.
    """
    if actor.id == user.id:
        raise ServiceError(_("You cannot reset your own two-step sign-in. Ask another administrator."))
    factor = _factor(user)
    if factor is None:
        raise ServiceError(_("%(name)s has not set up two-step sign-in", name=user.name))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.delete(factor)
    _record(actor, "two_step_reset", said("two_step_reset", user=user.name, email=user.email),
            {"user_id": user.id})
    db.session.flush()


def enrol_with_secret(user: User, secret: str) -> None:
    """Give ``user`` an authenticator app with a known secret, confirmed at once, with no
    recovery codes: only for the demo administrator, whose secret is published."""
    factor = _factor(user)
    if factor is None:
        factor = SecondFactor(user_id=user.id, secret=secret, failures=0)
        db.session.add(factor)
    factor.secret, factor.confirmed_at = secret, factor.confirmed_at or utcnow()
    db.session.flush()
