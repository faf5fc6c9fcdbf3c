"""What the accessibility statement and the privacy notice say that is not fixed text: the
settings (README, "Configuration") with their defaults, and the personal data each active
process collects, read from its diagram, so a revised diagram's fields are listed at once."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import ProcessVersion, Role, User
from app.services.history import PERSONAL_READERS, personal_specs
from app.services.versions.store import active_versions
from forms import personal_kind

ENFORCEMENT = ("Each Member State of the European Union has a body that enforces the Web Accessibility "
               "Directive (Directive (EU) 2016/2102). If you are not happy with how we answer your "
               "feedback or request, contact the enforcement body of the Member State you are in.")
CONTROLLER = "the Big Buyers Initiative secretariat, on behalf of the European Commission"
LEGAL_BASIS = ("We process your data because it is needed for the task the secretariat carries out for the "
               "European Commission: running the Big Buyers Initiative's working groups, events, expert "
               "requests and travel reimbursement (Article 6(1)(e) of the General Data Protection "
               "Regulation). We keep travel claims because financial rules require it (Article 6(1)(c)).")
# How long a finished request's personal data is kept, by process; PRIVACY_RETENTION adds or replaces.
RETENTION = {
    "travel_reimbursement": "7 years after the claim is finished, for the financial audit",
    "group_onboarding": "12 months after a rejected application; an accepted one while you are a member",
}
RETENTION_OTHERWISE = "Until the Big Buyers Initiative ends"
KIND_NAMES = {"bank": "bank details"}  # a ``personal`` value as people read it; others as written
ROLE_NAMES = {Role.COORDINATOR: "secretariat coordinators", Role.FINANCE: "finance officers"}


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


def retention(config: dict[str, Any]) -> dict[str, str]:
    """How long each process keeps personal data: the defaults, then PRIVACY_RETENTION (JSON)."""
    periods = dict(RETENTION)
    if config["PRIVACY_RETENTION"]:
        periods.update({str(k): str(v) for k, v in json.loads(config["PRIVACY_RETENTION"]).items()})
    return periods


def processes(config: dict[str, Any]) -> list[ProcessData]:
    """Each active process, by name: the personal fields its forms ask for, how long it keeps them."""
    periods = retention(config)
    found = []
    for version in active_versions():
        model = load_model(version)
        fields = [PersonalField(spec.label, KIND_NAMES.get(personal_kind(spec), personal_kind(spec))
                                or ("bank details" if spec.type == "iban" else ""), spec.type)
                  for spec in personal_specs(model)]
        found.append(ProcessData(model.name, fields,
                                 periods.get(version.definition.process_id, RETENTION_OTHERWISE), version))
    return found


def privacy(config: dict[str, Any]) -> dict[str, Any]:
    """Everything the privacy notice takes from the settings and the active diagrams."""
    return {
        "controller": config["PRIVACY_CONTROLLER"] or CONTROLLER,
        "legal_basis": config["PRIVACY_LEGAL_BASIS"] or LEGAL_BASIS,
        "dpo": config["PRIVACY_DPO_CONTACT"] or contact(config),
        "readers": [ROLE_NAMES.get(role, role.value) for role in sorted(PERSONAL_READERS)],
        "processes": processes(config),
    }
