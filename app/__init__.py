"""Big Buyers Workflow: form-driven BPMN approvals for the Big Buyers Initiative."""

from __future__ import annotations

import select
import time
from functools import partial
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine as SQLEngine
from sqlalchemy.exc import DisconnectionError

from . import config as settings
from .extensions import csrf, db, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Assemble the application; ``config`` overrides settings (tests use it)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "app" / "static"),
    )
    # Block tags take their line with them: e-mail text templates read as they are written.
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True}
    instance = Path((config or {}).get("INSTANCE_PATH") or app.instance_path)
    app.instance_path = str(instance)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.load(instance))
    if config:
        app.config.from_mapping(config)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (config or {}):  # made for the database finally chosen
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = settings.engine_options(app.config)
    if app.config.get("TRUSTED_PROXIES"):  # believe that many proxies' X-Forwarded-For/-Proto/-Host
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.driver == "psycopg":
                event.listen(engine, "checkout", partial(
                    _ping_within, seconds=app.config["DATABASE_CONNECT_TIMEOUT"]))
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)

    from . import models  # noqa: F401 - register the tables
    from .cli import register_cli
    from .services.topics import TOPICS
    from .steps import registry
    from .web import register_web

    registry.init_app(app, services=TOPICS)
    register_web(app)
    register_cli(app)
    return app


def _ping_within(dbapi_connection, connection_record, connection_proxy, seconds: float) -> None:
    """Before a pooled PostgreSQL connection is used, check the server answers it in time.

    SQLAlchemy's own pre-ping waits for the answer for ever: on a server that is paused (or
    whose host vanished) a request would hang until gunicorn kills its worker. This one sends
    ``SELECT 1`` outside any transaction and waits ``seconds`` at most; otherwise the pool
    drops the connection and opens a new one, which the connect timeout bounds in turn.
    """
    pgconn = dbapi_connection.pgconn
    deadline = time.monotonic() + seconds
    try:
        pgconn.send_query(b"SELECT 1")
        while pgconn.flush():  # rarely: the kernel's buffer was full
            select.select([], [pgconn.socket], [], max(deadline - time.monotonic(), 0))
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([pgconn.socket], [], [], remaining)[0]:
                raise TimeoutError(f"no answer to a ping within {seconds} s")
        ok = True
        while (result := pgconn.get_result()) is not None:
            ok = ok and result.error_message == b""
    except Exception as exc:  # whatever went wrong, this connection is not usable
        raise DisconnectionError(f"the database did not answer: {exc}") from exc
    if not ok:
        raise DisconnectionError("the database refused a ping")


@event.listens_for(SQLEngine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers run beside one writer; foreign keys on; wait for a lock, do not fail."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()
