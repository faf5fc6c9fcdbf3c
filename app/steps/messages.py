"""The messages of a step: what the request waits for, kept in its subscription rows, and what
it threw, handed to the step for the router (app/services/messages.py) to deliver.

Called by the writer with each save of a request (``sync_instance``), so the subscription
rows always say what the saved workflow waits for: the router finds receivers by message name
and correlation key with one indexed query, never by loading workflows.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, delete, select

from app.engine import Wait
from app.extensions import db
from app.models import MessageSubscription
from app.models.base import utcnow

from .context import running_step
from .registry import engine

SUBSCRIPTION = cast(Table, MessageSubscription.__table__)
SUBSCRIPTIONS_OF = select(SUBSCRIPTION.c.id, SUBSCRIPTION.c.message_name, SUBSCRIPTION.c.correlation_key).where(
    SUBSCRIPTION.c.instance_id == bindparam("instance_id"))
DROP_SUBSCRIPTIONS = delete(SUBSCRIPTION).where(SUBSCRIPTION.c.id.in_(bindparam("ids", expanding=True)))
ADD_SUBSCRIPTION = SUBSCRIPTION.insert()


def note_messages(instance_id: int, wf, running: bool) -> list[Wait]:
    """Keep the request's subscription rows in step with ``wf``; hand what it threw to the step;
    return what it waits for.

    A request that is not running waits for nothing. Outside a step (nothing throws there) the
    thrown messages stay with the workflow for its next step.
    """
    eng = engine()
    waits = eng.waiting_for(wf) if running else []
    current = running_step()
    if current is not None:
        current.thrown.extend(eng.thrown(wf))
    if waits or eng.may_have_saved_waits(wf):
        save_subscriptions(instance_id, waits)
        eng.saved_waits(wf, waits)
    return waits


def waits_label(waits: list[Wait]) -> str:
    """The request's current step when no task waits but messages do: 'Waiting for “x”'."""
    return f"Waiting for {', '.join(f'“{w.name}”' for w in waits)}" if waits else ""


def save_subscriptions(instance_id: int, waits: list[Wait]) -> None:
    conn = db.session.connection()
    wanted = {(w.name[:200], w.key[:200]) for w in waits}
    have = {(name, key): row_id for row_id, name, key in conn.execute(SUBSCRIPTIONS_OF, {"instance_id": instance_id})}
    gone = [row_id for pair, row_id in have.items() if pair not in wanted]
    if gone:
        conn.execute(DROP_SUBSCRIPTIONS, {"ids": gone})
    new = sorted(wanted - set(have))
    if new:
        now = utcnow()
        conn.execute(ADD_SUBSCRIPTION, [{"instance_id": instance_id, "message_name": name, "correlation_key": key,
                                         "created_at": now} for name, key in new])


def waits_of(instance_id: int) -> list[Wait]:
    """What the request waits for, from its subscription rows (no workflow loaded)."""
    rows = db.session.connection().execute(SUBSCRIPTIONS_OF, {"instance_id": instance_id})
    return sorted((Wait(name, key) for _, name, key in rows), key=lambda w: (w.name, w.key))
