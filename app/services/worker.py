"""One round of the worker: timers, digests, the outbox. Each part commits its own work.

What the worker depends on (the database, the SMTP server) may go away and come back: a
round then fails, and the next one tries again, for as long as it takes, without a restart.
``Outages`` says so once in the log when one goes away and once when it is back, instead of a
traceback every round.
"""

from __future__ import annotations

import contextlib
import logging
from threading import Event

from flask import current_app
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.extensions import db
from app.outbox.deliver import deliver_outbox
from app.outbox.digest import queue_digests
from app.steps.lanes import local_today

from .attachments import forget_old_kept_uploads
from .instances import fire_due_timers
from .meetings import queue_year_reminders

log = logging.getLogger(__name__)

DATABASE, MAIL_SERVER = "the database", "the mail server"
TIMER_BATCH = 100  # timers fired per round


class Outages:
    """The dependencies that are down, kept across rounds, so each outage is logged once.

    ``backlog`` says the last round left due work behind (a full batch of emails or timers):
    the worker then begins the next round at once instead of waiting its interval.
    """

    def __init__(self) -> None:
        self.down: dict[str, str] = {}
        self.backlog = False

    def failed(self, what: str, error: str) -> None:
        if what not in self.down:
            self.down[what] = error
            log.warning("worker: %s is unreachable (%s); trying again every round", what, error)

    def worked(self, what: str) -> None:
        if self.down.pop(what, None) is not None:
            log.warning("worker: %s is back", what)


def _database_gone(exc: Exception) -> bool:
    """The database could not be reached, or dropped the connection (not a fault of ours)."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _reset() -> None:
    """Forget the session's transaction; with the database gone even that may fail."""
    with contextlib.suppress(Exception):  # the connection is dead: removing the session is enough
        db.session.rollback()
    db.session.remove()


def _timers(worker: str, outages: Outages, stop: Event) -> str:
    fired = fire_due_timers(limit=TIMER_BATCH, stop=stop)
    outages.backlog |= fired >= TIMER_BATCH
    return f"timers: {fired}" if fired else ""


def _digests(worker: str, outages: Outages, stop: Event) -> str:
    queued = queue_digests()
    return f"digests: {queued}" if queued else ""


def _outbox(worker: str, outages: Outages, stop: Event) -> str:
    delivery = deliver_outbox(worker, stop=stop)
    taken = delivery.sent + delivery.retrying + delivery.failed + delivery.released
    outages.backlog |= taken >= current_app.config["MAIL_BATCH_SIZE"] and not delivery.unreachable
    if delivery.unreachable:
        outages.failed(MAIL_SERVER, delivery.unreachable)
    elif delivery.connected:
        outages.worked(MAIL_SERVER)
    if delivery.released:
        return (f"emails sent {delivery.sent}, to retry {delivery.retrying}, failed {delivery.failed}, "
                f"given back unsent {delivery.released}")
    if delivery.sent or delivery.retrying or delivery.failed:
        return f"emails sent {delivery.sent}, to retry {delivery.retrying}, failed {delivery.failed}"
    return ""


def _group_years(worker: str, outages: Outages, stop: Event) -> str:
    told = queue_year_reminders(local_today())
    db.session.commit()
    return f"group year reminders: {told}" if told else ""


def _kept_uploads(worker: str, outages: Outages, stop: Event) -> str:
    forgotten = forget_old_kept_uploads()
    return f"files of forms never sent deleted: {forgotten}" if forgotten else ""


PARTS = (("timers", _timers), ("digests", _digests), ("group years", _group_years),
         ("delivering the outbox", _outbox), ("files of forms never sent", _kept_uploads))


def run_round(worker: str, outages: Outages | None = None, stop: Event | None = None) -> str:
    """Do one round; return a line describing what happened ('' when nothing did).

    A failure in one part is rolled back and the next part and round still run. When the
    database is unreachable the rest of the round is skipped (each part would only wait for
    it in turn); ``outages``, kept by the caller across rounds, logs that once, and once that
    it is back. Any other failure is logged with its traceback.

    Once ``stop`` is set (SIGTERM), the job in hand is finished, nothing new is begun, and
    the emails claimed but not begun are given back at once.
    """
    outages = outages if outages is not None else Outages()
    stop = stop if stop is not None else Event()
    said = []
    outages.backlog = False
    for name, part in PARTS:
        if stop.is_set():
            break
        try:
            line = part(worker, outages, stop)
        except Exception as exc:
            _reset()
            if _database_gone(exc):
                outages.failed(DATABASE, _first_line(exc))
                break
            log.exception("worker: %s failed", name)
            continue
        outages.worked(DATABASE)
        if line:
            said.append(line)
    db.session.remove()
    return "; ".join(said)
