"""Fill in the figures of requests that ran before the step writer kept them."""

from __future__ import annotations

from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import ProcessInstance
from app.steps import Conflict, engine, figures_of, save_instance


def fill_figures(limit: int = 200) -> int:
    """Write the figures of up to ``limit`` requests that have none, from their saved
    workflows; how many were written. A request someone changes meanwhile is left for the
    next round (its step writes the figures anyway). The caller commits."""
    instances = db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.figures.is_(None), ProcessInstance.state != "")
        .order_by(ProcessInstance.id).limit(limit))
    written = 0
    for instance in instances:
        data = engine().data(engine().load(load_model(instance.version, instance.called), instance.state))
        try:
            save_instance(instance, {"figures": figures_of(data)})
        except Conflict:
            continue
        written += 1
    return written
