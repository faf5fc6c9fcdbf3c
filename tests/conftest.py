"""Fixtures shared by every suite: an app on a fresh database with the shipped processes
and the demo people, a test client, and sign-in helpers.

Set TEST_DATABASE_URL to run the same tests on another database (PostgreSQL).
"""

from __future__ import annotations

import contextvars
import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import User

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class RequestClient(FlaskClient):
    """Run each request in a fresh context, as a server would: its own app context, ``g``
    and database session, not the test's (where Flask-Login would keep the last user)."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        # werkzeug's test builder spools a large body to a temporary file it never closes.
        body = response.request.environ.get("wsgi.input") if response.request is not None else None
        if body is not None:
            body.close()
        return response


def _reset_database() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()


@pytest.fixture
def app(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SERVER_NAME": "localhost",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the demo people sign in often
    })
    app.test_client_class = RequestClient
    with app.app_context():
        _reset_database()
        from app.cli import load_demo_data
        from app.services.versions import sync_workflows

        sync_workflows(ROOT / "workflows")
        load_demo_data()
        db.session.commit()
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def person(email_start: str) -> User:
    """The demo user whose e-mail starts with ``email_start`` ('ana', 'clara', ...)."""
    return db.session.scalar(select(User).where(User.email.startswith(email_start)))


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def sign_in(client, email_start: str) -> User:
    user = person(email_start)
    page = client.get("/sign-in")
    if page.status_code == 302:  # someone is signed in: sign them out as they would
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": user.email, "password": "bigbuyers-demo",
                                             "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return user


def post_form(client, url: str, data: dict, files: dict | None = None):
    """POST ``data`` to ``url`` as the page's form would, with its CSRF token."""
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, url)
    if files:
        payload.update(files)
    return client.post(url, data=payload, content_type="multipart/form-data")
