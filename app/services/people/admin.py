"""What every administrator's function does alike.

The functions of ``accounts``, ``organisations`` and ``groups`` named add_*, update_*, remove_*
and reset_* are what administrators do through the web pages. Each takes the acting
administrator, raises InvalidData naming the form field a refusal belongs to, records an
AuditEvent on the "admin" channel, and flushes; the caller commits.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import InvalidData
from app.extensions import db
from app.models import AuditEvent, User
from app.models.base import N_
from app.steps import Line, audit_event

# What _clean_name says about each text it cleans: when it is missing, when it is too long.
_TEXT_REFUSALS = {
    "person's name": (N_("Enter the person's name"), N_("The person's name must be 200 characters or fewer")),
    "group's name": (N_("Enter the group's name"), N_("The group's name must be 200 characters or fewer")),
    "sector": (N_("Enter the sector"), N_("The sector must be 200 characters or fewer")),
    "name the diagram uses": (N_("Enter the name the diagram uses"),
                              N_("The name the diagram uses must be 200 characters or fewer")),
    "organisation's name": (N_("Enter the organisation's name"),
                            N_("The organisation's name must be 200 characters or fewer")),
}


def _refuse(field: str | None, message: str) -> InvalidData:
    return InvalidData([(field, message)])


def _record(actor: User, action: str, line: Line, data: dict | None = None) -> None:
    db.session.add(audit_event(actor, "admin", action, line, data))


def _clean_name(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    missing, too_long = _TEXT_REFUSALS[what]
    if not value:
        raise _refuse(field, _(missing))
    if len(value) > 200:
        raise _refuse(field, _(too_long))
    return value


SIGN_IN_EVENTS = ("sign_in_failed", "sign_in_locked")  # see signins.check_sign_in


def recent_admin_events(limit: int = 20) -> list[AuditEvent]:
    """What administrators changed, and failed sign-ins and lock-outs, newest first."""
    return list(db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor))
        .where((AuditEvent.channel == "admin") | AuditEvent.action.in_(SIGN_IN_EVENTS))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    ))
