"""The access log: one line per HTTP request, with its request id; and no secret of an
emailed link in any access log (the dev server's or gunicorn's, should one be switched on).

Each request gets an id: the ``X-Request-ID`` a trusted proxy sent (``TRUSTED_PROXIES`` > 0,
and well formed), else a new one. The response carries it back in ``X-Request-ID``, every log
line of the request carries it, and so do the rows it queues for the worker (app/logs.py).

The line names the route's template (``/tasks/<task_id>``), not the address typed, so it
holds no id of a person's request and no link's secret; the method, the status, the time
taken, the signed-in person's id (never their email address) and the request id. Health
checks that pass are logged at DEBUG only: a load balancer asks every few seconds. The
same measures feed the Prometheus metrics (app/metrics.py).

A decision link's path is its secret: whoever reads it in a log could decide as the person it
was sent to, until the link is used or expires. A link to choose a password is one too.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, current_app, g, request
from sqlalchemy import inspect

from app import logs, metrics

SECRET_PATH = re.compile(r"(/decide/|/account/password/)[^/\s?\"']+")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
QUIET = {"health.alive", "health.ready", "metrics.scrape"}  # logged at DEBUG when they answer 200


def redact(text: str) -> str:
    return SECRET_PATH.sub(r"\1[hidden]", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments (a tuple for werkzeug, the atoms' dict for
    gunicorn) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: redact(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(value) if isinstance(value, str) else value for value in record.args)
        return True


class DevServerRequests(logging.Filter):
    """Drop the dev server's own line per request: the app writes a fuller one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.rstrip().endswith('"%s" %s %s'))


_FILTER = RedactSecrets()
_DEV_SERVER = DevServerRequests()


def init_app(app: Flask) -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    werkzeug = logging.getLogger("werkzeug")
    if _DEV_SERVER not in werkzeug.filters:
        werkzeug.addFilter(_DEV_SERVER)
    # First: every line the request's other hooks write carries its id.
    app.before_request_funcs.setdefault(None, []).insert(0, begin)
    app.after_request(finish)  # registered first, so it runs last and sees the final status
    app.teardown_request(forget)


def begin() -> None:
    g.request_started = time.perf_counter()
    trusted = current_app.config.get("TRUSTED_PROXIES") and logs.acceptable(request.headers.get("X-Request-ID"))
    g.request_id = trusted or logs.new_request_id()
    g.request_id_token = logs.bind_request_id(g.request_id)


def route() -> str:
    """The route's template with its converters left out, or the path (without secrets) of an
    address no route matched."""
    if request.url_rule is not None:
        return CONVERTER.sub(r"<\1>", request.url_rule.rule)
    return redact(request.path)[:200]


def finish(response):
    started = g.get("request_started")
    if started is None:  # a request whose first hook never ran
        return response
    seconds = time.perf_counter() - started
    response.headers["X-Request-ID"] = g.request_id
    endpoint = request.endpoint or "unmatched"
    user = g.get("_login_user")  # Flask-Login's user, if this request loaded one: never a query here,
    # so the id its session holds: an attribute read after the view's commit would load the row again.
    user_id = inspect(user).identity[0] if user is not None and not user.is_anonymous else None
    path = route()
    level = logging.DEBUG if endpoint in QUIET and response.status_code == 200 else logging.INFO
    logs.ACCESS.log(level, "%s %s %s %.1fms user %s", request.method, path, response.status_code, seconds * 1000,
                    user_id or "-",
                    extra={"method": request.method, "path": path, "status": response.status_code,
                           "duration_ms": round(seconds * 1000, 1), "user_id": user_id})
    metrics.observe_request(request.method, endpoint, response.status_code, seconds)
    return response


def forget(error: BaseException | None = None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.unbind(token)
