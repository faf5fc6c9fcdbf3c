"""Camunda 7's own formProperty elements read as the app's form fields, as the upload check and the
parser read them (after reading.prepare_tree)."""

from __future__ import annotations

from app.engine import FIELD_TYPES, form_properties
from app.engine.parser import form_from_xml, parse_files
from app.engine.reading import parse_xml, prepare_tree
from app.services.diagram_checks import check_upload
from app.services.versions.compare import compare_models
from forms import checks
from tests.corpus import CORPUS

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    targetNamespace="t" id="d">
  <process id="p" isExecutable="true">
    <userTask id="t" name="Task">
      <extensionElements>
        <camunda:formProperty id="amount" name="Amount" type="long" required="true" />
        <camunda:formProperty id="due" name="Due" type="date" datePattern="dd.MM.yyyy" default="31.12.2030" />
        <camunda:formProperty id="shown" name="Shown" writable="false" required="true" />
        <camunda:formProperty id="hidden" readable="false" />
        <camunda:formProperty id="kept" name="Kept" variable="stored_as" />
        <camunda:formProperty id="deep" name="Deep" expression="${order.total}" />
        <camunda:formProperty id="level" name="Level" type="enum">
          <camunda:value id="low" name="Low" />
          <camunda:value id="high" />
        </camunda:formProperty>
        <camunda:formProperty id="note" name="Note" type="textarea" />
      </extensionElements>
    </userTask>
  </process>
</definitions>"""


def task_form():
    root = parse_xml("d.bpmn", DIAGRAM)
    assert prepare_tree(root, "d.bpmn") == []
    return form_from_xml(next(root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")), "p.t")


def test_camunda_form_properties_become_the_same_fields_as_form_data():
    form = task_form()
    fields = {f.id: f for f in form.fields}
    assert list(fields) == ["amount", "due", "shown", "stored_as", "deep", "level", "note"]  # hidden: not readable
    assert (fields["amount"].label, fields["amount"].type, fields["amount"].required) == ("Amount", "long", True)
    assert fields["amount"].default == "${amount}"  # shows the variable's value, as Activiti does
    assert (fields["due"].type, fields["due"].default) == ("date", "2030-12-31")  # read with its datePattern
    assert fields["shown"].readonly and not fields["shown"].required  # read-only: nothing to require
    assert fields["stored_as"].label == "Kept"  # written to its variable
    assert fields["deep"].default == "${deep}"  # not a plain variable: kept under its id (the check warns)
    assert fields["level"].options == (("low", "Low"), ("high", "high"))
    assert fields["note"].type == "text"  # a plug-in's textarea: several lines


def test_the_upload_check_warns_of_what_is_read_otherwise(app):
    report = check_upload({"d.bpmn": DIAGRAM.encode()})
    warned = [f.message for f in report.warnings if f.element_id == "t"]
    assert ("the field ‘Deep’ is bound to the expression ${order.total}: only a variable (${name}) is read here, so "
            "its value is kept as 'deep'; give it camunda:variable (or a plain ${name}) to name another") in warned
    assert any(m.startswith("the field ‘Note’ has the type 'textarea'") for m in warned)
    assert not any("formProperty" in f.message for f in report.errors), report.as_text()


def test_a_changed_start_form_property_is_compared_as_a_form_field():
    vacation = (CORPUS / "flowable-engine" / "VacationRequest.bpmn20.xml").read_text()
    renamed = vacation.replace('name="Motivation" type="string" />', 'name="Why" type="string" />', 1)
    comparison = compare_models(parse_files({"v.bpmn": vacation}), parse_files({"v.bpmn": renamed}))
    [changed] = comparison.start.fields.changed
    assert changed[0].id == "vacationMotivation" and changed[0].label == "Why"
    assert comparison.elements_changed == []  # the start event itself is not listed as changed


def test_the_engine_reads_the_types_and_constraints_the_forms_check():
    assert form_properties.CONSTRAINTS == checks.CONSTRAINTS and FIELD_TYPES == checks.FIELD_TYPES
