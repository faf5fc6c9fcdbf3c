"""`flask workflows check` on a fresh clone: a database that was never migrated (no tables at all)
still gets a report, with a note that people were not looked up, instead of a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def run_check(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess:
    database = tmp_path / "never-migrated.sqlite3"
    env = os.environ | {"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "check-only", "APP_ENV": "development"}
    env.pop("TEST_DATABASE_URL", None)
    command = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "workflows", "check", *map(str, files)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603 - our own command


def test_check_names_people_without_a_database(tmp_path):
    # A real diagram (Camunda's migration example) whose user task names a person by e-mail address.
    original = (CORPUS / "camunda-bpm-examples" / "exampleProcess.bpmn").read_text()
    assigned = original.replace('camunda:assignee="${initiator}"', 'camunda:assignee="clara.schmidt@iclei.example.eu"')
    assert assigned != original
    diagram = tmp_path / "example.bpmn"
    diagram.write_text(assigned)

    done = run_check(tmp_path, diagram)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "no such table" not in done.stdout + done.stderr
    assert ("WARNING example.bpmn: people were not looked up: the database has no tables yet (run `flask db "
            "upgrade`), so the people and names the user tasks name were not checked") in done.stdout
    assert re.search(r"\nexampleProcess: 0 errors, \d+ warnings: it can be uploaded\n$", done.stdout), done.stdout


def test_check_refuses_without_a_database_as_with_one(tmp_path):
    done = run_check(tmp_path, CORPUS / "camunda-bpm-examples" / "sample.bpmn")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert ("ERROR sample.bpmn:12 ServiceTask_1 (say hello): camunda:delegateExpression: delegate expressions do "
            "not run here") in done.stdout
    assert done.stdout.rstrip().endswith("it would be refused")
