"""JUEL as Camunda's examples write it and camunda:inputOutput, walked over HTTP.

tests/fixtures/diagrams/juel_mappings.bpmn: a script task builds a record with input
parameters (an expression, a list, a map, a Python camunda:script) and hands parts of it back
through output parameters; a service task gets its working group from an input parameter; the
gateways read that record with equals, dotted and indexed access, getVariable, ternaries and
empty; a user task's form shows an input parameter as its default and maps its answers back.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.engine import load_model
from app.extensions import db
from app.models import GroupMembership, HumanTask, InstanceStatus, WorkingGroup
from app.steps.registry import engine
from tests.conftest import sign_in
from tests.diagrams import (
    FIXTURES,
    complete,
    ready_tasks,
    refreshed,
    start_request,
    upload_process,
    upload_report,
)

DIAGRAM = {"juel_mappings.bpmn": (FIXTURES / "diagrams" / "juel_mappings.bpmn").read_bytes()}
LOCALS = ("supplier_name", "limit", "tags", "labels", "rounded", "working_group_id", "review_hint", "same_name")


def _data(instance) -> dict:
    instance = refreshed(instance)
    return engine().data(engine().load(load_model(instance.version), instance.state))


def _busiest_group() -> tuple[int, int]:
    """A demo working group with members, and how many it has."""
    count = func.count(GroupMembership.id)
    row = db.session.execute(select(WorkingGroup.id, count).join(GroupMembership, GroupMembership.group_id
                                                                == WorkingGroup.id)
                             .group_by(WorkingGroup.id).order_by(count.desc())).first()
    assert row is not None and row[1] > 0
    return row[0], row[1]


def test_a_belgian_order_is_reviewed_with_the_mapped_values(client):
    upload_process(client, DIAGRAM)
    group_id, members = _busiest_group()
    instance = start_request(client, "marta", "juel_mappings",
                             {"supplier": "Acme", "country": "BE", "amount": "6000", "group_id": str(group_id)})
    data = _data(instance)
    # The script task's outputs, read from its own variables and its inputs.
    assert data["customer"] == {"supplier": {"name": "Acme", "country": "BE"}, "tags": ["new", "BE"],
                                "limit": 12000}
    assert data["label_kind"] == "supplier" and data["checked_by"] == "the app"
    assert data["double_amount"] == 12000 and data["thousands"] == 6
    # The service task counted the group its input parameter named.
    assert data["members"] == members
    # Input parameters are the activity's own: those of the script and service tasks are gone;
    # the waiting review's data holds its own, the request's "supplier" covered by one.
    for name in LOCALS[:6]:
        assert name not in data, name
    assert data["review_hint"] == "Large order: check twice"
    assert data["supplier"] == "shown to the reviewer only"

    (task,) = ready_tasks(instance, "review_supplier")
    sign_in(client, "clara")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'value="Large order: check twice"' in page  # the form's ${review_hint} default, an input parameter
    assert "Review the supplier" in page
    complete(client, "clara", task, {"note": "Known supplier", "decision": "approve"})

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED, instance.error
    assert instance.outcome == "end_approved"
    data = _data(instance)
    assert data["review_outcome"] == "approve" and data["review_note"] == "Known supplier"
    # The user task's input "supplier" covered the request's value only while the task was open.
    assert data["supplier"] == "Acme"
    assert data["approval"] == "approved as named"
    assert data["approval_text"] == f"Approved: Acme ({members} members)"
    for name in LOCALS:
        assert name not in data, name


def test_a_foreign_order_takes_the_branch_its_juel_condition_names(client):
    upload_process(client, DIAGRAM)
    instance = start_request(client, "marta", "juel_mappings",
                             {"supplier": "Globex", "country": "NL", "amount": "300"})
    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED, instance.error
    assert instance.outcome == "end_abroad"
    assert not db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    data = _data(instance)
    assert data["members"] == 0  # no group named: the input parameter was null
    assert data["customer"]["tags"] == ["new", "NL"]


def test_a_small_belgian_order_ends_by_the_default_flow(client):
    upload_process(client, DIAGRAM)
    instance = start_request(client, "marta", "juel_mappings",
                             {"supplier": "Initech", "country": "BE", "amount": "900"})
    instance = refreshed(instance)
    assert instance.outcome == "end_small", instance.error


def test_the_diagram_is_accepted_without_a_warning(client):
    report = upload_report(client, DIAGRAM)
    assert "No errors" in report and "No warnings." in report


def test_the_report_names_the_flow_whose_juel_cannot_run(client):
    bad = DIAGRAM["juel_mappings.bpmn"].replace(
        b"double_amount &gt; 2000}", b"double_amount.intValue() &gt; 2000}")
    report = upload_report(client, {"juel_mappings.bpmn": bad})
    assert "flow_review" in report
    assert "method calls (.intValue(...)) are not supported" in report


def test_the_report_names_the_task_whose_mapping_cannot_run(client):
    bad = DIAGRAM["juel_mappings.bpmn"].replace(
        b'<camunda:script scriptFormat="python">', b'<camunda:script scriptFormat="groovy">')
    report = upload_report(client, {"juel_mappings.bpmn": bad})
    assert "build_record" in report and "Build the supplier record" in report
    assert "a camunda:script in groovy does not run here" in report
