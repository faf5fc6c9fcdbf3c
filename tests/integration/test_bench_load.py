"""``make bench-load`` in its shortest mode: a few people for a few seconds against gunicorn,
a worker and an SMTP sink on PostgreSQL, then the harness's own checks — nothing lost or done
twice, no request failed. The figures themselves are the benchmark's (docs/PERFORMANCE.md,
"Load"), not a test's: on a shared machine they say nothing in a few seconds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, postgres_url

pytestmark = pytest.mark.skipif(
    not postgres_url(),
    reason="the load benchmark runs gunicorn and workers on PostgreSQL: in the PostgreSQL pass only")


def test_the_load_harness_loses_and_doubles_nothing(postgres_template):
    env = {**os.environ, "BENCH_PEOPLE": "4", "BENCH_SECONDS": "4", "BENCH_EMAILS": "60"}
    done = subprocess.run([sys.executable, "-m", "tests.load", "--short", "--url", postgres_url(),  # noqa: S603
                           "--template", postgres_template], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert figures["errors"] == "0", done.stderr[-3000:]
    assert figures["lost_or_doubled"] == "0", done.stderr[-3000:]
    assert int(figures["requests.file_claim"]) >= 2, done.stdout  # each buyer filed a claim, at least
    assert float(figures["emails_per_s_two_workers"]) > 0
