"""One declared field of a form: how it reads the POST, what the template shows, how it checks."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from markupsafe import Markup
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.widgets import TextInput

from .convert import (
    DATE_PARTS,
    TRUE_WORDS,
    DateInvalid,
    Invalid,
    check_constraints,
    is_true,
    join_datetime,
    parse,
    parse_date_parts,
    split_datetime,
    text_value,
    time_spec,
)
from .display import display_value
from .files import DEFAULT_MAX_SIZE_MB, MAX_FILES, Upload, accept_attribute, accepted_kinds, check_upload, client_name
from .markdown import markdown_html
from .messages import required_message

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from app.engine.model import FieldSpec

RADIOS_AT_MOST = 5
# Fields that ask for the person's own details, so browsers may fill them in (WCAG 1.3.5).
AUTOCOMPLETE = {
    "email": "email", "contact_email": "email", "your_email": "email",
    "name": "name", "full_name": "name", "your_name": "name", "contact_name": "name",
    "contact_person": "name", "signatory_name": "name", "account_holder": "name",
    "organisation_name": "organization", "organization_name": "organization",
    "job_title": "organization-title", "signatory_role": "organization-title",
}
_YES_NO = (("true", "Yes"), ("false", "No"))


class SpecField(Field):
    """One declared field. DynamicForm.validate converts and checks it; the macros render it."""

    widget = TextInput()  # a fallback only: templates/macros/form.html renders GOV.UK markup

    def __init__(self, label: str | None = None, validators: Any = None, *, spec: FieldSpec,
                 options: tuple[tuple[Any, str], ...] = (), refused: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.spec = spec
        self.choice_values = {str(value): value for value, _ in options}
        self.options = tuple((str(value), str(text)) for value, text in options)
        self.refused = dict(refused or {})  # options not offered to this person: {value: why}
        self.hint = spec.properties.get("hint", "").strip()
        self.errors: list[str] = []
        self.files: list[Any] = []
        self.kept: list[Any] = []  # files uploaded with an earlier try of this form (forms.files)
        self.date_input: dict[str, str] | None = None  # what the day, month, year boxes held
        self.time_input: str | None = None  # what the time box of a date and time held
        self.error_parts: tuple[str, ...] = ()  # the boxes a problem is about (all date boxes if empty)
        self.hidden = False  # a Camunda Form's hide condition holds: not shown, checked or saved

    # --- reading -------------------------------------------------------------------------

    @property
    def readonly(self) -> bool:
        # A computed field is filled by the application, never by the person; content only shows.
        return self.spec.readonly or bool(self.spec.properties.get("computed")) or self.spec.type == "content"

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        # A readonly field never reads the POST: a crafted request cannot change it.
        formdata = None if self.readonly else formdata
        super().process(formdata, data, extra_filters)
        if formdata is not None and self.spec.type in ("date", "datetime"):
            names = {part: f"{self.name}-{part}" for part in DATE_PARTS}
            time_name = f"{self.name}-time" if self.spec.type == "datetime" else None
            if any(name in formdata for name in names.values()) or (time_name and time_name in formdata):
                self.date_input = {part: str(formdata.get(name, "")) for part, name in names.items()}
                self.time_input = str(formdata.get(time_name, "")) if time_name else None

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
        if self.spec.type == "content":
            return "content"
        if self.readonly:
            return "readonly"
        if self.spec.type == "checklist":
            return "checkboxes"
        if self.spec.type == "text":
            return "textarea"
        if self.spec.type == "file":
            return "file"
        if self.spec.type in ("date", "datetime"):  # a date and time: the date input and a time box
            return "date"
        if self.spec.type == "enum":
            declared = self.spec.properties.get("control")  # a Camunda Form's radio or select
            if declared in ("radios", "select"):
                return declared
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
        return "email" if self.spec.type == "email" else "text"

    @property
    def date_parts(self) -> dict[str, str]:
        """Return what the day, month and year boxes show: as typed, or from the value."""
        if self.date_input is not None and not self.readonly:
            return self.date_input
        value = self._shown_value()
        if self.spec.type == "datetime":
            value = (split_datetime(value) or (None, ""))[0] if value is not None else None
        if isinstance(value, dt.date):
            return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        return {"day": "", "month": "", "year": ""}

    @property
    def time_text(self) -> str:
        """Return what the time box of a date and time shows: as typed, or from the value."""
        if self.time_input is not None and not self.readonly:
            return self.time_input
        value = self._shown_value()
        return (split_datetime(value) or (None, ""))[1] if value is not None else ""

    def _shown_value(self) -> Any:
        """The value the boxes show: one ISO value sent in one piece, else the field's data."""
        if self.raw_data and not self.readonly:  # one ISO or European date sent in one piece
            try:
                return parse(self.spec, self.submitted)
            except Invalid:
                return None
        return self.data

    @property
    def time_spec(self) -> FieldSpec:
        """The time part of a date and time: its label and hint."""
        return time_spec(self.spec)

    def part_has_error(self, part: str) -> bool:
        """Whether the problem is about this box: those it names, else every date box."""
        return bool(self.errors) and (part in self.error_parts if self.error_parts else part != "time")

    @property
    def time_error(self) -> str | None:
        """Return the message when it is about the time box of a date and time."""
        return self.error if self.error_parts == ("time",) else None

    @property
    def date_error(self) -> str | None:
        """Return the message when it is about the date boxes."""
        return None if self.time_error else self.error

    @property
    def anchor(self) -> str:
        """Return the id the error summary links to: the box the problem is about."""
        return f"{self.id}-time" if self.time_error else self.id

    @property
    def inputmode(self) -> str | None:
        return {"decimal": "decimal", "long": "numeric"}.get(self.spec.type)

    @property
    def autocomplete(self) -> str | None:
        return AUTOCOMPLETE.get(self.spec.id) if self.spec.type in ("string", "email") else None

    @property
    def spellcheck(self) -> bool:
        return self.spec.type not in ("email", "iban", "long", "decimal", "date", "time", "datetime")

    @property
    def width(self) -> str:
        """Return a GOV.UK width class that fits the expected answer."""
        return {
            "long": "govuk-input--width-5", "decimal": "govuk-input--width-10",
            "date": "govuk-input--width-10", "iban": "govuk-input--width-30", "time": "govuk-input--width-5",
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
    def content_html(self) -> Markup:
        """Return what a content field shows: its Markdown as HTML ('' for a separator)."""
        return markdown_html(self.spec.properties.get("markdown", ""))

    @property
    def selected(self) -> set[str]:
        """Return the ticked options of a checklist: as submitted, or the default."""
        if self.raw_data is not None and not self.readonly:
            return {value.strip() for value in self.raw_data}
        return {str(value) for value in self.data or ()}

    @property
    def checked(self) -> bool:
        if self.raw_data is not None and not self.readonly:
            return any(v.strip().lower() in TRUE_WORDS for v in self.raw_data)
        return self.data is True

    @property
    def display(self) -> str:
        if self.data is None and self.spec.properties.get("computed"):
            return _("Calculated when you submit this form")
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
        if kind == "checklist":
            ticked = [value.strip() for value in self.raw_data or () if value.strip()]
            unknown = [value for value in ticked if value not in self.choice_values]
            if unknown:
                raise Invalid(self.missing_message)
            return [self.choice_values[value] for value in ticked] or None
        if kind == "datetime" and self.date_input is not None:
            return self._convert_datetime(today)
        if kind == "date" and self.date_input is not None:
            try:
                value = parse_date_parts(self.spec, **self.date_input)
            except DateInvalid as problem:
                self.error_parts = problem.parts
                raise
            if value is not None:
                check_constraints(self.spec, value, today)
            return value
        text = self.submitted
        if text == "":
            return None
        if kind == "enum":
            if text not in self.choice_values:
                raise Invalid(self.refused.get(text) or self.missing_message)
            return self.choice_values[text]
        value = parse(self.spec, text)
        check_constraints(self.spec, value, today)
        return value

    def _convert_datetime(self, today: dt.date) -> str | None:
        """Return the date and time typed into the date boxes and the time box, as form-js
        stores it ("2027-03-12T14:30"), or raise Invalid marking the boxes to correct."""
        self.error_parts = DATE_PARTS
        try:
            day = parse_date_parts(self.spec, **(self.date_input or {}))
        except DateInvalid as problem:
            self.error_parts = problem.parts or DATE_PARTS
            raise
        typed = (self.time_input or "").strip()
        if day is None:
            if typed:
                raise Invalid(self.missing_message)  # "Enter the date the visit starts"
            return None
        self.error_parts = ("time",)
        if not typed:
            raise Invalid(required_message(self.time_spec, choose=False, yes_no=False, declaration=False))
        value = join_datetime(day, parse(self.time_spec, typed))
        self.error_parts = DATE_PARTS
        check_constraints(self.spec, value, today)
        self.error_parts = ()
        return value

    @property
    def missing_message(self) -> str:
        """Return the message for a field left empty that had to be answered."""
        return required_message(
            self.spec, choose=self.spec.type in ("enum", "file", "checklist"), yes_no=self.yes_no,
            declaration=self.spec.type == "boolean" and not self.yes_no,
        )

    def check_files(self, required: bool) -> list[Upload]:
        """Check each chosen file; record the first problem and return the good files."""
        chosen = self.files
        if not chosen:
            if required:
                self.errors.append(self.missing_message)
            return []
        if not self.multiple and len(chosen) > 1:
            self.errors.append(_("Select only one file"))
            return []
        if len(chosen) + (len(self.kept) if self.multiple else 0) > MAX_FILES:
            self.errors.append(_("You can only send up to %(count)d files: you have uploaded %(kept)d already",
                                 count=MAX_FILES, kept=len(self.kept))
                               if self.kept and self.multiple else
                               _("You can only select up to %(count)d files at the same time", count=MAX_FILES))
            return []
        uploads = []
        for storage in chosen:
            who = client_name(storage) if len(chosen) > 1 else _("The selected file")
            try:
                uploads.append(check_upload(self.spec.id, storage, self.kinds, self.max_size_mb, who))
            except Invalid as problem:
                self.errors.append(problem.message)
        return uploads
