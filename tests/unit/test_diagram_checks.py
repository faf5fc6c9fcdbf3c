"""The upload checks: every problem named with its file, element and line; good diagrams pass.

A small diagram that passes every check is broken one way at a time; each break must be
reported as an error on the element that carries it, at its line.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from lxml import etree
from sqlalchemy import select

from app import create_app
from app.cli import load_demo_data
from app.engine import FIELD_TYPES
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessDefinition, TaskState
from app.services.diagram_checks import Finding, Report, UploadRefused, check_upload, unpack_upload
from app.services.instances import start_instance
from app.services.tasks import complete_task
from app.services.versions import folder_file_sets, store_version
from tests.conftest import person

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "diagrams"

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="mini_upload" name="Mini upload" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_requester" name="Requester"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_coordinator" name="Coordinator"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Asked" camunda:formKey="mini_upload.start">
      <bpmn:documentation>Ask for something.</bpmn:documentation>
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Amount" type="decimal">
          <camunda:validation><camunda:constraint name="required" /></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:scriptTask id="total" name="Total" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>doubled = amount * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:businessRuleTask id="rule" name="Level" camunda:decisionRef="mini_level">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="review" name="Review" camunda:formKey="mini_upload.review">
      <bpmn:documentation>Decide.</bpmn:documentation>
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="decision" label="Decision" type="enum">
          <camunda:value id="approve" name="Approve" /><camunda:value id="reject" name="Reject" />
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="reminder" name="Reminder" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f7</bpmn:outgoing>
      <bpmn:timerEventDefinition id="timer"><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:serviceTask id="remind" name="Remind" camunda:type="external" camunda:topic="notify">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="template" value="claim_reminder" /><camunda:property name="to" value="Coordinator" />
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f7</bpmn:incoming><bpmn:outgoing>f8</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end_remind"><bpmn:incoming>f8</bpmn:incoming></bpmn:endEvent>
    <bpmn:exclusiveGateway id="gw" name="Approved?" default="f6">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_ok"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="total" />
    <bpmn:sequenceFlow id="f2" sourceRef="total" targetRef="rule" />
    <bpmn:sequenceFlow id="f3" sourceRef="rule" targetRef="review" />
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="gw" />
    <bpmn:sequenceFlow id="f5" name="Yes" sourceRef="gw" targetRef="end_ok">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == "approve"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="gw" targetRef="end_no" />
    <bpmn:sequenceFlow id="f7" sourceRef="reminder" targetRef="remind" />
    <bpmn:sequenceFlow id="f8" sourceRef="remind" targetRef="end_remind" />
  </bpmn:process>
</bpmn:definitions>
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_level" name="Level"
  namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="mini_level" name="Level">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="input_amount" label="Amount">
        <inputExpression id="input_amount_expression" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="output_level" label="Level" name="level" typeRef="string" />
      <rule id="rule_small">
        <inputEntry id="rule_small_amount"><text>? &lt;= 100</text></inputEntry>
        <outputEntry id="rule_small_level"><text>"coordinator"</text></outputEntry>
      </rule>
      <rule id="rule_any">
        <inputEntry id="rule_any_amount"><text>-</text></inputEntry>
        <outputEntry id="rule_any_level"><text>"finance"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    """One app with the demo people, shared by the tests that only check (they store nothing)."""
    folder = tmp_path_factory.mktemp("checks")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder / "instance"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'checks.sqlite3'}",
                      "UPLOAD_FOLDER": str(folder / "uploads"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()  # the schema as the migrations build it
        load_demo_data()
        db.session.commit()
        yield app
        db.session.remove()


def check(bpmn: str = BPMN, dmn: str | None = DMN, **more: str) -> Report:
    files = {"mini_upload.bpmn": bpmn.encode()}
    if dmn is not None:
        files["mini_level.dmn"] = dmn.encode()
    files.update({name.replace("__", "."): text.encode() for name, text in more.items()})
    return check_upload(files)


def line_of(xml: str, element_id: str) -> int:
    root = etree.fromstring(xml.encode())
    return next(n.sourceline for n in root.iter() if n.get("id") == element_id)


def changed(old: str, new: str, text: str = BPMN) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_small_diagram_passes_so_each_break_below_is_what_fails(checker):
    report = check()
    assert report.ok, report.as_text()
    assert report.process_id == "mini_upload" and report.process_name == "Mini upload"
    assert report.files == {"mini_upload.bpmn": BPMN, "mini_level.dmn": DMN}
    # No layout at all: one warning says so, and nothing else is wrong.
    assert [w.message for w in report.warnings] == [
        "the diagram has no layout (BPMN DI): it cannot be shown as a picture"]


@pytest.mark.parametrize("files", folder_file_sets(ROOT / "workflows"), ids=lambda f: next(iter(f)))
def test_every_shipped_diagram_passes_with_no_errors(checker, files):
    report = check_upload({name: text.encode() for name, text in files.items()})
    assert report.ok, report.as_text()
    assert report.files == files  # what would be stored is what workflows/ holds, byte for byte
    # The only warnings: gateways that rely on their conditions covering every decision.
    assert {w.message for w in report.warnings} <= {
        "the gateway has no default flow: when no condition holds, the request stops with an error"}, \
        report.as_text()


def test_the_report_names_level_file_line_element_and_name():
    finding = Finding("error", "travel_reimbursement.bpmn", "check_claim", "Check claim", 123, "message")
    assert finding.as_text() == "ERROR travel_reimbursement.bpmn:123 check_claim (Check claim): message"
    assert Finding("warning", "", None, None, None, "no .bpmn").as_text() == "WARNING: no .bpmn"
    report = Report(findings=[Finding("warning", "a.bpmn", "x", None, 3, "w"), finding])
    assert not report.ok and report.errors == [finding]
    assert report.as_text().splitlines() == [finding.as_text(), "WARNING a.bpmn:3 x: w"]


BREAKS = [
    # (old text, new text, element, words the error must contain)
    ('<camunda:value id="approve"', '<camunda:value id="accept"', "review", "decision field's values"),
    ('name="Review" camunda:formKey', 'name="Review" camunda:assignee="${manager +}" camunda:formKey', "review",
     "the assignee ${manager +} cannot be worked out when the task opens"),
    ('name="Review" camunda:formKey', 'name="Review" camunda:candidateGroups="${open(\'x\')}" camunda:formKey',
     "review", "the candidate group ${open('x')} cannot be worked out when the task opens"),
    ("doubled = amount * 2", "doubled = amount *", "total", "the script cannot run"),
    ("doubled = amount * 2", "doubled = open('/etc/passwd').read()", "total", "it uses open"),
    ("doubled = amount * 2", "doubled = eval('1')", "total", "Eval calls are not allowed"),
    ("doubled = amount * 2", "doubled = list(range(3))", "total", "it calls range(), which does not exist here"),
    ("doubled = amount * 2", "doubled = ().__class__.__base__.__subclasses__()", "total",
     '"__subclasses__" is an invalid attribute name'),
    ('scriptFormat="python"', 'scriptFormat="groovy"', "total", "only Python scripts run here"),
    ("doubled = amount * 2", "doubled = 1\n" * 2000, "total", "characters long; at most 20000 are allowed"),
    ('decision == "approve"', "__import__('os').system('id')", "f5", '"__import__" is an invalid variable name'),
    ('decision == "approve"', "add_days.__globals__", "f5", '"__globals__" is an invalid attribute name'),
    ('decision == "approve"', "${amount.intValue() > 5 ? true : false}", "f5",
     "method calls (.intValue(...)) are not supported"),
    ('decision == "approve"', "${execution.setVariable('decision', 1)}", "f5",
     "execution.setVariable is not supported"),
    ('decision == "approve"', "${decision.__class__}", "f5", "may not start with _"),
    ("<bpmn:incoming>f1<", '<bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="v">'
     '<camunda:script scriptFormat="javascript">1</camunda:script></camunda:inputParameter></camunda:inputOutput>'
     "</bpmn:extensionElements><bpmn:incoming>f1<", "total", "a camunda:script in javascript does not run here"),
    ("<bpmn:incoming>f1<", '<bpmn:extensionElements><camunda:inputOutput><camunda:outputParameter name="v">'
     "${doubled.toString()}</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements>"
     "<bpmn:incoming>f1<", "total", "the outputParameter ${doubled.toString()} cannot run here"),
    ('decision == "approve"', "decision == true", "f5", "write True"),
    ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">',
     '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">', "f5",
     "the condition is javascript"),
    ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == "approve"</bpmn:conditionExpression>',
     "", "f5", "needs a condition, unless it is the gateway's default flow"),
    ('camunda:decisionRef="mini_level"', 'camunda:decisionRef="max_level"', "rule",
     "the decision 'max_level' is in none of the uploaded .dmn files (decisions found: mini_level)"),
    ('"P5D"', '"P5X"', "reminder", "P5X is not an ISO 8601 duration"),
    ('"P5D"', "P5X", "reminder", "is not an ISO 8601 duration"),
    ('<bpmn:timeDuration>"P5D"</bpmn:timeDuration>', "<bpmn:timeDate>P5D</bpmn:timeDate>", "reminder",
     "P5D is a duration: use a timeDuration"),
    ('<bpmn:timeDuration>"P5D"</bpmn:timeDuration>', "<bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle>", "reminder",
     "looks like a cron expression"),
    ('<bpmn:timeDuration>"P5D"</bpmn:timeDuration>', "<bpmn:timeDate>2030-02-30T09:00:00Z</bpmn:timeDate>",
     "reminder", "is not an ISO 8601 date"),
    ('camunda:topic="notify"', 'camunda:topic="fax"', "remind", "the topic 'fax' is not a service of the app"),
    ('camunda:type="external" camunda:topic="notify"', 'camunda:class="org.example.Mailer"', "remind",
     "Java delegates do not run here"),
    ('name="to" value="Coordinator"', 'name="to" value="Board"', "remind", "to = 'Board' names nobody"),
    ('attachedToRef="review"', 'attachedToRef="reviewed"', "reminder", "attached to 'reviewed'"),
    ('<bpmn:endEvent id="end_no">', '<bpmn:receiveTask id="wait_letter" name="Wait for a letter" />'
     '<bpmn:endEvent id="end_no">', "wait_letter", "the message event needs a message"),
    ('<bpmn:endEvent id="end_no">', '<bpmn:complexGateway id="sign" name="Sign" /><bpmn:endEvent id="end_no">', "sign",
     "complex gateways are not supported"),
    ('<bpmn:endEvent id="end_no">', '<bpmn:callActivity id="call" calledElement="${other}" /><bpmn:endEvent '
     'id="end_no">', "call", "calledElement is an expression, which is not supported: name the process"),
    ('<bpmn:endEvent id="end_no">', '<bpmn:callActivity id="call" calledElement="other" camunda:calledElementBinding='
     '"version" /><bpmn:endEvent id="end_no">', "call", "camunda:calledElementVersion must be a version number"),
    ('<bpmn:endEvent id="end_no">', '<bpmn:callActivity id="call" calledElement="other"><bpmn:extensionElements>'
     '<camunda:in target="x" /></bpmn:extensionElements></bpmn:callActivity><bpmn:endEvent id="end_no">', "call",
     'camunda:in needs a target and a source (or sourceExpression), or variables="all"'),
    ('<bpmn:endEvent id="end_no">', '<bpmn:callActivity id="call" calledElement="other"><bpmn:extensionElements>'
     '<camunda:out sourceExpression="${a +}" target="x" /></bpmn:extensionElements></bpmn:callActivity>'
     '<bpmn:endEvent id="end_no">', "call", "camunda:out sourceExpression ${a +} cannot run here"),
    ('<bpmn:outgoing>f1</bpmn:outgoing>', '<bpmn:outgoing>f1</bpmn:outgoing><bpmn:messageEventDefinition id="m" />',
     "start", "the message event needs a message"),
    ('<bpmn:endEvent id="end_no">', '<bpmn:endEvent id="end_no"><bpmn:messageEventDefinition id="m" '
     'camunda:class="org.example.Send" />', "end_no", "a Java delegate cannot send messages here"),
    ('</bpmn:process>', '<bpmn:receiveTask id="wait_letter" messageRef="letter">'
     '<bpmn:extensionElements><camunda:properties><camunda:property name="correlationKey" value="${a ? b}" />'
     '</camunda:properties></bpmn:extensionElements></bpmn:receiveTask></bpmn:process>'
     '<bpmn:message id="letter" name="letter" />', "wait_letter", "correlationKey = '${a ? b}' cannot run here"),
    ('<bpmn:outgoing>f4</bpmn:outgoing>', '<bpmn:outgoing>f4</bpmn:outgoing><bpmn:standardLoopCharacteristics />',
     "review", "a loop marker is not supported"),
    ('<bpmn:outgoing>f4</bpmn:outgoing>', '<bpmn:outgoing>f4</bpmn:outgoing>'
     '<bpmn:multiInstanceLoopCharacteristics camunda:elementVariable="item" />', "review",
     "a multi-instance step needs either camunda:collection"),
    ('<camunda:formData>\n        <camunda:formField id="decision"',
     '<camunda:taskListener event="create" class="org.example.Listener" /><camunda:formData>\n'
     '        <camunda:formField id="decision"', "review", "task listeners do not run here"),
    ('<bpmn:userTask id="review" name="Review"', '<bpmn:userTask id="review" name="Review" bogus="1"', "review",
     "not valid BPMN 2.0"),
    ('<bpmn:userTask id="review" name="Review"', '<bpmn:userTask id="review" name="' + "Review " * 29 + '"',
     "review", "the user task's name is 202 characters long; at most 200"),
    ('camunda:formKey="mini_upload.review"', 'camunda:formKey="mini_upload.' + "r" * 190 + '"', "review",
     "the user task's form key is 202 characters long; at most 200"),
]


def test_a_type_or_constraint_camunda_accepts_and_the_app_does_not_know_is_warned_with_what_is_known(checker):
    bpmn = changed('label="Decision" type="enum"', 'label="Decision" type="colour"')
    bpmn = changed('<camunda:formField id="decision"', '<camunda:formField id="note" label="Note" type="textarea">'
                   '<camunda:validation><camunda:constraint name="validator" config="org.example.Check" />'
                   '</camunda:validation></camunda:formField><camunda:formField id="decision"', bpmn)
    report = check(bpmn)
    warned = [f.message for f in report.warnings if f.element_id == "review"]
    assert ("the field ‘Decision’ has the type 'colour', which the app does not know: it is shown as a one-line "
            f"text (string). Types the app knows: {', '.join(sorted(FIELD_TYPES))}") in warned
    assert any(m.startswith("the field ‘Note’ has the type 'textarea', which the app does not know: it is shown as "
                            "a text of several lines (text).") for m in warned)
    assert ("the field ‘Note’ has the constraint 'validator', which the app does not check. Constraints the app "
            "checks: max, maxlength, min, minlength, pattern, readonly, required") in warned
    assert not any("Note" in f.message or "colour" in f.message for f in report.errors)


PLAIN_MESSAGES = [
    # (old text, new text, the element's name, the whole message): what is wrong, what to write instead
    ('decision == "approve"', 'decision == "approve" and', "Yes",
     "the condition cannot run: ‘decision == \"approve\" and’ is not a valid expression: something is missing or "
     "out of place: an operator, a value or a bracket; write a condition that is true or false, such as "
     "amount > 1000 or decision == \"approve\" (or ${amount > 1000})"),
    ('decision == "approve"', 'decision = "approve"', "Yes",
     "the condition cannot run: ‘decision = \"approve\"’ is not a valid expression: to compare two values write == "
     "(a single = stores a value); write a condition that is true or false, such as amount > 1000 or "
     "decision == \"approve\" (or ${amount > 1000})"),
    ("doubled = amount * 2", "doubled = amount * 2\n  total = 1", "Total",
     "the script cannot run: line 2, ‘total = 1’, is not valid Python: the line is indented more than the one "
     "before it; correct that line of the script"),
    ("doubled = amount * 2", "if doubled\n    x = 1", "Total",
     "the script cannot run: line 1, ‘if doubled’, is not valid Python: the line must end with a colon (:); "
     "correct that line of the script"),
    ('"P5D"', "add_days(,1)", "Reminder",
     "the timer cannot run: ‘add_days(,1)’ is not a valid expression: something is missing or out of place: an "
     "operator, a value or a bracket; write an ISO 8601 value such as P5D or 2030-01-31T09:00:00Z, or an "
     "expression that gives one, such as iso(add_days(event_date, 1))"),
    ('"P5D"', '"P5X"', "Reminder",
     "the timer cannot run: P5X is not an ISO 8601 duration such as P5D, PT72H or P1M"),
    ('<camunda:formField id="decision" label="Decision" type="enum">',
     '<camunda:formField id="total_shown" label="Total" type="long"><camunda:properties><camunda:property '
     'id="computed" value="grand_total" /></camunda:properties></camunda:formField>'
     '<camunda:formField id="decision" label="Decision" type="enum">', "Review",
     "its form cannot be shown: field 'total_shown': computed names 'grand_total', a calculation the app does not "
     "have; name one of its calculations: market_engagement_budget_total, travel_claim_total"),
]


@pytest.mark.parametrize(("old", "new", "element_name", "message"), PLAIN_MESSAGES,
                         ids=[m[1][:30] for m in PLAIN_MESSAGES])
def test_a_mistake_is_said_for_administrators_with_what_to_write(checker, old, new, element_name, message):
    report = check(changed(old, new))
    assert message in [f.message for f in report.errors if f.element_name == element_name], report.as_text()
    for words in ("SyntaxError", "IndentationError", "Error:", "forms/", "app/", ".py", "SpiffWorkflow"):
        assert words not in report.as_text()


def test_a_user_task_id_longer_than_its_column_is_an_error(checker):
    long_id = "review_" + "x" * 94
    report = check(re.sub(r"(?<![\w.])review(?!\w)", long_id, BPMN))
    assert [f.message for f in report.errors] == [
        "the user task's id is 101 characters long; at most 100 are allowed: shorten it"]


@pytest.mark.parametrize(("old", "new", "element", "words"), BREAKS, ids=[b[3][:40] for b in BREAKS])
def test_each_break_is_an_error_on_its_element_and_line(checker, old, new, element, words):
    bpmn = changed(old, new)
    report = check(bpmn)
    assert not report.ok
    matching = [f for f in report.errors if words in f.message]
    assert matching, report.as_text()
    finding = matching[0]
    assert (finding.file, finding.element_id) == ("mini_upload.bpmn", element), finding.as_text()
    assert finding.line is not None and finding.line >= line_of(bpmn, element), finding.as_text()
    assert report.files["mini_upload.bpmn"] == bpmn  # readable: the text is in the report all the same


UNKNOWN_NAMES = [
    # (old text, new text, the name to map, words the warning must contain)
    ('name="Coordinator"><bpmn:flowNodeRef>review', 'name="Reviewers"><bpmn:flowNodeRef>review', "Reviewers",
     "its lane ‘Reviewers’ is not a name the app knows"),
    ('name="Review" camunda:formKey', 'name="Review" camunda:candidateGroups="management" camunda:formKey',
     "management", "the candidate group ‘management’ is not a name the app knows"),
    ('name="Review" camunda:formKey', 'name="Review" camunda:candidateUsers="demo" camunda:formKey',
     "demo", "the candidate user ‘demo’ is not a name the app knows"),
    ('name="Review" camunda:formKey', 'name="Review" camunda:candidateUsers="nobody@example.eu" camunda:formKey',
     "nobody@example.eu", "the candidate user ‘nobody@example.eu’ is not a name the app knows"),
]


@pytest.mark.parametrize(("old", "new", "name", "words"), UNKNOWN_NAMES, ids=[u[2] for u in UNKNOWN_NAMES])
def test_a_name_the_app_does_not_know_is_a_warning_to_map(checker, old, new, name, words):
    report = check(changed(old, new))
    assert report.ok, report.as_text()
    [warning] = [w for w in report.warnings if words in w.message]
    assert warning.element_id == "review" and warning.map_name == name
    assert "the task waits for the administrators" in warning.message


def test_a_user_task_in_no_lane_naming_nobody_is_a_warning(checker):
    report = check(changed('<bpmn:flowNodeRef>review</bpmn:flowNodeRef>', ""))
    assert report.ok, report.as_text()
    assert any(w.element_id == "review" and "it will wait for the administrators" in w.message
               for w in report.warnings), report.as_text()


def test_show_first_naming_fields_no_form_has_is_a_warning_naming_them(checker):
    old = '<bpmn:extensionElements><camunda:formData>\n        <camunda:formField id="decision"'
    bpmn = changed(old, old.replace("<camunda:formData>", '<camunda:properties><camunda:property name="show_first" '
                                    'value="amount, colour,size" /></camunda:properties><camunda:formData>'))
    report = check(bpmn)
    assert report.ok, report.as_text()
    [warning] = [w for w in report.warnings if "show_first" in w.message]
    assert warning.element_id == "review"
    assert warning.message == ("show_first names colour, size, which no form of the process has: "
                               "the page cannot show them first")
    good = check(bpmn.replace('value="amount, colour,size"', 'value="amount,decision"'))
    assert good.ok and not any("show_first" in w.message for w in good.warnings), good.as_text()


def test_a_form_without_form_key_is_a_warning_and_keyed_by_its_ids(checker):
    """Camunda Modeler 5 drops camunda:formKey for generated task forms: accept such diagrams."""
    bpmn = changed(' camunda:formKey="mini_upload.review"', "")
    report = check(bpmn)
    assert report.ok, report.as_text()
    [warning] = [w for w in report.warnings if "formKey" in w.message]
    assert warning.element_id == "review" and warning.message == (
        "the user task has no camunda:formKey, so its form is known as mini_upload.review. That is enough unless "
        "the app's developers gave you a key for this form's own checks or calculations: then enter it as the Form "
        "key in Camunda Modeler")
    from app.engine import parse_files

    model = parse_files({"mini_upload.bpmn": bpmn, "mini_level.dmn": DMN})
    assert model.tasks["review"].form.key == "mini_upload.review"


def test_assignments_that_name_people_pass(checker):
    bpmn = changed('name="Review" camunda:formKey',
                   'name="Review" camunda:candidateGroups="coordinator, finance" '
                   'camunda:candidateUsers="felix.wagner@iclei.example.eu" camunda:assignee="${initiator}" '
                   'camunda:formKey')
    bpmn = changed('<bpmn:flowNodeRef>review</bpmn:flowNodeRef>', "", bpmn)  # no lane: the assignment says who
    assert check(bpmn).ok, check(bpmn).as_text()


def test_a_deactivated_assignee_is_a_warning(app):
    felix = person("felix")
    felix.active = False
    db.session.flush()
    bpmn = changed('name="Review" camunda:formKey', f'name="Review" camunda:assignee="{felix.email}" camunda:formKey')
    report = check(bpmn)
    assert report.ok and any("is deactivated" in w.message for w in report.warnings)


def test_a_camunda_form_missing_from_the_upload_is_refused(checker):
    start = BPMN.index('<bpmn:extensionElements><camunda:formData>\n        <camunda:formField id="decision"')
    end = BPMN.index("</bpmn:extensionElements>", start) + len("</bpmn:extensionElements>")
    bpmn = BPMN[:start] + BPMN[end:]
    bpmn = changed('camunda:formKey="mini_upload.review"', 'camunda:formKey="camunda-forms:deployment:review.form"',
                   bpmn)
    assert "review (Review): its form review.form is not in the upload: upload it with the diagram" in \
        check(bpmn).as_text()
    html = changed("camunda-forms:deployment:review.form", "embedded:app:forms/review.html", bpmn)
    assert "review (Review): the user task's form is in an HTML file, which the app does not read" in \
        check(html).as_text()
    assert "review (Review): the user task has no form fields" in check(
        changed("camunda-forms:deployment:review.form", "mini_upload.review", bpmn)).as_text()


def test_a_second_executable_process_is_refused(checker):
    bpmn = changed("</bpmn:definitions>", '<bpmn:process id="other" isExecutable="true" /></bpmn:definitions>')
    assert "2 executable processes were found (Mini upload, other): one process runs per diagram" in \
        check(bpmn).as_text()
    bpmn = changed("</bpmn:definitions>", '<bpmn:process id="other" isExecutable="false" /></bpmn:definitions>')
    assert check(bpmn).ok


def test_warnings_name_missing_instructions_defaults_and_layout(checker):
    bpmn = changed("<bpmn:documentation>Decide.</bpmn:documentation>", "")
    bpmn = changed(' default="f6"', "", bpmn)
    bpmn = changed('<bpmn:sequenceFlow id="f6" sourceRef="gw" targetRef="end_no" />',
                   '<bpmn:sequenceFlow id="f6" sourceRef="gw" targetRef="end_no">'
                   '<bpmn:conditionExpression>decision == "reject"</bpmn:conditionExpression></bpmn:sequenceFlow>',
                   bpmn)
    report = check(bpmn)
    assert report.ok
    text = report.as_text()
    assert f"WARNING mini_upload.bpmn:{line_of(bpmn, 'review')} review (Review): the user task has no documentation" \
        in text
    assert f"WARNING mini_upload.bpmn:{line_of(bpmn, 'gw')} gw (Approved?): the gateway has no default flow" in text

    layout = (FIXTURES / "small_travel_claim.bpmn").read_text()
    layout = changed('<bpmndi:BPMNShape id="check_claim_di" bpmnElement="check_claim">',
                     '<bpmndi:BPMNShape id="check_claim_di" bpmnElement="somewhere_else">', layout)
    layout = changed('<bpmndi:BPMNEdge id="Flow_0m1l7sd_di" bpmnElement="Flow_0m1l7sd">',
                     '<bpmndi:BPMNEdge id="Flow_0m1l7sd_di" bpmnElement="elsewhere">', layout)
    report = check_upload({"small_travel_claim.bpmn": layout.encode(),
                           "claim_approval_level.dmn": (FIXTURES / "claim_approval_level.dmn").read_bytes()})
    assert report.ok
    shapes = {(w.element_id, w.message) for w in report.warnings}
    assert ("check_claim", "the element has no shape in the diagram layout (BPMNShape)") in shapes
    assert ("Flow_0m1l7sd", "the flow has no line in the diagram layout (BPMNEdge)") in shapes


DMN_BREAKS = [
    # FEEL unary tests run (app/engine/feel.py): no error.
    ("? &lt;= 100", "[0..100]", "rule_small_amount", None),
    ("? &lt;= 100", '"small","tiny"', "rule_small_amount", None),
    ("? &lt;= 100", 'not("large")', "rule_small_amount", None),
    ('"coordinator"', "true", "rule_small_level", None),
    ('hitPolicy="FIRST"', 'hitPolicy="RULE ORDER"', "table", None),
    ('hitPolicy="FIRST"', 'hitPolicy="COLLECT" aggregation="SUM"', "table", None),
    ("<text>amount</text>", "<text>amount or 0</text>", "rule_small_amount", None),
    # What does not run: one line naming the decision, the rule and the column.
    ("? &lt;= 100", "&lt;= ", "rule_small_amount", "the decision “Level”, rule 1, column “Amount”: &lt;= is not a FEEL"
     .replace("&lt;", "<")),
    ("? &lt;= 100", "[0..100", "rule_small_amount", "[0..100 is not a FEEL unary test (the range must end with"),
    ("? &lt;= 100", "__import__('os')", "rule_small_amount", "is not a FEEL unary test"),
    ("? &lt;= 100", "? == open", "rule_small_amount", "it uses open, which diagrams may not use"),
    ('"coordinator"', "__import__('os')", "rule_small_level", "invalid variable name"),
    ('hitPolicy="FIRST"', 'hitPolicy="DECIDE"', "table", "hit policy DECIDE is not supported"),
    ('hitPolicy="FIRST"', 'hitPolicy="COLLECT" aggregation="AVG"', "table", "COLLECT with AVG"),
    ('hitPolicy="FIRST"', 'hitPolicy="FIRST" aggregation="SUM"', "table", "works only with the hit policy COLLECT"),
    ("<text>amount</text>", "<text>amount +</text>", "input_amount", "the input expression cannot run"),
    # A cell's expressionLanguage decides how it is read.
    ('<inputEntry id="rule_small_amount"><text>? &lt;= 100', '<inputEntry id="rule_small_amount" '
     'expressionLanguage="python"><text>[0..100]', "rule_small_amount", "[0..100] cannot run as Python"),
    ('<inputEntry id="rule_small_amount"><text>', '<inputEntry id="rule_small_amount" expressionLanguage='
     '"https://www.omg.org/spec/DMN/20191111/FEEL/"><text>', "rule_small_amount",
     "? &lt;= 100 is not a FEEL unary test (? belongs to a Python cell, not FEEL): write".replace("&lt;", "<")),
    ('<inputEntry id="rule_small_amount">', '<inputEntry id="rule_small_amount" expressionLanguage="groovy">',
     "rule_small_amount", "the expression language groovy is not supported"),
]


@pytest.mark.parametrize(("old", "new", "element", "words"), DMN_BREAKS, ids=[b[1][:30] for b in DMN_BREAKS])
def test_each_dmn_break_is_an_error_on_its_cell(checker, old, new, element, words):
    dmn = changed(old, new, DMN)
    report = check(dmn=dmn)
    if words is None:
        assert report.ok, report.as_text()
        return
    matching = [f for f in report.errors if words in f.message and f.file == "mini_level.dmn"]
    assert matching, report.as_text()
    assert matching[0].element_id == element and matching[0].line == line_of(dmn, element)


def test_a_priority_table_without_output_values_is_warned(checker):
    report = check(dmn=changed('hitPolicy="FIRST"', 'hitPolicy="PRIORITY"', DMN))
    assert report.ok and "no output has one: rule order decides" in report.as_text()
    listed = changed('name="level" typeRef="string" />', 'name="level" typeRef="string"><outputValues><text>'
                     '"finance","coordinator"</text></outputValues></output>', DMN)
    report = check(dmn=changed('hitPolicy="FIRST"', 'hitPolicy="OUTPUT ORDER"', listed))
    assert report.ok and "rule order decides" not in report.as_text()
    broken = changed('"finance","coordinator"', '"finance" "coordinator"', listed)
    assert 'the output values "finance" "coordinator" cannot be read: expected a comma' in check(dmn=broken).as_text()


def test_a_bare_comparison_after_a_loose_input_expression_now_tests_its_value(checker):
    # SpiffWorkflow joined them as text ("amount or 0<= 100"); the input is now evaluated first.
    dmn = changed("<text>amount</text>", "<text>amount or 0</text>", DMN)
    assert check(dmn=changed("? &lt;= 100", "&lt;= 100", dmn)).ok


def test_files_that_are_not_what_they_claim_are_refused(checker):
    assert "not a DMN file" in check(dmn=BPMN).as_text()
    assert "not a BPMN 2.0 diagram" in check(bpmn=DMN, dmn=None).as_text()
    latin = BPMN.replace("Ask for something.", "Demande é").encode("latin-1")
    report = check_upload({"mini_upload.bpmn": latin, "mini_level.dmn": DMN.encode()})
    assert "the file is not UTF-8 text" in report.as_text() and "mini_upload.bpmn" not in report.files
    declared = BPMN.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    assert check(bpmn=declared).ok  # plain ASCII: the declaration changes nothing
    assert "declares the encoding ISO-8859-1" in check(bpmn=declared.replace("Ask for something.", "Demande é")) \
        .as_text()
    assert "exactly one .bpmn file" in check(other__bpmn=BPMN.replace("mini_upload", "other")).as_text()
    assert "(0 .bpmn found)" in check_upload({"mini_level.dmn": DMN.encode()}).as_text()
    assert "not well-formed XML" in check(bpmn=BPMN[:-40]).as_text()


def test_oversized_diagrams_are_refused_before_the_slow_checks(checker):
    crowded = changed("<bpmn:documentation>Decide.</bpmn:documentation>",
                      "<bpmn:documentation>Decide.</bpmn:documentation>" + "<bpmn:extensionElements/>" * 10_000)
    report = check(crowded)
    assert [f.message for f in report.errors] == [
        "the file holds 10061 XML elements; a diagram or table may hold at most 10000: split it"]
    many_rules = changed('<rule id="rule_any">', "".join(
        f'<rule id="r{i}"><inputEntry id="i{i}"><text>? == {i}</text></inputEntry>'
        f'<outputEntry id="o{i}"><text>"{"x" * 150}"</text></outputEntry></rule>' for i in range(1900))
        + '<rule id="rule_any">', DMN)
    report = check(dmn=many_rules)
    assert "characters of code in all: it was not compiled" in report.as_text()


def test_an_unused_decision_and_a_duplicate_are_reported(checker):
    other = DMN.replace('id="defs_level"', 'id="defs_other"').replace('decision id="mini_level"',
                                                                      'decision id="unused_table"')
    report = check(other_level__dmn=other)
    assert report.ok and "the decision unused_table is not used" in report.as_text()
    assert "the decision mini_level is also in mini_level.dmn" in check(copy__dmn=DMN).as_text()


def test_windows_newlines_and_a_bom_are_stored_as_sync_would_read_them(checker):
    raw = b"\xef\xbb\xbf" + BPMN.replace("\n", "\r\n").encode()
    report = check_upload({"mini_upload.bpmn": raw, "mini_level.dmn": DMN.encode()})
    assert report.ok and report.files["mini_upload.bpmn"] == BPMN


# --- Camunda Modeler diagrams: they pass, and they run ------------------------------------------

def fixture_files(*names: str) -> dict[str, bytes]:
    return {name: (FIXTURES / name).read_bytes() for name in names}


def test_a_camunda_modeler_diagram_passes_with_only_its_ignored_attributes_warned(checker):
    report = check_upload(fixture_files("small_travel_claim.bpmn", "claim_approval_level.dmn"))
    assert report.ok, report.as_text()
    assert report.process_id == "small_travel_claim"
    assert {w.message.split(" is ignored")[0] for w in report.warnings} == {
        "camunda:resultVariable", "camunda:mapDecisionResult"}


def test_an_activiti_namespace_diagram_passes(checker):
    report = check_upload(fixture_files("room_booking.bpmn"))
    assert report.ok and not report.warnings, report.as_text()


def stored(*names: str):
    report = check_upload(fixture_files(*names))
    version, created = store_version(report.files, None, note="test upload", activate=True)
    assert created and version.active
    db.session.commit()
    return version


def ready(instance, bpmn_id: str) -> HumanTask:
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.state == TaskState.READY))


def test_the_camunda_modeler_diagram_runs_with_its_juel_timers_and_candidate_groups(app):
    version = stored("small_travel_claim.bpmn", "claim_approval_level.dmn")
    ana, clara, felix = person("ana"), person("clara"), person("felix")
    instance = start_instance(ana, version, {"meeting": "Circular ICT, Brussels",
                                             "meeting_date": dt.date(2030, 3, 5), "amount": 1500}).instance
    db.session.commit()
    check = ready(instance, "check_claim")
    candidates = {c.user_id for c in check.candidates}
    assert clara.id in candidates and person("tom").id in candidates and ana.id not in candidates
    assert check.lane == "coordinator"
    # The bare PT72H reminder was normalised: the timer is due in 72 hours.
    waits = instance.next_timer_at - instance.started_at
    assert dt.timedelta(hours=71, minutes=59) < waits <= dt.timedelta(hours=72, minutes=1)

    complete_task(clara, check.id, {"decision": "request_changes", "coordinator_comment": "Add the ticket"})
    db.session.commit()
    revise = ready(instance, "revise_claim")
    assert [c.user_id for c in revise.candidates] == [ana.id]  # camunda:assignee="${initiator}"

    complete_task(ana, revise.id, {"meeting": "Circular ICT, Brussels", "amount": 1500})
    db.session.commit()
    complete_task(clara, ready(instance, "check_claim").id, {"decision": "approve", "coordinator_comment": ""})
    db.session.commit()
    payment = ready(instance, "approve_payment")  # the DMN said finance: ${approval_level == "finance" || ...}
    assert [c.user_id for c in payment.candidates] == [felix.id]
    complete_task(felix, payment.id, {"decision": "approve"})
    db.session.commit()
    db.session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_claim_paid"


def test_the_activiti_namespace_diagram_runs(app):
    version = stored("room_booking.bpmn")
    ana, tom = person("ana"), person("tom")
    instance = start_instance(ana, version, {"meeting_day": dt.date(2030, 5, 2), "participants": 12}).instance
    db.session.commit()
    review = ready(instance, "review_booking")
    assert tom.id in {c.user_id for c in review.candidates}  # activiti:candidateGroups="coordinator"
    assert dt.timedelta(days=2) - (instance.next_timer_at - instance.started_at) < dt.timedelta(minutes=1)
    complete_task(tom, review.id, {"decision": "approve"})
    db.session.commit()
    db.session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_confirmed"


# --- Unpacking uploads --------------------------------------------------------------------------

def zipped(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_of_a_bpmn_and_its_dmn_unpacks_to_the_same_files(checker):
    files = fixture_files("small_travel_claim.bpmn", "claim_approval_level.dmn")
    assert unpack_upload([("claim.zip", zipped(files))]) == files
    assert unpack_upload(list(files.items())) == files
    assert check_upload(unpack_upload([("claim.zip", zipped(files))])).ok


@pytest.mark.parametrize(("uploads", "says"), [
    ([], "Select a .bpmn file"),
    ([("notes.pdf", b"%PDF")], "is not a .bpmn, .dmn, .form or .txt file"),
    ([("a.bpmn", b"")], "a.bpmn is empty"),
    ([("a.bpmn", b"<x/>" + b" " * (5 * 1024 * 1024))], "a.bpmn is larger than 5 MB"),
    ([("../a.bpmn", b"<x/>")], "has a name the app cannot use"),
    ([("a.zip", b"PK\x03\x04 not really")], "is not a .zip file that can be opened"),
    ([("a.zip", zipped({"a.bpmn": b"<x/>"})), ("b.dmn", b"<x/>")], "either one .zip or"),
    ([("a.zip", zipped({"sub/a.bpmn": b"<x/>"}))], "has a folder or path"),
    ([("a.zip", zipped({"a.exe": b"MZ"}))], "is not a .bpmn, .dmn, .form or .txt file"),
    ([("a.zip", zipped({f"f{i}.dmn": b"<x/>" for i in range(51)}))], "51 entries; at most 50"),
    ([("a.zip", zipped({}))], "a.zip is empty"),
])
def test_uploads_are_refused_before_any_check(uploads, says):
    with pytest.raises(UploadRefused) as refused:
        unpack_upload(uploads)
    assert says in str(refused.value)


def test_nothing_is_stored_by_checking(app):
    before = db.session.scalar(select(db.func.count()).select_from(ProcessDefinition))
    check_upload(fixture_files("small_travel_claim.bpmn", "claim_approval_level.dmn"))
    assert db.session.scalar(select(db.func.count()).select_from(ProcessDefinition)) == before
