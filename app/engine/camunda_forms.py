"""Camunda Forms (form-js JSON, ``.form`` files) read into the app's FormSpec.

A user task or start event names its form by ``camunda:formRef="<form id>"`` or by
``camunda:formKey="camunda-forms:deployment:<name>.form"`` (``camunda-forms:app:`` too: the
file's name is what counts). The form is looked for among the files uploaded with the
diagram, so it is stored, and versioned, with them: ``camunda:formRefBinding`` (latest,
deployment, version) always means the form of this upload, and a later upload never changes
the form of a running request.

The translation makes plain FieldSpecs, shown by the app's one form machinery (forms/), so a
Camunda Form and ``camunda:formData`` look and behave the same. What a component means here:

==========================  ====================================================================
form-js                     FieldSpec
==========================  ====================================================================
textfield                   ``string`` (``email`` when validationType is email; a phone pattern
                            for phone)
textarea                    ``text``
number                      ``long`` when decimalDigits is 0, else ``decimal`` (no unit)
checkbox                    ``boolean`` (a required one must be ticked)
radio, select               ``enum`` shown as radios or a select
checklist, taglist          ``checklist``: checkboxes, the value a list
datetime                    ``date`` (subtype date), ``time`` (subtype time: ``14:30``), ``datetime``
                            (subtype datetime: ``2027-03-12T14:30``, local time)
text                        ``content``: Markdown shown as sanitised HTML
separator                   ``content`` shown as a section break
group                       its fields, in a fieldset with the group's label
spacer, button              nothing (the page has its own button)
==========================  ====================================================================

A field shows its ``defaultValue``, or else the request's variable of its key (as form-js
does with the variables it is given). ``conditional.hide`` is kept as the ``hide_if``
property: a FEEL condition (``feel.py``) that ``hidden`` works out on the form's values.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree

from .feel import FEEL_FUNCTIONS, FeelError, expression_to_python
from .model import FieldSpec, FormSpec
from .reading import CAMUNDA_NS, DiagramError
from .scripting import RestrictedEnvironment

FORM_SUFFIX = ".form"
_KEY_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:")
# Which components the app shows, and what it makes of them (see the table above).
SUPPORTED = ("textfield", "textarea", "number", "checkbox", "checklist", "radio", "select", "taglist",
             "datetime", "text", "group", "separator", "spacer", "button")
_IGNORED = frozenset({"spacer", "button"})
_CHOICES = {"radio": "radios", "select": "select"}
PHONE_PATTERN = r"^\+?[0-9 ()./-]{6,20}$"


class FormJsError(ValueError):
    """A Camunda Form the app cannot show; ``problems`` lists each reason in a sentence."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def camunda_form_name(node: etree._Element) -> str | None:
    """The form a task or start event names: ``ref:<id>`` (formRef) or the ``.form`` file's name."""
    ref = (node.get(f"{{{CAMUNDA_NS}}}formRef") or "").strip()
    if ref:
        return f"ref:{ref}"
    key = (node.get(f"{{{CAMUNDA_NS}}}formKey") or "").strip()
    for prefix in _KEY_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):].rsplit("/", 1)[-1]
    return None


def load_schema(text: str) -> dict[str, Any]:
    """A .form file's JSON object, or FormJsError saying why it is not one."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormJsError([f"the file is not JSON: {exc.msg} at line {exc.lineno}"]) from None
    if not isinstance(schema, dict):
        raise FormJsError(["the file is not a form: a form is a JSON object with components"])
    return schema


def find_form(name: str, files: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The file and JSON of the form ``camunda_form_name`` gave, among a version's files.

    Raises DiagramError when no uploaded file is that form, FormJsError when a .form file
    that may be it cannot be read.
    """
    forms = {file: text for file, text in files.items() if file.lower().endswith(FORM_SUFFIX)}
    if name.startswith("ref:"):
        form_id = name[4:]
        unreadable = []
        for file, text in forms.items():
            try:
                schema = load_schema(text)
            except FormJsError as error:
                unreadable += error.problems
                continue
            if schema.get("id") == form_id:
                return file, schema
        if unreadable:  # it may be the one that cannot be read
            raise FormJsError(unreadable)
        raise DiagramError(f"its form {form_id!r} is not in the upload: add the .form file whose id is "
                           f"{form_id} (Camunda Modeler shows the id in the form's properties)")
    if name not in forms:
        raise DiagramError(f"its form {name} is not in the upload: upload it with the diagram")
    return name, load_schema(forms[name])


def form_spec(schema: dict[str, Any], key: str) -> FormSpec:
    """The FormSpec of a form-js schema, or FormJsError listing what the app cannot show."""
    problems: list[str] = []
    fields: list[FieldSpec] = []
    _components(schema.get("components"), "", fields, problems)
    if problems:
        raise FormJsError(problems)
    return FormSpec(key=key, fields=tuple(fields))


def _components(components: Any, group: str, fields: list[FieldSpec], problems: list[str]) -> None:
    for component in components if isinstance(components, list) else ():
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", ""))
        where = _named(component)
        if kind in _IGNORED:
            continue
        if kind not in SUPPORTED:
            problems.append(f"{where}: the component {kind!r} is not supported; use "
                            f"{', '.join(k for k in SUPPORTED if k not in _IGNORED)}")
            continue
        if kind == "group":
            label = str(component.get("label") or "")
            _components(component.get("components"), label or group, fields, problems)
            continue
        try:
            fields.append(_field(component, kind, group, len(fields) + 1))
        except FormJsError as error:
            problems += [f"{where}: {p}" for p in error.problems]


