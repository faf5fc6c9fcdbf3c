"""Build a validated WTForms form from a task's form declaration (a FormSpec).

The diagram is the specification: every field, type, constraint and property comes from
``camunda:formData`` (see docs/DIAGRAMS.md). This module adds no field of its own and
takes nothing from the POST that the diagram did not declare. CSRF is checked app-wide by
Flask-WTF's CSRFProtect, so the forms here are plain ``wtforms.Form`` classes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from .checks import check_form_spec
from .convert import TIME_HINT, is_true, parse_required_if, resolve_default
from .field import SpecField
from .files import MAX_FILES, describe_kinds
from .form import DynamicForm

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from werkzeug.datastructures import MultiDict

    from app.engine.model import FormSpec


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
        if field_spec.properties.get("options_from"):  # a Camunda Form's options held by a variable
            options = variable_options((instance_data or {}).get(field_spec.properties["options_from"]))
        refused = dict((choices or {}).get(f"{source}.refused", ())) if source else {}
        attrs[field_spec.id] = SpecField(
            field_spec.label, spec=field_spec, options=options, refused=refused, id=f"field-{field_spec.id}"
        )
        initial[field_spec.id] = resolve_default(field_spec, instance_data)
    form_class = type(f"DynamicForm[{spec.key}]", (DynamicForm,), attrs)
    form = form_class(formdata=formdata, files=files, data=initial)
    form.context = dict(instance_data or {})
    form.apply_conditions()
    _add_generated_hints(form)
    return form


def _add_generated_hints(form: DynamicForm) -> None:
    """Tell people up front what the diagram will check, unless the diagram's hint says it."""
    for field in form._spec_fields():
        if field.control == "date":  # GOV.UK: a date input's hint gives an example in numbers
            example = _date_example(field)
            field.hint = f"{field.hint} {example}".strip() if example not in field.hint else field.hint
        if field.spec.type == "time" and not field.readonly and str(TIME_HINT) not in field.hint:
            field.hint = f"{field.hint} {TIME_HINT}".strip()  # "For example, 14:30", as a date's
        if field.refused and not field.readonly:  # say up front why an option is not offered
            reasons = " ".join(f"{reason}." for reason in field.refused.values())
            field.hint = f"{field.hint} {reasons}".strip()
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
            hint = _("Needed if you select %(options)s.", options=_or_list(names))
        elif field.spec.type == "file":
            kinds = describe_kinds(field.kinds, article=False)
            size = f"{field.max_size_mb:g}"
            hint = (_("%(kinds)s, smaller than %(size)s MB each.", kinds=kinds, size=size) if field.multiple
                    else _("%(kinds)s, smaller than %(size)s MB.", kinds=kinds, size=size))
            if field.multiple:
                hint += " " + _("You can select up to %(count)d files.", count=MAX_FILES)
        field.hint = hint


def variable_options(value: Any) -> tuple[tuple[str, str], ...]:
    """The options a variable holds, as form-js reads them: ``[{"label", "value"}]`` or plain values."""
    if not isinstance(value, list | tuple):
        return ()
    return tuple((str(item.get("value")), str(item.get("label") or item.get("value"))) if isinstance(item, dict)
                 else (str(item), str(item)) for item in value)


def _date_example(field: SpecField) -> str:
    """Return 'For example, 27 3 2027', a year ahead for a date in the future, past otherwise."""
    year = dt.date.today().year + (1 if is_true(field.spec.properties.get("future")) else -1)
    return _("For example, 27 3 %(year)s", year=year)


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else _("%(options)s or %(last)s", options=", ".join(names[:-1]), last=names[-1])
