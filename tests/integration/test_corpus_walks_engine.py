"""More real third-party diagrams of the corpus (docs/COMPATIBILITY.md), uploaded unchanged
through Administration → Processes and walked to their end over HTTP: multi-instance, call
activities, messages, decisions, errors, escalations, signals, event-based gateways, and names
the app does not know, mapped under Administration → Names in diagrams.

Steps that name nobody wait for the administrators (docs/DIAGRAMS.md, *People*), so the
administrator does them here, on a browser of their own (their sign-in takes a one-time code).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    HumanTask,
    InstanceStatus,
    OutboxMessage,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    Role,
    TaskState,
    User,
)
from app.services.diagram_checks import check_upload
from tests.conftest import loaded, person, post_form, sign_in
from tests.corpus import CORPUS, upload_name
from tests.diagrams import (
    FIXTURES,
    complete,
    history,
    ready_tasks,
    refreshed,
    start_request,
    text,
    upload_process,
    waiting_for,
)
from tests.integration.test_corpus_walks import data_of

PLATFORM = "camunda-bpm-platform"


@pytest.fixture
def other(app):
    """A second browser, for everyone but the administrator."""
    return app.test_client()


def upload_corpus(client, *paths: str):
    """Upload corpus files together, exactly as published; the stored version."""
    files = {upload_name(CORPUS / path): (CORPUS / path).read_bytes() for path in paths}
    return upload_process(client, files)


def as_admin(client) -> None:
    if client.get("/admin/").status_code != 200:
        sign_in(client, "admin")


def admin_completes(client, task: HumanTask, data: dict | None = None) -> None:
    as_admin(client)
    loaded(client.get(f"/tasks/{task.id}"))
    response = post_form(client, f"/tasks/{task.id}", data or {})
    assert response.status_code == 302, text(response)[:3000]






def task_states(instance: ProcessInstance) -> list[tuple[str, str, TaskState]]:
    db.session.expire_all()
    return [(t.bpmn_id, t.name, t.state) for t in db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.id))]


NOBODY_NAMED = ("Nobody is named for this step: the diagram gives it no lane or assignment. "
                "It waits for the administrators; an administrator can reassign it.")


def emailed(task: HumanTask) -> set[str]:
    """The first names of the people e-mailed about ``task``."""
    db.session.expire_all()
    return {address.split("@")[0].split(".")[0] for address in db.session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.task_id == task.id))}


def requests_of(process_id: str) -> list[ProcessInstance]:
    """The requests of a process, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(
        select(ProcessInstance).join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .join(ProcessDefinition).where(ProcessDefinition.process_id == process_id).order_by(ProcessInstance.id)))


def map_name(client, name: str, stands_for: str) -> None:
    """Administration → Names in diagrams → Add: ``name`` stands for ``stands_for``."""
    as_admin(client)
    loaded(client.get("/admin/names/new"))
    response = post_form(client, "/admin/names/new", {"name": name, "stands_for": stands_for})
    assert response.status_code == 302, text(response)[:3000]


# --- multi-instance ------------------------------------------------------------------------


def test_parallel_user_tasks_end_when_half_are_done(client, other):
    # Camunda's MultiInstanceTest: five parallel tasks (loopCardinality ${5}), done once
    # nrOfCompletedInstances/nrOfInstances >= 0.5. Nobody is named: the administrators do them.
    upload_corpus(client, f"{PLATFORM}/MultiInstanceTest.testParallelUserTasksCompletionCondition.bpmn20.xml")
    instance = start_request(other, "marta", "miParallelUserTasksCompletionCondition")

    tasks = ready_tasks(instance, "miTasks")
    # name="My Task ${loopCounter}": worked out for each instance, as Camunda names them
    assert [t.name for t in tasks] == [f"My Task {n}" for n in range(5)]
    assert all(waiting_for(t) == {"admin"} for t in tasks)
    as_admin(client)
    assert "My Task 4" in text(client.get("/inbox"))
    assert history(instance).count(NOBODY_NAMED) == 5
    assert ready_tasks(instance) == tasks  # nothing else waits
    sign_in(other, "marta")
    assert other.get(f"/tasks/{tasks[0].id}").status_code in (403, 404)  # not hers

    for done, task in enumerate(tasks[:3], start=1):
        assert refreshed(instance).status == InstanceStatus.RUNNING
        admin_completes(client, task)
        assert len(ready_tasks(instance, "miTasks")) == (5 - done if done < 3 else 0)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"
    assert [state for *_, state in task_states(instance)] == [TaskState.COMPLETED] * 3 + [TaskState.CANCELLED] * 2
    lines = history(instance)
    assert [f"{person('admin').name} completed My Task {n}" in lines for n in range(5)] == [True] * 3 + [False] * 2
    assert [line for line in lines if "withdrawn" in line] == [
        f"My Task {n} withdrawn: enough of the others were done" for n in (3, 4)]


