"""The DMN engine: FEEL unary tests, hit policies and aggregations, decision requirements
(app/engine/feel.py, dmn.py, decide.py), without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from app.engine import EngineError, parse_files
from app.engine.decide import DecisionError, evaluate
from app.engine.dmn import read_file
from app.engine.feel import FeelError, unary_tests_to_python
from app.engine.reading import DiagramError, parse_xml
from app.engine.runtime import Engine
from app.engine.scripting import RestrictedEnvironment
from app.engine.serializer import full_registry

FIXTURES = Path(__file__).parent.parent / "fixtures" / "diagrams"
RUN = RestrictedEnvironment().evaluate


def matches(cell: str, value, **data) -> bool:
    """Whether a FEEL input cell matches ``value``, run as a one-rule table would run it."""
    code = unary_tests_to_python(cell)
    decision = table("FIRST", [("x", "")], [("out", "")], [([cell], ["1"])])
    assert code in {c.code for c in decision["d"].rules[0].inputs}
    return evaluate(decision, "d", {"x": value, **data}, RUN)["out"] == 1


@pytest.mark.parametrize(("cell", "yes", "no"), [
    ("-", [1, "a", None], []),
    ("", [1, None], []),
    (">= 250", [250, 300, Decimal("250.5")], [249, "300", None, True]),
    ("< 10", [9, 9.5], [10, None, "1"]),
    ("<= -2.5", [-3, Decimal("-2.5")], [-2]),
    ("[1..10]", [1, 10, 5.5], [0, 11, None]),
    ("(1..10)", [2, 9], [1, 10]),
    ("]1..10[", [2], [1, 10]),
    ("[1..10)", [1], [10]),
    ('"a","b"', ["a", "b"], ["c", None, 1]),
    ('1, 2', [1, 2, Decimal("2")], [3, True, "1"]),
    ('not("x")', ["y", None], ["x"]),
    ('not(1, [5..6])', [2, 7], [1, 5]),
    ("true", [True], [False, 1, "true"]),
    ("false", [False], [True, 0, None]),
    ("null", [None], [0, ""]),
    ('"say \\"hi\\""', ['say "hi"'], ["say hi"]),
    ('date("2024-01-31")', [dt.date(2024, 1, 31), "2024-01-31"], [dt.date(2024, 2, 1)]),
    ('[date("2024-01-01")..date("2024-12-31")]', [dt.date(2024, 6, 1)], [dt.date(2025, 1, 1)]),
    ("< limit", [4], [5, 6]),
    ("claim.level", ["high"], ["low"]),
])
def test_each_feel_form_matches_what_camunda_documents(cell, yes, no):
    data = {"limit": 5, "claim": {"level": "high"}}
    for value in yes:
        assert matches(cell, value, **data), (cell, value)
    for value in no:
        assert not matches(cell, value, **data), (cell, value)


@pytest.mark.parametrize(("cell", "reason"), [
    ("__import__('os')", "_ is not allowed"),
    ("open('x')", "texts are written in double quotes"),
    ('open("x")', "the function open() is not available"),
    ("x.__class__", "_ is not allowed"),
    ("[1..10", "the range must end"),
    ("1..10]", "is not expected here"),
    ('"open', "\" is not allowed"),
    ("not(1", "the closing ) of not(...) is missing"),
    ("<", "a value is missing"),
    ("= 5", "= is not allowed"),
    ("True", "FEEL writes true"),
    ("? <= 4", "? belongs to a Python cell"),
    ('date("31/01/2024")', "is not a date"),
    ("feel_equal", "cannot be used as a variable name"),
    ("x" * 3000, "at most 2000"),
])
def test_what_is_not_a_feel_unary_test_is_refused_with_a_reason(cell, reason):
    with pytest.raises(FeelError, match=None) as caught:
        unary_tests_to_python(cell)
    assert reason in str(caught.value)


def test_malicious_text_never_runs_in_any_cell_or_reading():
    for cell in ("__import__('os').system('id')", "().__class__.__base__.__subclasses__()"):
        dmn = DMN.format(policy="FIRST", agg="", cell=cell.replace("'", "&apos;"), outputs="")
        with pytest.raises(DiagramError, match="is not a FEEL unary test"):
            parse_files({"p.bpmn": BPMN, "d.dmn": dmn})


# --- Tables ---------------------------------------------------------------------------------

def table(policy: str, inputs, outputs, rules, aggregation: str = "", decision_id: str = "d",
          required: tuple[str, ...] = ()) -> dict:
    """A one-decision model: inputs (expression, label), outputs (name, listed values), rules."""
    xml = ['<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="T" namespace="x">',
           f'<decision id="{decision_id}" name="Decision {decision_id}">']
    xml += [f'<informationRequirement><requiredDecision href="#{r}"/></informationRequirement>' for r in required]
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    xml.append(f'<decisionTable id="t_{decision_id}" hitPolicy="{policy}"{agg}>')
    for number, (expression, label) in enumerate(inputs):
        xml.append(f'<input id="i{number}" label="{label or expression}"><inputExpression id="ie{number}">'
                   f'<text>{_x(expression)}</text></inputExpression></input>')
    for number, (name, values) in enumerate(outputs):
        listed = f"<outputValues><text>{_x(values)}</text></outputValues>" if values else ""
        xml.append(f'<output id="o{number}" name="{name}">{listed}</output>')
    for number, (cells, results) in enumerate(rules):
        xml.append(f'<rule id="r{number}">' + "".join(f"<inputEntry><text>{_x(c)}</text></inputEntry>" for c in cells)
                   + "".join(f"<outputEntry><text>{_x(r)}</text></outputEntry>" for r in results) + "</rule>")
    xml.append("</decisionTable></decision></definitions>")
    return {d.id: d for d in read_file(parse_xml("t.dmn", "".join(xml)))}


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SCORES = [(["<= 10"], ['"low"', "1"]), (["[5..20]"], ['"medium"', "2"]), (["> 0"], ['"high"', "3"])]


def scored(policy: str, aggregation: str = "", outputs=None) -> dict:
    return table(policy, [("score", "Score")], outputs or [("level", '"high","medium","low"'), ("points", "")],
                 SCORES if outputs is None else [(c, [r[1]]) for c, r in SCORES], aggregation)


@pytest.mark.parametrize(("policy", "score", "expected"), [
    ("FIRST", 7, {"level": "low", "points": 1}),
    ("FIRST", 15, {"level": "medium", "points": 2}),
    ("FIRST", None, {"level": None, "points": None}),  # no match: null for each output
    ("UNIQUE", 30, {"level": "high", "points": 3}),
    ("PRIORITY", 7, {"level": "high", "points": 3}),  # "high" comes first in the output values
    ("RULE ORDER", 7, {"level": ["low", "medium", "high"], "points": [1, 2, 3]}),
    ("COLLECT", 15, {"level": ["medium", "high"], "points": [2, 3]}),
    ("COLLECT", None, {"level": [], "points": []}),
    ("OUTPUT ORDER", 7, {"level": ["high", "medium", "low"], "points": [3, 2, 1]}),
])
def test_each_hit_policy(policy, score, expected):
    assert evaluate(scored(policy), "d", {"score": score}, RUN) == expected


@pytest.mark.parametrize(("aggregation", "score", "expected"), [
    ("SUM", 7, 6), ("SUM", 15, 5), ("SUM", None, None),
    ("MIN", 7, 1), ("MAX", 7, 3), ("MAX", None, None),
    ("COUNT", 7, 3), ("COUNT", 30, 1), ("COUNT", None, 0),
])
def test_collect_aggregations_give_one_value(aggregation, score, expected):
    decision = scored("COLLECT", aggregation, outputs=[("points", "")])
    assert evaluate(decision, "d", {"score": score}, RUN) == {"points": expected}


def test_unique_with_two_matches_and_any_with_different_outputs_stop_with_the_rules_named():
    with pytest.raises(DecisionError, match="the decision “Decision d” has the hit policy UNIQUE, but rules 1, 2 "
                                            "and 3 all match: make the rules exclusive, or use FIRST or COLLECT"):
        evaluate(scored("UNIQUE"), "d", {"score": 7}, RUN)
    with pytest.raises(DecisionError, match="hit policy ANY, but rules 2 and 3 match with different outputs"):
        evaluate(scored("ANY"), "d", {"score": 15}, RUN)
    same = table("ANY", [("score", "")], [("ok", "")], [(["> 0"], ["true"]), (["> 5"], ["true"])])
    assert evaluate(same, "d", {"score": 7}, RUN) == {"ok": True}


def test_a_failing_cell_names_the_decision_rule_and_column():
    decision = table("FIRST", [("amount", "Amount")], [("out", "")], [(["< limit"], ["1"])])
    with pytest.raises(DecisionError, match="the decision “Decision d”, rule 1, column “Amount” \\(< limit\\): "
                                            "NameError"):
        evaluate(decision, "d", {"amount": 3}, RUN)
    with pytest.raises(DecisionError, match="the input expression of “Amount”: NameError"):
        evaluate(decision, "d", {}, RUN)


def test_python_cells_keep_the_meaning_spiffworkflow_gave_them():
    decision = table("FIRST", [("rail_hours or 0", "Hours"), ("mode", "Mode")], [("out", "")], [
        (["? <= 6", '"air"'], ['"short flight"']),
        (["5000 < ? <= 15000", "-"], ['"middle"']),
        (["-", 'in ("bus", "car")'], ['"road"']),
        (["-", "mode"], ["True"]),
        (["? == null", "-"], ["null"]),  # FEEL's words read as Python's in a Python cell too
    ])
    assert [c.language for c in decision["d"].rules[0].inputs] == ["python", "feel"]
    assert evaluate(decision, "d", {"rail_hours": None, "mode": "air"}, RUN) == {"out": "short flight"}
    assert evaluate(decision, "d", {"rail_hours": 6000, "mode": "air"}, RUN) == {"out": "middle"}
    assert evaluate(decision, "d", {"rail_hours": 9, "mode": "car"}, RUN) == {"out": "road"}
    assert evaluate(decision, "d", {"rail_hours": 9, "mode": "rail"}, RUN) == {"out": True}
    assert decision["d"].rules[4].inputs[0].code == "cellInput == None"


def test_the_shipped_tables_are_read_with_their_python_cells():
    for name in ("travel_eligibility.dmn", "expert_approval_level.dmn"):
        root = parse_xml(name, (FIXTURES.parents[2] / "workflows" / name).read_text())
        [decision] = read_file(root)
        assert any(c.language == "python" for r in decision.rules for c in r.inputs), name
    [level] = read_file(parse_xml("e.dmn", (FIXTURES.parents[2] / "workflows" / "expert_approval_level.dmn")
                                  .read_text()))
    results = [evaluate({level.id: level}, level.id, {"estimated_cost": cost}, RUN)["approval_level"]
               for cost in (5000, 5001, 15000, 15001)]
    assert results == ["coordinator", "finance", "finance", "finance_and_commission"]


# --- Requirements ---------------------------------------------------------------------------

def test_camundas_dinner_decisions_give_the_beverages_camunda_documents():
    """dinnerDecisions.dmn and DrgDecisionTest.java of camunda-bpm-examples (see SOURCES.md)."""
    decisions = {d.id: d for d in read_file(parse_xml("d.dmn", (FIXTURES / "dinner_decisions.dmn").read_text()))}
    assert decisions["beverages"].required == ("dish",)

    def beverages(season, guests, children):
        data = {"season": season, "guestCount": guests, "guestsWithChildren": children}
        return evaluate(decisions, "beverages", data, RUN)["beverages"]

    assert sorted(beverages("Spring", 10, False)) == ["Guiness", "Water"]
    assert sorted(beverages("Winter", 7, True)) == ["Apple Juice", "Bordeaux", "Water"]
    assert sorted(beverages("Summer", 14, False)) == ["Pinot Noir", "Water"]


def test_a_decision_requiring_two_others_sees_their_outputs_by_name():
    decisions = {
        **table("UNIQUE", [("age", "")], [("adult", "")], [([">= 18"], ["true"]), (["< 18"], ["false"])],
                decision_id="adult"),
        **table("FIRST", [("country", "")], [("region", "")],
                [(['"BE","NL","LU"'], ['"benelux"']), (["-"], ['"other"'])], decision_id="region"),
        **table("COLLECT", [("adult", ""), ("region", "")], [("offers", "")],
                [(["true", "-"], ['"wine"']), (["-", '"benelux"'], ['"fries"']), (["false", "-"], ['"juice"'])],
                decision_id="offers", required=("adult", "region")),
    }
    assert evaluate(decisions, "offers", {"age": 30, "country": "BE"}, RUN) == {"offers": ["wine", "fries"]}
    assert evaluate(decisions, "offers", {"age": 12, "country": "FR"}, RUN) == {"offers": ["juice"]}


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:businessRuleTask id="rule" name="Decide" camunda:decisionRef="top" />
    <bpmn:userTask id="wait" name="Wait" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rule" />
    <bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="wait" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
DMN = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="T" namespace="x">
  <decision id="base" name="Base">{outputs}
    <decisionTable id="tb" hitPolicy="{policy}"{agg}>
      <input id="ib" label="Amount"><inputExpression id="ieb"><text>amount</text></inputExpression></input>
      <output id="ob" name="base" />
      <rule id="rb1"><inputEntry id="eb1"><text>{cell}</text></inputEntry>
        <outputEntry id="ob1"><text>10</text></outputEntry></rule>
      <rule id="rb2"><inputEntry id="eb2"><text>&gt; 100</text></inputEntry>
        <outputEntry id="ob2"><text>20</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="top" name="Top">
    <informationRequirement id="req"><requiredDecision href="#base" /></informationRequirement>
    <decisionTable id="tt">
      <input id="it" label="Base"><inputExpression id="iet"><text>base</text></inputExpression></input>
      <output id="ot" name="level" />
      <rule id="rt1"><inputEntry id="et1"><text>[0..15]</text></inputEntry>
        <outputEntry id="ot1"><text>"low"</text></outputEntry></rule>
      <rule id="rt2"><inputEntry id="et2"><text>&gt; 15</text></inputEntry>
        <outputEntry id="ot2"><text>"high"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def run(dmn: str, data: dict) -> dict:
    engine = Engine()
    model = parse_files({"p.bpmn": BPMN, "d.dmn": dmn})
    wf = engine.start(model, data)
    return engine.data(engine.load(model, engine.dump(wf)))


def test_the_business_rule_task_runs_the_decision_with_its_requirements():
    dmn = DMN.format(policy="FIRST", agg="", cell="&lt;= 100", outputs="")
    assert run(dmn, {"amount": 50}) == {"amount": 50, "level": "low"}
    assert run(dmn, {"amount": 500}) == {"amount": 500, "level": "high"}
    collected = DMN.format(policy="COLLECT", agg=' aggregation="SUM"', cell="&gt; 0", outputs="")
    assert run(collected, {"amount": 50})["level"] == "low"  # 10
    assert run(collected, {"amount": 500})["level"] == "high"  # 10 + 20


def test_a_unique_violation_stops_the_step_with_a_plain_message():
    dmn = DMN.format(policy="UNIQUE", agg="", cell="&gt; 0", outputs="")
    with pytest.raises(EngineError, match="the decision “Base” has the hit policy UNIQUE, but rules 1 and 2 all "
                                          "match") as caught:
        run(dmn, {"amount": 500})
    assert caught.value.bpmn_id == "rule"


def test_a_cell_over_the_memory_limit_stops_the_step_as_a_script_would():
    dmn = DMN.format(policy="FIRST", agg="", cell="&lt;= 100", outputs="").replace(
        "<text>10</text>", "<text>len('ab' * 50_000_000)</text>")
    with pytest.raises(EngineError, match="“Decide” was stopped: ") as caught:
        run(dmn, {"amount": 5})
    assert caught.value.bpmn_id == "rule"


def test_a_circle_of_requirements_and_a_missing_one_are_refused_when_parsed():
    circle = DMN.format(policy="FIRST", agg="", cell="-", outputs='\n    <informationRequirement id="back">'
                        '<requiredDecision href="#top" /></informationRequirement>')
    with pytest.raises(DiagramError, match="the decisions require each other in a circle"):
        parse_files({"p.bpmn": BPMN, "d.dmn": circle})
    missing = DMN.format(policy="FIRST", agg="", cell="-", outputs="").replace('href="#base"', 'href="#gone"')
    with pytest.raises(DiagramError, match="requires gone, which is in none of the uploaded .dmn files"):
        parse_files({"p.bpmn": BPMN, "d.dmn": missing})


def test_the_spec_saves_and_loads_with_its_decisions():
    """The registry that saves definitions too (tests/bench.py) keeps the decisions."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: TID251
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: TID251
    from SpiffWorkflow.util.task import TaskState  # noqa: TID251

    model = parse_files({"p.bpmn": BPMN, "d.dmn": DMN.format(policy="FIRST", agg="", cell="&lt;= 100", outputs="")})
    serializer = BpmnWorkflowSerializer(full_registry())
    saved = serializer.serialize_json(BpmnWorkflow(model.spec, model.subprocess_specs))
    assert '"decision_ref":"top"' in saved.replace(" ", "")
    loaded = serializer.deserialize_json(saved)
    loaded.script_engine = Engine().script_engine
    loaded.get_tasks(state=TaskState.READY)[0].data.update({"amount": 500})
    loaded.do_engine_steps()
    [wait] = loaded.get_tasks(state=TaskState.READY, manual=True)
    assert wait.data["level"] == "high"


