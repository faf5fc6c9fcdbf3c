"""Who sees which report. No report shows an IBAN or any field a form marks personal."""

from __future__ import annotations

from flask_babel import gettext as _

from app.errors import NotAllowed
from app.models import User
from app.services.instances import SECRETARIAT


def may_see_reports(user: User) -> bool:
    """Whether the header links to the Reports section: the secretariat and the Commission."""
    return bool(user.is_authenticated and user.roles & SECRETARIAT)


def may_see_flow(user: User) -> bool:
    """Coordinators, finance, the Commission and administrators see where requests get stuck."""
    return may_see_reports(user)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed(_("Only the secretariat and the Commission can see this report."))
