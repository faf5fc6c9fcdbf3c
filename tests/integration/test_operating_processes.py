"""Operating, with real processes on this test's database (SQLite file or PostgreSQL):

- ``flask worker`` stopped with SIGTERM in the middle of a batch (systemd's stop): it finishes
  the message in hand, gives back the rest unsent, and exits 0; another worker then sends
  them. Every message arrives exactly once: no loss, no copy.
- gunicorn with two workers (each replaced after ten requests), PROMETHEUS_MULTIPROC_DIR and
  LOG_FORMAT=json: ``/metrics`` adds up what every process counted, gone ones included, and
  each request is one JSON line carrying the request id the proxy sent.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, make_url, select

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.outbox.deliver import deliver_outbox
from tests.conftest import ROOT
from tests.integration.test_email import free_port
from tests.integration.test_faults_worker import SlowRelay
from tests.integration.test_operating import samples
from tests.integration.test_postgres_locks import queue_messages
from tests.integration.test_production_smoke import Browser, start_smtp, stop, wait_for


def environment(app, tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a process of this deployment, on the test's own database."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return {
        **{k: v for k, v in os.environ.items()
           if not k.startswith(("FLASK_", "MAIL_", "TEST_DATABASE", "APP_ENV", "PROMETHEUS", "LOG_", "METRICS"))},
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "EXTERNAL_BASE_URL": "https://bbw.example",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,  # noqa: S603
                                stdout=output, stderr=subprocess.STDOUT)


def fresh(statement):
    try:
        return db.session.scalar(statement)
    finally:
        db.session.rollback()


def test_a_worker_stopped_mid_batch_finishes_the_message_in_hand_and_exits_cleanly(app, tmp_path):
    count = 20
    subjects = queue_messages(count)
    message_ids = dict(db.session.execute(select(OutboxMessage.subject, OutboxMessage.message_id)).all())
    relay = SlowRelay()  # each message takes 0.3 s: the stop lands while one is in hand
    smtp = start_smtp(relay)
    log = tmp_path / "worker.log"
    sender = "BBW <noreply@bbw.example>"
    try:
        env = environment(app, tmp_path, APP_ENV="production", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port),
                          MAIL_TIMEOUT="5", MAIL_DEFAULT_SENDER=sender)
        worker = start([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"], env, log)
        try:
            wait_for("the worker to send three messages", lambda: len(relay.messages) >= 3, log)
            worker.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            code = worker.wait(15)
        finally:
            stop(worker)
        took = time.monotonic() - asked
        text = log.read_text(errors="replace")
        assert code == 0, text[-3000:]
        assert "SIGTERM received" in text and "stopped" in text and "Traceback" not in text, text[-3000:]

        db.session.expire_all()
        rows = db.session.scalars(select(OutboxMessage)).all()
        sent = [row for row in rows if row.status == OutboxStatus.SENT]
        # What the relay accepted is what is marked sent: nothing in flight was left "sending".
        assert sorted(row.subject for row in sent) == sorted(m["Subject"] for m in relay.messages)
        assert 3 <= len(sent) < count, text[-3000:]
        assert all(row.status == OutboxStatus.PENDING and row.claimed_by == "" and row.lease_until is None
                   for row in rows if row not in sent)  # given back: due at once, for any worker
        assert f"given back unsent {count - len(sent)}" in text, text[-3000:]

        # Another worker (here, in-process) sends the rest at once, with no lease to wait for.
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5, MAIL_DEFAULT_SENDER=sender)
        relay.delay = 0
        assert deliver_outbox(worker="next").sent == count - len(sent)
    finally:
        smtp.stop()
    copies = Counter(m["Subject"] for m in relay.messages)
    assert set(copies) == set(subjects) and set(copies.values()) == {1}, copies  # none lost, none twice
    assert all(m["Message-ID"] == message_ids[m["Subject"]] for m in relay.messages)
    assert fresh(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)) == 0
    print(f"\nstopped {took:.2f} s after SIGTERM with {len(sent)} of {count} sent (relay: 0.3 s a message)")


def test_gunicorn_workers_add_up_their_metrics_and_log_json_lines(app, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    log = tmp_path / "gunicorn.log"
    env = environment(app, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder), METRICS_ENABLED="true",
                      LOG_FORMAT="json", TRUSTED_PROXIES="1")
    web = None
    for _attempt in range(3):  # another process may take the free port before gunicorn does
        port = free_port()
        web = start([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                     # Each worker is replaced after 10 requests: the counts of several processes,
                     # living and gone, must add up.
                     "--max-requests", "10", "--graceful-timeout", "5", "wsgi:app"], env, log)

        def answers(web=web, port=port):
            if web.poll() is not None:
                return "exited"
            try:
                return "up" if Browser(port).get("/healthz").status == 200 else None
            except OSError:
                return None

        if wait_for("gunicorn to answer", answers, log) == "up":
            break
    assert web is not None and web.poll() is None, log.read_text(errors="replace")[-3000:]
    try:
        requests = 40
        ids = [f"proxy{n:04d}" + secrets.token_hex(8) for n in range(requests)]

        with ThreadPoolExecutor(4) as pool:  # at once, so both workers take some
            list(pool.map(lambda rid: _get(port, "/sign-in", rid), ids))
        route = (("endpoint", "auth.login"), ("method", "GET"), ("status", "200"))
        first = samples(_get(port, "/metrics", "scrape-1"))
        second = samples(_get(port, "/metrics", "scrape-2"))
    finally:
        stop(web)
    for scraped in (first, second):  # whichever worker answers, it adds up both
        assert scraped["bbw_http_request_duration_seconds_count"][route] == requests
        assert scraped["bbw_database_up"][()] == 1 and scraped["bbw_outbox_unsent"][()] >= 0
    processes = {path.name.rsplit("_", 1)[-1] for path in folder.glob("histogram_*.db")}
    assert len(processes) >= 2, processes
    print(f"\n{requests} requests counted in the files of {len(processes)} gunicorn worker processes")

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "app.access" and line["path"] == "/sign-in"]
    assert sorted(line["request_id"] for line in access) == sorted(ids)
    assert all(line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] > 0 for line in access)


def _get(port: int, path: str, request_id: str) -> str:
    """A GET as the proxy forwards it, with the request id it gave the request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"X-Request-ID": request_id, "X-Forwarded-For": "127.0.0.1"})
        reply = connection.getresponse()
        body = reply.read().decode()
        assert reply.status == 200, (reply.status, body[:500])
        assert reply.headers["X-Request-ID"] == request_id
        return body
    finally:
        connection.close()
