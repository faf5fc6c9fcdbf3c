"""JUEL as Camunda's examples write it becomes Python with the same meaning.

Each translation is compiled and run by the restricted evaluator, exactly as the engine runs a
condition (``RestrictedEnvironment.evaluate``), on the data given.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from app.engine.juel import JuelError, is_juel, text_to_python, to_python
from app.engine.juel_runtime import JuelEvalError
from app.engine.scripting import RestrictedEnvironment, compile_expression
from app.engine.validate import code_problems


def run(juel: str, condition: bool = True, **data):
    """Translate, then evaluate the Python as the engine does, on ``data``."""
    return RestrictedEnvironment().evaluate(to_python(juel, condition=condition), dict(data))


@pytest.mark.parametrize(("juel", "python"), [
    ("${approved}", "approved"),
    ("${a && !b || c}", "(juel_bool(a) and (not juel_bool(b))) or juel_bool(c)"),
    ("${a > 1 and not empty b}", "juel_cmp('>', a, 1) and (not juel_empty(b))"),
    ("${decision == 'approve'}", "juel_eq(decision, 'approve')"),
    ('#{decision eq "reject"}', "juel_eq(decision, 'reject')"),
    ("${total ge 1.5}", "juel_cmp('>=', total, Decimal(\"1.5\"))"),
    ("${x.equals('y')}", "juel_equals(x, 'y')"),
    ("${execution.getVariable(\"x\")}", "juel_variable('x')"),
    ("${customer.age}", "juel_get(customer, 'age')"),
    ("${customer['age']}", "juel_get(customer, 'age')"),
    ("${a ? b : c}", "b if juel_bool(a) else c"),
    ("${n + 1}", "juel_number(n) + 1"),
    ("${(a == '(' or b) and (c or d)}",
     "(juel_eq(a, '(') or juel_bool(b)) and (juel_bool(c) or juel_bool(d))"),  # a bracket in a text
    ("${a == ')' ? '(' : 'x\\')'}", "'(' if juel_eq(a, ')') else \"x')\""),
])
def test_translations_read_as_python(juel, python):
    assert to_python(juel) == python


def test_a_condition_is_read_as_true_or_false_as_camunda_reads_it():
    assert to_python("${approved}", condition=True) == "juel_bool(approved)"
    assert to_python("${a > 1}", condition=True) == "juel_cmp('>', a, 1)"  # already true or false
    assert run("${approved}", approved="false") is False  # a text 'false' is false, not a non-empty text
    assert run("${approved}", approved=None) is False


@pytest.mark.parametrize(("juel", "data", "expected"), [
    # what the app translated before
    ("${amount > 10000}", {"amount": Decimal("10000.01")}, True),
    ("${amount > 10000}", {"amount": 10000}, False),
    ("${amount gt 999.99}", {"amount": Decimal("1000.00")}, True),
    ("${amount le 999.99}", {"amount": Decimal("999.99")}, True),
    ("${decision == 'approve'}", {"decision": "approve"}, True),
    ("${decision ne 'approve'}", {"decision": "approve"}, False),
    ("${decision == 'approve' && amount < 100}", {"decision": "approve", "amount": 150}, False),
    ("${decision == 'approve' || amount lt 100}", {"decision": "reject", "amount": 50}, True),
    ("${!urgent}", {"urgent": False}, True),
    ("${not urgent}", {"urgent": True}, False),
    ("${urgent == true}", {"urgent": True}, True),
    ("${empty comment}", {"comment": ""}, True),
    ("${empty comment}", {"comment": None}, True),
    ("${empty receipts}", {"receipts": []}, True),
    ("${empty receipts}", {"receipts": [4]}, False),
    ("${!empty comment}", {"comment": "Please attach the ticket"}, True),
    ("${not empty comment}", {"comment": ""}, False),
    ("${empty count}", {"count": 0}, False),  # JUEL: 0 is not empty, unlike Python's falsy 0
    ("${nights * 140 + other > 500}", {"nights": 3, "other": 81}, True),
    ("${total div 2 == 5}", {"total": 10}, True),
    ("${total mod 2 == 1}", {"total": 7}, True),
    ("${-balance > 0}", {"balance": -5}, True),
    ("${name == \"O'Neil\"}", {"name": "O'Neil"}, True),
    ("${name == 'say \\'hi\\''}", {"name": "say 'hi'"}, True),
    ("${x == null}", {"x": None}, True),
    ("${x == null}", {"x": 0}, False),
    # equals, as Java's: no coercion
    ("${decision.equals('approve')}", {"decision": "approve"}, True),
    ("${decision.equals(\"approve\")}", {"decision": "reject"}, False),
    ("${!decision.equals('approve')}", {"decision": "reject"}, True),
    ("${not decision.equals('approve')}", {"decision": "approve"}, False),
    ("${code.equals('5')}", {"code": 5}, False),
    ("${count.equals(5)}", {"count": 5}, True),
    # execution.getVariable: null when not set
    ("${execution.getVariable('amount') > 5}", {"amount": 6}, True),
    ("${execution.getVariable(\"amount\") == null}", {}, True),
    ("${empty execution.getVariable('comment')}", {}, True),
    ("${execution.getVariable('decision').equals('approve')}", {"decision": "approve"}, True),
    # a ? b : c, nested (right to left) and inside other operators
    ("${amount > 5 ? true : false}", {"amount": 6}, True),
    ("${amount > 5 ? 'big' : 'small'} == 'small'", None, None),  # refused below: text around it
    ("${(amount > 5 ? 'big' : 'small') == 'small'}", {"amount": 3}, True),
    ("${a ? b : c ? d : e}", {"a": False, "b": False, "c": True, "d": True, "e": False}, True),
    ("${a ? b ? x : y : z}", {"a": True, "b": False, "x": False, "y": True, "z": False}, True),
    # dotted and indexed access into JSON-like data
    ("${customer.age >= 18}", {"customer": {"age": 20}}, True),
    ("${customer['age'] >= 18}", {"customer": {"age": 17}}, False),
    ("${customer.address.country eq 'BE'}", {"customer": {"address": {"country": "BE"}}}, True),
    ("${customer.address.country == null}", {"customer": {}}, True),  # a missing key is null
    ("${customer.phone == null}", {"customer": None}, True),  # null.anything is null
    ("${items[0].id == 3 && items[1] == null}", {"items": [{"id": 3}]}, True),
    ("${items[n].id == 4}", {"items": [{"id": 3}, {"id": 4}], "n": 1}, True),
    ("${customer.name.equals('Ann')}", {"customer": {"name": "Ann"}}, True),
    ("${not empty customer.tags}", {"customer": {"tags": ["new"]}}, True),
    ("${order.class == 'A'}", {"order": {"class": "A"}}, True),  # a key, even a Python keyword
    # JUEL's coercions
    ("${amount == '100'}", {"amount": 100}, True),
    ("${amount == '100.0'}", {"amount": Decimal("100")}, True),
    ("${amount > '99'}", {"amount": 100}, True),
    ("${flag == 'true'}", {"flag": True}, True),
    ("${code == 5}", {"code": "5"}, True),
    ("${name < 'B'}", {"name": "Anna"}, True),
    ("${name > null}", {"name": "Anna"}, False),
    ("${day == '2030-01-31'}", {"day": dt.date(2030, 1, 31)}, True),
    ("${day < later}", {"day": dt.date(2030, 1, 31), "later": dt.date(2030, 2, 1)}, True),
    ("${a + b == 3}", {"a": "1", "b": 2}, True),
    ("${a + b == 2}", {"a": None, "b": 2}, True),
    ("${ratio * 2 == 3}", {"ratio": 1.5}, True),
    ("${ratio + amount == 2.5}", {"ratio": 1.5, "amount": Decimal("1")}, True),
])
def test_translations_mean_what_juel_means(juel, data, expected):
    if data is None:
        with pytest.raises(JuelError):
            to_python(juel)
        return
    assert run(juel, **data) is expected


def test_a_ternary_gives_any_value_and_arithmetic_keeps_money_exact():
    assert run("${amount > 5 ? 'big' : 'small'}", condition=False, amount=6) == "big"
    assert run("${price * 3}", condition=False, price=Decimal("0.10")) == Decimal("0.30")
    assert run("${customer}", condition=False, customer={"age": 3}) == {"age": 3}


@pytest.mark.parametrize(("juel", "data", "says"), [
    ("${count}", {"count": 3}, "is not true or false"),  # Camunda: a condition must be a boolean
    ("${amount > 5}", {"amount": "lots"}, "'lots' is not a number"),
    ("${amount + 1}", {"amount": True}, "a boolean cannot be used as a number"),
    ("${decision.equals('x')}", {"decision": None}, "called on null"),
    ("${name.first == 'A'}", {"name": "Anna"}, "a text has no field 'first'"),
    ("${items.first == 'A'}", {"items": ["A"]}, "a list has items 0, 1, 2"),
    ("${day < 5 && x}", {"day": dt.date(2030, 1, 1), "x": True}, "cannot be used as a number"),
])
def test_values_juel_cannot_use_fail_with_a_reason(juel, data, says):
    with pytest.raises(JuelEvalError, match=says):
        run(juel, **data)


def test_a_variable_that_is_not_set_is_an_error_as_in_camunda():
    # Camunda: "Unknown property used in expression ... Cannot resolve identifier 'amount'".
    with pytest.raises(NameError, match="amount"):
        run("${amount > 5}")
    assert run("${execution.getVariable('amount') == null}") is True


@pytest.mark.parametrize(("juel", "says"), [
    # reaching Python's insides: refused before anything runs
    ("${x.__class__}", "may not start with _"),
    ("${''.__class__.__mro__}", "may not start with _"),
    ("${x['__class__']}", "may not start with _"),
    ("${x[\"__globals__\"]}", "may not start with _"),
    ("${__import__}", "may not start with _"),
    ("${_secret}", "may not start with _"),
    ("${execution.getVariable('__builtins__')}", "a variable name has letters"),
    ("${juel_get}", "reserved here"),
    ("${a.b$c}", "may not contain $"),
    # Camunda's engine objects, beans and methods
    ("${execution.setVariable('a', 1)}", "execution.setVariable is not supported"),
    ("${execution.processInstanceId}", "execution.processInstanceId is not supported"),
    ("${execution.getVariable(name)}", "one variable name in quotes"),
    ("${task.name == 'x'}", "Camunda engine object"),
    ("${authenticatedUserId == 'x'}", "Camunda engine object"),
    ("${myBean.method()}", "method calls (.method(...)) are not supported"),
    ("${name.toUpperCase() == 'A'}", "method calls (.toUpperCase(...)) are not supported"),
    ("${list.size() > 0}", "method calls (.size(...)) are not supported"),
    ("${x.equals('a', 'b')}", "equals(...) takes one value"),
    ("${fn:contains(list, 'x')}", "functions (fn:contains()) are not supported"),
    ("${max(a, b) > 3}", "function calls (max(...)) are not supported"),
    ("${x -> x + 1}", "lambda expressions"),
    # not one expression
    ("Amount: ${amount}", "nothing around it"),
    ("${a} and ${b}", "one ${...}"),
    ("${}", "empty"),
    ("${amount >}", "ends too early"),
    ("${(amount > 5}", "not closed"),
    ("${items[0 == 'x'}", "a [ is not closed"),
    ("${name == 'open}", "not closed"),
    ("${a ? b}", ": c part"),
    ("${a, b}", "lists and several arguments"),
    ("${customer.}", "a name must follow the dot"),
    ("${import}", "reserved word"),
    ("${x = 5}", "assignment"),
    ("${a instanceof b}", "instanceof"),
    ("${a; b}", "several expressions"),
    ("${total €}", "character"),
])
def test_everything_else_is_refused_with_a_reason(juel, says):
    with pytest.raises(JuelError) as refused:
        to_python(juel)
    assert says in str(refused.value)


def test_only_wrapped_text_counts_as_juel():
    assert is_juel("${x}") and is_juel("  #{x > 1} ")
    assert not is_juel('decision == "approve"') and not is_juel(None) and not is_juel("")


def test_every_translation_passes_the_upload_checks_of_python_code():
    for juel in ("${a && b}", "${empty x}", "${x ge 2.5}", "${!(a || b)}", "${s == 'x'}", "${c.d[0].equals(e)}",
                 "${execution.getVariable('v') ? 1 : 2 + n}"):
        python = to_python(juel, condition=True)
        compile_expression(python)
        assert code_problems(python) == [], juel


def test_a_value_is_translated_without_reading_it_as_a_condition():
    assert to_python("${a > 1}") == "juel_cmp('>', a, 1)"


def test_data_cannot_reach_attributes_even_by_a_key_computed_at_run_time():
    with pytest.raises(JuelEvalError, match="may not start with _"):
        run("${x[key] == 1}", x={"__class__": 1}, key="__class__")
    # dict keys are read, never attributes: a record's "items" key, not dict.items
    assert run("${x.items == 2}", x={"items": 2}) is True
    assert run("${x.keys == null}", x={}) is True


@pytest.mark.parametrize(("text", "data", "expected"), [
    ("${amount}", {"amount": Decimal("2.50")}, Decimal("2.50")),  # one expression alone keeps its type
    ("${customer}", {"customer": {"a": 1}}, {"a": 1}),
    ("Dear ${name},", {"name": "Ann"}, "Dear Ann,"),
    ("${a} of ${b}", {"a": 1, "b": None}, "1 of "),
    ("Approved: ${ok} (${n * 2})", {"ok": True, "n": 4}, "Approved: true (8)"),
    ("${x.equals('}')}!", {"x": "}"}, "true!"),  # a } in quotes does not close the expression
    ("#{a}#{b}", {"a": "x", "b": "y"}, "xy"),
])
def test_a_value_with_text_around_its_expressions_is_a_text(text, data, expected):
    assert RestrictedEnvironment().evaluate(text_to_python(text), data) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("Dear ${name", "a ${ is not closed"),
    ("Dear ${name.toUpperCase()}", "method calls"),
    ("Dear ${__name__}", "may not start with _"),
])
def test_a_value_with_text_refuses_what_an_expression_refuses(text, says):
    with pytest.raises(JuelError, match=re.escape(says)):
        text_to_python(text)


def test_data_named_input_may_be_read_but_input_cannot_be_called():
    """SpiffWorkflow's own diagrams name a variable ``input``; the builtin is not there to call."""
    from app.engine.validate import code_problems

    assert code_problems("input == 'a' and u > 0") == []
    assert any("it calls input()" in problem for problem in code_problems("input('name?')"))


def test_operaton_extensions_are_read_as_camundas():
    from app.engine.reading import CAMUNDA_NS, parse_xml, prepare_tree

    root = parse_xml("d.bpmn", '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
                     'xmlns:operaton="http://operaton.org/schema/1.0/bpmn"><process id="p">'
                     '<businessRuleTask id="t" operaton:decisionRef="d"/></process></definitions>')
    assert prepare_tree(root, "d.bpmn") == []
    task = root.find(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}businessRuleTask")
    assert task.get(f"{{{CAMUNDA_NS}}}decisionRef") == "d" and len(task.attrib) == 2
