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


def task_conditions(spec: FilterSpec) -> list:
    """The filters' WHERE clauses on the copies of its request's columns a task row keeps
    (the flow report, ix_human_task_flow): the same requests as ``instance_conditions``."""
    where = [HumanTask.request_year.in_(years(spec)), HumanTask.request_started_at >= spec.begins,
             HumanTask.request_started_at < spec.ends]
    if spec.process_id:
        where.append(HumanTask.request_version_id.in_(
            select(ProcessVersion.id).join(ProcessDefinition).where(ProcessDefinition.process_id == spec.process_id)))
    if spec.version_id:
        where.append(HumanTask.request_version_id == spec.version_id)
    if spec.group_id:
        where.append(HumanTask.request_group_id == spec.group_id)
    if spec.organisation_id:
        where.append(HumanTask.request_initiator_id.in_(
            select(User.id).where(User.organisation_id == spec.organisation_id)))
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
