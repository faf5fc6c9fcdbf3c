"""Error messages: the diagram's own words for each field, or a generated one that reads well.

A field may carry one ``camunda:property`` per kind of problem (docs/DIAGRAMS.md, "Error
messages"): ``error_required``, ``error_format``, ``error_min``, ``error_max``,
``error_minlength``, ``error_maxlength``, ``error_future``, ``error_checksum`` (an IBAN) and
``error_incomplete`` (a date missing a day, month or year). ``{min}``, ``{max}``, ``{minlength}``,
``{maxlength}`` and ``{missing}`` in a message are replaced by the constraint's value, written
for people, and by the missing parts of a date ("month", "day and year").

Without one, the message is generated from the label in the GOV.UK style: "Enter the ticket
cost", "Meeting date must be a real date". A label that is not a plain noun phrase
("Travelling from", "Is the venue booked?") is quoted rather than bent into a sentence
("Enter an answer for “Travelling from”"), and an instruction ("Describe the need") is its own
message.

The generated messages are gettext-marked. Bending a label into a sentence ("the ticket cost")
works in English only: in another language the (translated) label is quoted ("Saisissez une
réponse pour « Coût du billet »").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from .text import label_name
from .translations import SOURCE_LANGUAGE, current_language

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from app.engine.model import FieldSpec

KINDS = ("required", "format", "min", "max", "minlength", "maxlength", "future", "checksum", "incomplete")
PROPERTIES = frozenset(f"error_{kind}" for kind in KINDS)
# Which kinds of problem each field type can have (the upload check warns about the others).
KINDS_BY_TYPE = {
    "string": ("required", "format", "minlength", "maxlength"),
    "text": ("required", "minlength", "maxlength"),
    "email": ("required", "format", "minlength", "maxlength"),
    "iban": ("required", "format", "checksum", "minlength", "maxlength"),
    "long": ("required", "format", "min", "max"),
    "decimal": ("required", "format", "min", "max"),
    "date": ("required", "format", "incomplete", "min", "max", "future"),
    "time": ("required", "format"),
    "datetime": ("required", "format", "incomplete", "future"),
    "enum": ("required",),
    "checklist": ("required",),
    "boolean": ("required",),
    "file": ("required",),
}
_PLACEHOLDER = re.compile(r"\{(min|max|minlength|maxlength|missing)\}")
# A label starting with one of these is an instruction: it is its own "required" message.
_INSTRUCTIONS = frozenset({
    "add", "attach", "choose", "confirm", "describe", "enter", "explain", "give", "list", "name",
    "provide", "select", "state", "tell", "upload", "write",
})
# A label starting or ending with one of these is not a plain noun phrase.
_NOT_NOUN_START = frozenset({
    "am", "are", "can", "could", "did", "do", "does", "has", "have", "how", "i", "if", "is", "please",
    "should", "was", "were", "what", "when", "where", "whether", "which", "who", "why", "will", "would",
})
_PREPOSITIONS = frozenset({"about", "at", "by", "for", "from", "in", "into", "of", "on", "to", "with"})
_DETERMINERS = frozenset({"a", "an", "the", "your", "their", "its", "my", "our", "this", "any", "each"})
_NOUN_PHRASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’ -]*")
_TRAILING_UNIT = re.compile(r"\s*\(([^()]*)\)$")


def custom(spec: FieldSpec, kind: str, **values: str) -> str | None:
    """Return the diagram's message for this kind of problem, placeholders filled, or None."""
    text = (spec.properties.get(f"error_{kind}") or "").strip()
    if not text:
        return None
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def message(spec: FieldSpec, kind: str, generated: str, **values: str) -> str:
    """Return the diagram's message for ``kind`` if it has one, else ``generated``."""
    return custom(spec, kind, **values) or generated


def noun(label: str) -> str:
    """Return the label as a noun for a sentence: no trailing '?', ':' or '.', and a trailing
    unit in brackets said in words ("Tickets (EUR)" -> "Tickets in euros", "Distance (km)" ->
    "Distance")."""
    name = label_name(label)
    unit = _TRAILING_UNIT.search(name)
    if unit:
        name = name[:unit.start()].strip()
        if unit.group(1).strip().upper() in ("EUR", "€", "EURO", "EUROS"):
            name += " in euros"
    return name


