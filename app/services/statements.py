"""What the accessibility statement and the privacy notice say that is not fixed text: the
settings (README, "Configuration") with their defaults, and the personal data each active
process collects and how long it keeps it, read from its diagram, so a revised diagram's
fields and periods are listed at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import ProcessVersion, Role, User
from app.services.history import PERSONAL_READERS, personal_specs
from app.services.retention.periods import declared_retention
from app.services.versions.store import active_versions
from forms import personal_kind
from forms.translations import diagram_text, translated_model

ENFORCEMENT = _l("Each Member State of the European Union has a body that enforces the Web Accessibility "
                  "Directive (Directive (EU) 2016/2102). If you are not happy with how we answer your "
                  "feedback or request, contact the enforcement body of the Member State you are in.")
CONTROLLER = _l("the Big Buyers Initiative secretariat, on behalf of the European Commission")
LEGAL_BASIS = _l("We process your data because it is needed for the task the secretariat carries out for the "
                  "European Commission: running the Big Buyers Initiative's working groups, events, expert "
                  "requests and travel reimbursement (Article 6(1)(e) of the General Data Protection "
                  "Regulation). We keep travel claims because financial rules require it (Article 6(1)(c)).")
KIND_NAMES = {"bank": _l("bank details")}  # a ``personal`` value as people read it; others as written
ROLE_NAMES = {Role.COORDINATOR: _l("secretariat coordinators"), Role.FINANCE: _l("finance officers")}


def contact(config: dict[str, Any]) -> str:
    """Where to report an accessibility problem: ACCESSIBILITY_CONTACT, else the email of the
    first active administrator (the app has no other address of the secretariat)."""
    if config["ACCESSIBILITY_CONTACT"]:
        return str(config["ACCESSIBILITY_CONTACT"])
    admins = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    return next((user.email for user in admins if user.has_role(Role.ADMINISTRATOR)), "")


def _date(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value  # shown as written


def accessibility(config: dict[str, Any]) -> dict[str, Any]:
    """Everything the accessibility statement takes from the settings."""
    return {
        "contact": contact(config),
        "prepared": _date(config["ACCESSIBILITY_PREPARED"]),
        "reviewed": _date(config["ACCESSIBILITY_REVIEWED"]),
        "enforcement": config["ACCESSIBILITY_ENFORCEMENT"] or ENFORCEMENT,
        "two_step_minutes": config["TWO_STEP_MINUTES"],
        "idle_hours": config["SIGN_IN_IDLE_HOURS"],
    }


@dataclass
class PersonalField:
    label: str
    kind: str  # what sort of personal data, e.g. "bank details"; '' when the diagram does not say
    type: str = ""  # the form field's type: string, iban, file…


@dataclass
class ProcessData:
    name: str
    fields: list[PersonalField]
    retention: str
    version: ProcessVersion | None = None  # the active version it was read from


def retention(config: dict[str, Any] | None = None) -> dict[str, str]:
    """How long each active process keeps a finished request's personal data, by process id, as
    its diagram declares it (``retention`` properties, app/services/retention/periods.py)."""
    return {version.definition.process_id: declared_retention(load_model(version)).text(version)
            for version in active_versions()}


def processes(config: dict[str, Any]) -> list[ProcessData]:
    """Each active process, by name: the personal fields its forms ask for, how long it keeps them."""
    found = []
    for version in active_versions():
        model = load_model(version)
        shown = translated_model(version, model)  # the page's words: its name, its fields' labels
        fields = [PersonalField(spec.label, str(KIND_NAMES.get(personal_kind(spec))
                                                or diagram_text(version, personal_kind(spec))
                                                or (KIND_NAMES["bank"] if spec.type == "iban" else "")), spec.type)
                  for spec in personal_specs(shown)]
        found.append(ProcessData(shown.name, fields, declared_retention(model).text(version), version))
    return found


def privacy(config: dict[str, Any]) -> dict[str, Any]:
    """Everything the privacy notice takes from the settings and the active diagrams."""
    return {
        "controller": config["PRIVACY_CONTROLLER"] or CONTROLLER,
        "legal_basis": config["PRIVACY_LEGAL_BASIS"] or LEGAL_BASIS,
        "dpo": config["PRIVACY_DPO_CONTACT"] or contact(config),
        "readers": format_list([str(ROLE_NAMES.get(role, role.value)) for role in sorted(PERSONAL_READERS)],
                               locale=get_locale() or "en"),
        "processes": processes(config),
    }
