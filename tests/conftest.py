"""Fixtures shared by every suite: an app on a fresh database with the shipped processes
and the demo people, a test client, and sign-in helpers.

The suite runs twice (``make test``, both at once): on SQLite, and with ``--postgres`` on a throwaway
PostgreSQL cluster (tests/pg.py). Either way the migrations build the schema once, into a
seeded template each test's database is copied from. Set TEST_DATABASE_URL to run it on a PostgreSQL server of
your own instead.
"""

from __future__ import annotations

import atexit
import contextvars
import hashlib
import os
import re
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import make_url, select

from app import create_app
from app.extensions import db
from app.models import SecondFactor, SignIn, User
from tests import pg

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


CLUSTER = pytest.StashKey[pg.Cluster]()


def pytest_addoption(parser):
    parser.addoption("--postgres", action="store_true", default=False,
                     help="run on a throwaway PostgreSQL cluster (tests/pg.py) unless TEST_DATABASE_URL names one")


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**settings): settings the test's app starts with")
    if config.getoption("postgres") and not os.environ.get("TEST_DATABASE_URL"):
        cluster = pg.Cluster().start()
        config.stash[CLUSTER] = cluster
        os.environ["TEST_DATABASE_URL"] = cluster.url("bbw_test")
        atexit.register(cluster.stop)  # should pytest stop without unconfiguring
        signal.signal(signal.SIGTERM, _interrupt)  # a CI timeout's TERM: stop as Ctrl-C does, cleanly


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def pytest_unconfigure(config):
    cluster = config.stash.get(CLUSTER, None)
    if cluster is not None:
        os.environ.pop("TEST_DATABASE_URL", None)
        cluster.stop()


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: {url if url else 'SQLite, a new file per test'}"


def postgres_url() -> str:
    """The PostgreSQL database this pass runs on, or '' on the SQLite pass."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else ""


def app_config(tmp_path, url: str) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SERVER_NAME": "localhost",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the demo people sign in often
    }


def _seed() -> None:
    """The schema, built by the migrations as in production, the shipped processes and the
    demo people."""
    from app.cli import load_demo_data
    from app.services.versions import sync_workflows

    upgrade()
    sync_workflows(ROOT / "workflows")
    load_demo_data()
    db.session.commit()


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory) -> str:
    """A seeded database each test's database is cloned from; built once per session."""
    url = postgres_url()
    template = pg.template_url(url)
    pg.recreate(template)
    seeder = create_app(app_config(tmp_path_factory.mktemp("template"), template))
    with seeder.app_context():
        _seed()
        db.session.remove()
        db.engine.dispose()
    yield make_url(template).database
    pg.drop(url)
    pg.drop(template)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A seeded SQLite file each test's database is copied from; built once per session."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    seeder = create_app(app_config(folder, f"sqlite:///{path}"))
    with seeder.app_context():
        _seed()
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def compiled_templates(tmp_path_factory) -> FileSystemBytecodeCache:
    """Jinja's compiled templates, kept for the session: each test's app is new, and would
    otherwise compile every template it renders again (Jinja checks each template's source
    against what was compiled, so a changed template is compiled anew)."""
    return FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja")))


@pytest.fixture
def app(request, tmp_path, compiled_templates):
    url = postgres_url()
    if url:  # a fresh copy of the seeded template
        pg.recreate(url, template=request.getfixturevalue("postgres_template"))
    else:  # a copy of the seeded file
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    settings = app_config(tmp_path, url)
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        settings.update(marker.kwargs)
    app = create_app(settings)
    app.test_client_class = RequestClient
    app.jinja_env.bytecode_cache = compiled_templates
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()  # close the pool's connections now, not whenever it is collected


@pytest.fixture
def client(app):
    return app.test_client()


def person(email_start: str) -> User:
    """The demo user whose email starts with ``email_start`` ('ana', 'clara', ...)."""
    return db.session.scalar(select(User).where(User.email.startswith(email_start)))


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


SET_UP_KEY = re.compile(r'<code id="set-up-key">([A-Z2-7 ]+)</code>')


def sign_in(client, email_start: str) -> User:
    """Sign in as the demo person whose email starts with ``email_start``, through the second
    step when they have one (the administrator): as they would, with a code from their app.

    Someone else signed in on ``client`` is signed out first. A person with a second step who
    is signed in on ``client`` already stays so, as they would: each sign-in spends a code, and
    a third within a minute would wait up to 30 seconds for the app's next one."""
    user = person(email_start)
    page = client.get("/sign-in")
    if page.status_code == 302:  # someone is signed in
        if uses_codes(user.id) and signed_in_as(client) == user.id:
            return user  # already them: signing in again would spend another code, or wait 30 s for one
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})  # as they would
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": user.email, "password": "bigbuyers-demo",
                                             "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    second_step = urlsplit(response.headers["Location"]).path
    if second_step == "/sign-in/code":
        response = client.post(second_step, data={"code": next_code(user.id),
                                                  "csrf_token": csrf_token(client, second_step)})
        assert response.status_code == 302 and "/sign-in" not in response.headers["Location"], \
            response.get_data(as_text=True)
    elif second_step == "/sign-in/set-up":  # an administrator added by the test: set up an app
        key = SET_UP_KEY.search(loaded(client.get(second_step))).group(1).replace(" ", "")
        page = client.post(second_step, data={"code": pyotp.TOTP(key).now(),
                                              "csrf_token": csrf_token(client, second_step)})
        assert "Save your recovery codes" in loaded(page)
    return user


def signed_in_as(client) -> int | None:
    """The id of the person whose sign-in the client's session carries (or None): the session
    holds the sign-in's key, the database its SHA-256 (app.models.SignIn)."""
    with client.session_transaction() as session:
        key = session.get("_user_id")
    if key is None:
        return None
    with db.engine.connect() as connection:  # not the test's session: it may read an old snapshot
        return connection.scalar(select(SignIn.user_id).where(
            SignIn.key_hash == hashlib.sha256(key.encode()).hexdigest()))


def uses_codes(user_id: int) -> bool:
    """Whether the person signs in with a code from an authenticator app too."""
    with db.engine.connect() as connection:
        return connection.scalar(select(SecondFactor.confirmed_at).where(SecondFactor.user_id == user_id)) is not None


def next_code(user_id: int) -> str:
    """The code a person's authenticator app shows, or its next one when this one was used
    already (a code is accepted once; the app's next code is accepted 30 seconds early)."""
    with db.engine.connect() as connection:  # not the test's session: it may read an old snapshot
        secret, last_step = connection.execute(
            select(SecondFactor.secret, SecondFactor.last_step).where(SecondFactor.user_id == user_id)).one()
    totp = pyotp.TOTP(secret)
    while True:
        now = time.time()
        step = int(now // totp.interval)
        assert last_step is None or last_step <= step + 1, (
            "the last code this person used belongs to a later time (the test froze the clock ahead): "
            "sign in again within that frozen time, not after it")
        for usable in (step, step + 1):
            if last_step is None or usable > last_step:
                return totp.generate_otp(usable)
        time.sleep(totp.interval - now % totp.interval + 0.05)  # both used: wait for the next code


def loaded(response, status: int = 200) -> str:
    """The page's text, once its status says it is the page asked for (an error page's text
    proves nothing)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:2000])
    return response.get_data(as_text=True)


def post_form(client, url: str, data: dict, files: dict | None = None):
    """POST ``data`` to ``url`` as the page's form would, with its CSRF token."""
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, url)
    if files:
        payload.update(files)
    return client.post(url, data=payload, content_type="multipart/form-data")
