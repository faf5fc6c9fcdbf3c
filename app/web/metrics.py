"""``/metrics``: Prometheus's text format, when METRICS_ENABLED is on (README, "Operating").

Who may read it: with METRICS_TOKEN set, whoever sends ``Authorization: Bearer <token>``;
without it, only the machine itself (a scraper on loopback, as the client address gunicorn or
the trusted proxy gives). Anyone else gets 404, as when metrics are off: the address says
nothing to the curious.

The counts of each process (app/metrics.py) come with what the database says at the moment
of the scrape, each in one small indexed query: the emails waiting and the oldest one's age,
the emails failed, the timers due and the oldest one's lateness, the requests stopped by an
error.
"""

from __future__ import annotations

import hmac
import logging
import os

from flask import Blueprint, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import InstanceStatus, OutboxMessage, OutboxStatus, ProcessInstance
from app.models.base import utcnow

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "::1"}
UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def allowed() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK


@bp.route("/metrics")
def scrape():
    if not current_app.config["METRICS_ENABLED"] or not allowed():
        abort(404)
    registry = CollectorRegistry()
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # several processes: add up the files each one keeps there
        MultiProcessCollector(registry, path=folder)
    else:
        registry.register(REGISTRY)  # this process's counts, and its CPU and memory
    registry.register(DatabaseCollector())
    response = current_app.response_class(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def _age(now, since) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


class DatabaseCollector:
    """What the database says now; ``bbw_database_up`` 0 (and nothing else) while it is away."""

    def collect(self):
        up = GaugeMetricFamily("bbw_database_up", "Whether the database answered this scrape's queries")
        try:
            families = list(self._read())
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("metrics: the database did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        finally:
            db.session.remove()
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self):
        now = utcnow()
        unsent, oldest = db.session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(UNSENT))).one()
        failed = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED))
        due, earliest = db.session.execute(
            select(func.count(), func.min(ProcessInstance.next_timer_at))
            .where(ProcessInstance.next_timer_at <= now, ProcessInstance.status == InstanceStatus.RUNNING)).one()
        errors = db.session.scalar(
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == InstanceStatus.ERROR))
        for name, text, value in (
            ("bbw_outbox_unsent", "Emails waiting to be sent (or being sent)", unsent),
            ("bbw_outbox_oldest_unsent_age_seconds", "How long the oldest email waiting has waited", _age(now, oldest)),
            ("bbw_outbox_failed", "Emails the mail server refused or that could not be sent in time", failed),
            ("bbw_timers_due", "Timers of running requests that are due and not fired yet", due),
            ("bbw_timers_oldest_due_age_seconds", "How late the most overdue timer is", _age(now, earliest)),
            ("bbw_requests_in_error", "Requests stopped by an error, waiting for an administrator", errors),
        ):
            family = GaugeMetricFamily(name, text)
            family.add_metric([], float(value))
            yield family
