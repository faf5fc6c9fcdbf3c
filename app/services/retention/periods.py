"""How long a process keeps a finished request's personal data: what its diagram declares.

A process declares it with ``camunda:property`` elements on the process (docs/DIAGRAMS.md,
"How long personal data is kept"): ``retention`` for every end, ``retention:<end>`` for one
end (its status word, e.g. ``Rejected``, or its end event's id), and ``retention_basis`` /
``retention_basis:<end>``: the rule that makes the secretariat keep it, which also keeps it
when the person asks for erasure. A process that declares nothing keeps its requests.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import select

from app.engine import ProcessModel, load_model
from app.extensions import db
from app.models import ProcessInstance, ProcessVersion
from app.steps import status_word
from forms.text import period_text
from forms.translations import StoredVersion, diagram_text

PERIOD_KEY, BASIS_KEY = "retention", "retention_basis"
PERIOD = re.compile(r"\s*(\d{1,3})\s+(day|week|month|year)s?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    count: int
    unit: str  # day, week, month or year

    def after(self, moment: dt.datetime) -> dt.datetime:
        return moment + relativedelta(**{f"{self.unit}s": self.count})

    def before(self, moment: dt.datetime) -> dt.datetime:
        return moment - relativedelta(**{f"{self.unit}s": self.count})

    def text(self) -> str:
        return period_text(self.count, self.unit)


def parse_period(value: str) -> Period | None:
    """'7 years', '12 months', '1 week', '30 days' (a number and a unit); None for anything else."""
    match = PERIOD.fullmatch(value or "")
    return Period(int(match.group(1)), match.group(2).lower()) if match else None


@dataclass(frozen=True)
class Retention:
    """What a process version declares; ``by_end`` and ``basis_by_end`` are keyed by the end's
    status word or end event id, lowercased."""

    period: Period | None = None
    by_end: dict[str, Period] = field(default_factory=dict)
    basis: str = ""
    basis_by_end: dict[str, str] = field(default_factory=dict)

    def _for(self, found: dict, default, outcome: str, status: str):
        for key in (outcome.lower(), status.lower()):
            if key and key in found:
                return found[key]
        return default

    def period_for(self, outcome: str, status: str) -> Period | None:
        """How long a request that ended at ``outcome`` (its status word ``status``) is kept;
        None: kept until someone deletes it."""
        return self._for(self.by_end, self.period, outcome, status)

    def basis_for(self, outcome: str, status: str) -> str:
        """The rule that keeps such a request even when its person asks for erasure ('' if none)."""
        return self._for(self.basis_by_end, self.basis, outcome, status)

    @property
    def declared(self) -> bool:
        return self.period is not None or bool(self.by_end)

    def text(self, version: StoredVersion | None = None) -> str:
        """How long, as the privacy notice says it; each end's status word as the diagram of
        ``version`` words it in the page's language ("Rejected", "Refusée")."""
        if not self.declared:
            return kept_until_the_end()
        parts = []
        if self.period is not None:
            parts.append(_("%(period)s after the request is finished", period=self.period.text()))
        for end, period in self.by_end.items():
            parts.append(_("%(period)s when it ends as “%(end)s”", period=period.text(),
                           end=diagram_text(version, end.capitalize())))
        if self.period is None:
            parts.append(_("otherwise until the Big Buyers Initiative ends"))
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]


def kept_until_the_end() -> str:
    """How long what no retention period covers is kept, as people read it."""
    return _("Until the Big Buyers Initiative ends")


def declared_retention(model: ProcessModel) -> Retention:
    """The retention ``model``'s process declares (the values the upload check accepted)."""
    by_end, basis_by_end, period, basis = {}, {}, None, ""
    for key, value in model.properties.items():
        name, _sep, end = key.partition(":")
        if name == PERIOD_KEY:
            parsed = parse_period(value)
            if parsed is not None and end.strip():
                by_end[end.strip().lower()] = parsed
            elif parsed is not None:
                period = parsed
        elif name == BASIS_KEY and value.strip():
            if end.strip():
                basis_by_end[end.strip().lower()] = value.strip()
            else:
                basis = value.strip()
    return Retention(period, by_end, basis, basis_by_end)


def governing_model(version: ProcessVersion) -> ProcessModel:
    """The model whose declaration a request of ``version`` follows: its process's active version
    (the privacy notice tells people that one), else its own."""
    active = db.session.scalar(select(ProcessVersion).where(
        ProcessVersion.definition_id == version.definition_id, ProcessVersion.active.is_(True)))
    return load_model(active if active is not None else version)


def request_retention(instance: ProcessInstance) -> tuple[Period | None, str]:
    """How long ``instance`` (finished) is kept, and the rule that keeps it ('' if none)."""
    model = governing_model(instance.version)
    retention = declared_retention(model)
    status = status_word(instance.outcome, load_model(instance.version, instance.called)) if instance.outcome else ""
    return retention.period_for(instance.outcome, status), retention.basis_for(instance.outcome, status)


def purge_date(instance: ProcessInstance) -> dt.datetime | None:
    """When ``instance``'s personal data is due for deletion (None: not finished, or kept)."""
    if instance.ended_at is None:
        return None
    period, _basis = request_retention(instance)
    return period.after(instance.ended_at) if period is not None else None
