"""The form class build_form makes one subclass of per FormSpec: it converts and checks every
declared field, then the form's cross-field rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wtforms import Form

from app.engine.camunda_forms import hidden

from . import rules
from .convert import Invalid, is_true, parse_required_if
from .field import SpecField
from .files import Upload

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from werkzeug.datastructures import MultiDict

    from app.engine.model import FieldSpec, FormSpec


class DynamicForm(Form):
    """A form built from a FormSpec by build_form; one subclass per spec."""

    spec: FormSpec
    field_specs: dict[str, FieldSpec]

    def __init__(self, formdata: MultiDict | None = None, files: MultiDict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(formdata=formdata, **kwargs)
        self.uploads: dict[str, list[Upload]] = {}
        self.posted = formdata  # the POST, for the files kept from an earlier try (kept_ids)
        self.context: dict[str, Any] = {}  # the request's data, which hide conditions may read
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
        self.apply_conditions({name: None if self._fields[name].errors else value for name, value in values.items()})
        for field in fields:
            if field.hidden:  # not checked and not saved
                field.errors = []
                values.pop(field.name, None)
        for field in fields:
            if field.readonly or field.errors or field.hidden:
                continue
            if field.spec.type == "file":
                required = self._must_answer(field, values) and not field.kept
                self.uploads[field.name] = field.check_files(required=required)
                continue
            value = values[field.name]
            if (value is None or value is False) and self._must_answer(field, values):
                field.errors.append(field.missing_message)
        self._compute(fields, values)
        if any(field.errors for field in fields):
            return False
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

    def apply_conditions(self, values: Mapping[str, Any] | None = None) -> None:
        """Work out which fields a hide condition hides, on ``values`` (the submitted ones, or
        what the fields show) over the request's data."""
        if values is None:
            values = {f.name: f.data for f in self._spec_fields() if f.data is not None}
        scope = {**self.context, **values}
        for field in self._spec_fields():
            field.hidden = hidden(field.spec, scope)

    def hidden_names(self) -> list[str]:
        """Return the fields a hide condition hides on what was sent, its problems aside: what
        the page's script asks (``_conditions`` in the POST) to show and hide fields as people fill
        them in."""
        today = dt.date.today()
        values: dict[str, Any] = {}
        for field in self._spec_fields():
            if not field.readonly and field.spec.type != "file":
                try:
                    values[field.name] = field.convert(today)
                except Invalid:
                    values[field.name] = None
        self.apply_conditions(values)
        return [field.name for field in self._spec_fields() if field.hidden]

    def sections(self) -> list[tuple[str, list[SpecField]]]:
        """The fields in order, in runs that share a group label ('' for none): a Camunda Form's
        group becomes a fieldset with its label as the legend. A hidden field is in its run, for
        the page's script to show; the page hides it."""
        runs: list[tuple[str, list[SpecField]]] = []
        for field in self._spec_fields():
            group = field.spec.properties.get("group", "")
            if runs and runs[-1][0] == group:
                runs[-1][1].append(field)
            else:
                runs.append((group, [field]))
        return runs

    def _compute(self, fields: list[SpecField], values: dict[str, Any]) -> None:
        """Work out the computed fields whose inputs are right, so the page shows the figure
        even when another field has an error; the others only once every field is right."""
        wrong = {field.name for field in fields if field.errors}
        for field in fields:
            name = field.spec.properties.get("computed")
            if not name:
                continue
            inputs = rules.COMPUTATION_INPUTS.get(name)
            known = not wrong if inputs is None else all(i in values and i not in wrong for i in inputs)
            if known:
                values[field.name] = field.data = rules.COMPUTATIONS[name](dict(values))

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

    def file_fields(self) -> list[SpecField]:
        return [f for f in self._spec_fields() if f.spec.type == "file" and not f.readonly]

    def kept_ids(self, field: SpecField) -> tuple[list[str], set[str]]:
        """Return the ids of the files this field kept from an earlier try, as the POST lists
        them (``<id>-kept``), and those the person ticked to remove (``<id>-remove``)."""
        if self.posted is None:
            return [], set()
        return (list(self.posted.getlist(f"{field.name}-kept")),
                set(self.posted.getlist(f"{field.name}-remove")))

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
