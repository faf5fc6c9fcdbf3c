"""Reading Camunda 7's ways of naming people, and working out assignment expressions."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from lxml import etree

from app.engine.assignments import AssignmentError, evaluate_assignment, split_names
from app.engine.parser import assignment_from_xml
from app.steps.names import lane_kind

TASK = """<bpmn:userTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="t" {attributes}>{inner}</bpmn:userTask>"""


def owner(tag: str, text: str) -> str:
    return (f"<bpmn:{tag}><bpmn:resourceAssignmentExpression><bpmn:formalExpression>{text}"
            f"</bpmn:formalExpression></bpmn:resourceAssignmentExpression></bpmn:{tag}>")


def read(attributes: str = "", inner: str = "") -> dict:
    return assignment_from_xml(etree.fromstring(TASK.format(attributes=attributes, inner=inner)))


def test_potential_owner_names_users_and_groups_and_a_bare_name_is_a_group():
    found = read(inner=owner("potentialOwner", "user(kermit), group(management), accounting"))
    assert found == {"assignee": None, "candidate_users": ("kermit",), "candidate_groups": ("management", "accounting")}


def test_human_performer_is_the_assignee_and_camunda_attributes_come_first():
    assert read(inner=owner("humanPerformer", " kermit "))["assignee"] == "kermit"
    found = read('camunda:assignee="demo" camunda:candidateGroups="sales"',
                 owner("humanPerformer", "kermit") + owner("potentialOwner", "group(sales), user(${boss})"))
    assert found == {"assignee": "demo", "candidate_users": ("${boss}",), "candidate_groups": ("sales",)}


def test_commas_inside_an_expression_do_not_split_it():
    assert split_names("a, ${f(x, y)}, user(b, c),  d  e ") == ["a", "${f(x, y)}", "user(b, c)", "d e"]


@pytest.mark.parametrize(("expression", "data", "names"), [
    ("${reviewer}", {"reviewer": "felix@example.eu"}, ["felix@example.eu"]),
    ("#{panel}", {"panel": ["a@example.eu", "finance", "a@example.eu"]}, ["a@example.eu", "finance"]),
    ("${panel}", {"panel": "coordinator, finance"}, ["coordinator", "finance"]),
    ("${amount > 10 ? boss : clerk}",
     {"amount": Decimal("20"), "boss": "boss@example.eu", "clerk": "c@example.eu"}, ["boss@example.eu"]),
    ("${backup}", {"backup": None}, []),
    ("${backup}", {"backup": ""}, []),
])
def test_an_expression_gives_addresses_or_names(expression, data, names):
    assert evaluate_assignment(expression, data) == names


@pytest.mark.parametrize(("expression", "data", "words"), [
    ("${reviewer}", {}, "the request's data has no reviewer"),
    ("${amount}", {"amount": 5}, "it gave 5, not an email address or a name"),
    ("${ == }", {}, ""),  # not JUEL: juel.py says why
])
def test_an_expression_that_cannot_be_worked_out_says_why(expression, data, words):
    with pytest.raises(AssignmentError, match=re.escape(words) if words else None):
        evaluate_assignment(expression, data)


def test_the_start_events_initiator_variable_reads_as_the_person_who_started_the_request():
    node = etree.fromstring(TASK.format(attributes='camunda:assignee="${starter}" camunda:candidateUsers="#{starter}, '
                                                   '${reviewer}"', inner=""))
    assert assignment_from_xml(node, "starter") == {
        "assignee": "${initiator}", "candidate_users": ("${initiator}", "${reviewer}"), "candidate_groups": ()}
    assert assignment_from_xml(node)["assignee"] == "${starter}"  # no camunda:initiator: an ordinary expression


@pytest.mark.parametrize(("lane", "kind"), [
    ("Group members", "group_members"), ("group_members", "group_members"), ("Group lead", "group_lead"),
    ("Claimant", "initiator"), ("Finance", "finance"), ("Members", None),
])
def test_lane_names_the_app_knows(lane, kind):
    assert lane_kind(lane) == kind
