"""The engine's side of event subprocesses that start by a message, without a database: listed
among the waits with their key, started only by that key, with the request's current data,
across a save, and by a message the request throws itself."""

from __future__ import annotations

from pathlib import Path

from app.engine import Engine, Message, Wait, parse_files

DIAGRAMS = Path(__file__).parent.parent / "fixtures" / "diagrams"
REVIEW = "evsub_message_review"
WAITS = [Wait("group_ready", "ICT"), Wait("group_closed", "ICT")]


def model(change=lambda text: text):
    return parse_files({f"{REVIEW}.bpmn": change((DIAGRAMS / f"{REVIEW}.bpmn").read_text())})


def test_only_the_matching_key_starts_it_and_it_can_start_again_after_a_save():
    engine, review = Engine(), model()
    wf = engine.start(review, {"group_code": "ICT"})
    assert sorted(engine.waiting_for(wf), key=str) == sorted(WAITS, key=str)

    assert engine.deliver(wf, Message("group_ready", "ZERO", {"note": "not ours"})) is False
    assert wf.subprocesses == {} and "note" not in engine.data(wf)  # nothing started, nothing left waiting

    wf = engine.load(review, engine.dump(wf))
    assert engine.deliver(wf, Message("group_ready", "ICT", {"note": "first"})) is True
    assert [(line.text, line.bpmn_id) for line in engine.happenings(wf)] == [
        ("The message “Group ready” started “Group ready noted”", "start_group_ready")]
    assert engine.data(wf)["note"] == "first"
    assert [t.definition.bpmn_id for t in engine.ready_tasks(wf)] == ["review"]

    wf = engine.load(review, engine.dump(wf))
    assert sorted(engine.waiting_for(wf), key=str) == sorted(WAITS, key=str)
    assert engine.deliver(wf, Message("group_ready", "ICT", {"note": "second"})) is True
    assert engine.data(wf)["note"] == "second"

    assert engine.deliver(wf, Message("group_closed", "ICT")) is True
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end_closed"
    assert engine.ready_tasks(wf) == [] and engine.waiting_for(wf) == []

    # The process (shared by its requests) is unchanged: a new request starts none of them.
    fresh = engine.start(review, {"group_code": "ICT"})
    assert fresh.subprocesses == {} and engine.data(fresh) == {"group_code": "ICT"}


def test_the_key_is_worked_out_over_the_requests_current_data():
    engine, review = Engine(), model()
    wf = engine.start(review, {"group_code": "ICT"})
    [task] = engine.ready_tasks(wf)
    wf.get_task_from_id(__import__("uuid").UUID(task.id)).data["group_code"] = "NEW"  # as a form would change it
    assert Wait("group_ready", "NEW") in engine.waiting_for(wf)
    assert engine.deliver(wf, Message("group_ready", "ICT", {"note": "old key"})) is False
    assert engine.deliver(wf, Message("group_ready", "NEW", {"note": "new key"})) is True
    assert engine.data(wf)["note"] == "new key"


def test_a_message_the_request_throws_itself_starts_its_own_event_subprocess():
    def throw_first(text: str) -> str:
        throw = ('<bpmn:intermediateThrowEvent id="tell_group" name="Tell the group"><bpmn:extensionElements>'
                 '<camunda:properties><camunda:property name="correlationKey" value="${group_code}" />'
                 '<camunda:property name="payload" value="group_code" /></camunda:properties>'
                 '</bpmn:extensionElements><bpmn:messageEventDefinition id="tell_group_message" '
                 'messageRef="message_group_ready" /></bpmn:intermediateThrowEvent>'
                 '<bpmn:sequenceFlow id="flow_told" sourceRef="tell_group" targetRef="review" />')
        return text.replace('sourceRef="start_request" targetRef="review" />',
                            f'sourceRef="start_request" targetRef="tell_group" />{throw}')

    engine, review = Engine(), model(throw_first)
    wf = engine.start(review, {"group_code": "ICT"})
    assert engine.thrown(wf) == []  # caught inside the request
    assert ("The message “Group ready” started “Group ready noted”", "start_group_ready") in [
        (line.text, line.bpmn_id) for line in engine.happenings(wf)]
    assert [t.definition.bpmn_id for t in engine.ready_tasks(wf)] == ["review"]


def test_a_step_inside_a_non_interrupting_one_waits_beside_the_review_and_the_request_waits_for_both():
    def with_a_step(text: str) -> str:
        step = ('<bpmn:userTask id="read_note" name="Read the note" camunda:candidateGroups="coordinator" />'
                '<bpmn:sequenceFlow id="flow_note_read" sourceRef="read_note" targetRef="end_note_kept" />')
        return text.replace('sourceRef="start_group_ready" targetRef="end_note_kept" />',
                            f'sourceRef="start_group_ready" targetRef="read_note" />{step}')

    engine, review = Engine(), model(with_a_step)
    wf = engine.start(review, {"group_code": "ICT"})
    assert engine.deliver(wf, Message("group_ready", "ICT", {"note": "Read me"})) is True
    tasks = {t.definition.bpmn_id: t for t in engine.ready_tasks(wf)}
    assert set(tasks) == {"review", "read_note"} and tasks["read_note"].data["note"] == "Read me"
    engine.complete(wf, tasks["review"].id, {"seen": True})
    assert not engine.is_completed(wf)  # the event subprocess still runs
    engine.complete(wf, tasks["read_note"].id, {})
    assert engine.is_completed(wf) and engine.waiting_for(wf) == []