def test_a_sequential_subprocess_runs_four_times_with_two_parallel_tasks_each(client, other):
    # Camunda's MultiInstanceTest.testSequentialSubProcess: loopCardinality 4, each round forks
    # "task one" and "task two"; the next round starts only when both are done.
    upload_corpus(client, f"{PLATFORM}/MultiInstanceTest.testSequentialSubProcess.bpmn20.xml")
    instance = start_request(other, "marta", "miSequentialSubprocess")

    for _round in range(4):
        tasks = ready_tasks(instance)
        assert sorted((t.bpmn_id, t.name) for t in tasks) == [("subProcessTask1", "task one"),
                                                              ("subProcessTask2", "task two")]
        assert all(waiting_for(t) == {"admin"} for t in tasks)
        admin_completes(client, tasks[0])
        assert [t.id for t in ready_tasks(instance)] == [tasks[1].id]  # the round waits for both
        admin_completes(client, tasks[1])

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"
    assert ready_tasks(instance) == [] and len(task_states(instance)) == 8


# --- decisions -----------------------------------------------------------------------------


def test_a_business_rule_task_sums_a_collect_decision(client, other):
    # Camunda's HistoricDecisionInstanceTest: the business rule task calls testDecision, a
    # COLLECT SUM table whose two rules always match (outputs 1 and 2). Its output goes into the
    # data under the output's name; camunda:resultVariable="result" is ignored (a warning).
    version = upload_corpus(client, f"{PLATFORM}/HistoricDecisionInstanceTest.processWithBusinessRuleTask.bpmn20.xml",
                            f"{PLATFORM}/HistoricDecisionInstanceTest.decisionCollectSum.dmn11.xml")
    assert version.definition.process_id == "testProcess"

    instance = start_request(other, "marta", "testProcess")

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end"
    data = data_of(instance)
    assert data["result1"] == 3 and "result" not in data
    assert task_states(instance) == []


# --- errors, escalations -------------------------------------------------------------------


def test_an_error_end_event_in_a_subprocess_is_caught_by_its_boundary_event(client, other):
    # Camunda's BoundaryErrorEventTest: the subprocess's task, then an error end event (code
    # 123); the boundary event without a code catches any error and leads to another task.
    upload_corpus(client, f"{PLATFORM}/BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocess.bpmn20.xml")
    instance = start_request(other, "marta", "boundaryErrorOnEmbeddedSubprocess")

    (task,) = ready_tasks(instance)
    assert (task.bpmn_id, task.name, waiting_for(task)) == ("subprocessTask", "subprocessTask", {"admin"})
    admin_completes(client, task)

    (after,) = ready_tasks(instance)
    assert (after.bpmn_id, after.name, waiting_for(after)) == (
        "taskAfterErrorCatch", "task after catching the error", {"admin"})
    lines = history(instance)
    assert "The error “123” was thrown at “subprocessEnd”" in lines
    assert "An error stopped “subprocess”; the request went on at “catchError”" in lines
    admin_completes(client, after)

    instance = refreshed(instance)
    # flow2 leads to the task and no further: the request ends there, as in Camunda
    assert instance.status == InstanceStatus.COMPLETED
    assert [(bpmn_id, state) for bpmn_id, _, state in task_states(instance)] == [
        ("subprocessTask", TaskState.COMPLETED), ("taskAfterErrorCatch", TaskState.COMPLETED)]


