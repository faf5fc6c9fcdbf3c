"""Build a validated WTForms form from a task's form declaration (a FormSpec).

The diagram is the specification: every field, type, constraint and property comes from
``camunda:formData`` (see docs/DIAGRAMS.md). This module adds no field of its own and
takes nothing from the POST that the diagram did not declare. CSRF is checked app-wide by
Flask-WTF's CSRFProtect, so the forms here are plain ``wtforms.Form`` classes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wtforms import Field, Form
from wtforms.utils import unset_value
from wtforms.widgets import TextInput

from . import rules
from .convert import (
    TRUE_WORDS,
    Invalid,
    check_constraints,
    date_limit,
    is_true,
    number_limit,
    parse,
    parse_required_if,
    resolve_default,
    text_value,
)
from .display import display_value
from .files import (
    DEFAULT_MAX_SIZE_MB,
    KINDS,
    MAX_FILES,
    Upload,
    accept_attribute,
    accepted_kinds,
    check_upload,
    client_name,
    describe_kinds,
)
from .text import lower_label, the_label

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from werkzeug.datastructures import MultiDict

    from app.engine.model import FieldSpec, FormSpec

FIELD_TYPES = frozenset(
    {"string", "long", "boolean", "date", "enum", "decimal", "text", "email", "iban", "file"}
)
CONSTRAINTS = frozenset({"required", "minlength", "maxlength", "min", "max", "readonly"})
# Where an enum's options may come from (the ``choices`` property); the view supplies them.
CHOICE_SOURCES = frozenset({"working_groups", "my_groups", "led_groups", "eu_countries"})
RADIOS_AT_MOST = 5
# Fields that ask for the person's own details, so browsers may fill them in (WCAG 1.3.5).
AUTOCOMPLETE = {
    "email": "email", "contact_email": "email", "your_email": "email",
    "name": "name", "full_name": "name", "your_name": "name", "contact_name": "name",
    "contact_person": "name", "signatory_name": "name", "account_holder": "name",
    "organisation_name": "organization", "organization_name": "organization",
    "job_title": "organization-title", "signatory_role": "organization-title",
}
_FIELD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_YES_NO = (("true", "Yes"), ("false", "No"))


class SpecField(Field):
    """One declared field. DynamicForm.validate converts and checks it; the macros render it."""

    widget = TextInput()  # a fallback only: templates/macros/form.html renders GOV.UK markup

    def __init__(self, label: str | None = None, validators: Any = None, *, spec: FieldSpec,
                 options: tuple[tuple[Any, str], ...] = (), **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.spec = spec
        self.choice_values = {str(value): value for value, _ in options}
        self.options = tuple((str(value), str(text)) for value, text in options)
        self.hint = spec.properties.get("hint", "").strip()
        self.errors: list[str] = []
        self.files: list[Any] = []

    # --- reading -------------------------------------------------------------------------

    @property
    def readonly(self) -> bool:
        # A computed field is filled by the application, never by the person.
        return self.spec.readonly or bool(self.spec.properties.get("computed"))

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        # A readonly field never reads the POST: a crafted request cannot change it.
        super().process(None if self.readonly else formdata, data, extra_filters)

    def process_data(self, value: Any) -> None:
        self.data = value

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None  # known once DynamicForm.validate has converted raw_data

    @property
    def submitted(self) -> str:
        """Return the submitted text, stripped ('' when absent)."""
        return self.raw_data[0].strip() if self.raw_data else ""

    # --- what the template needs ---------------------------------------------------------

    @property
    def control(self) -> str:
        """Return how the field is shown: input, textarea, radios, select, checkbox, file, readonly."""
        if self.readonly:
            return "readonly"
        if self.spec.type == "text":
            return "textarea"
        if self.spec.type == "file":
            return "file"
        if self.spec.type == "enum":
            return "radios" if len(self.options) <= RADIOS_AT_MOST else "select"
        if self.spec.type == "boolean":
            return "radios" if self.yes_no else "checkbox"
        return "input"

    @property
    def yes_no(self) -> bool:
        """Return whether a boolean is asked as Yes/No radios.

        A single checkbox cannot tell "no" from "not answered", so a required boolean that is
        not a declaration is asked as a question.
        """
        return self.spec.type == "boolean" and self.spec.required and not is_true(
            self.spec.properties.get("checked")
        )

    @property
    def input_type(self) -> str:
        return {"email": "email", "date": "date"}.get(self.spec.type, "text")

    @property
    def inputmode(self) -> str | None:
        return {"decimal": "decimal", "long": "numeric"}.get(self.spec.type)

    @property
    def autocomplete(self) -> str | None:
        return AUTOCOMPLETE.get(self.spec.id) if self.spec.type in ("string", "email") else None

    @property
    def spellcheck(self) -> bool:
        return self.spec.type not in ("email", "iban", "long", "decimal", "date")

    @property
    def width(self) -> str:
        """Return a GOV.UK width class that fits the expected answer."""
        return {
            "long": "govuk-input--width-5", "decimal": "govuk-input--width-10",
            "date": "govuk-input--width-10", "iban": "govuk-input--width-30",
        }.get(self.spec.type, "")

    @property
    def optional(self) -> bool:
        """Return whether the label says '(optional)'."""
        return not (
            self.spec.required or self.readonly or self.spec.properties.get("required_if")
            or self.control == "checkbox"
        )

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        return _YES_NO if self.yes_no else self.options

    @property
    def value_text(self) -> str:
        """Return what the input shows: the submitted text, or the default."""
        if self.raw_data is not None and not self.readonly:
            return self.raw_data[0] if self.raw_data else ""
        return text_value(self.spec, self.data)

    @property
    def checked(self) -> bool:
        if self.raw_data is not None and not self.readonly:
            return any(v.strip().lower() in TRUE_WORDS for v in self.raw_data)
        return self.data is True

    @property
    def display(self) -> str:
        if self.data is None and self.spec.properties.get("computed"):
            return "Calculated when you submit this form"
        return display_value(self.spec, self.data, options=self.options)

    @property
    def multiple(self) -> bool:
        return is_true(self.spec.properties.get("multiple"))

    @property
    def kinds(self) -> tuple[str, ...]:
        return accepted_kinds(self.spec.properties.get("accept"))

    @property
    def accept(self) -> str:
        return accept_attribute(self.kinds)

    @property
    def max_size_mb(self) -> float:
        config = self.spec.properties.get("max_size_mb", "").strip()
        return float(config) if config else DEFAULT_MAX_SIZE_MB

    @property
    def error(self) -> str | None:
        """Return the one message GOV.UK shows for a field."""
        return self.errors[0] if self.errors else None

    # --- checking --------------------------------------------------------------------------

    def convert(self, today: dt.date) -> Any:
        """Return the submitted value in the declared type (None when empty), or raise Invalid."""
        kind = self.spec.type
        if kind == "boolean":
            word = self.submitted.lower()
            if self.yes_no:
                return None if word == "" else word in TRUE_WORDS
            return self.checked
        text = self.submitted
        if text == "":
            return None
        if kind == "enum":
            if text not in self.choice_values:
                raise Invalid(self.missing_message)
            return self.choice_values[text]
        value = parse(self.spec, text)
        check_constraints(self.spec, value, today)
        return value

    @property
    def missing_message(self) -> str:
        """Return the message for a field left empty that had to be answered."""
        if self.spec.type == "boolean":
            if is_true(self.spec.properties.get("checked")):
                return f"Select the box to confirm {lower_label(self.spec.label)}"
            return f"Select whether {lower_label(self.spec.label)}"
        verb = "Select" if self.spec.type in ("enum", "file") else "Enter"
        return f"{verb} {the_label(self.spec.label)}"

    def check_files(self, required: bool) -> list[Upload]:
        """Check each chosen file; record the first problem and return the good files."""
        chosen = self.files
        if not chosen:
            if required:
                self.errors.append(self.missing_message)
            return []
        if not self.multiple and len(chosen) > 1:
            self.errors.append("Select only one file")
            return []
        if len(chosen) > MAX_FILES:
            self.errors.append(f"You can only select up to {MAX_FILES} files at the same time")
            return []
        uploads = []
        for storage in chosen:
            who = client_name(storage) if len(chosen) > 1 else "The selected file"
            try:
                uploads.append(check_upload(self.spec.id, storage, self.kinds, self.max_size_mb, who))
            except Invalid as problem:
                self.errors.append(problem.message)
        return uploads


class DynamicForm(Form):
    """A form built from a FormSpec by build_form; one subclass per spec."""

    spec: FormSpec
    field_specs: dict[str, FieldSpec]

    def __init__(self, formdata: MultiDict | None = None, files: MultiDict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(formdata=formdata, **kwargs)
        self.uploads: dict[str, list[Upload]] = {}
        self._cleaned: dict[str, Any] | None = None
        source = files if files is not None else formdata
        for field in self._spec_fields():
            if field.spec.type == "file" and source is not None:
                # Browsers send an empty part, without a name, for a file input left empty.
                field.files = [f for f in source.getlist(field.name) if getattr(f, "filename", None)]

    def _spec_fields(self) -> list[SpecField]:
        return [f for f in self._fields.values() if isinstance(f, SpecField)]

    def validate(self, extra_validators: Any = None) -> bool:
        """Convert and check every field, then the form's cross-field rules; True when all pass."""
        today = dt.date.today()
        self._cleaned = None
        self.uploads = {}
        self.form_errors = []
        values: dict[str, Any] = {}
        fields = self._spec_fields()
        for field in fields:
            field.errors = []
            if field.readonly or field.spec.type == "file":
                continue
            try:
                values[field.name] = field.data = field.convert(today)
            except Invalid as problem:
                field.errors.append(problem.message)
        for field in fields:
            if field.readonly or field.errors:
                continue
            if field.spec.type == "file":
                self.uploads[field.name] = field.check_files(required=self._must_answer(field, values))
                continue
            value = values[field.name]
            if (value is None or value is False) and self._must_answer(field, values):
                field.errors.append(field.missing_message)
        if any(field.errors for field in fields):
            return False
        for field in fields:
            name = field.spec.properties.get("computed")
            if name:
                values[field.name] = field.data = rules.COMPUTATIONS[name](dict(values))
        for field_id, message in rules.check(self.spec.key, dict(values)).items():
            target = self._fields.get(field_id)
            if isinstance(target, SpecField):
                target.errors.append(message)
            else:
                self.form_errors.append(message)
        if self.form_errors or any(field.errors for field in fields):
            return False
        self._cleaned = values
        return True

    def _must_answer(self, field: SpecField, values: Mapping[str, Any]) -> bool:
        spec = field.spec
        if spec.type == "boolean":
            # Unticked is an answer ("No") unless the box is a declaration that must be ticked.
            if is_true(spec.properties.get("checked")):
                return True
            return field.yes_no and values.get(field.name) is None
        if spec.required:
            return True
        condition = spec.properties.get("required_if")
        if not condition:
            return False
        other, wanted = parse_required_if(condition)
        if other in values:
            current = values[other]
        else:
            other_field = self._fields.get(other)
            current = other_field.data if other_field is not None else None
        return current is not None and str(current) in wanted

    @property
    def cleaned(self) -> dict[str, Any]:
        """Return the declared, typed values (after validate() returned True).

        Every declared field except files and plain readonly ones, with None for an empty
        optional field, plus the computed readonly fields.
        """
        if self._cleaned is None:
            raise RuntimeError("form.cleaned is only available after validate() returned True")
        return dict(self._cleaned)

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """Return (field id, message) in the form's order, for the error summary.

        A rule's problem that names no field of the form comes last, with an empty field id.
        """
        problems = [(f.name, f.errors[0]) for f in self._spec_fields() if f.errors]
        return problems + [("", message) for message in self.form_errors]


