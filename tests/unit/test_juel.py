"""JUEL conditions as Camunda Modeler writes them become Python with the same meaning."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.engine.juel import JuelError, is_juel, juel_to_python
from app.engine.scripting import BASE_GLOBALS, compile_expression


def run(juel: str, **data):
    """Translate, then evaluate the Python as the engine would, on ``data``."""
    python = juel_to_python(juel)
    return eval(compile_expression(python), {**BASE_GLOBALS, **data})  # noqa: S307 - restricted code


@pytest.mark.parametrize(("juel", "python"), [
    ("${amount > 10000}", "amount > 10000"),
    ("${decision == 'approve'}", "decision == 'approve'"),
    ('#{decision eq "reject"}', "decision == 'reject'"),
    ("${approved}", "approved"),
    ("${a && !b || c}", "(a and (not b)) or c"),
    ("${a and not b or c}", "(a and (not b)) or c"),
    ("${total ge 1.5}", 'total >= Decimal("1.5")'),
    ("${x == null}", "x == None"),
    ("${ (a || b) && c }", "(a or b) and c"),
])
def test_translations_read_as_python(juel, python):
    assert juel_to_python(juel) == python


@pytest.mark.parametrize(("juel", "data", "expected"), [
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
    ("${empty count}", {"count": 0}, False),  # JUEL: 0 is not empty, unlike Python's falsy 0
    ("${nights * 140 + other > 500}", {"nights": 3, "other": 81}, True),
    ("${total div 2 == 5}", {"total": 10}, True),
    ("${total mod 2 == 1}", {"total": 7}, True),
    ("${-balance > 0}", {"balance": -5}, True),
    ("${name == \"O'Neil\"}", {"name": "O'Neil"}, True),
    ("${name == 'say \\'hi\\''}", {"name": "say 'hi'"}, True),
])
def test_translations_mean_what_juel_means(juel, data, expected):
    assert run(juel, **data) is expected


@pytest.mark.parametrize(("juel", "says"), [
    ("${execution.getVariable('amount') > 5}", "Camunda engine object"),
    ("${task.name == 'x'}", "Camunda engine object"),
    ("${claim.amount > 5}", "dotted names"),
    ("${amount > 5 ? true : false}", "conditional operator"),
    ("${fn:contains(list, 'x')}", "functions"),
    ("${max(a, b) > 3}", "function calls"),
    ("${items[0] == 'x'}", "indexing"),
    ("Amount: ${amount}", "nothing around it"),
    ("${a} and ${b}", "one ${...}"),
    ("${}", "empty"),
    ("${amount >}", "ends too early"),
    ("${(amount > 5}", "not closed"),
    ("${name == 'open}", "not closed"),
    ("${__import__}", "may not start with _"),
    ("${_secret}", "may not start with _"),
    ("${import}", "reserved word"),
    ("${x = 5}", "assignment"),
    ("${a instanceof b}", "instanceof"),
    ("${a; b}", "several expressions"),
    ("${total €}", "character"),
])
def test_richer_juel_is_refused_with_a_reason(juel, says):
    with pytest.raises(JuelError) as refused:
        juel_to_python(juel)
    assert says in str(refused.value)


def test_only_wrapped_text_counts_as_juel():
    assert is_juel("${x}") and is_juel("  #{x > 1} ")
    assert not is_juel('decision == "approve"') and not is_juel(None) and not is_juel("")


def test_every_translation_compiles_under_the_restricted_evaluator():
    for juel in ("${a && b}", "${empty x}", "${x ge 2.5}", "${!(a || b)}", "${s == 'x'}"):
        compile_expression(juel_to_python(juel))
