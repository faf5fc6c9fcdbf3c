"""What every report is narrowed by: a period, a process, a version, a group, an organisation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import (
    HumanTask,
    Organisation,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    RequestFigures,
    User,
)
from app.services import monitoring
from app.services.monitoring.queries import _day_start

from .sql import unindexed


@dataclass(frozen=True)
class FilterSpec:
    """A report's filters: requests started from ``start`` to ``end`` (both days included,
    where the secretariat works), and of one process, version, group or organisation (None: any)."""

    start: dt.date
    end: dt.date
    process_id: str | None = None
    version_id: int | None = None
    group_id: int | None = None
    organisation_id: int | None = None  # the organisation of the person who started the request

    @property
    def begins(self) -> dt.datetime:
        """The period's first moment, in UTC as stored."""
        return _day_start(self.start)

    @property
    def ends(self) -> dt.datetime:
        """The moment after the period's last day, in UTC as stored."""
        return _day_start(self.end + dt.timedelta(days=1))


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The current calendar year, where the secretariat works."""
    if today is None:
        today = dt.datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()
    return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)


def instance_conditions(spec: FilterSpec, period: bool = True,
                        rows: type[ProcessInstance] | type[RequestFigures] = ProcessInstance) -> list:
    """WHERE clauses on process_instance: those of the list of all requests (each leads an
    index ending like ix_instance_started), and the organisation. ``rows=RequestFigures``: the
    same clauses on the copies of those columns that request_figures keeps (the money and
    initiative reports; ix_request_figures_process_started)."""
    where = monitoring.instance_conditions(monitoring.InstanceFilter(
        process_id=spec.process_id, version_id=spec.version_id, group_id=spec.group_id,
        started_from=spec.start if period else None, started_to=spec.end if period else None), rows)
    if spec.organisation_id:
        where.append(rows.initiator_id.in_(select(User.id).where(User.organisation_id == spec.organisation_id)))
    return where


def years(spec: FilterSpec) -> list[int]:
    """The years (UTC) the period's moments fall in: what ``started_year`` holds."""
    return list(range(spec.begins.year, (spec.ends - dt.timedelta(microseconds=1)).year + 1))


def flow_conditions(spec: FilterSpec, rows: type[ProcessInstance] | type[HumanTask]) -> list:
    """The filters' WHERE clauses for the flow report, on the request rows or on the copies
    of their columns each task row keeps: the same requests as ``instance_conditions``, tested
    on the columns of the flow index (ix_instance_flow, ix_human_task_flow) alone. Each
    filter's column is ``unindexed``: SQLite's planner would otherwise take an index that
    leads with it (ix_instance_group_started) and read and sort every matching request's wide
    row, 15 times slower at 100 000 requests (docs/PERFORMANCE.md)."""
    columns: tuple = ((ProcessInstance.started_year, ProcessInstance.started_at, ProcessInstance.version_id,
                       ProcessInstance.working_group_id, ProcessInstance.initiator_id) if rows is ProcessInstance
                      else (HumanTask.request_year, HumanTask.request_started_at, HumanTask.request_version_id,
                            HumanTask.request_group_id, HumanTask.request_initiator_id))
    year, started, version, group, initiator = columns
    where = [year.in_(years(spec)), started >= spec.begins, started < spec.ends]
    if spec.process_id:
        where.append(unindexed(version).in_(
            select(ProcessVersion.id).join(ProcessDefinition).where(ProcessDefinition.process_id == spec.process_id)))
    if spec.version_id:
        where.append(unindexed(version) == spec.version_id)
    if spec.group_id:
        where.append(unindexed(group) == spec.group_id)
    if spec.organisation_id:
        where.append(unindexed(initiator).in_(select(User.id).where(User.organisation_id == spec.organisation_id)))
    return where


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: the list of all requests' processes, versions and
    groups, and the organisations."""
    offered = monitoring.filter_choices()
    return {
        "process_id": offered["process_id"], "version": offered["version"], "group": offered["group"],
        "organisation": [(str(oid), name) for oid, name in db.session.execute(
            select(Organisation.id, Organisation.name).order_by(Organisation.name))],
    }
