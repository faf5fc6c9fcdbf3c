"""Personal data over time: how long each process keeps it (``periods``), the purge of what is
due and its preview (``purge``), legal holds (``holds``), erasing a person (``erasure``)."""

from .erasure import ErasurePlan, Kept, erase_person, plan_erasure
from .holds import lift_hold, place_hold
from .periods import Period, Retention, declared_retention, parse_period, purge_date, request_retention
from .purge import Due, due_requests, purge_due, purge_request

__all__ = ["Due", "ErasurePlan", "Kept", "Period", "Retention", "declared_retention", "due_requests", "erase_person",
           "lift_hold", "parse_period", "place_hold", "plan_erasure", "purge_date", "purge_due", "purge_request",
           "request_retention"]