LOOP = BPMN.replace('<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />', """
    <bpmn:exclusiveGateway id="again" default="f4" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="again" />
    <bpmn:sequenceFlow id="f4" sourceRef="again" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="again" targetRef="rule">
      <bpmn:conditionExpression>repeat</bpmn:conditionExpression></bpmn:sequenceFlow>""")


def test_running_a_decision_again_replaces_its_lists():
    dmn = DMN.format(policy="COLLECT", agg="", cell="&gt; 0", outputs="").replace(
        '<decisionTable id="tt">', '<decisionTable id="tt" hitPolicy="COLLECT">').replace(
        "<text>base</text>", "<text>amount</text>").replace("[0..15]", "&gt; 0").replace("&gt; 15", "&gt; 100")
    engine = Engine()
    model = parse_files({"p.bpmn": LOOP, "d.dmn": dmn})
    wf = engine.start(model, {"amount": 500})
    [wait] = engine.ready_tasks(wf)
    assert engine.data(wf)["level"] == ["low", "high"]
    engine.complete(wf, wait.id, {"amount": 50, "repeat": True})
    assert engine.data(wf)["level"] == ["low"]  # not ["low", "high"] merged with the new list


def test_a_camunda_table_with_a_juel_input_expression_runs():
    """HistoricDecisionInstanceTest.decisionCollectSum.dmn11.xml of the corpus: ${input1}, empty
    cells without ids, COLLECT SUM of 1 and 2."""
    path = (FIXTURES.parent / "corpus" / "camunda-bpm-platform"
            / "HistoricDecisionInstanceTest.decisionCollectSum.dmn11.xml")
    decisions = {d.id: d for d in read_file(parse_xml("c.dmn", path.read_text()))}
    assert evaluate(decisions, "testDecision", {"input1": "anything"}, RUN) == {"result1": 3}
