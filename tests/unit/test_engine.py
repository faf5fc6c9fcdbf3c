"""The engine adapter on a small diagram written for these tests."""

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time

from app.engine import DiagramError, Engine, EngineError, ScriptError, TaskNotReady, parse_files

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="mini" name="Mini" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_requester" name="Requester"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_coordinator" name="Coordinator">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>count</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>total</bpmn:flowNodeRef><bpmn:flowNodeRef>gw</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_ok</bpmn:flowNodeRef><bpmn:flowNodeRef>end_no</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>reminder</bpmn:flowNodeRef><bpmn:flowNodeRef>remind</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_remind</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" camunda:formKey="mini.start">
      <bpmn:documentation>Ask for something.</bpmn:documentation>
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Amount" type="decimal">
          <camunda:validation><camunda:constraint name="required" config="true"/></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:scriptTask id="total" name="Total" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>doubled = amount * 2
due = add_days(date(2030, 1, 1), 3)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:serviceTask id="count" name="Count" camunda:type="external" camunda:topic="group_member_count">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="review" name="Review" camunda:formKey="mini.review">
      <bpmn:documentation>Decide.</bpmn:documentation>
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="decision" label="Decision" type="enum">
          <camunda:value id="approve" name="Approve"/><camunda:value id="reject" name="Reject"/>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="reminder" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f7</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sendTask id="remind" name="Remind" camunda:type="external" camunda:topic="notify">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="template" value="reminder"/><camunda:property name="to" value="Coordinator"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f7</bpmn:incoming><bpmn:outgoing>f8</bpmn:outgoing>
    </bpmn:sendTask>
    <bpmn:endEvent id="end_remind"><bpmn:incoming>f8</bpmn:incoming></bpmn:endEvent>
    <bpmn:exclusiveGateway id="gw" default="f6"><bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing><bpmn:outgoing>f6</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_ok"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="total"/>
    <bpmn:sequenceFlow id="f2" sourceRef="total" targetRef="count"/>
    <bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="gw"/>
    <bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="end_ok">
      <bpmn:conditionExpression>decision == "approve"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="gw" targetRef="end_no"/>
    <bpmn:sequenceFlow id="f7" sourceRef="reminder" targetRef="remind"/>
    <bpmn:sequenceFlow id="f8" sourceRef="remind" targetRef="end_remind"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def calls():
    return []


@pytest.fixture
def engine(calls):
    def count(data, props):
        calls.append(("count", props))
        return {"group_member_count": 4}

    def notify(data, props):
        calls.append(("notify", props))
        return {}

    return Engine(services={"group_member_count": count, "notify": notify})


@pytest.fixture
def model():
    return parse_files({"mini.bpmn": BPMN})


def test_model_describes_forms_lanes_and_documentation(model):
    assert model.process_id == "mini" and model.name == "Mini"
    assert model.start_form.key == "mini.start"
    assert model.start_form.get("amount").required
    review = model.tasks["review"]
    assert review.lane == "Coordinator" and review.documentation == "Decide."
    assert review.form.decisions == (("approve", "Approve"), ("reject", "Reject"))
    assert model.service_topics == {"count": "group_member_count", "remind": "notify"}


def test_instance_runs_saves_without_definition_and_finishes(engine, model, calls):
    wf = engine.start(model, {"amount": Decimal("12.50")})
    [task] = engine.ready_tasks(wf)
    assert task.bpmn_id == "review"
    state = engine.dump(wf)
    assert "doubled = amount" not in state and "mini.review" not in state  # no definition inside
    wf = engine.load(model, state)
    data = engine.data(wf)
    assert data["doubled"] == Decimal("25.00") and data["due"] == dt.date(2030, 1, 4)
    assert data["group_member_count"] == 4 and calls == [("count", {})]
    engine.complete(wf, task.id, {"decision": "approve"})
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end_ok"
    with pytest.raises(TaskNotReady):
        engine.complete(wf, task.id, {"decision": "reject"})