def test_an_escalation_interrupts_its_subprocess(client, other):
    # Camunda's EscalationEventTest: the subprocess raises an escalation before its task; the
    # interrupting boundary event stops the subprocess, so its task never opens.
    upload_corpus(client, f"{PLATFORM}/EscalationEventTest.testInterruptingEscalationBoundaryEvent.bpmn20.xml")
    instance = start_request(other, "marta", "escalationProcess")

    (task,) = ready_tasks(instance)
    assert (task.bpmn_id, task.name, waiting_for(task)) == (
        "taskAfterCatchedEscalation", "task after catched escalation", {"admin"})
    lines = history(instance)
    assert "The escalation “escalation” was raised at “escalationThrowingEvent”" in lines
    assert ("The escalation “escalation” stopped “subProcess”; the request went on at “escalationBoundaryEvent”"
            in lines)
    admin_completes(client, task)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"
    assert [bpmn_id for bpmn_id, *_ in task_states(instance)] == ["taskAfterCatchedEscalation"]



def test_an_escalation_starts_a_non_interrupting_event_subprocess(client, other):
    # Camunda's EscalationEventSubprocessTest: the same escalation, caught this time by a
    # non-interrupting event subprocess of the process: its task opens beside the subprocess's.
    upload_corpus(client, f"{PLATFORM}/EscalationEventSubprocessTest.testCatchEscalationEventFromEmbeddedSubprocess"
                          ".bpmn20.xml")
    instance = start_request(other, "marta", "escalationProcess")

    tasks = ready_tasks(instance)
    assert [(t.bpmn_id, t.name) for t in tasks] == [("taskInSubprocess", "task in subprocess"),
                                                    ("taskAfterCatchedEscalation", "task after catched escalation")]
    assert all(waiting_for(t) == {"admin"} for t in tasks)
    assert "The escalation “escalation” started “escalationEventSubprocess”" in history(instance)

    admin_completes(client, tasks[1])  # the event subprocess ends; the request goes on
    assert refreshed(instance).status == InstanceStatus.RUNNING
    assert [t.id for t in ready_tasks(instance)] == [tasks[0].id]
    admin_completes(client, tasks[0])

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"


def test_a_signal_starts_an_event_subprocess(client, other):
    # SpiffWorkflow's event-subprocess.bpmn: the process throws the signal "start_sub", which
    # starts its event subprocess (interrupting); the request ends at the event subprocess's end.
    upload_corpus(client, "spiffworkflow/event-subprocess.bpmn")
    instance = start_request(other, "marta", "main")

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "Event_17xen75"
    lines = history(instance)
    assert lines.index("The signal “start_sub” was sent at “Event_1o52hta”") < lines.index(
        "The signal “start_sub” started “sub”") < lines.index("“task” was passed through: nobody had to do it")
    assert task_states(instance) == []


def test_a_message_interrupts_a_subprocess(client, other):
    # Camunda's MessageBoundaryEventTest: two message boundary events on a subprocess; the
    # administrator sends "messageName_one", which withdraws the subprocess's task.
    upload_corpus(client, f"{PLATFORM}/MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess.bpmn20.xml")
    instance = start_request(other, "marta", "process")
    (inside,) = ready_tasks(instance)
    assert inside.bpmn_id == "taskSubProcess" and waiting_for(inside) == {"admin"}

    as_admin(client)
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "messageName_one" in page and "messageName_two" in page
    response = post_form(client, f"/monitor/instances/{instance.id}/message",
                         {"message": "messageName_one", "payload": ""})
    assert response.status_code == 302, text(response)[:2000]

    (after,) = ready_tasks(instance)
    assert after.bpmn_id == "taskAfterMessage_one" and waiting_for(after) == {"admin"}
    assert "taskSubProcess withdrawn" in history(instance)
    assert "messageName_two" not in text(client.get(f"/monitor/instances/{instance.id}"))  # no longer waited for
    admin_completes(client, after)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"
    assert [(bpmn_id, state) for bpmn_id, _, state in task_states(instance)] == [
        ("taskSubProcess", TaskState.CANCELLED), ("taskAfterMessage_one", TaskState.COMPLETED)]

