"""The figures of a request that the reports add up, kept beside its row by the step writer.

The amounts, days and flags of a request live in its workflow's data, saved as engine JSON;
adding them up from there would load every workflow. So each step copies the few values the
reports read into the request's ``request_figures`` row (a JSON object, beside copies of the
columns the reports filter and group by), and the reports aggregate those narrow rows with
plain SQL (app/services/reports/), never touching the requests' wide rows.

A figure is a data name, whatever process or version holds it: a revised diagram that keeps
the name keeps its figure. Values are JSON numbers, booleans or ISO dates; a name missing
from the data, or empty, is left out. Never a personal field: none of these names is one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, update

from app.extensions import db
from app.models import HumanTask, ProcessInstance, RequestFigures

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


FIGURES = cast(Table, RequestFigures.__table__)
# The request's columns copied beside its figures, and those of them a step may change.
COPIED = ("process_id", "version_id", "working_group_id", "initiator_id", "started_at", "status", "outcome")
CHANGING = {"version_id", "working_group_id", "status", "outcome"}


def copied(instance: ProcessInstance, values: dict[str, Any]) -> dict[str, Any]:
    """The copied columns as the request's row has them once ``values`` are written."""
    return {name: values[name] if name in values else getattr(instance, name) for name in COPIED}


def write_figures(row: dict[str, Any], instance_id: int, figures: dict[str, Any] | None) -> None:
    """Bring the request's figures row in step: ``row`` the copied columns (``copied``),
    ``figures`` its figures now (None: unchanged). A request without a row gets one when its
    figures are given."""
    values = dict(row, figures=figures) if figures is not None else row
    connection = db.session.connection()
    written = connection.execute(update(FIGURES).where(FIGURES.c.instance_id == instance_id).values(values))
    if written.rowcount == 0 and figures is not None:
        connection.execute(FIGURES.insert().values(instance_id=instance_id, **values))


# The flow report's columns (app/services/reports/flow.py): a request's whole hours from start
# to end, and on each of its task rows copies of the request's columns the report filters and
# groups by, with the whole hours the task waited, so the report reads one index in the order
# it groups by, with no join and no sort (docs/REPORTS.md, "Speed").
TASKS = cast(Table, HumanTask.__table__)
# What a step may change of the request's columns copied on its task rows, and their copies.
MOVING = {"version_id": "request_version_id", "working_group_id": "request_group_id"}


def whole_hours(start: dt.datetime, end: dt.datetime | None) -> int | None:
    """The whole hours from ``start`` to ``end`` (None if ``end`` is)."""
    return None if end is None else int((end - start).total_seconds() // 3600)


def with_hours_to_end(instance: ProcessInstance, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` and, when they set ended_at, the request's hours from start to end."""
    if "ended_at" not in values:
        return values
    return {**values, "hours_to_end": whole_hours(instance.started_at, values["ended_at"])}


def task_copies(instance: ProcessInstance) -> dict[str, Any]:
    """A new task row's copies of its request's columns."""
    return {"request_year": instance.started_year, "request_started_at": instance.started_at,
            "request_version_id": instance.version_id, "request_group_id": instance.working_group_id,
            "request_initiator_id": instance.initiator_id}


def keep_copies(instance: ProcessInstance, values: dict[str, Any], figures: dict[str, Any] | None) -> None:
    """After ``values`` were written to the request's row (its attributes not yet expired):
    its figures row follows (``figures``: its figures now, None when unchanged), and a step
    that moves it to another version (a migration) or group changes the copies on all its
    task rows, in the step's transaction."""
    if figures is not None or CHANGING & set(values):
        write_figures(copied(instance, values), instance.id, figures)
    moved = {copy: values[name] for name, copy in MOVING.items() if name in values}
    if moved:
        db.session.connection().execute(update(TASKS).where(TASKS.c.instance_id == instance.id).values(moved))
