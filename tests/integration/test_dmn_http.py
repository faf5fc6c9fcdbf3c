"""A Camunda-style decision model runs from a business rule task, uploaded and walked over HTTP:
FEEL cells, a decision that requires another (a DRD), COLLECT with SUM, and a gateway that
branches on the result (tests/fixtures/diagrams/dinner_budget.bpmn and dinner_cost.dmn)."""

from __future__ import annotations

from app.engine import load_model
from app.extensions import db
from app.models import InstanceStatus, ProcessInstance
from app.steps import engine
from tests.conftest import person
from tests.diagrams import FIXTURES, complete, ready_tasks, refreshed, start_request, upload_process, upload_report

FILES = ("dinner_budget.bpmn", "dinner_cost.dmn")


def files(*names: str) -> dict[str, bytes]:
    return {name: (FIXTURES / "diagrams" / name).read_bytes() for name in names}


def data_of(instance: ProcessInstance) -> dict:
    instance = refreshed(instance)
    return engine().data(engine().load(load_model(instance.version), instance.state))


def test_a_large_dinner_costs_its_sum_and_goes_to_finance(client):
    upload_process(client, files(*FILES))
    # Winter, 10 guests: the Dish decision says Stew (not("Summer") and > 8), so the cost is
    # the room (100) + 20 EUR a guest (200) + children (50) = 350: within the budget.
    small = start_request(client, "marta", "dinner_budget",
                          {"season": "Winter", "guest_count": "10", "guests_with_children": "true"})
    assert refreshed(small).status == InstanceStatus.COMPLETED and refreshed(small).outcome == "dinner_planned"
    data = data_of(small)
    assert data["guests_with_children"] is True, data
    assert data["dinner_cost"] == 350
    assert "dish" not in data  # a required decision's outputs serve the decision that needs them
    # Autumn, 8 guests: Roastbeef ("Fall","Winter" and <= 8) at 45 EUR a guest: 100 + 360 = 460.
    autumn = start_request(client, "marta", "dinner_budget", {"season": "Fall", "guest_count": "8"})
    assert refreshed(autumn).outcome == "dinner_planned" and data_of(autumn)["dinner_cost"] == 460
    # Spring, 8 guests with children: Steak ([1..8]): 100 + 360 + 50 = 510, over 500: finance approves.
    large = start_request(client, "marta", "dinner_budget",
                          {"season": "Spring", "guest_count": "8", "guests_with_children": "true"})
    assert data_of(large)["dinner_cost"] == 510
    [task] = ready_tasks(large, "approve_dinner")
    assert {c.user_id for c in task.candidates} >= {person("felix").id}
    assert person("marta").id not in {c.user_id for c in task.candidates}
    complete(client, "felix", task, {"decision": "approve"})
    db.session.expire_all()
    assert refreshed(large).status == InstanceStatus.COMPLETED and refreshed(large).outcome == "dinner_reviewed"


def test_a_bad_feel_cell_and_a_circle_of_requirements_are_refused_at_upload(client):
    dmn = files("dinner_cost.dmn")["dinner_cost.dmn"].decode()
    broken = dmn.replace("<text>[1..8]</text>", "<text>[1..8</text>")
    report = upload_report(client, {"dinner_budget.bpmn": files(FILES[0])[FILES[0]],
                                    "dinner_cost.dmn": broken.encode()})
    assert "the decision “Dish”, rule 2, column “Guests”: [1..8 is not a FEEL unary test" in report
    circle = dmn.replace('<decisionTable id="dish_table">', '<informationRequirement id="loop">'
                         '<requiredDecision href="#dinner_cost" /></informationRequirement>'
                         '<decisionTable id="dish_table">')
    report = upload_report(client, {"dinner_budget.bpmn": files(FILES[0])[FILES[0]],
                                    "dinner_cost.dmn": circle.encode()})
    assert "the decisions require each other in a circle" in report


def test_every_decision_of_every_uploaded_file_is_found(client):
    dmn = files("dinner_cost.dmn")["dinner_cost.dmn"].decode()
    bpmn = files(FILES[0])[FILES[0]]
    # The decision search lists each decision of each file; Camunda's dinner file holds two.
    report = upload_report(client, {"dinner_budget.bpmn": bpmn,
                                    "dinner_decisions.dmn": files("dinner_decisions.dmn")["dinner_decisions.dmn"]})
    assert "the decision 'dinner_cost' is in none of the uploaded .dmn files (decisions found: beverages, dish)" \
        in report
    # Camunda's own file, as its example ships it (DMN 1.1, a duplicated requirement, empty cells):
    # a task calling Beverages passes, Dish counting as used through the requirement.
    calls_beverages = bpmn.replace(b'decisionRef="dinner_cost"', b'decisionRef="beverages"')
    report = upload_report(client, {"dinner_budget.bpmn": calls_beverages,
                                    "dinner_decisions.dmn": files("dinner_decisions.dmn")["dinner_decisions.dmn"]})
    assert "No errors" in report and "No warnings" in report, report
    # The Dish decision in a file of its own: the requirement is found across files, and a
    # decision only required by the called one is not reported as unused.
    start, end = dmn.index('  <decision id="dish"'), dmn.index('  <decision id="dinner_cost"')
    head, tail = dmn[:start], dmn[dmn.index("  <dmndi:DMNDI>"):]
    dish_only = (head.replace('id="dinner_cost_definitions"', 'id="dish_definitions"') + dmn[start:end]
                 + "</definitions>\n")
    cost_only = head + dmn[end:dmn.index("  <dmndi:DMNDI>")] + "</definitions>\n"
    assert tail and "dish_rule_spring" in dish_only and "dish_rule_spring" not in cost_only
    split = {"dinner_budget.bpmn": bpmn, "dish.dmn": dish_only.encode(), "dinner_cost.dmn": cost_only.encode()}
    report = upload_report(client, split)
    assert "No errors" in report and "No warnings" in report, report
    upload_process(client, split)
    request = start_request(client, "marta", "dinner_budget", {"season": "Summer", "guest_count": "4"})
    assert data_of(request)["dinner_cost"] == 100 + 20 * 4  # Salad
    assert refreshed(request).outcome == "dinner_planned"