def build_form(
    spec: FormSpec,
    formdata: MultiDict | None = None,
    files: MultiDict | None = None,
    instance_data: dict[str, Any] | None = None,
    choices: dict[str, list[tuple[str, str]]] | None = None,
) -> DynamicForm:
    """Return the form a diagram declares, bound to a POST (``formdata``/``files``) or not.

    ``instance_data`` fills ``${name}`` defaults; ``choices`` gives the options of enums whose
    ``choices`` property names a list the application provides (an enum whose list is missing
    has no options, so nothing can be selected). Raises ValueError when the spec is unusable;
    check_form_spec reports the same problems when a diagram is uploaded.
    """
    problems = check_form_spec(spec)
    if problems:
        raise ValueError(f"form {spec.key!r} cannot be built: " + "; ".join(problems))
    attrs: dict[str, Any] = {"spec": spec, "field_specs": {f.id: f for f in spec.fields}}
    initial: dict[str, Any] = {}
    for field_spec in spec.fields:
        source = field_spec.properties.get("choices")
        options = tuple((choices or {}).get(source, ())) if source else field_spec.options
        attrs[field_spec.id] = SpecField(
            field_spec.label, spec=field_spec, options=options, id=f"field-{field_spec.id}"
        )
        initial[field_spec.id] = resolve_default(field_spec, instance_data)
    form_class = type(f"DynamicForm[{spec.key}]", (DynamicForm,), attrs)
    form = form_class(formdata=formdata, files=files, data=initial)
    _add_generated_hints(form)
    return form


