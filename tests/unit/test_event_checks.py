"""The upload checks of events and gateways: the small diagrams of tests/fixtures/diagrams/ pass
without a warning (the manual task's aside), and each way of drawing an event where it cannot
run is an error on that element, saying what to draw instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.diagram_checks import Report, check_upload
from tests.unit.test_diagram_checks import checker  # noqa: F401 - the shared app with the demo people

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "diagrams"
DIAGRAMS = ("signal_withdrawal", "escalation_budget", "error_budget", "event_subprocesses",
            "event_subprocesses_beside", "inclusive_checks", "event_gateway", "uncaught_error", "terminate_end",
            "documentation_only")


def check(name: str, text: str | None = None) -> Report:
    data = (text if text is not None else (FIXTURES / f"{name}.bpmn").read_text()).encode()
    return check_upload({f"{name}.bpmn": data})


@pytest.mark.parametrize("name", DIAGRAMS)
def test_each_small_diagram_passes(checker, name):  # noqa: F811
    report = check(name)
    assert report.ok, report.as_text()
    expected = {"sign_paper"} if name == "documentation_only" else set()
    assert {f.element_id for f in report.findings} == expected, report.as_text()


def errors_on(report: Report, element_id: str) -> list[str]:
    return [f.message for f in report.errors if f.element_id == element_id]


def test_an_event_based_gateway_must_lead_to_events_with_one_timer_at_most(checker):  # noqa: F811
    text = (FIXTURES / "event_gateway.bpmn").read_text()
    two_timers = text.replace('<bpmn:signalEventDefinition signalRef="signal_confirmed"/>\n    </bpmn:intermediate'
                              'CatchEvent>', '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
                              '</bpmn:timerEventDefinition>\n    </bpmn:intermediateCatchEvent>')
    assert two_timers != text
    assert errors_on(check("event_gateway", two_timers), "gateway_wait") == [
        "an event-based gateway may wait for one timer only: keep the earliest"]
    to_task = text.replace('sourceRef="gateway_wait" targetRef="catch_confirmed"',
                           'sourceRef="gateway_wait" targetRef="confirm_booking"')
    assert to_task != text
    assert "a flow out of an event-based gateway must lead to an intermediate catch event (a timer or a signal) " \
           "that says what the gateway waits for" in errors_on(check("event_gateway", to_task), "confirm_booking")


def test_an_escalation_cannot_be_waited_for_by_an_intermediate_catch_event(checker):  # noqa: F811
    text = (FIXTURES / "event_gateway.bpmn").read_text()
    escalation = text.replace('<bpmn:signal id="signal_confirmed" name="confirmed"/>',
                              '<bpmn:signal id="signal_confirmed" name="confirmed"/>'
                              '<bpmn:escalation id="escalation_late" name="late" escalationCode="late"/>')
    caught = '<bpmn:signalEventDefinition signalRef="signal_confirmed"/>\n    </bpmn:intermediateCatchEvent>'
    escalation = escalation.replace(caught, '<bpmn:escalationEventDefinition escalationRef="escalation_late"/>'
                                    '</bpmn:intermediateCatchEvent>')
    assert escalation.count("escalationEventDefinition") == 1
    assert errors_on(check("event_gateway", escalation), "catch_confirmed") == [
        "an escalation cannot be on an intermediate catch event here: raise an escalation with an intermediate "
        "throw or end event in a subprocess, catch it with a boundary event or an event subprocess start event"]


def test_an_error_end_event_nothing_catches_is_a_warning(checker):  # noqa: F811
    text = (FIXTURES / "event_subprocesses.bpmn").read_text()
    start = text.index('<bpmn:subProcess id="on_error"')
    end = text.index("</bpmn:subProcess>", start) + len("</bpmn:subProcess>")
    report = check("event_subprocesses", text[:start] + text[end:])
    assert report.ok
    assert [f.message for f in report.warnings if f.element_id == "throw_refused"] == [
        "nothing catches this error: a request that reaches it stops in error here. Use a plain end event, or an "
        "event subprocess that starts on the error"]


def test_an_event_subprocess_inside_a_subprocess_starts_only_on_a_timer(checker):  # noqa: F811
    text = (FIXTURES / "escalation_budget.bpmn").read_text()
    inner = ('<bpmn:subProcess id="inner_late" name="Inner late" triggeredByEvent="true">'
             '<bpmn:startEvent id="inner_late_start"><bpmn:escalationEventDefinition escalationRef="escalation_late"/>'
             '</bpmn:startEvent><bpmn:endEvent id="inner_late_end"/>'
             '<bpmn:sequenceFlow id="flow_inner_late" sourceRef="inner_late_start" targetRef="inner_late_end"/>'
             '</bpmn:subProcess>')
    nested = text.replace('<bpmn:endEvent id="end_prepared"', inner + '<bpmn:endEvent id="end_prepared"', 1)
    assert errors_on(check("escalation_budget", nested), "inner_late") == [
        "inside a subprocess, an event subprocess starts only on a timer here: move it to the process itself, or "
        "catch the event with a boundary event on the subprocess"]
    timer = inner.replace('<bpmn:escalationEventDefinition escalationRef="escalation_late"/>',
                          '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
                          '</bpmn:timerEventDefinition>')
    report = check("escalation_budget", text.replace('<bpmn:endEvent id="end_prepared"',
                                                     timer + '<bpmn:endEvent id="end_prepared"', 1))
    assert errors_on(report, "inner_late") == []
