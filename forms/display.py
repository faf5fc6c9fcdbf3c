"""Show a value from an instance's data to a person, as the field that collected it would."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import ngettext

from .convert import coerce, split_datetime
from .text import format_date, format_money

if TYPE_CHECKING:
    from app.engine.model import FieldSpec

EMPTY = "—"


def personal_kind(spec: FieldSpec) -> str:
    """The kind of personal data a field holds (its ``personal`` property, e.g. ``bank``), or ''."""
    return (spec.properties.get("personal") or "").strip().lower()


def masked_value(spec: FieldSpec, value: Any) -> str:
    """A personal value as shown to someone who may not read it: an IBAN's last four characters
    ('•••• 2874'), anything else 'hidden' in the reader's language; an empty value stays '—'. Worked
    out when shown (history, a task's form, the personal data download): never stored."""
    if value is None or value == "" or value == [] or value == ():
        return EMPTY
    if spec.type == "iban":
        compact = "".join(str(value).split())
        return f"•••• {compact[-4:]}" if len(compact) > 4 else "••••"
    return _("hidden")


def display_value(spec: FieldSpec, value: Any, *, options: Iterable[tuple[Any, str]] | None = None) -> str:
    """Return ``value`` as text for a read-only page: labels, Yes/No, '1,234.50 EUR', '5 March 2027'.

    ``options`` gives the labels of an enum whose options come from the app (``choices``).
    """
    if value is None or value == "" or value == [] or value == ():
        return EMPTY
    if spec.type == "checklist":
        labels = {str(v): label for v, label in (options if options is not None else spec.options)}
        items = value if isinstance(value, list | tuple) else [value]
        return ", ".join(labels.get(str(item), str(item)) for item in items)
    if spec.type == "enum":
        labels = {str(v): label for v, label in (options if options is not None else spec.options)}
        return labels.get(str(value), str(value))
    if spec.type == "file":
        count = len(value) if isinstance(value, list | tuple) else 1
        return ngettext("%(num)d file", "%(num)d files", count)
    typed = coerce(spec, value)
    if typed is None:  # stored data the field could not have produced: show it as it is
        return str(value)
    if spec.type == "boolean":
        return _("Yes") if typed else _("No")
    if spec.type == "decimal":
        unit = spec.properties.get("unit", "EUR")
        return format_money(typed) if unit == "EUR" else f"{typed} {unit}"
    if spec.type == "date":
        return format_date(typed)
    if spec.type == "datetime":  # "12 March 2027, 14:30"
        day, time = split_datetime(typed) or (None, "")
        return f"{format_date(day)}, {time}" if day else str(value)
    if spec.type == "iban":
        return " ".join(typed[i : i + 4] for i in range(0, len(typed), 4))
    return str(typed)