def _add_generated_hints(form: DynamicForm) -> None:
    """Tell people up front what the diagram will check, unless the diagram's hint says it."""
    for field in form._spec_fields():
        if field.hint or field.readonly:
            continue
        hint = ""
        condition = field.spec.properties.get("required_if")
        if condition:
            other, wanted = parse_required_if(condition)
            other_field = form._fields.get(other)
            labels = dict(other_field.choices) if isinstance(other_field, SpecField) else {}
            names = [text for value, text in labels.items() if value in wanted]
            names += sorted(value for value in wanted if value not in labels)
            hint = f"Needed if you select {_or_list(names)}."
        elif field.spec.type == "file":
            kinds = describe_kinds(field.kinds).split(" ", 1)[1]
            each = " each" if field.multiple else ""
            hint = f"{kinds}, smaller than {field.max_size_mb:g} MB{each}."
            if field.multiple:
                hint += f" You can select up to {MAX_FILES} files."
        field.hint = hint


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


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
        problems.append(f"unknown type {spec.type!r}")
    problems += [f"unknown constraint {name!r}" for name in spec.constraints if name not in CONSTRAINTS]
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
    if spec.type == "enum" and source is None and not spec.options:
        problems.append("an enum needs camunda:value options or a choices property")
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
    computed = props.get("computed")
    if computed and computed not in rules.COMPUTATIONS:
        problems.append(f"computed names {computed!r}, which no module in forms/rules registers")
    return problems

