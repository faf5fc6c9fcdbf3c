"""A diagram's texts in the reader's language, from the gettext catalogues stored with its version.

A process version may hold one ``<process id>.<language>.po`` file per language (uploaded with
the diagram, docs/DIAGRAMS.md "Diagram texts in other languages"). Each ``msgid`` is an English
text exactly as the diagram has it, its ``msgstr`` the translation. ``diagram_text`` is the one
lookup: the text in the page's language, or as drawn when the catalogue has no translation.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from babel.messages.pofile import PoFileError, read_po
from flask_babel import get_locale

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from app.engine.model import FieldSpec, FormSpec, TaskDef
    from app.engine.parser import ProcessModel

SOURCE_LANGUAGE = "en"
CATALOGUE_SUFFIX = ".po"
_CATALOGUE_NAME = re.compile(r"^(?P<process>[^.]+)\.(?P<language>[a-z]{2,3}(?:_[A-Z]{2})?)\.po$")
# Field properties that hold words for people (the rest are settings: choices, accept, unit...).
TEXT_PROPERTIES = ("hint", "time_label", "markdown", "error_required", "error_format", "error_min", "error_max",
                   "error_minlength", "error_maxlength", "error_future", "error_checksum", "error_incomplete")
MONEY_UNIT = "EUR"  # a decimal's ``unit`` that means money: a setting, never translated


def is_text_property(key: str, value: str) -> bool:
    """Whether a field property holds words for people: a hint, a message, a unit such as "hours"."""
    return key in TEXT_PROPERTIES or (key == "unit" and value.strip().upper() != MONEY_UNIT)


class StoredVersion(Protocol):
    """What the lookup needs of a stored version (the ``process_version`` row)."""

    id: int
    sha256: str
    files: dict[str, str]


def catalogue_language(file_name: str) -> str | None:
    """The language of a catalogue's file name (``travel_reimbursement.fr.po`` -> ``fr``), or None."""
    found = _CATALOGUE_NAME.match(file_name)
    return found.group("language") if found else None


def catalogue_name(process_id: str, language: str) -> str:
    return f"{process_id}.{language}{CATALOGUE_SUFFIX}"


def read_catalogue(text: str) -> dict[str, str]:
    """The translations of a .po file's text: English text -> translation, fuzzy and empty ones left out.

    Raises ValueError, with the line, for a file that is not a gettext catalogue."""
    try:
        catalogue = read_po(io.StringIO(text), abort_invalid=True)
    except PoFileError as exc:
        raise ValueError(str(exc)) from None
    return {message.id: message.string for message in catalogue
            if isinstance(message.id, str) and message.id and isinstance(message.string, str)
            and message.string.strip() and not message.fuzzy}


_CATALOGUES: dict[tuple[int, str], dict[str, dict[str, str]]] = {}
_LOCK = threading.Lock()


def version_catalogues(version: StoredVersion) -> dict[str, dict[str, str]]:
    """Each language's translations in a stored version, read once per version and kept."""
    key = (version.id, version.sha256)
    found = _CATALOGUES.get(key)
    if found is None:
        found = {}
        for name, text in version.files.items():
            language = catalogue_language(name)
            if language is not None:
                try:
                    found[language] = read_catalogue(text)
                except ValueError:  # the upload check refuses it; a broken one reads as English
                    found[language] = {}
        with _LOCK:
            _CATALOGUES[key] = found
    return found


def current_language() -> str:
    """The page's (or email's) language: Flask-Babel's locale, English outside a request."""
    locale = get_locale()
    return locale.language if locale is not None else SOURCE_LANGUAGE


def diagram_text(version: StoredVersion | None, text: str, language: str | None = None) -> str:
    """``text`` from the diagram of ``version`` in ``language`` (the page's by default): its
    translation in the version's catalogue, else the text as drawn (English). The name of a
    multi-instance task's row ("Endorse: Tallinn City") is translated before its item."""
    if not text or version is None:
        return text
    language = language or current_language()
    if language == SOURCE_LANGUAGE:
        return text
    catalogue = version_catalogues(version).get(language)
    if not catalogue:
        return text
    found = catalogue.get(text) or catalogue.get(" ".join(text.split()))
    if found:
        return found
    step, colon, item = text.rpartition(": ")  # a multi-instance task's row: "Endorse: Tallinn City"
    return f"{catalogue[step]}: {item}" if colon and step in catalogue else text


def translated_field(version: StoredVersion | None, spec: FieldSpec, language: str | None = None) -> FieldSpec:
    """A form field with its label, options, hint and messages in ``language``."""
    def text(value: str) -> str:
        return diagram_text(version, value, language)
    properties = {key: text(value) if is_text_property(key, value) else value for key, value in spec.properties.items()}
    return replace(spec, label=text(spec.label), options=tuple((value, text(label)) for value, label in spec.options),
                   properties=properties)


def translated_form(version: StoredVersion | None, spec: FormSpec, language: str | None = None) -> FormSpec:
    """A form with every field's words in ``language`` (the page's by default)."""
    language = language or current_language()
    if version is None or language == SOURCE_LANGUAGE or not version_catalogues(version).get(language):
        return spec
    return replace(spec, fields=tuple(translated_field(version, f, language) for f in spec.fields))


def translated_task(version: StoredVersion | None, task: TaskDef, language: str | None = None) -> TaskDef:
    """A user task with its name, instructions and form in ``language`` (the page's by default)."""
    language = language or current_language()
    if version is None or language == SOURCE_LANGUAGE or not version_catalogues(version).get(language):
        return task
    properties = {key: diagram_text(version, value, language) if key == "ask" else value
                  for key, value in task.properties.items()}
    return replace(task, name=diagram_text(version, task.name, language),
                   documentation=diagram_text(version, task.documentation, language),
                   form=translated_form(version, task.form, language), properties=properties)


def translated_model(version: StoredVersion | None, model: ProcessModel, language: str | None = None) -> ProcessModel:
    """What a page shows of a process in ``language`` (the page's by default): its name, start
    form and user tasks. For reading only: the engine runs the model as stored."""
    language = language or current_language()
    if version is None or language == SOURCE_LANGUAGE or not version_catalogues(version).get(language):
        return model
    return replace(model, name=diagram_text(version, model.name, language),
                   start_documentation=diagram_text(version, model.start_documentation, language),
                   start_form=translated_form(version, model.start_form, language),
                   tasks={key: translated_task(version, task, language) for key, task in model.tasks.items()})
