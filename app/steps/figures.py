"""The figures of a request that the reports add up, kept on its row by the step writer.

The amounts, days and flags of a request live in its workflow's data, saved as engine JSON;
adding them up from there would load every workflow. So each step copies the few values the
reports read into ``process_instance.figures`` (a JSON object written in the same UPDATE as
the summary: no extra statement per step), and the reports aggregate that column over the
indexed columns (process, group, start date) with plain SQL (app/services/reports/).

A figure is a data name, whatever process or version holds it: a revised diagram that keeps
the name keeps its figure. Values are JSON numbers, booleans or ISO dates; a name missing
from the data, or empty, is left out. Never a personal field: none of these names is one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

REPORTED = (
    # travel_reimbursement: what was claimed, what the travel rules allow, the flags, when paid
    "total_claimed", "eligible_amount", "flag_late", "flag_accommodation_capped", "payment_date",
    # expert_request: the days, the estimated cost approved, the rate of the expert assigned
    "expert_days", "estimated_cost", "daily_rate",
    # market_engagement: the budget requested, the day, who came
    "budget_total", "event_date", "suppliers_attending", "buyers_attending",
    # joint_statement (uploaded): when it was published
    "publication_date",
)


def _figure(value: Any) -> Any:
    """``value`` as JSON, or None when it is no figure (empty, text, a list)."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 10:  # a date the form kept as text
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def figures_of(data: dict[str, Any]) -> dict[str, Any]:
    """The reported figures in a request's data."""
    found = {name: _figure(data.get(name)) for name in REPORTED}
    return {name: value for name, value in found.items() if value is not None}