def test_timer_time_is_reported_and_fires_when_due(engine, model, calls):
    with freeze_time("2030-01-01 09:00:00"):
        wf = engine.start(model, {"amount": Decimal(1)})
        assert engine.next_timer(wf) == dt.datetime(2030, 1, 6, 9, tzinfo=dt.UTC)
        state = engine.dump(wf)
    with freeze_time("2030-01-06 09:00:01"):
        wf = engine.load(model, state)
        engine.fire_timers(wf)
    assert ("notify", {"template": "reminder", "to": "Coordinator"}) in calls
    assert [t.bpmn_id for t in engine.ready_tasks(wf)] == ["review"]  # non-interrupting


@pytest.mark.parametrize("code", [
    "__import__('os').system('id')",
    "open('/etc/passwd').read()",
    "().__class__.__base__.__subclasses__()",
    "eval('1')",
])
def test_hostile_condition_is_refused(engine, code):
    hostile = parse_files({"mini.bpmn": BPMN.replace('decision == "approve"', code)})
    wf = engine.start(hostile, {"amount": Decimal(1)})
    [task] = engine.ready_tasks(wf)
    with pytest.raises((EngineError, ScriptError)):
        engine.complete(wf, task.id, {"decision": "approve"})


def test_doctype_is_refused():
    evil = BPMN.replace('<?xml version="1.0" encoding="UTF-8"?>',
                        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(DiagramError, match="DOCTYPE"):
        parse_files({"mini.bpmn": evil})


def test_compact_state_and_its_expanded_form_load_to_the_same_workflow(engine, model):
    import json

    from app.engine.serializer import _expand_tasks

    wf = engine.start(model, {"amount": Decimal("12.50")})
    compact = engine.dump(wf)
    expanded = json.loads(compact)
    _expand_tasks(expanded)  # ids and default fields written out, as older rows have them
    assert all("id" in t and "triggered" in t for t in expanded["tasks"].values())
    for state in (compact, json.dumps(expanded)):
        again = engine.load(model, state)
        assert engine.data(again) == engine.data(wf)
        assert [t.id for t in engine.ready_tasks(again)] == [t.id for t in engine.ready_tasks(wf)]
    assert len(compact) < len(json.dumps(expanded))


NO_FLOW_ID = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="no_flow_id" name="No flow id" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="coordinator" />
    <bpmn:sequenceFlow sourceRef="review" targetRef="done" />
    <bpmn:endEvent id="done" />
    %s
  </bpmn:process>
</bpmn:definitions>"""


def test_a_sequence_flow_without_an_id_still_leads_to_its_task():
    """The BPMN schema lets a flow go without an id; SpiffWorkflow dropped such a flow and the
    task behind it, so the request finished at once without ever asking anyone."""
    model = parse_files({"no_flow_id.bpmn": NO_FLOW_ID % ""})
    assert "review" in model.tasks
    engine = Engine()
    wf = engine.start(model, {})
    assert [t.definition.bpmn_id for t in engine.ready_tasks(wf)] == ["review"]
    assert not engine.is_completed(wf)
    engine.complete(wf, engine.ready_tasks(wf)[0].id, {})
    assert engine.is_completed(wf)


def test_a_step_the_engine_would_leave_out_is_refused_with_its_name_and_line():
    orphan = '<bpmn:userTask id="orphan" name="Sign\n      off" />'
    with pytest.raises(DiagramError) as refused:
        parse_files({"no_flow_id.bpmn": NO_FLOW_ID % orphan})
    assert refused.value.element_id == "orphan"
    assert refused.value.line == 11  # libxml2 gives the line where the element's tag ends
    assert str(refused.value) == ("no_flow_id.bpmn:11 orphan (Sign off): “Sign off” would never run: the engine "
                                  "could not read it or the way to it; check its sequence flows")
