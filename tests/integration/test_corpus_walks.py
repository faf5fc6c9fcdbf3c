"""Real third-party diagrams of the corpus, uploaded unchanged through Administration → Processes
and walked to their end over HTTP, as their people would.

Which corpus diagrams are accepted at all is docs/COMPATIBILITY.md; these are the ones the app
runs to the end today.
"""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from app.engine import load_model
from app.extensions import db
from app.models import InstanceStatus, ProcessInstance
from app.services.instances import fire_due_timers
from app.steps import engine
from tests.conftest import person, sign_in
from tests.corpus import CORPUS, upload_name
from tests.diagrams import complete, ready_tasks, refreshed, start_request, text, upload_process


def upload_corpus(client, path: str):
    """Upload one corpus file exactly as published, under the name an upload needs (.bpmn)."""
    file = CORPUS / path
    return upload_process(client, {upload_name(file): file.read_bytes()})


def data_of(instance: ProcessInstance) -> dict:
    instance = refreshed(instance)
    return engine().data(engine().load(load_model(instance.version), instance.state))


INITIATOR_TASKS = [
    # (corpus file, process id, the user task's id and name)
    ("camunda-bpm-platform/InitiatorTest.testInitiator.bpmn20.xml", "InitiatorProcess", "theTask", "my task"),
    ("camunda-bpm-examples/exampleProcess.bpmn", "exampleProcess", "UserTask_14494ua", "Example User Task"),
    # Flowable's REST sample, in the older activiti namespace
    ("flowable-engine/oneTaskProcess.bpmn20.xml", "oneTaskProcess", "theTask", "my task"),
]


@pytest.mark.parametrize(("path", "process_id", "task_id", "task_name"), INITIATOR_TASKS,
                         ids=[row[1] for row in INITIATOR_TASKS])
def test_a_task_for_whoever_started_it(client, path, process_id, task_id, task_name):
    version = upload_corpus(client, path)
    assert version.definition.process_id == process_id and version.active

    instance = start_request(client, "marta", process_id)

    (task,) = ready_tasks(instance)
    assert (task.bpmn_id, task.name) == (task_id, task_name)
    assert [c.user_id for c in task.candidates] == [person("marta").id]  # camunda:assignee="${initiator}"
    assert task_name in text(client.get("/inbox"))
    sign_in(client, "clara")
    assert client.get(f"/tasks/{task.id}").status_code in (403, 404)  # not hers

    complete(client, "marta", task)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.ended_at is not None
    assert ready_tasks(instance) == []
    assert "Nothing is waiting for you" in text(client.get("/inbox"))


def test_python_scripts_build_data(client):
    # SpiffWorkflow's ScriptTest: a dict and a list of dicts, a function defined, a comprehension.
    upload_corpus(client, "spiffworkflow/ScriptTest.bpmn")

    instance = start_request(client, "marta", "Process_1l85e0n")

    assert refreshed(instance).status == InstanceStatus.COMPLETED
    data = data_of(instance)
    assert data["testvar"] == {"a": 1, "b": 2, "new": "Test"}
    assert data["sample"] == ["b", "c"]


def test_an_intermediate_timer_fires(client):
    # SpiffWorkflow's timer.bpmn waits a quarter of a second ("PT0.25S") between start and end.
    upload_corpus(client, "spiffworkflow/timer.bpmn")

    instance = start_request(client, "marta", "timer")

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.RUNNING and instance.next_timer_at is not None
    with freeze_time(instance.next_timer_at + dt.timedelta(seconds=1)):
        assert fire_due_timers() == 1
    db.session.expire_all()
    assert refreshed(instance).status == InstanceStatus.COMPLETED
