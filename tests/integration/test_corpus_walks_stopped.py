"""Corpus diagrams (docs/COMPATIBILITY.md) that are accepted but cannot be walked to their end
as published: their engine tests hand them variables from Java (the start or a task's
completion), which no form here gives. The request then stops with one plain line naming
the variable, and nothing is saved, as Camunda refuses an unknown variable."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ProcessInstance
from tests.conftest import post_form, sign_in
from tests.diagrams import ready_tasks, start_request, text
from tests.integration.test_corpus_walks_engine import upload_corpus

NOT_STARTED = [
    # (corpus file, process id, why it cannot start)
    ("camunda-bpm-platform/MultiInstanceTest.sequentialUserTasks.bpmn20.xml", "miSequentialUserTasks",
     "Error evaluating expression 'nrOfLoops': the variable 'nrOfLoops' is not set"),
    ("camunda-bpm-platform/MultiInstanceTest.testParallelUserTasksBasedOnCollection.bpmn20.xml",
     "miParallelUserTasksBasedOnCollection", "the collection assigneeList is missing"),
    ("spiffworkflow/parallel_multiinstance_collection.bpmn", "main", "the collection input_data is missing"),
]


@pytest.mark.parametrize(("path", "process_id", "why"), NOT_STARTED, ids=[row[1] for row in NOT_STARTED])
def test_a_start_without_the_variables_the_engine_test_passes_is_refused_plainly(client, path, process_id, why):
    upload_corpus(client, path)
    sign_in(client, "marta")

    response = post_form(client, f"/start/{process_id}", {})

    assert response.status_code == 400
    page = text(response)
    assert f"“{process_id}” could not start: {why}" in page
    assert "Did you mean" not in page and "initiator_id" not in page  # no internal variable names
    assert db.session.query(ProcessInstance).count() == 0


def test_an_inclusive_gateway_whose_data_comes_from_the_engine_test_stops_the_task_plainly(client):
    # SpiffWorkflow's inclusive_gateway.bpmn: its test sets u, v and w in the "Set Data" task's
    # data directly; the task has no form here, so sending it stops at the gateway's conditions.
    upload_corpus(client, "spiffworkflow/inclusive_gateway.bpmn")
    instance = start_request(client, "marta", "main")
    (task,) = ready_tasks(instance)
    assert task.name == "Set Data"
    sign_in(client, "admin")  # nobody is named: it waits for the administrators

    response = post_form(client, f"/tasks/{task.id}", {})

    assert response.status_code == 400
    page = text(response)
    assert "nothing was saved: Error evaluating expression 'u > 0': the variable 'u' is not set" in page
    assert "Did you mean" not in page
    assert ready_tasks(instance) == [task]
