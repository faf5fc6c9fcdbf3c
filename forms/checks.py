"""What stops a form declaration (a FormSpec) from becoming a form: for the diagram upload
check, the contract test over workflows/ and build_form itself."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import rules
from .convert import date_limit, number_limit, parse_required_if
from .files import KINDS, accepted_kinds
from .form import DynamicForm
from .messages import KINDS_BY_TYPE, PROPERTIES

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from app.engine.model import FieldSpec, FormSpec

FIELD_TYPES = frozenset(
    {"string", "long", "boolean", "date", "enum", "decimal", "text", "email", "iban", "file",
     "checklist", "content", "time", "datetime"}
)
CONSTRAINTS = frozenset({"required", "minlength", "maxlength", "min", "max", "readonly", "pattern"})
# Where an enum's options may come from (the ``choices`` property); the view supplies them.
CHOICE_SOURCES = frozenset({"working_groups", "my_groups", "led_groups", "joinable_groups", "eu_countries",
                            "attended_meetings"})
_FIELD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

_RESERVED = frozenset(name for name in dir(DynamicForm) if not name.startswith("_")) | {
    "spec", "field_specs", "uploads", "cleaned", "error_list", "form_errors",
}


def check_form_spec(spec: FormSpec) -> list[str]:
    """Return what stops ``spec`` from becoming a form, one sentence per problem ([] if none).

    For the diagram upload check and the contract test over workflows/.
    """
    problems: list[str] = []
    ids = [f.id for f in spec.fields]
    for field_spec in spec.fields:
        problems += [f"field {field_spec.id!r}: {p}" for p in _field_problems(field_spec, ids)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    problems += [f"field {i!r} is declared more than once" for i in duplicates]
    return problems


def _field_problems(spec: FieldSpec, ids: list[str]) -> list[str]:
    problems = []
    if not _FIELD_ID.fullmatch(spec.id):
        problems.append("an id must start with a letter and hold only letters, digits and _")
    elif spec.id in _RESERVED:
        problems.append("this id is reserved by the form itself; choose another")
    if spec.type not in FIELD_TYPES:
        problems.append(f"unknown type {spec.type!r}; use one of {', '.join(sorted(FIELD_TYPES))}")
    problems += [f"unknown constraint {name!r}; use one of {', '.join(sorted(CONSTRAINTS))}"
                 for name in spec.constraints if name not in CONSTRAINTS]
    try:
        for name in ("min", "max"):
            if spec.type in ("long", "decimal"):
                number_limit(spec, name)
            if spec.type == "date":
                date_limit(spec, name)
        for name in ("minlength", "maxlength"):
            config = spec.constraints.get(name)
            if config not in (None, "") and int(config) < 0:
                raise ValueError(name)
    except (ValueError, ArithmeticError):
        problems.append("min, max, minlength and maxlength must be numbers (ISO dates for a date)")
    props = spec.properties
    source = props.get("choices")
    if spec.constraints.get("pattern"):
        try:
            re.compile(spec.constraints["pattern"])
        except re.error as error:
            problems.append(f"its pattern is not a regular expression: {error}")
    if spec.type == "enum" and source is None and not spec.options and not props.get("options_from"):
        problems.append("an enum needs camunda:value options or a choices property (one of "
                        f"{', '.join(sorted(CHOICE_SOURCES))})")
    if source is not None and source not in CHOICE_SOURCES:
        problems.append(f"unknown choices {source!r}; use one of {', '.join(sorted(CHOICE_SOURCES))}")
    if props.get("required_if"):
        try:
            other, _ = parse_required_if(props["required_if"])
            if other not in ids:
                problems.append(f"required_if names {other!r}, which is not a field of this form")
        except ValueError as error:
            problems.append(str(error))
    unknown_kinds = [k for k in accepted_kinds(props.get("accept")) if k not in KINDS]
    if spec.type == "file" and unknown_kinds:
        problems.append(f"accept lists unknown kinds {', '.join(unknown_kinds)}; known: {', '.join(KINDS)}")
    if spec.type == "file" and props.get("max_size_mb"):
        try:
            if float(props["max_size_mb"]) <= 0:
                raise ValueError
        except ValueError:
            problems.append("max_size_mb must be a positive number")
    for name in sorted(p for p in props if p.startswith("error_")):
        allowed = [f"error_{kind}" for kind in KINDS_BY_TYPE.get(spec.type, ())]
        if name not in PROPERTIES or name not in allowed:
            article = "an" if spec.type[0] in "aeiou" else "a"
            problems.append(f"{article} {spec.type} field has no {name} message; "
                            f"it may have {', '.join(allowed) or 'none'}")
    computed = props.get("computed")
    if computed and computed not in rules.COMPUTATIONS:
        known = ", ".join(sorted(rules.COMPUTATIONS)) or "none"
        problems.append(f"computed names {computed!r}, a calculation the app does not have; name one of its "
                        f"calculations: {known}")
    return problems
