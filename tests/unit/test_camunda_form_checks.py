"""Camunda Forms at upload: bad JSON, what form-js's schema refuses, what the app cannot show
and FEEL it cannot read are named on the .form file; the task names a missing form."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from app.engine.camunda_forms import FormJsError, form_spec, hidden
from app.engine.feel import FeelError, expression_to_python
from app.services.diagram_checks import check_upload, unpack_upload
from app.services.versions import folder_file_sets
from forms import build_form
from tests.diagrams import FIXTURES

DIAGRAMS = FIXTURES / "diagrams"
BPMN = (DIAGRAMS / "supplier_request.bpmn").read_bytes()
START = json.loads((DIAGRAMS / "supplier_request_start.form").read_text())
REVIEW = (DIAGRAMS / "supplier_review.form").read_bytes()


def upload(start: object) -> list[str]:
    """The errors of an upload whose start form is ``start`` (JSON text, or an object to dump)."""
    data = start.encode() if isinstance(start, str) else json.dumps(start).encode()
    report = check_upload({"supplier_request.bpmn": BPMN, "supplier_request_start.form": data,
                           "supplier_review.form": REVIEW})
    return [f.as_text() for f in report.errors]


def with_component(component: dict) -> dict:
    return {**START, "components": [*START["components"], component]}


def test_the_example_passes(app):
    assert upload(START) == []


def test_a_form_that_is_not_json_is_named_with_its_line(app):
    assert upload('{\n  "type": "default",\n  "components": [,]\n}') == [
        "ERROR supplier_request_start.form: the file is not JSON: Expecting value at line 3"]


def test_what_the_form_js_schema_refuses_is_named(app):
    errors = upload(with_component({"type": "number", "key": "n", "label": "Count", "decimalDigits": "two"}))
    assert errors == ["ERROR supplier_request_start.form: not a valid Camunda Form: component 18 (Count) → "
                      "decimalDigits: 'two' is not of type 'integer'"]
    errors = upload({**START, "type": "wizard"})
    assert errors == ["ERROR supplier_request_start.form: not a valid Camunda Form: type: 'default' was expected"]
    errors = upload(with_component({"type": "textfield", "key": "bad key", "label": "Bad"}))
    assert any("component 18 (Bad) → key: 'bad key' does not match" in e for e in errors), errors


def test_an_unsupported_component_is_named_with_what_is_supported(app):
    errors = upload(with_component({"type": "dynamiclist", "label": "Suppliers", "path": "suppliers",
                                    "components": []}))
    assert errors == [
        "ERROR supplier_request_start.form: the dynamiclist 'Suppliers': the component 'dynamiclist' is not "
        "supported; use textfield, textarea, number, checkbox, checklist, radio, select, taglist, datetime, "
        "text, group, separator"]


def test_bad_feel_in_a_hide_condition_is_named(app):
    errors = upload(with_component({"type": "textfield", "key": "extra", "label": "Extra",
                                    "conditional": {"hide": "=amount >> 3"}}))
    assert errors == ["ERROR supplier_request_start.form: the textfield 'Extra': its hide condition =amount >> 3 "
                      "is not FEEL the app reads: > is not a value"]


def test_a_form_the_diagram_names_must_be_uploaded(app):
    report = check_upload({"supplier_request.bpmn": BPMN, "supplier_review.form": REVIEW})
    assert [f.as_text() for f in report.errors] == [
        "ERROR supplier_request.bpmn:4 start_request (Supplier asked for): its form 'supplier_request_start' is not "
        "in the upload: add the .form file whose id is supplier_request_start (Camunda Modeler shows the id in the "
        "form's properties)"]
    files = unpack_upload([("supplier_request.bpmn", BPMN), ("supplier_review.form", REVIEW)])
    assert set(files) == {"supplier_request.bpmn", "supplier_review.form"}


@pytest.mark.parametrize(("condition", "values", "hides"), [
    ("=amount > 1000", {"amount": 1500}, True),
    ("=amount > 1000", {"amount": 10}, False),
    ("=amount > 1000", {}, False),  # null is not greater: shown
    ('=topic = "other"', {"topic": "other"}, True),
    ("=not(approved)", {"approved": False}, True),
    ("=not(approved)", {}, False),
    ("=a and b or c", {"a": True, "b": False, "c": True}, True),
    ("=a and (b or c)", {"a": True, "b": False, "c": False}, False),
    ("=reason is null", {}, True),
    ("=reason is not null", {"reason": "x"}, True),
    ("=address.city = \"Gdańsk\"", {"address": {"city": "Gdańsk"}}, True),
])
def test_a_hide_condition_is_worked_out_as_feel(condition, values, hides):
    spec = form_spec({"components": [{"type": "textfield", "key": "x", "label": "X",
                                      "conditional": {"hide": condition}}]}, "k").fields[0]
    assert hidden(spec, values) is hides


@pytest.mark.parametrize(("condition", "reason"), [
    ("=amount >", "a value is missing"),
    ("=import(os)", "import cannot be used as a variable name in a FEEL cell"),
    ("=x is 3", "is must be followed by null (x is null)"),
    ("=__class__ = 1", "_ is not allowed here"),
])
def test_feel_the_app_cannot_read_is_refused(condition, reason):
    with pytest.raises(FeelError, match=re.escape(reason)):
        expression_to_python(condition)


def test_a_group_keeps_its_label_and_a_text_with_an_expression_is_refused():
    spec = form_spec({"components": [{"type": "group", "label": "Contact", "components": [
        {"type": "textfield", "key": "phone", "label": "Phone", "validate": {"validationType": "phone"}}]}]}, "k")
    assert spec.fields[0].properties["group"] == "Contact" and spec.fields[0].constraints["pattern"]
    with pytest.raises(FormJsError, match="a text with an expression or template is not supported"):
        form_spec({"components": [{"type": "text", "text": "=greeting"}]}, "k")


def test_a_folder_sync_takes_the_forms_a_diagram_names():
    [files] = [f for f in folder_file_sets(DIAGRAMS) if "supplier_request.bpmn" in f]
    assert sorted(files) == ["supplier_request.bpmn", "supplier_request_start.form", "supplier_review.form"]


def test_options_held_by_a_variable_are_offered():
    spec = form_spec({"components": [
        {"type": "select", "key": "lot", "label": "Lot", "valuesKey": "lots"},
        {"type": "checklist", "key": "langs", "label": "Languages", "valuesExpression": "=languages"}]}, "k")
    form = build_form(spec, instance_data={"lots": [{"label": "Laptops", "value": "l1"}], "languages": ["en", "fr"]})
    assert form["lot"].choices == (("l1", "Laptops"),)
    assert form["langs"].choices == (("en", "en"), ("fr", "fr"))
    posted = build_form(spec, formdata=MultiDict([("lot", "l1"), ("langs", "fr"), ("langs", "de")]),
                        instance_data={"lots": [{"label": "Laptops", "value": "l1"}], "languages": ["en", "fr"]})
    assert not posted.validate()
    assert posted.error_list == [("langs", "Select the languages")]  # "de" is not one of them
    with pytest.raises(FormJsError, match="options from an expression must name one variable"):
        form_spec({"components": [{"type": "radio", "key": "x", "label": "X", "valuesExpression": "=a + b"}]}, "k")


def test_a_date_and_time_in_one_field_is_accepted_and_read(app):
    component = {"type": "datetime", "key": "visit_start", "subtype": "datetime", "dateLabel": "Date the visit starts",
                 "timeLabel": "Time the visit starts", "disallowPassedDates": True, "validate": {"required": True}}
    assert upload(with_component(component)) == []  # refused at upload before
    [field] = form_spec({"components": [component]}, "k").fields
    assert (field.type, field.label, field.required) == ("datetime", "Date the visit starts", True)
    assert field.properties == {"time_label": "Time the visit starts", "future": "true"}
    # form-js's own labels when the diagram gives none
    [plain] = form_spec({"components": [{"type": "datetime", "key": "at", "subtype": "datetime"}]}, "k").fields
    assert (plain.label, plain.properties["time_label"]) == ("Date", "Time")
    sent = MultiDict({"visit_start-day": "5", "visit_start-month": "Mar", "visit_start-year": "2099",
                      "visit_start-time": "9.05"})
    form = build_form(form_spec({"components": [component]}, "k"), formdata=sent)
    assert form.validate() and form.cleaned == {"visit_start": "2099-03-05T09:05"}
    one_piece = build_form(form_spec({"components": [component]}, "k"),
                           formdata=MultiDict({"visit_start": "2099-03-05T21:15:00"}))
    assert one_piece.validate() and one_piece.cleaned == {"visit_start": "2099-03-05T21:15"}


@pytest.mark.parametrize(("typed", "kept"), [
    ("14:30", "14:30"), ("9:05", "09:05"), ("9.05", "09:05"), ("2:30pm", "14:30"), ("12am", "00:00"),
    ("12 PM", "12:00"), ("0:00", "00:00"), ("23:59", "23:59"),
    ("24:00", None), ("14", None), ("13pm", None), ("14:60", None), ("noon", None),
])
def test_a_time_is_read_as_people_type_it(typed, kept):
    spec = form_spec({"components": [{"type": "datetime", "key": "at", "subtype": "time", "timeLabel": "Time"}]}, "k")
    form = build_form(spec, formdata=MultiDict({"at": typed}))
    assert form["at"].width == "govuk-input--width-5"
    if kept is None:
        assert not form.validate() and form.error_list == [("at", "Time must be a real time, like 14:30")]
    else:
        assert form.validate() and form.cleaned == {"at": kept}
