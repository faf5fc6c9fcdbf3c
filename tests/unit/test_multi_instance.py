"""Multi-instance markers in the engine: Camunda's variables, cardinality, output collections,
script tasks, and a request loaded by a process that parsed the diagram afresh."""

from __future__ import annotations

import pytest

from app.engine import Engine, EngineError, parse_files, plan_migration
from app.engine import parser as parser_module

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="mi" name="Multi" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
"""
TAIL = """    <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />
    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def diagram(marker: str, kind: str = "userTask", body: str = "") -> dict[str, str]:
    script = ' scriptFormat="python"' if kind == "scriptTask" else ""
    step = (f'    <bpmn:{kind} id="step" name="Step"{script}>'
            f"<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n{marker}\n{body}"
            f"    </bpmn:{kind}>\n")
    return {"mi.bpmn": HEAD + step + TAIL}


def run(files: dict[str, str], data: dict, answers=None, reload: bool = True):
    """Start, then complete each waiting "step" in turn with answers(task data); reload from the
    saved state before each completion, parsing the diagram afresh (another process's view)."""
    engine = Engine()
    wf = engine.start(parse_files(files), data)
    seen = []
    while True:
        if reload:
            state = engine.dump(wf)
            parser_module._CACHE.clear()
            wf = engine.load(parse_files(files), state)
        ready = [t for t in engine.ready_tasks(wf) if t.bpmn_id == "step"]
        if not ready:
            return engine, wf, seen
        task = ready[0]
        task_data = engine.task_data(wf, task.id)
        seen.append((task_data.get("loopCounter"), task.loop.total if task.loop else None, task.loop.label))
        engine.complete(wf, task.id, answers(task_data) if answers else {})


def test_a_loop_cardinality_gives_loop_counter_and_no_item():
    marker = ('<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
              "<bpmn:loopCardinality>${n}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>")
    engine, wf, seen = run(diagram(marker), {"n": 3})
    assert seen == [(0, 3, ""), (1, 3, ""), (2, 3, "")]
    assert [t.bpmn_id for t in engine.ready_tasks(wf)] == ["after"]


def test_the_completion_condition_reads_the_completed_instances_data_and_camunda_counts():
    marker = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${people}" camunda:elementVariable="who">'
              "<bpmn:completionCondition>${decision == 'reject' || nrOfCompletedInstances == nrOfInstances - 1}"
              "</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>")
    people = ["Ann", "Bo", "Cy", "Di"]
    engine, wf, seen = run(diagram(marker), {"people": people},
                           lambda d: {"decision": "reject" if d["who"] == "Bo" else "approve"})
    assert [label for _, _, label in seen] == ["Ann", "Bo"]  # Bo rejected: enough
    data = engine.data(wf)
    assert data["decision"] == "reject" and "who" not in data and "loopCounter" not in data
    engine, wf, seen = run(diagram(marker), {"people": people}, lambda d: {"decision": "approve"})
    assert [label for _, _, label in seen] == ["Ann", "Bo", "Cy"]  # 3 of 4 done: nrOfInstances - 1


def test_an_output_collection_gathers_each_instances_item():
    marker = ('<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
              "<bpmn:loopDataInputRef>people</bpmn:loopDataInputRef>"
              "<bpmn:loopDataOutputRef>answers</bpmn:loopDataOutputRef>"
              '<bpmn:inputDataItem id="who" name="who" /><bpmn:outputDataItem id="answer" name="answer" />'
              "</bpmn:multiInstanceLoopCharacteristics>")
    engine, wf, seen = run(diagram(marker), {"people": ["Ann", "Bo"]}, lambda d: {"answer": d["who"].upper()})
    assert [label for _, _, label in seen] == ["Ann", "Bo"]
    assert engine.data(wf)["answers"] == ["ANN", "BO"]


def test_a_multi_instance_script_runs_once_per_item():
    marker = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="people" camunda:elementVariable="who" />')
    script = '<bpmn:script>greeting = "Hello " + who + " (" + str(loopCounter) + ")"</bpmn:script>\n'
    engine, wf, seen = run(diagram(marker, "scriptTask", script), {"people": ["Ann", "Bo"]})
    assert seen == [] and engine.data(wf)["greeting"] == "Hello Bo (1)"


@pytest.mark.parametrize(("people", "words"), [(None, "the collection people is missing"),
                                               ("Ann", "the collection people is a str, not a list")])
def test_a_collection_that_is_not_a_list_stops_with_its_name(people, words):
    marker = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${people}" camunda:elementVariable="who" />'
    with pytest.raises(EngineError, match=words):
        run(diagram(marker), {} if people is None else {"people": people})


def test_a_request_waiting_in_a_multi_instance_step_moves_to_another_version_only_after_it():
    marker = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${people}" camunda:elementVariable="who" />'
    files = diagram(marker)
    newer = {"mi.bpmn": files["mi.bpmn"].replace('name="After"', 'name="Afterwards"')}
    engine = Engine()
    wf = engine.start(parse_files(files), {"people": ["Ann", "Bo"]})
    plan = plan_migration(wf, parse_files(newer))
    # SpiffWorkflow's move resets waiting tasks, which would drop each instance's item.
    assert not plan.movable and plan.reasons == [
        "Step is under way once for each of several items: move the request when that step is done."]
    for task in engine.ready_tasks(wf):
        engine.complete(wf, task.id, {})
    assert plan_migration(wf, parse_files(newer)).movable


def test_an_interrupting_timer_on_a_multi_instance_subprocess_ends_its_waiting_instances():
    """SpiffWorkflow drops the waiting instances from the tree without cancelling their
    subprocesses; the next engine step failed on them ("A task with id … was not found")."""
    import datetime as dt

    from freezegun import freeze_time

    marker = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}" camunda:elementVariable="item" />'
              '<bpmn:startEvent id="in"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>'
              '<bpmn:userTask id="answer" name="Answer"><bpmn:incoming>g1</bpmn:incoming>'
              '<bpmn:outgoing>g2</bpmn:outgoing></bpmn:userTask>'
              '<bpmn:endEvent id="out"><bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>'
              '<bpmn:sequenceFlow id="g1" sourceRef="in" targetRef="answer" />'
              '<bpmn:sequenceFlow id="g2" sourceRef="answer" targetRef="out" />')
    files = diagram(marker, kind="subProcess")
    files["mi.bpmn"] = files["mi.bpmn"].replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="after" />',
        '<bpmn:boundaryEvent id="late" attachedToRef="step"><bpmn:outgoing>f4</bpmn:outgoing>'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"P14D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent><bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="after" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="after" />')
    engine = Engine()
    model = parse_files(files)
    wf = engine.start(model, {"items": ["a", "b", "c"]})
    first = engine.ready_tasks(wf)[0]
    engine.complete(wf, first.id, {})
    wf = engine.load(model, engine.dump(wf))
    assert len(engine.ready_tasks(wf)) == 2
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=15)):
        engine.fire_timers(wf)
    assert [t.bpmn_id for t in engine.ready_tasks(wf)] == ["after"]
    wf = engine.load(model, engine.dump(wf))  # and it saves and loads without the dropped instances
    assert [t.bpmn_id for t in engine.ready_tasks(wf)] == ["after"]