def _named(component: dict[str, Any]) -> str:
    what = component.get("label") or component.get("key") or component.get("id") or component.get("type")
    return f"the {component.get('type')} {' '.join(str(what).split())[:60]!r}"


def _field(component: dict[str, Any], kind: str, group: str, position: int) -> FieldSpec:
    problems: list[str] = []
    properties: dict[str, str] = {}
    if group:
        properties["group"] = group
    hide = (component.get("conditional") or {}).get("hide")
    if isinstance(hide, str) and hide.strip():
        try:
            expression_to_python(hide)
        except FeelError as error:
            problems.append(f"its hide condition {hide.strip()} is not FEEL the app reads: {error}")
        properties["hide_if"] = hide.strip()
    if kind in ("text", "separator"):
        text = str(component.get("text") or "")
        if text.lstrip().startswith("=") or "{{" in text:
            problems.append("a text with an expression or template is not supported: write plain Markdown")
        if problems:
            raise FormJsError(problems)
        properties["markdown" if kind == "text" else "separator"] = text if kind == "text" else "true"
        ident = re.sub(r"\W", "_", str(component.get("id") or ""))
        return FieldSpec(id=f"content_{position}" if not ident[:1].isalpha() else ident, label="",
                         type="content", properties=properties, constraints={"readonly": "true"})
    key = str(component.get("key") or "")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
        problems.append(f"its key {key!r} must be a variable name: letters, digits and _ (no paths)")
    validate = component.get("validate") or {}
    constraints: dict[str, str] = {}
    if validate.get("required") is True:
        constraints["required"] = "true"
    for theirs, ours in (("minLength", "minlength"), ("maxLength", "maxlength"), ("min", "min"), ("max", "max")):
        if isinstance(validate.get(theirs), int | float) and not isinstance(validate.get(theirs), bool):
            constraints[ours] = str(validate[theirs])
    if isinstance(validate.get("pattern"), str) and validate["pattern"]:
        constraints["pattern"] = validate["pattern"]
    for flag in ("readonly", "disabled"):
        value = component.get(flag)
        if isinstance(value, str):
            problems.append(f"{flag} as an expression is not supported: tick it or not")
        elif value is True:
            constraints["readonly"] = "true"
    description = str(component.get("description") or "").strip()
    if description:
        properties["hint"] = description
    field_type, options = _type_of(component, kind, validate, constraints, properties, problems)
    if problems:
        raise FormJsError(problems)
    default = component.get("defaultValue")
    if isinstance(default, list):
        default_text: str | None = ",".join(str(v) for v in default)
    elif isinstance(default, bool):
        default_text = "true" if default else "false"
    else:  # form-js shows the variable of the field's key when the request has it
        default_text = f"${{{key}}}" if default is None else str(default)
    label = str(component.get("label") or component.get("dateLabel") or component.get("timeLabel") or key)
    if kind == "datetime" and component.get("subtype") == "datetime":
        label = str(component.get("dateLabel") or "Date")  # as form-js labels the date of a date and time
    return FieldSpec(id=key, label=label, type=field_type, default=default_text, options=options,
                     constraints=constraints, properties=properties)


def _type_of(component: dict[str, Any], kind: str, validate: dict[str, Any], constraints: dict[str, str],
             properties: dict[str, str], problems: list[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The FieldSpec type and options of an input component; adds what it implies to the others."""
    if kind == "textfield":
        validation = validate.get("validationType")
        if validation == "phone":
            constraints.setdefault("pattern", PHONE_PATTERN)
        return ("email" if validation == "email" else "string"), ()
    if kind == "textarea":
        return "text", ()
    if kind == "number":
        properties["unit"] = ""
        digits = component.get("decimalDigits")
        return ("long" if digits == 0 else "decimal"), ()
    if kind == "checkbox":
        if constraints.pop("required", None):
            properties["checked"] = "true"  # form-js: a required checkbox must be ticked
        return "boolean", ()
    if kind == "datetime":  # always 24-hour (use24h or not): 14:30, and 2:30pm is read too
        subtype = component.get("subtype", "date")
        if subtype == "time":  # its hint ends "For example, 14:30" (forms/ adds it)
            return "time", ()
        if component.get("disallowPassedDates") is True:
            properties["future"] = "true"
        if subtype == "datetime":  # the date input and a time box; dateLabel is the field's label
            properties["time_label"] = str(component.get("timeLabel") or "Time")
            return "datetime", ()
        return "date", ()
    options = _options(component, properties, problems)
    if kind in _CHOICES:
        properties["control"] = _CHOICES[kind]
        return "enum", options
    return "checklist", options


def _options(component: dict[str, Any], properties: dict[str, str],
             problems: list[str]) -> tuple[tuple[str, str], ...]:
    values = component.get("values")
    if component.get("valuesKey") or component.get("valuesExpression"):
        source = component.get("valuesKey") or str(component.get("valuesExpression")).lstrip("=").strip()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(source)):
            problems.append("options from an expression must name one variable (=myOptions)")
        else:
            properties["options_from"] = str(source)  # a variable of the request: build_form reads it
        return ()
    if not isinstance(values, list) or not values:
        problems.append("it has no options: give it static values or a variable holding them")
        return ()
    return tuple((str(v.get("value")), str(v.get("label") or v.get("value"))) for v in values if isinstance(v, dict))


def hidden(spec: FieldSpec, values: dict[str, Any]) -> bool:
    """Whether the field's ``hide_if`` condition holds on ``values`` (missing names are null)."""
    condition = spec.properties.get("hide_if")
    if not condition:
        return False
    python, names = expression_to_python(condition)
    scope = {name: values.get(name) for name in names}
    scope.update(FEEL_FUNCTIONS)
    return RestrictedEnvironment().evaluate(python, scope) is True
