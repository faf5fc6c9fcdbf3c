"""camunda:inputOutput in the engine: input parameters are an activity's own variables, output
parameters what it hands back; what cannot run is refused when the diagram is read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.engine import DiagramError, Engine, EngineError, parse_files

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="io" name="Mappings" isExecutable="true">
"""
TAIL = """
  </bpmn:process>
</bpmn:definitions>
"""


def diagram(*elements: str) -> dict[str, str]:
    """A process of ``elements`` one after the other, from a start event to an end event."""
    ids = ["start"] + [e.split('id="', 1)[1].split('"', 1)[0] for e in elements] + ["end"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                    for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    body = '<bpmn:startEvent id="start"/>' + "".join(elements) + '<bpmn:endEvent id="end"/>' + flows
    return {"io.bpmn": HEAD + body + TAIL}


def io(*parameters: str) -> str:
    return "<bpmn:extensionElements><camunda:inputOutput>" + "".join(parameters) + \
        "</camunda:inputOutput></bpmn:extensionElements>"


def script(task_id: str, code: str, *parameters: str) -> str:
    return (f'<bpmn:scriptTask id="{task_id}" name="Script {task_id}" scriptFormat="python">{io(*parameters)}'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def run(files: dict[str, str], data: dict) -> dict:
    engine = Engine()
    wf = engine.start(parse_files(files), data)
    assert engine.is_completed(wf)
    return engine.data(wf)


def test_inputs_are_local_and_outputs_reach_the_process():
    files = diagram(script(
        "calc", "made = base * 2\nseen = sorted(labels)",
        '<camunda:inputParameter name="base">${amount + 1}</camunda:inputParameter>',
        '<camunda:inputParameter name="amount">7</camunda:inputParameter>',  # covers the request's amount
        '<camunda:inputParameter name="labels"><camunda:map><camunda:entry key="b">x</camunda:entry>'
        '<camunda:entry key="a"><camunda:list><camunda:value>1</camunda:value><camunda:value/></camunda:list>'
        "</camunda:entry></camunda:map></camunda:inputParameter>",
        '<camunda:inputParameter name="nothing"/>',
        '<camunda:outputParameter name="result">${made}</camunda:outputParameter>',
        '<camunda:outputParameter name="local_amount">${amount}</camunda:outputParameter>',
        '<camunda:outputParameter name="shape">${labels}</camunda:outputParameter>',
        '<camunda:outputParameter name="was_null">${nothing == null}</camunda:outputParameter>',
        '<camunda:outputParameter name="fixed">done</camunda:outputParameter>',
        '<camunda:outputParameter name="sentence">Made ${made} from ${nothing}${amount}.</camunda:outputParameter>',
        '<camunda:outputParameter name="by_python"><camunda:script scriptFormat="python">len(seen) + base'
        "</camunda:script></camunda:outputParameter>",
    ))
    data = run(files, {"amount": Decimal("10")})
    # Inputs are evaluated on the enclosing data: base saw the request's amount, not the input 7.
    assert data["result"] == Decimal("22")
    assert data["local_amount"] == "7"  # a literal is text, as in Camunda
    assert data["shape"] == {"b": "x", "a": ["1", None]}
    assert data["was_null"] is True and data["fixed"] == "done"
    assert data["sentence"] == "Made 22 from 7."  # text around ${...} makes a text; null is nothing
    assert data["by_python"] == Decimal("13")
    assert data["amount"] == Decimal("10")  # the covered variable is back
    for local in ("base", "labels", "nothing"):
        assert local not in data
    assert data["made"] == Decimal("22")  # what the script set itself reaches the process, as in Camunda


def test_a_subprocess_sees_its_inputs_and_hands_back_its_outputs():
    inner = script("inner", "inner_result = given * 3")
    mapping = io('<camunda:inputParameter name="given">${customer.size}</camunda:inputParameter>',
                 '<camunda:outputParameter name="tripled">${inner_result}</camunda:outputParameter>')
    files = diagram(
        f'<bpmn:subProcess id="sub">{mapping}<bpmn:startEvent id="sub_start"/>{inner}<bpmn:endEvent id="sub_end"/>'
        '<bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="s2" sourceRef="inner" targetRef="sub_end"/></bpmn:subProcess>')
    data = run(files, {"customer": {"size": 4}})
    assert data["tripled"] == 12 and "given" not in data


def test_a_waiting_user_task_keeps_its_inputs_through_save_and_load():
    files = diagram(
        '<bpmn:userTask id="review" name="Review">'
        + io('<camunda:inputParameter name="hint">${amount &gt; 5 ? \'large\' : \'small\'}</camunda:inputParameter>',
             '<camunda:inputParameter name="amount">hidden</camunda:inputParameter>',
             '<camunda:outputParameter name="verdict">${decision.equals(\'approve\') ? hint : \'no\'}'
             "</camunda:outputParameter>")
        + "</bpmn:userTask>")
    engine = Engine()
    model = parse_files(files)
    wf = engine.start(model, {"amount": 9})
    [task] = engine.ready_tasks(wf)
    assert engine.task_data(wf, task.id)["hint"] == "large"
    assert engine.task_data(wf, task.id)["amount"] == "hidden"
    wf = engine.load(model, engine.dump(wf))
    engine.complete(wf, task.id, {"decision": "approve"})
    data = engine.data(wf)
    assert data["verdict"] == "large" and data["amount"] == 9 and "hint" not in data
    assert data["decision"] == "approve"  # the form's answer reaches the process too


def test_each_instance_of_a_parallel_multi_instance_task_gets_its_own_inputs():
    files = {"io.bpmn": (HEAD + '<bpmn:startEvent id="start"/><bpmn:scriptTask id="each" scriptFormat="python">'
             + io('<camunda:inputParameter name="doubled">${item * 2}</camunda:inputParameter>',
                  '<camunda:outputParameter name="last">${doubled}</camunda:outputParameter>')
             + '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>'
             '<bpmn:inputDataItem id="item"/></bpmn:multiInstanceLoopCharacteristics>'
             "<bpmn:script>seen = doubled</bpmn:script></bpmn:scriptTask>"
             '<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each"/>'
             '<bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="end"/>' + TAIL)}
    data = run(files, {"items": [1, 2, 3]})
    assert data["last"] == data["seen"] == 6 and "doubled" not in data


def test_an_output_that_fails_stops_the_step_with_the_reason():
    files = diagram(script("calc", "x = 1", '<camunda:outputParameter name="y">${missing.value}'
                                             "</camunda:outputParameter>"))
    with pytest.raises(EngineError, match="the variable 'missing' is not set"):
        Engine().start(parse_files(files), {})
    files = diagram(script("calc", "x = 1", '<camunda:outputParameter name="y">${x.equals(1) ? x + v : 0}'
                                             "</camunda:outputParameter>"))
    with pytest.raises(EngineError, match="the text 'many' is not a number"):
        Engine().start(parse_files(files), {"v": "many"})


@pytest.mark.parametrize(("elements", "says", "where"), [
    ((script("calc", "x = 1", '<camunda:inputParameter name="v"><camunda:script scriptFormat="groovy">1'
                              "</camunda:script></camunda:inputParameter>"),),
     "a camunda:script in groovy does not run here", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="v"><camunda:script scriptFormat="python" '
                              'resource="a.py"/></camunda:inputParameter>'),),
     "external script resource", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="v"><camunda:script scriptFormat="python">'
                              "x = 1</camunda:script></camunda:inputParameter>"),),
     "the script cannot run", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="v">${a.size()}</camunda:inputParameter>'),),
     "the inputParameter ${a.size()} cannot run here: method calls", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="v">Dear ${name</camunda:inputParameter>'),),
     "a ${ is not closed", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="v"><camunda:map><camunda:entry key="${k}">1'
                              "</camunda:entry></camunda:map></camunda:inputParameter>"),),
     "write the key as text", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="__class__">1</camunda:inputParameter>'),),
     "cannot be a variable", "calc"),
    ((script("calc", "x = 1", '<camunda:inputParameter name="v">${open}</camunda:inputParameter>'),),
     "which diagrams may not use", "calc"),
    ((script("calc", "x = 1", '<camunda:property name="v" value="1"/>'),),
     "camunda:property is not read inside camunda:inputOutput", "calc"),
    (('<bpmn:exclusiveGateway id="gw">' + io('<camunda:inputParameter name="v">1</camunda:inputParameter>')
      + "</bpmn:exclusiveGateway>",), "camunda:inputOutput on bpmn:exclusiveGateway does not run", "gw"),
])
def test_a_mapping_that_cannot_run_is_refused_naming_its_element(elements, says, where):
    with pytest.raises(DiagramError) as refused:
        parse_files(diagram(*elements))
    assert says in refused.value.detail
    assert refused.value.element_id == where
