"""The application's engine: one per app, with the service tasks the app registers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app

from app.engine import Engine

KEY = "bbw_engine"


def init_app(app: Flask, services: Mapping[str, Callable[..., dict[str, Any]]]) -> None:
    """Give ``app`` its engine, which runs ``services`` when a diagram names their topic."""
    app.extensions[KEY] = Engine(services=dict(services))


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions[KEY]


def service_names() -> frozenset[str]:
    """The topics a service task may name: what the app registered."""
    return frozenset(engine().services)
