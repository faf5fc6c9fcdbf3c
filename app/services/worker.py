"""One round of the worker: timers, digests, the outbox. Each part commits its own work."""

from __future__ import annotations

import logging

from app.extensions import db
from app.outbox.deliver import deliver_outbox
from app.outbox.digest import queue_digests

from .instances import fire_due_timers

log = logging.getLogger(__name__)


def run_round(worker: str) -> str:
    """Do one round; return a line describing what happened ('' when nothing did).

    A failure in one part is logged and rolled back; the next part and round still run.
    """
    said = []
    for name, job in (("timers", fire_due_timers), ("digests", queue_digests)):
        try:
            count = job()
            if count:
                said.append(f"{name}: {count}")
        except Exception:
            db.session.rollback()
            log.exception("worker: %s failed", name)
    try:
        delivery = deliver_outbox(worker)
        if delivery.sent or delivery.retrying or delivery.failed:
            said.append(f"e-mails sent {delivery.sent}, to retry {delivery.retrying}, failed {delivery.failed}")
    except Exception:
        db.session.rollback()
        log.exception("worker: delivering the outbox failed")
    db.session.remove()
    return "; ".join(said)
