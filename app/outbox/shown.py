"""A request's title and key fields in the reader's language, worked out when shown.

A step stores both in English (``process_instance.title`` and ``summary``) and, beside them,
the raw values they were made of (``process_instance.parts``: ``{"title": {name: value},
"summary": [[field id, value], ...]}``, app/outbox/titles.py and summary.py). An English page
or email shows the stored text as it is, with no further query. Another language fills the
translation of the process's title template (``diagram_text``) with the raw values, each shown
as its field shows it in that language (dates, amounts, Yes/No, an option's translated label),
and labels the key fields with their translated labels. The model comes from the version's
parsed-model cache, so a list pays one version row per version shown, never a workflow.
A request written before the raw values were stored (``parts`` NULL) shows its stored text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context

from app.engine import FieldSpec, ProcessModel, load_model
from app.extensions import db
from app.models import ProcessInstance, ProcessVersion
from forms import display_value
from forms.translations import SOURCE_LANGUAGE, current_language, diagram_text, translated_field

from .summary import display_options, field_specs, option_labels, typed_value
from .titles import MAX_TITLE, fill_template


def request_title(instance: Any) -> str:
    """The title of ``instance`` (a ``ProcessInstance``, or a row with ``title``, ``parts`` and
    ``version_id``) in the current language; an email's preview may pass a stand-in without parts."""
    parts = getattr(instance, "parts", None)
    language = current_language()
    if language == SOURCE_LANGUAGE or not parts:
        return getattr(instance, "title", "") or ""
    words = _words(instance, language)
    if words is None:
        return instance.title
    if not words.template:
        first = next(iter(_summary(words, parts).values()), "")
        return (f"{words.name}: {first}" if first else words.name)[:MAX_TITLE]
    values = {name: typed_value(value) for name, value in (parts.get("title") or {}).items()}
    labels = _labels() if any(words.specs[name].properties.get("choices") for name in values
                              if name in words.specs) else {}
    return fill_template(words.template, words.specs, values, labels) or words.name[:MAX_TITLE]


def request_summary(instance: Any) -> dict[str, str]:
    """The key fields of ``instance``, label -> value, in the current language."""
    parts = getattr(instance, "parts", None)
    language = current_language()
    if language == SOURCE_LANGUAGE or not parts:
        return getattr(instance, "summary", None) or {}
    words = _words(instance, language)
    return (instance.summary or {}) if words is None else _summary(words, parts)


def _summary(words: _Words, parts: dict[str, Any]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for field_id, value in parts.get("summary") or []:
        spec = words.specs.get(field_id)
        if spec is None:  # not a field of this version any more: nothing to show it with
            continue
        labels = _labels() if spec.properties.get("choices") else {}
        shown.setdefault(spec.label, display_value(spec, typed_value(value), options=display_options(spec, labels)))
    return shown


@dataclass(frozen=True)
class _Words:
    """A version's words in one language: its title template, its name and every form field
    (label, options, unit) translated."""

    template: str
    name: str
    specs: dict[str, FieldSpec]


# (version id, its content's hash, the model, language) -> the model and its words: worked out
# once, as the model is parsed once; a version's texts never change (docs/DIAGRAMS.md).
_WORDS: dict[tuple[int, str, int, str], tuple[ProcessModel, _Words]] = {}


def _words(instance: Any, language: str) -> _Words | None:
    """The words of the version ``instance`` runs in ``language``; None without a version."""
    version, model = _model(instance)
    if version is None or model is None:
        return None
    key = (version.id, version.sha256, id(model), language)
    found = _WORDS.get(key)
    if found is not None and found[0] is model:
        return found[1]
    template = " ".join(model.properties.get("title", "").split())
    words = _Words(diagram_text(version, template, language) if template else "",
                   diagram_text(version, model.name, language),
                   {name: translated_field(version, spec, language) for name, spec in field_specs(model).items()})
    _WORDS[key] = (model, words)
    return words


def _model(instance: Any) -> tuple[ProcessVersion | None, ProcessModel | None]:
    """The version a request runs and its parsed model (with the processes it calls)."""
    if not isinstance(instance, ProcessInstance):  # a row of a list: its version through the identity map
        version = db.session.get(ProcessVersion, instance.version_id)
        return version, load_model(version) if version is not None else None
    return instance.version, load_model(instance.version, instance.called)


def _labels() -> dict[str, list[tuple[str, str]]]:
    """The labels of the app's options in the current language, read once per page (``g``)
    or per email."""
    if not has_request_context():
        return option_labels()
    kept = g.setdefault("option_labels", {})
    language = current_language()
    if language not in kept:
        kept[language] = option_labels()
    return kept[language]
