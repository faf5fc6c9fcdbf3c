"""Multi-instance user tasks and subprocesses, as Camunda Modeler draws them, walked over HTTP:
one task per member organisation, each e-mailed on its own, "2 of 3 done" in the inbox, and a
completion condition that withdraws the rest."""

from __future__ import annotations

from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import AuditEvent, HumanTask, InstanceStatus, OutboxMessage, TaskState
from app.outbox.compose import written_message
from app.services.diagram_checks import check_upload
from app.steps import engine
from tests.conftest import loaded, person, sign_in
from tests.diagrams import (
    FIXTURES,
    complete,
    ready_tasks,
    refreshed,
    start_request,
    text,
    upload_process,
    upload_report,
)

MEMBERS = "Tallinn City, Riga, Vilnius"


def fixture(name: str) -> dict[str, bytes]:
    return {f"{name}.bpmn": (FIXTURES / "diagrams" / f"{name}.bpmn").read_bytes()}


def start(client, name: str):
    upload_process(client, fixture(name))
    return start_request(client, "marta", name, {"paper": "Green cloud procurement", "member_names": MEMBERS})


def emails_for(task: HumanTask) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.task_id == task.id)))


def inbox(client, who: str) -> str:
    sign_in(client, who)
    response = client.get("/inbox")
    loaded(response)
    return text(response)


def test_a_parallel_multi_instance_task_is_one_task_per_member_until_all_are_done(client):
    instance = start(client, "mi_parallel")
    tasks = ready_tasks(instance, "endorse")
    assert [t.name for t in tasks] == ["Endorse: Tallinn City", "Endorse: Riga", "Endorse: Vilnius"]
    assert [(t.loop_counter, t.loop_total) for t in tasks] == [(0, 3), (1, 3), (2, 3)]
    assert len({t.loop_key for t in tasks}) == 1
    assert refreshed(instance).current_step == "Endorse"
    clara = person("clara")
    for task in tasks:  # each instance waits for the coordinators and is e-mailed on its own
        assert clara.id in {c.user_id for c in task.candidates}
        mails = [written_message(m) for m in emails_for(task) if m.recipient_id == clara.id]
        assert len(mails) == 1 and f"Endorse: {task.loop_label}" in mails[0].subject
        assert f"— please endorse for {task.loop_label}." in " ".join(mails[0].text.split())
    assert "0 of 3 done" in inbox(client, "clara")

    complete(client, "clara", tasks[0], {"decision": "approve", "comment": "Fine for Tallinn"})
    page = inbox(client, "clara")
    assert "Endorse: Riga 1 of 3 done" in page and "Endorse: Tallinn City" not in page
    complete(client, "clara", tasks[1], {"decision": "approve"})
    sign_in(client, "clara")
    assert "One of 3 like it: 2 of 3 done." in text(client.get(f"/tasks/{tasks[2].id}"))
    assert ready_tasks(instance, "send_result") == []
    complete(client, "clara", tasks[2], {"decision": "reject", "comment": "Not for Vilnius"})

    [send] = ready_tasks(instance)
    assert send.bpmn_id == "send_result" and send.loop_key is None and send.name == "Send the result"
    sign_in(client, "marta")
    page = text(client.get(f"/tasks/{send.id}"))
    assert "Send the result" in page and " done." not in page
    complete(client, "marta", send, {"sent": "y"})
    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_sent"
    # Each instance's data went into the request's, the last one completed winning; its element
    # variable and loopCounter stayed with it.
    data = engine().data(engine().load(load_model(instance.version), instance.state))
    assert data["decision"] == "reject" and data["comment"] == "Not for Vilnius"
    assert "member" not in data and "loopCounter" not in data
    sign_in(client, "admin")
    monitor = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "Endorse: Tallinn City – Clara" in monitor and "Endorse: Vilnius – Clara" in monitor
    history = [e.summary for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "task_completed"))]
    assert any("completed Endorse: Riga" in s for s in history)


def test_a_sequential_multi_instance_task_opens_one_member_after_another(client):
    instance = start(client, "mi_sequential")
    names = []
    for done in range(3):
        [task] = ready_tasks(instance)
        names.append(task.name)
        assert (task.loop_counter, task.loop_total) == (done, 3)
        assert f"{done} of 3 done" in inbox(client, "clara")
        complete(client, "clara", task, {"decision": "approve"})
    assert names == ["Endorse: Tallinn City", "Endorse: Riga", "Endorse: Vilnius"]
    [send] = ready_tasks(instance)
    assert send.bpmn_id == "send_result"


