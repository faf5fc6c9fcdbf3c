"""APP_ENV=production refuses to start without a mail server or a secret key of its own.

Without MAIL_SERVER the app delivers to the local mailbox, where administrators could read
working decision links and decide as anyone; a key generated under instance/ is for one
machine. Development (the default) keeps both.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app import create_app
from app.config import ConfigurationError
from tests.conftest import ROOT

SETTINGS = ("APP_ENV", "MAIL_SERVER", "SECRET_KEY", "DATABASE_URL")


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean environment for the settings under test; the app on an SQLite file."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)

    def start(**settings: str):
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        return create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bbw.sqlite3'}"})

    return start


def test_production_without_a_mail_server_does_not_start(environment, tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        environment(APP_ENV="production", SECRET_KEY="a-long-random-production-key")
    message = str(refused.value)
    assert "MAIL_SERVER" in message and "\n" not in message


def test_production_without_a_secret_key_does_not_start_nor_makes_one(environment, tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        environment(APP_ENV="production", MAIL_SERVER="smtp-relay.internal")
    assert "SECRET_KEY" in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_with_both_starts(environment, tmp_path):
    app = environment(APP_ENV="production", MAIL_SERVER="smtp-relay.internal", SECRET_KEY="from-the-env-file")
    assert app.config["APP_ENV"] == "production"
    assert app.config["SECRET_KEY"] == "from-the-env-file"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_an_unknown_app_env_does_not_start(environment):
    with pytest.raises(ConfigurationError, match="APP_ENV"):
        environment(APP_ENV="prod", MAIL_SERVER="smtp-relay.internal", SECRET_KEY="key")


def test_development_is_the_default_with_the_local_mailbox_and_a_generated_key(environment, tmp_path):
    first = environment()
    assert first.config["APP_ENV"] == "development"
    assert first.config["MAIL_SERVER"] == ""
    key = (tmp_path / "instance" / "secret_key").read_text().strip()
    assert first.config["SECRET_KEY"] == key and len(key) > 40
    assert environment().config["SECRET_KEY"] == key  # kept: sessions survive a restart


def test_a_flask_command_exits_with_the_message(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if name not in SETTINGS and not name.startswith(("FLASK_", "MAIL_", "TEST_DATABASE"))}
    env.update(APP_ENV="production", SECRET_KEY="a-long-random-production-key",
               DATABASE_URL=f"sqlite:///{tmp_path / 'bbw.sqlite3'}")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "MAIL_SERVER" in done.stderr.strip().splitlines()[-1], done.stderr