# --- names the app does not know --------------------------------------------------------


def test_a_financial_report_goes_to_the_people_its_group_names_stand_for(client, other):
    # Flowable's FinancialReportProcess: potentialOwner "accountancy" writes the report,
    # "management" verifies it. Until mapped, the first task waits for the administrators.
    upload_corpus(client, "flowable-engine/FinancialReportProcess.bpmn20.xml")
    instance = start_request(other, "marta", "financialReport")
    (write,) = ready_tasks(instance)
    assert (write.bpmn_id, write.name, waiting_for(write)) == (
        "writeReportTask", "Write monthly financial report", {"admin"})
    assert ("Nobody is named for this step yet: an administrator can map ‘accountancy’ under "
            "Administration → Names in diagrams. Until then it waits for the administrators.") in history(instance)

    map_name(client, "accountancy", f"person:{person('felix').id}")
    assert waiting_for(write) == {"felix"}  # moved at once
    assert "felix" in emailed(write)
    map_name(client, "Management", "role:coordinator")  # capitals do not matter
    sign_in(other, "clara")
    assert other.get(f"/tasks/{write.id}").status_code in (403, 404)  # not hers

    complete(other, "felix", write)
    (verify,) = ready_tasks(instance)
    coordinators = {u.email.split("@")[0].split(".")[0] for u in db.session.scalars(select(User))
                    if u.active and u.has_role(Role.COORDINATOR)}
    assert "clara" in coordinators and "marta" not in coordinators
    assert (verify.bpmn_id, verify.name, waiting_for(verify)) == (
        "verifyReportTask", "Verify monthly financial report", coordinators)
    assert emailed(verify) == coordinators
    complete(other, "clara", verify)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"
    lines = history(instance)
    assert f"{person('felix').name} completed Write monthly financial report" in lines
    assert f"{person('clara').name} completed Verify monthly financial report" in lines


# --- event-based gateway ---------------------------------------------------------------


def test_an_event_based_gateway_follows_the_timer_that_comes_first(client, other):
    # Camunda's EventBasedGatewayTest.testCatchAlertAndTimer: the gateway waits for the signal
    # "alert" or a timer of PT0S; the timer comes first, so "afterTimer" opens for kermit.
    upload_corpus(client, f"{PLATFORM}/EventBasedGatewayTest.testCatchAlertAndTimer.bpmn20.xml")
    instance = start_request(other, "marta", "catchSignal")

    (task,) = ready_tasks(instance)
    assert (task.bpmn_id, task.name, waiting_for(task)) == ("task1", "afterTimer", {"admin"})
    lines = history(instance)
    assert "“Alert” came first at “gw1”" in lines
    assert any("can map ‘kermit’" in line for line in lines)
    assert refreshed(instance).next_timer_at is None  # the other wait is dropped

    map_name(client, "kermit", f"person:{person('felix').id}")
    assert waiting_for(task) == {"felix"}
    complete(other, "felix", task)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end"
    assert [(bpmn_id, state) for bpmn_id, _, state in task_states(instance)] == [("task1", TaskState.COMPLETED)]


# --- messages --------------------------------------------------------------------------


