"""A user task's name may hold ``${...}``, worked out on the task's data as Camunda does."""

from __future__ import annotations

import pytest

from app.engine.assignments import worked_out_name


@pytest.mark.parametrize(("name", "data", "shown"), [
    ("My Task ${loopCounter}", {"loopCounter": 2}, "My Task 2"),
    ("Review ${claim.reference} for #{owner}", {"claim": {"reference": "C-7"}, "owner": "Ana"},
     "Review C-7 for Ana"),
    ("${title}", {"title": "  Approve\n the trip "}, "Approve the trip"),  # one line
    ("Approve the trip", {}, "Approve the trip"),
    # An expression that fails, or gives nothing, leaves the name as written: never a stopped step.
    ("My Task ${loopCounter}", {}, "My Task ${loopCounter}"),
    ("${nothing}", {"nothing": None}, "${nothing}"),
    ("Broken ${ 1 + }", {}, "Broken ${ 1 + }"),
])
def test_a_task_name_is_worked_out_on_its_data(name, data, shown):
    assert worked_out_name(name, data) == shown
