"""Personal data over time: how long each process keeps it (``periods``), the purge of what is
due and its preview (``purge``), legal holds (``holds``)."""

from .holds import lift_hold, place_hold
from .periods import Period, Retention, declared_retention, parse_period, purge_date, request_retention
from .purge import Due, due_requests, purge_due, purge_request

__all__ = ["Due", "Period", "Retention", "declared_retention", "due_requests", "lift_hold", "parse_period",
           "place_hold", "purge_date", "purge_due", "purge_request", "request_retention"]