def test_a_completion_condition_ends_early_and_withdraws_the_rest(client):
    instance = start(client, "mi_quorum")
    tallinn, riga, vilnius = ready_tasks(instance, "endorse")
    complete(client, "clara", tallinn, {"decision": "approve"})
    assert len(ready_tasks(instance, "endorse")) == 2  # 1/3 < 0.6
    complete(client, "clara", vilnius, {"decision": "approve"})  # 2/3 >= 0.6: enough

    [send] = ready_tasks(instance)
    assert send.bpmn_id == "send_result"
    db.session.expire_all()
    riga = db.session.get(HumanTask, riga.id)
    assert riga.state == TaskState.CANCELLED
    withdrawn = db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.task_id == riga.id, AuditEvent.action == "task_withdrawn"))
    assert withdrawn == "Endorse: Riga withdrawn: enough of the others were done"
    assert "Endorse: Riga" not in inbox(client, "clara")
    sign_in(client, "clara")
    page = text(client.get(f"/tasks/{riga.id}"))
    assert "“Endorse: Riga” for" in page and "was withdrawn" in page
    assert "It was one of 3 like it. 2 of them were done, which was enough, so it is no longer needed." in page


def test_a_multi_instance_subprocess_runs_its_steps_once_per_member(client):
    instance = start(client, "mi_subprocess")
    tasks = ready_tasks(instance, "endorse")
    assert [t.name for t in tasks] == ["Endorse: Tallinn City", "Endorse: Riga", "Endorse: Vilnius"]
    assert len({t.loop_key for t in tasks}) == 1 and {t.loop_total for t in tasks} == {3}
    for number, task in enumerate(tasks, start=1):
        complete(client, "clara", task, {"decision": "approve"})
        if number < 3:
            assert f"{number} of 3 done" in inbox(client, "clara")
    [send] = ready_tasks(instance)
    assert send.bpmn_id == "send_result"
    complete(client, "marta", send, {"sent": "y"})
    assert refreshed(instance).status == InstanceStatus.COMPLETED


def _variant(old: str, new: str, name: str = "mi_parallel") -> dict[str, bytes]:
    files = fixture(name)
    data = files[f"{name}.bpmn"].decode()
    assert old in data
    return {f"{name}.bpmn": data.replace(old, new).encode()}


def test_the_upload_check_accepts_multi_instance_and_names_what_cannot_run(client):
    for name in ("mi_parallel", "mi_sequential", "mi_quorum", "mi_subprocess"):
        assert check_upload(fixture(name)).findings == []
    marker = 'camunda:collection="${members}" camunda:elementVariable="member"'
    cases = [
        (marker, 'camunda:collection="${group.members}" camunda:elementVariable="member"',
         "the collection ${group.members} must name one variable, as ${members} or members"),
        (marker, 'camunda:collection="${members}" camunda:elementVariable="the member"',
         "camunda:elementVariable 'the member' must be a plain name"),
        (marker, 'camunda:collection="${members}" camunda:elementVariable="loopCounter"',
         "camunda:elementVariable 'loopCounter' must be a plain name, such as member, other than Camunda's own"),
        (marker, 'camunda:elementVariable="member"',
         "a multi-instance step needs either camunda:collection (the list to go through) or a loop cardinality"),
        ("<bpmn:multiInstanceLoopCharacteristics isSequential=\"false\" " + marker + " />",
         "<bpmn:standardLoopCharacteristics />",
         "a loop marker is not supported (Camunda 7 does not run it either): use a multi-instance marker"),
    ]
    for old, new, message in cases:
        [finding] = check_upload(_variant(old, new)).findings
        assert finding.level == "error" and finding.element_id == "endorse", finding
        assert finding.message.startswith(message), finding.message
    for old, new, message in [
        ("${nrOfCompletedInstances/nrOfInstances >= 0.6}", "${execution.getProcessInstanceId()}",
         "the JUEL expression ${execution.getProcessInstanceId()} cannot run here"),
        ("${nrOfCompletedInstances/nrOfInstances >= 0.6}", "nrOfCompletedInstances >=",
         "the completion condition cannot run"),
    ]:
        [finding] = check_upload(_variant(old, new, "mi_quorum")).findings
        assert finding.element_id == "endorse" and finding.message.startswith(message), finding.message
    # The page says it too, naming the step.
    report = upload_report(client, _variant(marker, 'camunda:elementVariable="member"'))
    assert "These files cannot be stored" in report and "“Endorse” endorse a multi-instance step needs" in report
