"""The migrations build exactly the schema the models describe, and take it down again, on the
database of this pass: SQLite, then PostgreSQL (``--postgres``)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url

from app import create_app
from app.extensions import db
from tests import pg
from tests.conftest import postgres_url


@pytest.fixture
def empty_database(tmp_path):
    """A database with nothing in it, on this pass's server."""
    url = postgres_url()
    if not url:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    parts = make_url(url)
    scratch = parts.set(database=f"{parts.database}_migrations").render_as_string(hide_password=False)
    pg.recreate(scratch)
    yield scratch
    pg.drop(scratch)


def differences(url: str) -> list:
    """What autogenerate would write to turn the database into the models' schema."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_go_up_down_and_up_to_the_models_schema(tmp_path, empty_database):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        assert differences(empty_database) == []
        assert set(db.metadata.tables) <= tables(empty_database)

        downgrade(revision="base")
        assert tables(empty_database) <= {"alembic_version"}

        upgrade()
        assert differences(empty_database) == []
        db.session.remove()
        db.engine.dispose()
