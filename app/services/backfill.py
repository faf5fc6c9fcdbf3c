"""What a release adds to the rows of requests that ran before it: ``flask backfill``.

Each backfill fills in, in batches, what the step writer now keeps for every request but
older requests lack, from their saved workflows, with the functions the step writer uses, so
a request filled in reads as one a step wrote. Each is idempotent: a request that has what it
fills in is left alone, so a second run changes nothing.

- ``figures``: the reports' ``request_figures`` row (docs/REPORTS.md).
- ``titles``: ``process_instance.parts``, the raw values of the title and the key fields that
  show them in the reader's language (docs/DIAGRAMS.md, "Request titles"). A purged request
  is skipped: its personal data is gone, and so are the values its parts would hold.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import String, cast, or_, select, update

from app.engine import load_model
from app.extensions import db
from app.models import ProcessInstance
from app.outbox.titles import request_parts
from app.steps import engine

from .reports.backfill import fill_figures

BATCH = 200
# A request not purged whose parts were never written: SQL NULL (a row older than the column),
# or JSON null.
WITHOUT_PARTS = (or_(ProcessInstance.parts.is_(None), cast(ProcessInstance.parts, String) == "null"),
                 ProcessInstance.purged_at.is_(None))


def fill_parts(limit: int = BATCH) -> int:
    """Write the title's and key fields' parts of up to ``limit`` requests that have none,
    from their saved workflows; how many were written. The caller commits."""
    instances = list(db.session.scalars(
        select(ProcessInstance).where(*WITHOUT_PARTS, ProcessInstance.state != "")
        .order_by(ProcessInstance.id).limit(limit)))
    for instance in instances:
        model = load_model(instance.version, instance.called)
        data = engine().data(engine().load(model, instance.state))
        # Only where a step has not written them meanwhile; the row's version stays (nothing a
        # step reads changed).
        db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id, *WITHOUT_PARTS)
                           .values(parts=request_parts(model, data)).execution_options(synchronize_session=False))
        db.session.expire(instance, ["parts"])
    return len(instances)


# What ``flask backfill`` runs, in order: (what it fills, the function filling a batch).
BACKFILLS: tuple[tuple[str, Callable[[int], int]], ...] = (("figures", fill_figures), ("titles", fill_parts))


def backfill(name: str, batch: int = BATCH) -> int:
    """Run one backfill of ``BACKFILLS`` to the end, committing each batch; how many requests it filled."""
    fill = dict(BACKFILLS)[name]
    total = 0
    while written := fill(batch):
        db.session.commit()
        total += written
    return total
