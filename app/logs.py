"""The app's log: one handler on the ``app`` logger, plain text or JSON lines (LOG_FORMAT),
and the request id every line carries.

A request id names one HTTP request (from a trusted proxy's ``X-Request-ID``, else made
here); the rows a request queues for the worker (outbox emails, the request's next timer)
store it, and the worker binds it again while it does that job, so a line of the worker's
log can be tied to the request that caused it.

JSON lines are written by python-json-logger, a small, well-kept formatter for the standard
library's logging: it already turns every ``extra`` field, exceptions and stack traces into
JSON, which a hand-written formatter would have to copy.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

APP = logging.getLogger("app")
ACCESS = logging.getLogger("app.access")  # one line per HTTP request (app/web/access_log.py)
JOBS = logging.getLogger("app.jobs")  # one line per worker job: an email, a timer
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
JSON_FIELDS = ["levelname", "name", "message"]
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # what a proxy's X-Request-ID may be (nginx: 32 hex)

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the HTTP request or worker job being handled, if any."""
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def acceptable(value: str | None) -> str | None:
    """``value`` if it is a well-formed request id; a header is never written to the log raw."""
    return value if value is not None and REQUEST_ID.fullmatch(value) else None


@contextmanager
def bound_request_id(value: str | None) -> Iterator[str]:
    """Handle a job under ``value`` (a new id when it has none): its lines and rows carry it."""
    token = _request_id.set(value or new_request_id())
    try:
        yield _request_id.get() or ""
    finally:
        _request_id.reset(token)


def bind_request_id(value: str) -> object:
    """Bind ``value`` until ``unbind`` is given the returned token (a request's hooks)."""
    return _request_id.set(value)


def unbind(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]  # the Token bind_request_id returned


@contextmanager
def job(kind: str, **fields: object) -> Iterator[dict[str, object]]:
    """One line in the log for one job of the worker, when it ends: its kind, its outcome (set
    it in the dict yielded, with any further field), how long it took. Ids only: never an
    email address or a form's values."""
    done: dict[str, object] = {"outcome": "", **fields}
    started = time.perf_counter()
    try:
        yield done
    except BaseException:
        done["outcome"] = "failed"
        raise
    finally:
        took = round((time.perf_counter() - started) * 1000, 1)
        said = " ".join(f"{key} {value}" for key, value in done.items() if key != "outcome")
        JOBS.info("%s %s %s %.1fms", kind, done["outcome"], said, took,
                  extra={"job": kind, **done, "duration_ms": took})


class RequestIdFilter(logging.Filter):
    """Give every record the request id bound when it was made (JSON shows it as a field)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class TextFormatter(logging.Formatter):
    """Plain text, as before, with the request id appended when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"},
                             timestamp="time", json_ensure_ascii=False)  # ISO 8601, UTC
    return TextFormatter(TEXT_FORMAT)


class AppHandler(logging.StreamHandler):
    """The one handler of the ``app`` logger (stderr): kept across ``create_app`` calls."""


def configure(log_format: str, level: str) -> None:
    """Write the app's records to stderr as text or JSON lines, each with its request id.

    The records stay on their way to the root logger too (pytest's capture reads them there);
    nothing configures the root logger, so nothing prints them twice.
    """
    from flask.logging import default_handler

    APP.removeHandler(default_handler)  # Flask's own, which create_app's first log would add
    handler = next((h for h in APP.handlers if isinstance(h, AppHandler)), None)
    if handler is None:
        handler = AppHandler(sys.stderr)
        handler.addFilter(RequestIdFilter())
        APP.addHandler(handler)
    handler.setFormatter(formatter(log_format))
    APP.setLevel(level.upper())
