"""The engine's events, on small diagrams run in memory: which catch takes which code, what an
uncaught error does, how event subprocesses start and end (app/engine/events.py)."""

from __future__ import annotations

from app.engine import Engine, parse_files

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:error id="error_budget" name="Budget" errorCode="no_budget"/>
  <bpmn:error id="error_other" name="Other" errorCode="other"/>
  <bpmn:escalation id="escalation_late" name="late" escalationCode="late"/>
  <bpmn:process id="p" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"""


def user(bpmn_id: str) -> str:
    return f'<bpmn:userTask id="{bpmn_id}" name="{bpmn_id}"/>'


def flow(source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="flow_{source}_{target}" sourceRef="{source}" targetRef="{target}"/>'


def run(body: str, *steps: str):
    """Start the process and complete these user tasks in turn; the engine and workflow."""
    engine = Engine()
    wf = engine.start(parse_files({"p.bpmn": HEAD.format(body=body)}), {})
    for bpmn_id in steps:
        task = next(t for t in engine.ready_tasks(wf) if t.bpmn_id == bpmn_id)
        engine.complete(wf, task.id, {})
    return engine, wf


def waiting(engine, wf) -> set[str]:
    return {t.bpmn_id for t in engine.ready_tasks(wf)}


def failing_subprocess(catch: str) -> str:
    """A subprocess whose only path throws the error ``error_budget``, with ``catch`` on it."""
    return ('<bpmn:startEvent id="start"/><bpmn:subProcess id="sub"><bpmn:startEvent id="sub_start"/>' + user("work")
            + '<bpmn:endEvent id="throw"><bpmn:errorEventDefinition errorRef="error_budget"/></bpmn:endEvent>'
            + flow("sub_start", "work") + flow("work", "throw") + "</bpmn:subProcess>"
            + f'<bpmn:boundaryEvent id="caught" attachedToRef="sub">{catch}</bpmn:boundaryEvent>'
            + user("handle") + '<bpmn:endEvent id="end_handled"/><bpmn:endEvent id="end"/>'
            + flow("start", "sub") + flow("sub", "end") + flow("caught", "handle") + flow("handle", "end_handled"))


def test_an_error_is_caught_by_its_code_or_by_a_catch_all_and_stops_the_request_otherwise():
    engine, wf = run(failing_subprocess('<bpmn:errorEventDefinition errorRef="error_budget"/>'), "work")
    assert waiting(engine, wf) == {"handle"} and engine.stopped(wf) is None
    engine, wf = run(failing_subprocess("<bpmn:errorEventDefinition/>"), "work")
    assert waiting(engine, wf) == {"handle"}

    engine, wf = run(failing_subprocess('<bpmn:errorEventDefinition errorRef="error_other"/>'), "work")
    stopped = engine.stopped(wf)
    assert stopped is not None and stopped.bpmn_id == "throw"
    assert str(stopped) == "The error “Budget” (code no_budget) thrown at “throw” is caught by nothing, so the " \
                           "request stopped"
    assert not engine.is_completed(wf) and waiting(engine, wf) == set()  # "end" was never reached
    assert engine.happenings(wf) == []


def test_an_escalation_is_caught_by_a_catch_all_boundary_event_beside_the_subprocess():
    body = ('<bpmn:startEvent id="start"/><bpmn:subProcess id="sub"><bpmn:startEvent id="sub_start"/>'
            '<bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="escalation_late"/>'
            '</bpmn:intermediateThrowEvent>' + user("work") + '<bpmn:endEvent id="sub_end"/>'
            + flow("sub_start", "raise") + flow("raise", "work") + flow("work", "sub_end") + "</bpmn:subProcess>"
            '<bpmn:boundaryEvent id="late" attachedToRef="sub" cancelActivity="false">'
            "<bpmn:escalationEventDefinition/></bpmn:boundaryEvent>" + user("note") + '<bpmn:endEvent id="end_noted"/>'
            '<bpmn:endEvent id="end"/>' + flow("start", "sub") + flow("sub", "end") + flow("late", "note")
            + flow("note", "end_noted"))
    engine, wf = run(body)
    assert waiting(engine, wf) == {"work", "note"}
    assert [line.text for line in engine.happenings(wf)] == [
        "The escalation “late” was raised at “raise”", "An escalation was caught at “late” while “sub” went on"]
    engine, wf = run(body, "note", "work")
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end"


def test_a_timer_event_subprocess_inside_a_subprocess_ends_with_it():
    body = ('<bpmn:startEvent id="start"/><bpmn:subProcess id="sub"><bpmn:startEvent id="sub_start"/>' + user("work")
            + '<bpmn:endEvent id="sub_end"/>' + flow("sub_start", "work") + flow("work", "sub_end")
            + '<bpmn:subProcess id="remind" triggeredByEvent="true"><bpmn:startEvent id="remind_start" '
            'isInterrupting="false"><bpmn:timerEventDefinition><bpmn:timeDuration>"P3D"</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition></bpmn:startEvent>" + user("reminded") + '<bpmn:endEvent id="remind_end"/>'
            + flow("remind_start", "reminded") + flow("reminded", "remind_end") + "</bpmn:subProcess></bpmn:subProcess>"
            + user("after") + '<bpmn:endEvent id="end"/>' + flow("start", "sub") + flow("sub", "after")
            + flow("after", "end"))
    engine, wf = run(body)
    assert engine.next_timer(wf) is not None
    engine, wf = run(body, "work")
    assert waiting(engine, wf) == {"after"} and engine.next_timer(wf) is None
    engine, wf = run(body, "work", "after")
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end"
