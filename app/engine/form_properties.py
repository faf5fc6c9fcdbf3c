"""Read the older form declarations as the app's form fields, and what Camunda accepts that the
app does not know.

Activiti, Flowable and Camunda 7 before generated task forms declare a form as
``formProperty`` elements (``reading`` has turned their namespace into Camunda's):
``id``, ``name`` (the label), ``type`` (``string``, ``long``, ``boolean``, ``date`` with
``datePattern``, ``enum`` with ``value`` children, Flowable's ``double``), ``required``,
``readable``, ``writable``, ``variable`` or ``expression`` (the variable the field writes
and shows) and ``default`` (or Activiti 5's ``value``). ``fields_from_properties`` turns them into the same FieldSpecs
``camunda:formData`` gives, so one path renders and checks every form.

Camunda also accepts field types and constraints of its own plug-ins (``textarea``, a
``validator`` class); ``read_type`` and ``read_constraints`` say what the app makes of them
(the upload check warns, ``unknown_types_and_constraints``).
"""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from .model import FIELD_TYPES, FieldSpec

CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# The constraints the app checks (camunda:validation/camunda:constraint names): forms/checks.py's
# CONSTRAINTS (forms/ may not load the engine, nor the engine forms/; a test keeps them equal).
CONSTRAINTS = frozenset({"required", "minlength", "maxlength", "min", "max", "readonly", "pattern"})
# Types Camunda or Flowable plug-ins name that mean one of the app's own.
TYPE_ALIASES = {"double": "decimal", "textarea": "text"}
_VARIABLE = re.compile(r"[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
# Java's SimpleDateFormat letters a datePattern uses, as strftime's.
_JAVA_DATE = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "M": "%m", "dd": "%d", "d": "%d"}


def read_type(declared: str | None) -> str:
    """The app's type for a declared one: its own, an alias's meaning, or a one-line text."""
    kind = (declared or "string").strip()
    return kind if kind in FIELD_TYPES else TYPE_ALIASES.get(kind.lower(), "string")


def read_constraints(constraints: dict[str, str]) -> dict[str, str]:
    """The constraints the app checks; the others (a Java ``validator``) are left out."""
    return {name: value for name, value in constraints.items() if name in CONSTRAINTS}


def _is_true(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() == "true"


def _written_variable(node: etree._Element) -> str:
    """The variable a form property writes: ``variable``, a plain ``${name}`` expression, or its id."""
    if node.get("variable"):
        return node.get("variable", "").strip()
    match = _VARIABLE.fullmatch((node.get("expression") or "").strip())
    return match.group(1) if match else node.get("id", "")


def _default(node: etree._Element, kind: str, variable: str) -> str | None:
    """What the field shows first, as the app reads defaults: a literal (a date in ISO form) or
    ``${name}``. Without one, the value of the variable it reads, as Activiti shows it."""
    value = node.get("default", node.get("value"))  # Activiti 5's examples write value
    if value is None:
        return f"${{{variable}}}" if variable.isidentifier() else None
    if match := _VARIABLE.fullmatch(value.strip()):
        return f"${{{match.group(1)}}}"
    pattern = node.get("datePattern")
    if kind == "date" and pattern:
        python = re.sub(r"yyyy|yy|MM|M|dd|d", lambda m: _JAVA_DATE[m.group(0)], pattern)
        try:
            return dt.datetime.strptime(value.strip(), python).date().isoformat()
        except ValueError:
            return value
    return value


def fields_from_properties(node: etree._Element) -> list[FieldSpec]:
    """The form fields of a user task's or start event's ``camunda:formProperty`` elements.

    A property that is not readable is not shown (the engine would not show it either); one
    that is readable shows its variable's value, read-only when it is not writable.
    """
    fields = []
    for prop in node.iterfind(f"{BPMN}extensionElements/{CAMUNDA}formProperty"):
        if not _is_true(prop.get("readable"), True):
            continue
        kind = read_type(prop.get("type"))
        constraints = {}
        if not _is_true(prop.get("writable"), True):
            constraints["readonly"] = "true"
        elif _is_true(prop.get("required"), False):
            constraints["required"] = "true"
        field_id = _written_variable(prop)
        fields.append(FieldSpec(
            id=field_id,
            label=" ".join((prop.get("name") or field_id).split()),
            type=kind,
            default=_default(prop, kind, field_id),
            options=tuple((v.get("id", ""), v.get("name") or v.get("id", ""))
                          for v in prop.iterfind(f"{CAMUNDA}value")),
            constraints=constraints,
        ))
    return fields


def unknown_types_and_constraints(node: etree._Element) -> list[tuple[etree._Element, str]]:
    """Each form field of ``node`` whose type or constraint the app reads otherwise than Camunda,
    with a sentence for the administrator that says what it becomes and what is supported."""
    found = []
    supported = ", ".join(sorted(FIELD_TYPES))
    fields = [*node.iterfind(f"{BPMN}extensionElements/{CAMUNDA}formData/{CAMUNDA}formField"),
              *node.iterfind(f"{BPMN}extensionElements/{CAMUNDA}formProperty")]
    for xml_field in fields:
        label = xml_field.get("label") or xml_field.get("name") or xml_field.get("id") or "a field"
        declared = (xml_field.get("type") or "string").strip()
        native = xml_field.tag == f"{CAMUNDA}formProperty" and declared == "double"  # Flowable's own
        if declared not in FIELD_TYPES and not native:
            kind = read_type(declared)
            meaning = {"text": "a text of several lines (text)", "decimal": "a number with decimals (decimal)",
                       }.get(kind, "a one-line text (string)")
            found.append((xml_field, f"the field ‘{label}’ has the type {declared!r}, which the app does not know: "
                                     f"it is shown as {meaning}. Types the app knows: {supported}"))
        for constraint in xml_field.iterfind(f"{CAMUNDA}validation/{CAMUNDA}constraint"):
            name = constraint.get("name") or ""
            if name not in CONSTRAINTS:
                found.append((constraint, f"the field ‘{label}’ has the constraint {name!r}, which the app does "
                                          f"not check. Constraints the app checks: {', '.join(sorted(CONSTRAINTS))}"))
    return found


def complex_expressions(node: etree._Element) -> list[tuple[etree._Element, str]]:
    """Each form property bound to an expression other than a plain ``${name}``: the app keeps its
    value under the property's id instead."""
    found = []
    for prop in node.iterfind(f"{BPMN}extensionElements/{CAMUNDA}formProperty"):
        expression = (prop.get("expression") or "").strip()
        if expression and not prop.get("variable") and not _VARIABLE.fullmatch(expression):
            label = prop.get("name") or prop.get("id") or "a field"
            found.append((prop, f"the field ‘{label}’ is bound to the expression {expression}: only a variable "
                                f"(${{name}}) is read here, so its value is kept as {prop.get('id')!r}; give it "
                                "camunda:variable (or a plain ${name}) to name another"))
    return found