def test_a_request_waits_for_a_message_the_administrator_sends(client, other):
    # Camunda's MessageIntermediateEventTest: the request waits for "newInvoiceMessage", then a
    # task. The administrator sends the message from the request's monitoring page.
    upload_corpus(client, f"{PLATFORM}/MessageIntermediateEventTest.testSingleIntermediateMessageEvent.bpmn20.xml")
    instance = start_request(other, "marta", "process")
    assert ready_tasks(instance) == [] and refreshed(instance).status == InstanceStatus.RUNNING

    as_admin(client)
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "Waiting for messages “newInvoiceMessage”" in page
    response = post_form(client, f"/monitor/instances/{instance.id}/message",
                         {"message": "newInvoiceMessage", "payload": "invoice=INV-7"})
    assert response.status_code == 302, text(response)[:2000]

    (task,) = ready_tasks(instance)
    assert (task.bpmn_id, task.name, waiting_for(task)) == ("task", "Task", {"admin"})
    assert data_of(instance)["invoice"] == "INV-7"
    assert f"{person('admin').name} sent the message “newInvoiceMessage”" in history(instance)
    admin_completes(client, task)

    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "theEnd"


def test_a_message_from_another_request_starts_a_request(client, other):
    # Camunda's message-start example: Message_Start_Process starts only by the message
    # "instantiationMessage" (Camunda's example sends it from Java). Here a small diagram of ours
    # sends it; each such message starts a new request, by the sender's requester, with its data.
    upload_corpus(client, "camunda-bpm-examples/message_start_process.bpmn")
    sign_in(other, "marta")
    assert other.get("/start/Message_Start_Process").status_code == 403  # it starts only by a message
    sender = "corpus_start_by_message"
    files = {f"{sender}.bpmn": (FIXTURES / "diagrams" / f"{sender}.bpmn").read_bytes()}
    report = check_upload(files)
    assert report.ok and not report.warnings, report.as_text()
    upload_process(client, files)

    start_request(other, "marta", sender, {"reference": "ORD-12", "amount": "40"})
    (asking,) = requests_of(sender)
    (started,) = requests_of("Message_Start_Process")
    assert refreshed(asking).status == InstanceStatus.COMPLETED
    assert started.initiator_id == person("marta").id
    assert any(line.startswith("The message “Send the message” was sent to") for line in history(asking))
    data = data_of(started)
    assert (data["reference"], data["amount"]) == ("ORD-12", 40)

    (task,) = ready_tasks(started)
    assert (task.bpmn_id, task.name, waiting_for(task)) == ("UserTask_1", "Wait in Message Process", {"admin"})
    assert "admin" in emailed(task)
    admin_completes(client, task)

    started = refreshed(started)
    assert started.status == InstanceStatus.COMPLETED and started.outcome == "EndEvent_1"
    # a second message starts a second request
    start_request(other, "marta", sender, {"reference": "ORD-13", "amount": "5"})
    first, second = requests_of("Message_Start_Process")
    assert first.id == started.id and data_of(second)["reference"] == "ORD-13"
    assert [t.bpmn_id for t in ready_tasks(second)] == ["UserTask_1"]


# --- call activities -----------------------------------------------------------------------


def test_a_call_activity_runs_the_called_process_inside_the_request(client, other):
    # Flowable's orderProcess calls checkCreditProcess (uploaded first). Its gateway reads
    # creditApproved, which Flowable's test passes in when it completes the task from Java: no
    # form sets it here, so sending the task stops with the reason and nothing is saved, as
    # Camunda and Flowable would refuse an unknown variable.
    upload_corpus(client, "flowable-engine/checkCreditProcess.bpmn20.xml")
    upload_corpus(client, "flowable-engine/orderProcess.bpmn20.xml")
    instance = start_request(other, "marta", "orderProcess")

    (verify,) = ready_tasks(instance)
    assert verify.name == "Verify credit history (checkCreditProcess)" and waiting_for(verify) == {"admin"}
    assert "“Receive Order” was passed through: nobody had to do it" in history(instance)
    as_admin(client)
    loaded(client.get(f"/tasks/{verify.id}"))
    response = post_form(client, f"/tasks/{verify.id}", {})
    assert response.status_code == 400
    assert "the variable 'creditApproved' is not set" in text(response)
    assert ready_tasks(instance) == [verify] and refreshed(instance).status == InstanceStatus.RUNNING

