"""Who may follow every request, and who may change one."""

from __future__ import annotations

from flask_babel import gettext as _

from app.errors import NotAllowed
from app.models import Role, User
from app.services.instances import SECRETARIAT


def may_monitor(user: User) -> bool:
    """Coordinators, finance, the Commission and administrators follow every request."""
    return bool(user.is_authenticated and user.roles & SECRETARIAT)


def may_administer(user: User) -> bool:
    return user.has_role(Role.ADMINISTRATOR)


def _require_monitor(actor: User) -> None:
    if not may_monitor(actor):
        raise NotAllowed(_("Only the secretariat can follow every request."))


def _require_admin(actor: User) -> None:
    if not may_administer(actor):
        raise NotAllowed(_("Only administrators can change a request this way."))

