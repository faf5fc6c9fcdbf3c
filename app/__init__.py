"""Big Buyers Workflow: form-driven BPMN approvals for the Big Buyers Initiative."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine as SQLEngine

from . import config as settings
from . import logs
from .database import guard_engine
from .extensions import babel, csrf, db, login_manager, mail, migrate
from .locale import select_locale

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Assemble the application; ``config`` overrides settings (tests use it).

    Raises ``ConfigurationError`` (one line naming the setting) when APP_ENV=production lacks
    what production needs; ``flask`` commands and gunicorn then exit with it.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "app" / "static"),
    )
    # Block tags take their line with them: email text templates read as they are written.
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True}
    instance = Path((config or {}).get("INSTANCE_PATH") or app.instance_path)
    app.instance_path = str(instance)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.load(instance))
    if config:
        app.config.from_mapping(config)
    settings.check(app.config)  # production: a mail server and a secret key, or no start
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.generated_secret_key(instance)
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
            guard_engine(engine, app.config["DATABASE_CONNECT_TIMEOUT"], app.config["DATABASE_STATEMENT_TIMEOUT"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "app" / "translations"))

    from . import models  # noqa: F401 - register the tables
    from .cli import register_cli
    from .services.messages import route_thrown
    from .services.topics import TOPICS
    from .steps import registry
    from .steps.context import set_router
    from .web import register_web

    registry.init_app(app, services=TOPICS)
    set_router(app, route_thrown)
    register_web(app)
    register_cli(app)
    return app


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
