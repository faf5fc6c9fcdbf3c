"""A request's title, from the title template its process declares (docs/DIAGRAMS.md).

The process's ``camunda:property name="title"`` is text with ``${name}`` where a value of the
request goes: ``Travel claim: ${meeting}, ${meeting_date}: ${total_claimed}``. Each value is
shown as the field that collected it shows it ("12 March 2027", "412.50 EUR", an option's
label, a working group's name). A value not known yet is left out with the text that joins
it to the value before it, so no "None" and no dangling ", :" appear. A personal field
(property ``personal``, an IBAN) is never shown, nor is a file. Without a template the title
is the process's name and its first key field.

The title is stored twice when a step runs: in English (``process_instance.title``, for the
search, the CSV and the history) and as the template's raw values (``title_parts``, in
``process_instance.parts``), which ``app/outbox/shown.py`` fills into the template's
translation for a reader of another language.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from app.engine import FieldSpec, ProcessModel
from forms import display_value, personal_kind
from forms.text import format_date, format_number

from .summary import display_options, field_specs, option_labels, raw_value, summary_parts

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TRAILING = " \t:;,.-–—(/"  # what a title's first words may end with before the values start
# "Travel claim for", and the same small words of a French or German translation of the template
JOINING = ("for", "of", "to", "by", "from", "in", "on", "at", "with", "and", "about",
           "pour", "de", "du", "des", "à", "au", "aux", "par", "sur", "avec", "et",
           "für", "von", "vom", "zu", "zum", "zur", "an", "am", "bei", "mit", "über", "und")
MAX_TITLE = 300  # the column's length


def template_parts(template: str) -> tuple[list[str], list[str]]:
    """The texts between the ``${…}`` of a template (one more than the names), and the names."""
    pieces = PLACEHOLDER.split(template)
    return pieces[0::2], [piece.strip() for piece in pieces[1::2]]


def never_shown(spec: FieldSpec | None) -> bool:
    """Whether a field's value stays out of titles: personal data, bank details and files."""
    return spec is not None and (bool(personal_kind(spec)) or spec.type in ("iban", "file"))


def request_title(model: ProcessModel, data: dict[str, Any], summary: dict[str, str]) -> str:
    """The request's title: its process's template filled in from ``data``, or without a
    template the process's name and the first of the request's key fields (``summary``)."""
    template = " ".join(model.properties.get("title", "").split())
    if not template:
        first = next(iter(summary.values()), "")
        return f"{model.name}: {first}"[:MAX_TITLE] if first else model.name[:MAX_TITLE]
    _literals, names = template_parts(template)
    specs = field_specs(model)
    labels: dict[str, list[tuple[str, str]]] = {}  # queried only if a value takes its label from the app
    if any(specs[name].properties.get("choices") for name in names if name in specs):
        labels = option_labels()
    return fill_template(template, specs, data, labels) or model.name[:MAX_TITLE]


def title_parts(model: ProcessModel, data: dict[str, Any]) -> dict[str, Any]:
    """The raw values (``raw_value``) the title template names that the title may show."""
    _literals, names = template_parts(model.properties.get("title", ""))
    specs = field_specs(model)
    return {name: raw_value(data[name], specs.get(name)) for name in dict.fromkeys(names)
            if NAME.fullmatch(name) and not never_shown(specs.get(name)) and data.get(name) not in (None, "")
            and not isinstance(data[name], dict | list | tuple)}


def request_parts(model: ProcessModel, data: dict[str, Any]) -> dict[str, Any]:
    """What ``process_instance.parts`` holds: the raw values of the title and the key fields,
    as a step writes them and ``flask backfill`` fills them in for older requests."""
    return {"title": title_parts(model, data), "summary": summary_parts(model, data)}


def fill_template(template: str, specs: dict[str, FieldSpec], values: dict[str, Any],
                  labels: dict[str, list[tuple[str, str]]]) -> str:
    """``template`` filled in from ``values`` (by name), each shown as its field shows it."""
    literals, names = template_parts(template)
    return fill(literals, [_shown(specs.get(name), values.get(name), labels) if NAME.fullmatch(name) else ""
                           for name in names])[:MAX_TITLE]


def fill(literals: list[str], values: list[str]) -> str:
    """The template's texts and its values as one line; a value missing ('') goes with the text
    before it, and the text after the last name stays only if that last value is there."""
    shown = [index for index, value in enumerate(values) if value]
    if not shown:
        words = literals[0].rstrip(TRAILING).split()
        while len(words) > 1 and words[-1].lower() in JOINING:
            words.pop()
        return _balanced([" ".join(words).rstrip(TRAILING)])
    pieces = [literals[0], values[shown[0]]]
    for index in shown[1:]:
        pieces += [literals[index], values[index]]
    if shown[-1] == len(values) - 1:
        pieces.append(literals[-1])
    return _balanced(pieces)


def _balanced(pieces: list[str]) -> str:
    """The pieces (template text, value, text, value, …) as one line, without a bracket of the
    template's text whose partner went with a missing value; a value's own brackets stay."""
    opened: list[tuple[int, int]] = []
    unmatched: set[tuple[int, int]] = set()
    for number, piece in enumerate(pieces[::2]):
        for index, char in enumerate(piece):
            if char == "(":
                opened.append((number * 2, index))
            elif char == ")" and opened:
                opened.pop()
            elif char == ")":
                unmatched.add((number * 2, index))
    unmatched.update(opened)
    kept = ["".join(c for i, c in enumerate(piece) if (number, i) not in unmatched)
            for number, piece in enumerate(pieces)]
    return " ".join("".join(kept).split()).strip(" ,;:")


def _shown(spec: FieldSpec | None, value: Any, labels: dict[str, list[tuple[str, str]]]) -> str:
    """A value as its field shows it; '' if missing, personal or not a plain value."""
    if never_shown(spec) or value is None or value == "" or isinstance(value, dict | list | tuple):
        return ""
    if spec is not None:
        return " ".join(display_value(spec, value, options=display_options(spec, labels)).split())
    # A value a step worked out (a script, a decision table): shown plainly.
    if isinstance(value, bool):
        return ""
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, int | float | Decimal):
        return format_number(value)
    return " ".join(str(value).split())
