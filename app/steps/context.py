"""The step being run: what a service task needs to know about it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from app.metrics import observe_step
from app.models import ProcessInstance, User

ROUTER = "bbw_message_router"
# A step's kind by its channel, unless it closed a task: what a person starts is a "start".
KINDS = {"worker": "timer", "message": "message", "admin": "admin"}


@dataclass(frozen=True)
class Opened:
    """A task the step opened: its name, lane and the people it waits for."""

    name: str
    lane: str
    people: tuple[int, ...]


@dataclass(frozen=True)
class Told:
    """A notice the step queued: the people emailed and its subject."""

    people: tuple[int, ...]
    subject: str


@dataclass
class Step:
    """What a service task needs to know about the step that runs it, and what the step did,
    for the person who made it (what comes next, who was told)."""

    instance: ProcessInstance
    actor: User | None
    channel: str
    told: set[int] = field(default_factory=set)  # who a notice of this step went to
    thrown: list[Any] = field(default_factory=list)  # messages for other requests (app.engine.Message)
    opened: list[Opened] = field(default_factory=list)
    notices: list[Told] = field(default_factory=list)
    kind: str = ""  # what the step did, for its metric: "completion" once it closed a task (writer)


_current: ContextVar[Step | None] = ContextVar("current_step", default=None)


def current_step() -> Step:
    step = _current.get()
    if step is None:
        raise RuntimeError("a service task ran outside a step")
    return step


def running_step() -> Step | None:
    """The step being run, if any."""
    return _current.get()


def set_router(app: Flask, router: Callable[[Step], None]) -> None:
    """What delivers the messages a step threw, once the step is written (the composition root
    sets it: the router lives in the services)."""
    app.extensions[ROUTER] = router


@contextmanager
def step(instance: ProcessInstance, actor: User | None, channel: str) -> Iterator[Step]:
    """Run a step; once it is written, in the same transaction, deliver what it threw."""
    current = Step(instance, actor, channel)
    token = _current.set(current)
    started = time.perf_counter()
    try:
        yield current
    finally:
        _current.reset(token)
    observe_step(current.kind or KINDS.get(channel, "start"), time.perf_counter() - started)
    router = current_app.extensions.get(ROUTER)
    if current.thrown and router is not None:
        router(current)
