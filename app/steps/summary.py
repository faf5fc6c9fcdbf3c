"""What a request's key fields say, for lists: the ``summary=true`` fields of its forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.engine import FieldSpec, ProcessModel
from app.extensions import db
from app.models import EU_COUNTRIES, Meeting, WorkingGroup
from forms import display_value, personal_kind
from forms.text import format_date

OTHER_MEETING = ("other", _l("A meeting not listed here"))  # a claim's meeting that the app does not know


def meeting_label(meeting: Meeting) -> str:
    """How a meeting is named in a claim's options and wherever its choice is shown."""
    return f"{meeting.title}, {format_date(meeting.local_day)}, {meeting.city} ({meeting.group.name})"


def option_labels() -> dict[str, list[tuple[str, str]]]:
    """Labels for every value an app-supplied enum may hold, whoever chose it (for display)."""
    groups = {g.id: g for g in db.session.scalars(select(WorkingGroup))}
    named = [(str(g.id), g.name) for g in groups.values()]
    meetings = [(str(m.id), meeting_label(m)) for m in db.session.scalars(select(Meeting))]  # groups loaded above
    return {"my_groups": named, "led_groups": named, "working_groups": named, "joinable_groups": named,
            "eu_countries": list(EU_COUNTRIES.items()),
            "attended_meetings": [*meetings, (OTHER_MEETING[0], str(OTHER_MEETING[1]))]}


def display_options(spec: FieldSpec, labels: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]] | None:
    """The options to show ``spec``'s value with: its own, or the app's for a ``choices`` enum."""
    kind = spec.properties.get("choices")
    return labels.get(kind) if kind else None


def summary_of(model: ProcessModel, data: dict[str, Any]) -> dict[str, str]:
    """The key fields (property summary=true) of the instance, by label, as text.

    Never a personal field (property ``personal``): the summary goes into lists, the CSV and
    every task email, whoever reads them."""
    labels: dict | None = None  # queried only if a shown field takes its options from the app
    shown: dict[str, str] = {}
    for form in [model.start_form, *(t.form for t in model.tasks.values())]:
        for spec in form.fields:
            if spec.id == "working_group_id" or personal_kind(spec) or spec.type == "iban":  # bank details never
                continue
            if spec.properties.get("summary") == "true" and spec.id in data and spec.label not in shown:
                if spec.properties.get("choices") and labels is None:
                    labels = option_labels()
                shown[spec.label] = display_value(spec, data[spec.id],
                                                  options=display_options(spec, labels or {}))
    return shown
