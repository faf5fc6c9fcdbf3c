"""The engine's call activities on the fixtures' two processes: Camunda's data mappings and
the checks made when a caller is combined with the processes it calls."""

import pytest

from app.engine import DiagramError, Engine, parse_files
from app.engine.calls import combine
from tests.diagrams import FIXTURES

CALLED = (FIXTURES / "diagrams" / "expert_check.bpmn").read_text()
CALLER = (FIXTURES / "diagrams" / "expert_booking.bpmn").read_text()
MAPPINGS = CALLER[CALLER.index("<camunda:in "):CALLER.index("</bpmn:extensionElements>\n    </bpmn:callActivity>")]


def caller(mappings: str):
    return parse_files({"expert_booking.bpmn": CALLER.replace(MAPPINGS, mappings)})


def run_to_the_called_task(mappings: str, data: dict) -> tuple[Engine, object, dict]:
    engine = Engine()
    model = combine(caller(mappings), [parse_files({"expert_check.bpmn": CALLED})])
    wf = engine.start(model, data)
    [task] = engine.ready_tasks(wf)
    return engine, wf, engine.task_data(wf, task.id)


def test_without_camunda_in_nothing_goes_in_and_without_out_nothing_comes_back():
    engine, wf, called_data = run_to_the_called_task("", {"topic": "A", "budget": 10})
    assert called_data == {}
    [task] = engine.ready_tasks(wf)
    with pytest.raises(Exception, match="budget"):  # the called script needs what was not passed
        engine.complete(wf, task.id, {"decision": "approve"})


def test_a_missing_source_passes_none_and_an_expression_is_evaluated_on_the_caller_data():
    mappings = ('<camunda:in source="nothing" target="budget" />'
                '<camunda:in sourceExpression="${budget * 2}" target="doubled" />'
                '<camunda:in sourceExpression="budget + 1" target="plus_one" />')
    _, _, called_data = run_to_the_called_task(mappings, {"budget": 10})
    assert called_data == {"budget": None, "doubled": 20, "plus_one": 11}


def test_out_overwrites_only_what_it_names():
    mappings = ('<camunda:in source="budget" target="budget" /><camunda:out source="checked_budget" target="budget" />'
                '<camunda:out sourceExpression="${decision == \'approve\'}" target="approved" />')
    engine, wf, _ = run_to_the_called_task(mappings, {"budget": 10, "decision": "before"})
    [task] = engine.ready_tasks(wf)
    engine.complete(wf, task.id, {"decision": "approve"})
    [confirm] = engine.ready_tasks(wf)
    assert engine.task_data(wf, confirm.id) == {"budget": 110, "decision": "before", "approved": True}


def test_a_called_process_with_the_caller_s_own_id_or_a_clashing_subprocess_is_refused():
    parent = caller("")
    with pytest.raises(DiagramError, match="calls itself"):
        combine(parent, [parent])
    with pytest.raises(DiagramError, match="which no version given provides"):
        combine(parent, [])
    clash = CALLED.replace(  # an embedded subprocess with the caller's process id
        '<bpmn:sequenceFlow id="flow_to_end" sourceRef="work_out_budget" targetRef="end_checked" />',
        '<bpmn:subProcess id="expert_booking" name="Inner"><bpmn:startEvent id="s" /><bpmn:endEvent id="e" />'
        '<bpmn:sequenceFlow id="fs" sourceRef="s" targetRef="e" /></bpmn:subProcess>'
        '<bpmn:sequenceFlow id="flow_to_end" sourceRef="work_out_budget" targetRef="expert_booking" />'
        '<bpmn:sequenceFlow id="flow_inner" sourceRef="expert_booking" targetRef="end_checked" />')
    with pytest.raises(DiagramError, match="both use the id expert_booking"):
        combine(parent, [parse_files({"expert_check.bpmn": clash})])
