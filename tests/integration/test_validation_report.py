"""The validation report reads as advice: one finding per line with element names on one line,
advice that fits the case, decisions found in every uploaded .dmn, the valid choices beside an
unknown value. Each message is checked on a small diagram broken one way at a time."""

from __future__ import annotations

from app.engine.validate import DMN_HIT_POLICIES
from app.services.diagram_checks import check_upload
from app.steps import service_names
from app.steps.lanes import LANE_NAMES
from forms.checks import CHOICE_SOURCES, CONSTRAINTS, FIELD_TYPES
from tests.diagrams import FIXTURES, upload_report

BPMN = (FIXTURES / "diagrams" / "small_travel_claim.bpmn").read_text()
DMN = (FIXTURES / "diagrams" / "claim_approval_level.dmn").read_text()
SECOND_DMN = DMN.replace('id="claim_approval_level" name="Claim approval level"',
                         'id="claim_second_level" name="Claim second level"')
LANES = ", ".join(LANE_NAMES)


def changed(old: str, new: str, text: str = BPMN) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def report_text(bpmn: str = BPMN, **dmns: str) -> str:
    files = {"small_travel_claim.bpmn": bpmn.encode()}
    files |= {name.replace("__", ".") + ".dmn": text.encode() for name, text in dmns.items()}
    return check_upload(files).as_text()


def errors(bpmn: str = BPMN, **dmns: str) -> list[str]:
    return [line for line in report_text(bpmn, **dmns).splitlines() if line.startswith("ERROR")]


def test_the_fixture_passes(app):
    assert errors(claim_approval_level=DMN) == []


def test_names_drawn_on_several_lines_read_on_one(app):
    bpmn = changed('name="Check claim" camunda:formKey="small_travel_claim.check_claim" camunda:candidateGroups='
                   '"coordinator"', 'name="Check&#10;  claim" camunda:formKey="small_travel_claim.check_claim" '
                   'camunda:candidateGroups="accounting"')
    report = check_upload({"small_travel_claim.bpmn": bpmn.encode(), "claim_approval_level.dmn": DMN.encode()})

    [warning] = [f for f in report.warnings if f.element_id == "check_claim"]
    assert warning.element_name == "Check claim"
    assert "check_claim (Check claim): the candidate group ‘accounting’ is not a name the app knows" in \
        warning.as_text()
    assert len(report.as_text().splitlines()) == len(report.findings)  # one finding, one line


def test_no_executable_process_says_how_to_mark_one(app):
    bpmn = changed('name="Small travel claim" isExecutable="true"', 'name="Small travel claim" isExecutable="false"')

    assert errors(bpmn, claim_approval_level=DMN) == [
        'ERROR small_travel_claim.bpmn:2: 0 executable processes were found: mark the process to run as executable '
        '(isExecutable; "Executable" in the process\'s properties in Camunda Modeler)']


def test_several_executable_processes_name_them(app):
    bpmn = changed("</bpmn:process>", '</bpmn:process><bpmn:process id="other" name="Other&#10;pool" '
                   'isExecutable="true" />')

    assert errors(bpmn, claim_approval_level=DMN) == [
        'ERROR small_travel_claim.bpmn:2: 2 executable processes were found (Small travel claim, Other pool): one '
        'process runs per diagram; keep "Executable" ticked on that one only (isExecutable="false" on the others), '
        'or upload each in a file of its own']


def test_a_file_without_a_process_says_so(app):
    empty = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
             '20100524/MODEL" id="defs" targetNamespace="http://bpmn.io/schema/bpmn" />\n')

    assert errors(empty) == ["ERROR small_travel_claim.bpmn:2: the file holds no process: draw the process to run "
                             "(a pool or a plain diagram) and upload it"]


def test_the_decision_search_sees_every_uploaded_dmn(app):
    bpmn = changed('camunda:decisionRef="claim_approval_level"', 'camunda:decisionRef="claim_second_level"')

    text = report_text(bpmn, claim_approval_level=DMN, claim_second_level=SECOND_DMN)

    assert "ERROR" not in text
    assert ("WARNING claim_approval_level.dmn: the decision claim_approval_level is not used by any business rule "
            "task of the process") in text


def test_an_unknown_decision_lists_the_decisions_of_every_dmn(app):
    bpmn = changed('camunda:decisionRef="claim_approval_level"', 'camunda:decisionRef="claim_level"')

    found = errors(bpmn, claim_approval_level=DMN, claim_second_level=SECOND_DMN)

    assert len(found) == 1 and found[0].endswith(
        "Activity_0p2w5kz (Who approves?): the decision 'claim_level' is in none of the uploaded .dmn files (decisions "
        "found: claim_approval_level, claim_second_level): upload its .dmn file with the diagram")


def test_a_decision_in_a_refused_dmn_is_still_found(app):
    both = SECOND_DMN.replace("</definitions>", DMN[DMN.index("<decision "):DMN.index("</definitions>")]
                              + "</definitions>")
    bpmn = changed('camunda:decisionRef="claim_approval_level"', 'camunda:decisionRef="claim_second_level"')

    text = report_text(bpmn, claim_levels=both)

    assert "in none of the uploaded .dmn files" not in text  # whatever else is said about the file


def test_the_same_decision_in_two_files_is_named(app):
    found = errors(claim_approval_level=DMN, copy=DMN)

    assert any(line.startswith("ERROR copy.dmn:3 claim_approval_level (Claim approval level): the decision "
                               "claim_approval_level is also in claim_approval_level.dmn") for line in found), found


