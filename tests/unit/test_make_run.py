"""``make run PORT=5101`` serves on port 5101; the links its emails carry must point there too,
unless EXTERNAL_BASE_URL names the public address."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

# Run with the Makefile's own variables and exports, as the recipes of ``make run`` are.
PROBE_TARGET = "probe:\n\t@$(BIN)/python $(PROBE) $(PROBE_DIR)\n"
PROBE = """
import os, sys
sys.path.insert(0, os.getcwd())
from app import create_app
from app.outbox.queue import external_url
app = create_app({"INSTANCE_PATH": sys.argv[1], "SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.app_context():
    print(external_url("/decide/a-token"))
"""


def emailed_link(tmp_path, make_args: list[str], environment: dict[str, str]) -> str:
    """The decision link an app started by ``make ARGS`` would email."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {name: value for name, value in os.environ.items()
           if name not in {"EXTERNAL_BASE_URL", "HOST", "PORT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    env.update(environment)
    make = shutil.which("make")
    assert make, "make is not installed"
    done = subprocess.run(  # noqa: S603 - make on our own Makefile
        [make, "--no-print-directory", "-f", "Makefile", "-f", "-", "probe",
         f"PROBE={probe}", f"PROBE_DIR={tmp_path / 'instance'}", *make_args],
        input=PROBE_TARGET, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(("make_args", "environment", "link"), [
    ([], {}, "http://127.0.0.1:5000/decide/a-token"),
    (["PORT=5101"], {}, "http://127.0.0.1:5101/decide/a-token"),
    (["HOST=localhost", "PORT=5102"], {}, "http://localhost:5102/decide/a-token"),
    ([], {"PORT": "5103"}, "http://127.0.0.1:5103/decide/a-token"),
    (["PORT=5101"], {"EXTERNAL_BASE_URL": "https://workflow.bigbuyers.example"},
     "https://workflow.bigbuyers.example/decide/a-token"),
], ids=["defaults", "port", "host-and-port", "port-from-environment", "public-address-wins"])
def test_emailed_links_follow_the_address_make_run_serves(tmp_path, make_args, environment, link):
    assert emailed_link(tmp_path, make_args, environment) == link
