"""Health checks for a load balancer or an orchestrator: no sign-in, plain text, cheap.

``/healthz``: the process answers (liveness; never touches the database).
``/readyz``: the database answers and its schema is the one this code expects (alembic's
current revision is the head of ``migrations/``), and the attachment store can take files (the
bucket answers a HEAD, or the upload folder is writable), so the process can serve people.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError, SQLAlchemyError

from app.extensions import db
from app.services.storage import storage

bp = Blueprint("health", __name__)


def _plain(body: str, status: int):
    response = current_app.response_class(body + "\n", status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def alive():
    return _plain("ok", 200)


@bp.route("/readyz")
def ready():
    expected = migration_heads(current_app.extensions["migrate"].directory)
    try:
        connection = db.engine.connect()
    except SQLAlchemyError:
        return _plain("not ready: database unreachable", 503)
    try:
        with connection:
            current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError as exc:
        missing = isinstance(exc, ProgrammingError) or "no such table" in str(exc)
        return _plain("not ready: " + ("no migrations applied: run flask db upgrade" if missing
                                       else "database unreachable"), 503)
    if current != expected:
        have, want = ", ".join(sorted(current)) or "none", ", ".join(sorted(expected))
        return _plain(f"not ready: database at migration {have}, this code expects {want}: run flask db upgrade",
                      503)
    problem = storage().problem()
    if problem:
        return _plain(f"not ready: {problem}", 503)
    return _plain("ready", 200)


@cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migrations folder; read once per process."""
    return frozenset(ScriptDirectory(str(Path(directory))).get_heads())