def is_noun_phrase(label: str) -> bool:
    """Whether the label reads as a thing ("Ticket cost"), so "Enter the ticket cost" reads well
    (in English: other languages quote the label)."""
    if current_language() != SOURCE_LANGUAGE:
        return False
    name = noun(label)
    words = name.lower().split()
    return (bool(words) and len(words) <= 8 and "?" not in label and _NOUN_PHRASE.fullmatch(name) is not None
            and words[0] not in _NOT_NOUN_START | _INSTRUCTIONS and words[-1] not in _PREPOSITIONS)


def is_instruction(label: str) -> bool:
    if current_language() != SOURCE_LANGUAGE:
        return False
    words = label_name(label).lower().split()
    return bool(words) and words[0] in _INSTRUCTIONS


def lower_first(name: str) -> str:
    """Lower-case the first letter unless the first word is 'I' or an acronym (IBAN, EU)."""
    first = name.split(" ", 1)[0]
    if not first or first == "I" or any(ch.isupper() for ch in first[1:]):
        return name
    return name[0].lower() + name[1:]


def the(label: str) -> str:
    """Return 'the ticket cost' for 'Ticket cost' (a noun-phrase label)."""
    name = lower_first(noun(label))
    return name if name.split(" ", 1)[0].lower() in _DETERMINERS else f"the {name}"


def subject(label: str) -> str:
    """Return what a sentence about the answer starts with: 'Ticket cost', or
    'The answer for “Travelling from”'."""
    if is_noun_phrase(label):
        name = noun(label)
        return name[0].upper() + name[1:]
    return _("The answer for “%(label)s”", label=label_name(label))


def required_message(spec: FieldSpec, *, choose: bool, yes_no: bool, declaration: bool) -> str:
    """Return what to say about a field left empty that had to be answered."""
    if own := custom(spec, "required"):
        return own
    name = label_name(spec.label)
    if declaration:
        if current_language() != SOURCE_LANGUAGE:
            return _("Select the box to confirm “%(label)s”", label=name)
        said = _second_person(lower_first(name))  # "I confirm that X" asks to confirm X
        return _("Select the box to confirm %(what)s", what=re.sub(r"^you confirm (that )?", "", said))
    if yes_no:
        return _("Select yes or no for “%(label)s”", label=name)
    if is_instruction(spec.label):
        return name
    if is_noun_phrase(spec.label):
        return _("Select %(what)s", what=the(spec.label)) if choose else _("Enter %(what)s", what=the(spec.label))
    return _("Select an option for “%(label)s”", label=name) if choose else _("Enter an answer for “%(label)s”",
                                                                             label=name)


def _second_person(text: str) -> str:
    """'I declare that my claim is true' -> 'you declare that your claim is true'."""
    swaps = {"I": "you", "my": "your", "me": "you", "am": "are", "I'm": "you're", "I’m": "you’re"}
    return " ".join(swaps.get(word, word) for word in text.split(" "))


def needed_kinds(spec: FieldSpec) -> tuple[str, ...]:
    """Return the kinds of problem a person can meet in this field, so each can be worded.

    Nothing for a field shown read-only or computed; "required" for a field that must or may
    have to be answered (``required``, ``required_if``, a ``checked`` declaration).
    """
    props, cons = spec.properties, spec.constraints
    if spec.readonly or props.get("computed"):
        return ()
    checked = (props.get("checked") or "").strip().lower() == "true"
    asked = spec.required or bool(props.get("required_if")) or (spec.type == "boolean" and checked)
    kinds = []
    for kind in KINDS_BY_TYPE.get(spec.type, ()):
        if kind == "required" and not asked:
            continue
        if kind in ("min", "max", "minlength") and cons.get(kind) in (None, ""):
            continue
        if kind == "future" and (props.get("future") or "").strip().lower() != "true":
            continue
        if kind == "format" and spec.type == "string" and not cons.get("pattern"):
            continue
        kinds.append(kind)
    return tuple(kinds)