def test_an_unknown_topic_lists_the_services(app):
    bpmn = changed('camunda:topic="notify">\n      <bpmn:extensionElements>\n        <camunda:properties>\n'
                   '          <camunda:property name="template" value="claim_paid" />',
                   'camunda:topic="send_money">\n      <bpmn:extensionElements>\n        <camunda:properties>\n'
                   '          <camunda:property name="template" value="claim_paid" />')

    assert errors(bpmn, claim_approval_level=DMN)[0].endswith(
        "Activity_notify_paid (Tell the claimant): the topic 'send_money' is not a service of the app; the services "
        "are: " + ", ".join(sorted(service_names())))


def test_an_unknown_lane_or_notify_recipient_lists_the_lanes(app):
    bpmn = changed('<camunda:property name="to" value="Finance" />', '<camunda:property name="to" value="Bank" />')

    assert errors(bpmn, claim_approval_level=DMN) == [
        f"ERROR small_travel_claim.bpmn:112 Activity_remind_finance (Remind finance): to = 'Bank' names nobody: "
        f"use one of {LANES}"]


def test_an_unknown_template_lists_the_templates(app):
    bpmn = changed('value="claim_paid"', 'value="claim_payed"')

    warning = next(line for line in report_text(bpmn, claim_approval_level=DMN).splitlines()
                   if "claim_payed" in line)
    assert warning.startswith("WARNING small_travel_claim.bpmn:135 Activity_notify_paid (Tell the claimant): "
                              "there is no email text 'claim_payed': upload claim_payed.txt with the diagram")
    assert "or the general notice is sent instead; the app's texts are: application_rejected, " in warning
    assert "claim_paid, claim_rejected, claim_reminder, " in warning and warning.endswith(", welcome")


def warnings(bpmn: str = BPMN, **dmns: str) -> list[str]:
    return [line for line in report_text(bpmn, **dmns).splitlines() if line.startswith("WARNING")]


def test_a_field_type_camunda_accepts_and_the_app_does_not_know_is_warned_with_the_types(app):
    bpmn = changed('<camunda:formField id="coordinator_comment" label="Comment" type="string" />',
                   '<camunda:formField id="coordinator_comment" label="Comment" type="textarea" />')

    assert errors(bpmn, claim_approval_level=DMN) == []
    assert ("WARNING small_travel_claim.bpmn:50 check_claim (Check claim): the field ‘Comment’ has the type "
            "'textarea', which the app does not know: it is shown as a text of several lines (text). Types the app "
            f"knows: {', '.join(sorted(FIELD_TYPES))}") in warnings(bpmn, claim_approval_level=DMN)


def test_a_constraint_camunda_accepts_and_the_app_does_not_check_is_warned_with_the_constraints(app):
    bpmn = changed('<camunda:constraint name="maxlength" config="200" />',
                   '<camunda:constraint name="validator" config="com.example.MeetingValidator" />')

    assert errors(bpmn, claim_approval_level=DMN) == []
    [warning] = [w for w in warnings(bpmn, claim_approval_level=DMN) if "validator" in w]
    assert warning == ("WARNING small_travel_claim.bpmn:11 StartEvent_1 (Claim filed): the field ‘Meeting attended’ "
                       "has the constraint 'validator', which the app does not check. Constraints the app checks: "
                       f"{', '.join(sorted(CONSTRAINTS))}")


def test_an_enum_without_options_lists_the_choice_sources(app):
    bpmn = changed('<camunda:formField id="coordinator_comment" label="Comment" type="string" />',
                   '<camunda:formField id="coordinator_comment" label="Comment" type="enum" />')

    assert errors(bpmn, claim_approval_level=DMN) == [
        "ERROR small_travel_claim.bpmn:38 check_claim (Check claim): its form cannot be shown: field "
        "'coordinator_comment': an enum needs camunda:value options or a choices property (one of "
        f"{', '.join(sorted(CHOICE_SOURCES))})"]


def test_an_unknown_decision_value_lists_the_values(app):
    bpmn = changed('<camunda:value id="request_changes" name="Ask for changes" />',
                   '<camunda:value id="maybe" name="Maybe" />')

    assert errors(bpmn, claim_approval_level=DMN) == [
        "ERROR small_travel_claim.bpmn:38 check_claim (Check claim): the decision field's values must be taken from "
        "approve, request_changes, reject (not maybe): the email links and history rely on them"]


def test_an_unknown_hit_policy_lists_the_policies(app):
    dmn = changed('<decisionTable id="DecisionTable_0r7s3ab">', '<decisionTable id="DecisionTable_0r7s3ab" '
                  'hitPolicy="HIGHEST">', DMN)

    (error,) = errors(claim_approval_level=dmn)
    assert error.startswith("ERROR claim_approval_level.dmn:4 DecisionTable_0r7s3ab: the hit policy HIGHEST is not "
                            "supported: use ")
    assert all(policy in error for policy in DMN_HIT_POLICIES)


def test_the_upload_page_shows_the_folded_names_and_the_advice(client):
    bpmn = changed('name="Small travel claim" isExecutable="true"', 'name="Small travel claim" isExecutable="false"')

    page = upload_report(client, {"small_travel_claim.bpmn": bpmn.encode(), "claim_approval_level.dmn": DMN.encode()})

    assert "0 executable processes were found: mark the process to run as executable" in page
