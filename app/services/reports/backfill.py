"""Fill in the figures of requests that ran before the step writer kept them."""

from __future__ import annotations

from sqlalchemy import exists, select

from app.engine import load_model
from app.extensions import db
from app.models import ProcessInstance, RequestFigures
from app.steps import copied, engine, figures_of, write_figures


def fill_figures(limit: int = 200) -> int:
    """Write the figures rows of up to ``limit`` requests that have none, from their saved
    workflows; how many were written. The caller commits."""
    instances = list(db.session.scalars(
        select(ProcessInstance).where(~exists().where(RequestFigures.instance_id == ProcessInstance.id),
                                      ProcessInstance.state != "")
        .order_by(ProcessInstance.id).limit(limit)))
    for instance in instances:
        data = engine().data(engine().load(load_model(instance.version, instance.called), instance.state))
        write_figures(copied(instance, {}), instance.id, figures_of(data))
    return len(instances)
