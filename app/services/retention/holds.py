"""Legal hold: an administrator keeps a request's personal data past its retention period
(a dispute, an audit, a court order), with a reason, until they lift the hold. A request on
hold is never purged, by the worker or by an erasure."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from app.errors import ServiceError
from app.extensions import db
from app.models import ProcessInstance, Role, User
from app.models.base import utcnow
from app.services.reasons import check_reason
from app.steps import record, said


def _check(actor: User, instance: ProcessInstance, reason: str) -> str:
    if not actor.has_role(Role.ADMINISTRATOR):
        raise ServiceError(_("Only an administrator can put a request on legal hold or lift the hold."))
    if instance.purged_at is not None:
        raise ServiceError(_("This request's personal data has already been deleted."))
    return check_reason(reason)


def _write(instance: ProcessInstance, **values) -> None:
    # the lock version moves on, as for every write of the row (docs/ARCHITECTURE.md, "The lock")
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                       .values(lock_version=ProcessInstance.lock_version + 1, **values)
                       .execution_options(synchronize_session=False))
    db.session.expire(instance)


def place_hold(actor: User, instance: ProcessInstance, reason: str) -> None:
    """Put ``instance`` on legal hold: its personal data is kept until the hold is lifted."""
    reason = _check(actor, instance, reason)
    if instance.held_at is not None:
        raise ServiceError(_("This request is already on legal hold."))
    _write(instance, held_at=utcnow(), hold_reason=reason)
    record(instance, actor, "admin", "legal_hold", said("legal_hold", reason=reason),
           {"reason": reason})


def lift_hold(actor: User, instance: ProcessInstance, reason: str) -> None:
    """Lift the legal hold: the request is purged as its retention period says (at once if past)."""
    reason = _check(actor, instance, reason)
    if instance.held_at is None:
        raise ServiceError(_("This request is not on legal hold."))
    _write(instance, held_at=None, hold_reason=None)
    record(instance, actor, "admin", "legal_hold_lifted",
           said("legal_hold_lifted", reason=reason), {"reason": reason})
