"""The step being run: what a service task needs to know about it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from app.models import ProcessInstance, User


@dataclass
class Step:
    """What a service task needs to know about the step that runs it."""

    instance: ProcessInstance
    actor: User | None
    channel: str
    told: set[int] = field(default_factory=set)  # who a notice of this step went to


_current: ContextVar[Step | None] = ContextVar("current_step", default=None)


def current_step() -> Step:
    step = _current.get()
    if step is None:
        raise RuntimeError("a service task ran outside a step")
    return step


def running_step() -> Step | None:
    """The step being run, if any."""
    return _current.get()


@contextmanager
def step(instance: ProcessInstance, actor: User | None, channel: str) -> Iterator[Step]:
    current = Step(instance, actor, channel)
    token = _current.set(current)
    try:
        yield current
    finally:
        _current.reset(token)
