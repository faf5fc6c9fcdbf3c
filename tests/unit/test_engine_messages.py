"""The engine's side of messages, without a database: what a workflow throws and waits for,
delivering one, and keeping both across a save."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import DiagramError, Engine, EngineError, Message, Wait, parse_files

DIAGRAMS = Path(__file__).parent.parent / "fixtures" / "diagrams"


def model(name: str, change=lambda text: text):
    return parse_files({f"{name}.bpmn": change((DIAGRAMS / f"{name}.bpmn").read_text())})


def test_a_workflow_waits_for_its_key_takes_only_that_and_keeps_it_across_a_save():
    engine, waiting = Engine(), model("msg_wait_for_group")
    wf = engine.start(waiting, {"group_code": 17})
    wf = engine.load(waiting, engine.dump(wf))
    assert engine.waiting_for(wf) == [Wait("group_ready", "17")]  # keys are text
    assert engine.deliver(wf, Message("group_ready", "18", {"note": "no"})) is False
    assert engine.deliver(wf, Message("other", "17")) is False
    assert engine.deliver(wf, Message("group_ready", "17", {"note": "yes"})) is True
    assert engine.waiting_for(wf) == [] and engine.data(wf)["note"] == "yes"
    assert [t.definition.bpmn_id for t in engine.ready_tasks(wf)] == ["read_note"]


def test_a_thrown_message_carries_its_key_and_only_the_named_data():
    engine, notice = Engine(), model("msg_group_notice")
    wf = engine.start(notice, {"group_code": "ICT", "note": "Hello", "secret": "kept"})
    assert engine.thrown(wf) == [Message("group_ready", "ICT")]
    assert engine.is_completed(wf)
    assert engine.thrown(wf) == []  # taken off: handed over once


def test_a_message_start_process_is_not_startable_and_starts_by_its_message():
    engine, started = Engine(), model("msg_started_by_group")
    assert not engine.startable(started) and engine.message_starts(started) == ["group_ready"]
    assert engine.startable(model("msg_wait_for_group"))
    wf = engine.start_by_message(started, Message("group_ready", "any key", {"note": "Hi"}), {"initiator_id": 3})
    assert engine.data(wf) == {"initiator_id": 3, "note": "Hi"}
    with pytest.raises(EngineError, match="does not start by the message “other”"):
        engine.start_by_message(started, Message("other"), {})


def test_a_key_that_cannot_be_worked_out_fails_the_step_naming_the_element():
    engine = Engine()
    broken = model("msg_wait_for_group", lambda text: text.replace('value="${group_code}"', 'value="${grop_code}"'))
    with pytest.raises(EngineError) as failure:
        engine.start(broken, {"group_code": "ICT"})
    assert failure.value.bpmn_id == "catch_group_ready" and "grop_code" in str(failure.value)


def test_a_message_event_without_a_message_is_refused_when_parsed():
    with pytest.raises(DiagramError, match="needs a message"):
        model("msg_wait_for_group", lambda text: text.replace(' messageRef="message_group_ready"', ""))


CORRELATION_PROPERTY = '''<bpmn:correlationProperty id="group_code_property" name="Group code">
    <bpmn:correlationPropertyRetrievalExpression messageRef="message_group_ready">
      <bpmn:messagePath>group_code</bpmn:messagePath>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:message id="message_group_ready"'''


def spiff_style(text: str) -> str:
    """The key as Spiff Arena writes it: a correlation property of the message, no camunda property."""
    text = text.replace('<camunda:property name="correlationKey" value="${group_code}" />', "")
    return text.replace('<bpmn:message id="message_group_ready"', CORRELATION_PROPERTY)


def test_a_correlation_property_of_the_message_gives_the_key_on_both_sides():
    engine = Engine()
    waiting, notice = model("msg_wait_for_group", spiff_style), model("msg_group_notice", spiff_style)
    wf = engine.start(waiting, {"group_code": "ICT"})
    assert engine.waiting_for(wf) == [Wait("group_ready", "ICT")]
    [message] = engine.thrown(engine.start(notice, {"group_code": "ICT", "note": "Hi"}))
    assert message == Message("group_ready", "ICT")
    assert engine.deliver(wf, message) and engine.data(wf)["note"] == "Hi"
