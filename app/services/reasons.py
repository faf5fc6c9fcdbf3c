"""The reason an administrator gives for an action on a request (cancel, retry, reassign, legal
hold): required, on one line, short enough to be shown whole in the history line."""

from __future__ import annotations

from flask_babel import gettext as _

from app.errors import ServiceError

MAX_REASON = 400  # the history line holds 500 characters


def check_reason(reason: str) -> str:
    """The reason on one line; ServiceError when it is missing or too long."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError(_("Give the reason: it goes into the request's history."))
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason must be %(max)s characters or fewer.", max=MAX_REASON))
    return reason
