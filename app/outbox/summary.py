"""What a request's key fields say, for lists: the ``summary=true`` fields of its forms.

Two forms of it are stored when a step runs (docs/DIAGRAMS.md, "Request titles"): the English
text (``process_instance.summary``, label -> value as shown) and the raw values
(``process_instance.parts``, ``summary_parts``: field id and value, JSON-safe, ``raw_value``)
that ``app/outbox/shown.py`` shows in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
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


def field_specs(model: ProcessModel) -> dict[str, FieldSpec]:
    """Each field of the process's forms by id, as the first form that asks for it declares it."""
    specs: dict[str, FieldSpec] = {}
    for form in [model.start_form, *(task.form for task in model.tasks.values())]:
        for spec in form.fields:
            specs.setdefault(spec.id, spec)
    return specs


def summary_fields(model: ProcessModel, data: dict[str, Any]) -> list[FieldSpec]:
    """The key fields (property summary=true) the request's data has, one per label.

    Never a personal field (property ``personal``): the summary goes into lists, the CSV and
    every task email, whoever reads them."""
    chosen: dict[str, FieldSpec] = {}
    for form in [model.start_form, *(t.form for t in model.tasks.values())]:
        for spec in form.fields:
            if spec.id == "working_group_id" or personal_kind(spec) or spec.type == "iban":  # bank details never
                continue
            if spec.properties.get("summary") == "true" and spec.id in data and spec.label not in chosen:
                chosen[spec.label] = spec
    return list(chosen.values())


def summary_of(model: ProcessModel, data: dict[str, Any]) -> dict[str, str]:
    """The key fields of the instance, by label, as text in the current language."""
    specs = summary_fields(model, data)
    # queried only if a shown field takes its options from the app
    labels = option_labels() if any(spec.properties.get("choices") for spec in specs) else {}
    return {spec.label: display_value(spec, data[spec.id], options=display_options(spec, labels)) for spec in specs}


def summary_parts(model: ProcessModel, data: dict[str, Any]) -> list[list[Any]]:
    """The key fields' raw values, ``[field id, value]`` in the order of ``summary_of``."""
    return [[spec.id, raw_value(data[spec.id], spec)] for spec in summary_fields(model, data)]


# A raw value is JSON: a date, a moment or an amount is tagged, so it is shown as one again.
TAGS: dict[str, Callable[[str], Any]] = {"date": dt.date.fromisoformat, "moment": dt.datetime.fromisoformat,
                                         "decimal": Decimal}


def raw_value(value: Any, spec: FieldSpec | None = None) -> Any:
    """``value`` as JSON that ``typed_value`` turns back into it: dates ISO, amounts as text;
    a field's files only counted (their names stay out)."""
    if spec is not None and spec.type == "file":
        return {"files": len(value) if isinstance(value, list | tuple) else 1}
    if isinstance(value, dt.datetime):
        return {"moment": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, list | tuple):
        return [raw_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): raw_value(item) for key, item in value.items()}
    return value


def typed_value(raw: Any) -> Any:
    """The value ``raw_value`` stored."""
    if isinstance(raw, dict) and len(raw) == 1:
        (tag, text), = raw.items()
        if tag in TAGS and isinstance(text, str):
            return TAGS[tag](text)
        if tag == "files" and isinstance(text, int):
            return [None] * text
    if isinstance(raw, list):
        return [typed_value(item) for item in raw]
    if isinstance(raw, dict):
        return {key: typed_value(item) for key, item in raw.items()}
    return raw
