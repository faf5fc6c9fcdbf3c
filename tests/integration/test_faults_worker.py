"""Faults the worker outlives, with real processes: ``flask worker`` subprocesses on a
database of the test cluster, and an SMTP relay (README, "Email" and "Production").

- A worker killed (``kill -9``) in the middle of sending: another takes its messages within
  its short lease (seconds, not minutes); every message arrives, and the only copies are of
  the message in flight at the kill, with its Message-ID.
- The database stopped while a timer comes due: once it is back, the timer fires once; the
  worker never exits and says once that the database is unreachable and once that it is back.

- The SMTP server away for many rounds: said once, and once that it is back (in-process,
  on both passes).

The process scenarios run in the PostgreSQL pass only; each takes a few seconds, and every
wait has a deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import AuditEvent, HumanTask, OutboxMessage, OutboxStatus, ProcessInstance, TaskCandidate, User
from app.outbox.deliver import deliver_outbox
from app.services.worker import Outages, run_round
from tests.conftest import CLUSTER, ROOT, postgres_url
from tests.integration.test_email import Inbox
from tests.integration.test_postgres_locks import queue_messages
from tests.integration.test_production_smoke import start_smtp, stop, wait_for
from tests.integration.test_travel_http import file_claim, ready_task

postgres_only = pytest.mark.skipif(
    not postgres_url(), reason="runs worker processes against PostgreSQL: in the PostgreSQL pass only")

LEASE = 3  # seconds: MAIL_LEASE_SECONDS of the workers below
INTERVAL = "0.2"  # seconds between a worker's rounds
UNREACHABLE, BACK = "worker: the database is unreachable", "worker: the database is back"


class SlowRelay(Inbox):
    """An SMTP relay that keeps each message, then takes its time to say so: a kill most
    likely lands after the relay has the message and before the worker hears it has."""

    delay = 0.3

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


def worker_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a worker on this test's database (the app fixture's)."""
    url = make_url(postgres_url()).set(drivername="postgresql")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MAIL_", "TEST_DATABASE", "APP_ENV"))},
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "EXTERNAL_BASE_URL": "https://bbw.example",
        "PYTHONUNBUFFERED": "1",
        # As production runs when the test gives a relay; else development's local mailbox.
        "APP_ENV": "production" if settings.get("MAIL_SERVER") else "development",
        **settings,
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",  # noqa: S603
                                 "--interval", INTERVAL], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=output, stderr=subprocess.STDOUT)


def worker_name(process: subprocess.Popen) -> str:
    return f"{os.uname().nodename}-{process.pid}"  # as `flask worker` names itself


def read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def scalar(statement):
    """A fresh read from the database, as the workers committed it."""
    try:
        return db.session.scalar(statement)
    finally:
        db.session.rollback()


@pytest.fixture
def workers(tmp_path):
    """Start workers; every one still running at the end is stopped."""
    started: list[subprocess.Popen] = []

    def start(env: dict[str, str], log: Path) -> subprocess.Popen:
        process = start_worker(env, log)
        started.append(process)
        return process

    yield start
    for process in started:
        stop(process)


@postgres_only
def test_a_worker_killed_mid_send_leaves_its_messages_to_another_within_seconds(app, tmp_path, workers):
    count = 20
    subjects = queue_messages(count)
    message_ids = dict(db.session.execute(select(OutboxMessage.subject, OutboxMessage.message_id)).all())
    relay = SlowRelay()
    smtp = start_smtp(relay)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    try:
        env = worker_env(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port), MAIL_TIMEOUT="5",
                         MAIL_LEASE_SECONDS=str(LEASE), MAIL_DEFAULT_SENDER="BBW <noreply@bbw.example>")
        first = workers(env, logs[0])
        wait_for("the first worker to send five messages", lambda: len(relay.messages) >= 5, *logs)
        held = scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.claimed_by == worker_name(first), OutboxMessage.status == OutboxStatus.SENDING))
        assert held > 0, "the first worker holds no message: the kill would not land mid-batch"
        first.send_signal(signal.SIGKILL)  # mid-batch, most likely while the relay takes its time
        killed = time.monotonic()
        first.wait(10)
        accepted_at_kill = len(relay.messages)
        second = workers(env, logs[1])
        # Timed from the later of the kill and the second worker's start: a Python process
        # takes seconds to start on a busy machine, which says nothing of the lease.
        wait_for("the second worker to start", lambda: " started;" in read(logs[1]), *logs)
        ready = time.monotonic()

        wait_for("the second worker to take the first one's messages", lambda: scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.claimed_by == worker_name(first), OutboxMessage.status == OutboxStatus.SENDING)) == 0,
            *logs)
        retaken = time.monotonic() - ready
        wait_for("every message to be sent", lambda: scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)) == 0,
            *logs)
        wait_for("the relay to hold every message", lambda: {m["Subject"] for m in relay.messages} == set(subjects),
                 *logs)
        assert second.poll() is None, read(logs[1])[-3000:]
    finally:
        smtp.stop()

    copies = Counter(m["Subject"] for m in relay.messages)
    duplicates = {subject: n for subject, n in copies.items() if n > 1}
    print(f"\n{count} messages; killed with {held} held and {accepted_at_kill} accepted; second worker up "
          f"{ready - killed:.1f} s after the kill, retaken {retaken:.1f} s later (lease {LEASE} s); "
          f"duplicates {duplicates}")
    assert set(copies) == set(subjects)  # every message arrived
    assert len(duplicates) <= 1 and set(duplicates.values()) <= {2}, duplicates  # only the one in flight
    for message in relay.messages:  # a copy carries its original's Message-ID: mail systems drop it
        assert message["Message-ID"] == message_ids[message["Subject"]]
    # Retaken once the lease the dead worker last renewed (at most a second before the kill) ran
    # out, at the second worker's next round: seconds, where it used to be five minutes. A lease
    # that outlived the second worker's start is waited for, so the bound is the lease's, from then.
    assert retaken < LEASE + 3, (retaken, ready - killed)


@postgres_only
def test_a_timer_due_while_the_database_is_down_fires_once_when_it_is_back(app, client, request, tmp_path,
                                                                            workers):
    cluster = request.config.stash.get(CLUSTER, None)
    if cluster is None:
        pytest.skip("stops and starts the database: needs the test suite's own cluster, not TEST_DATABASE_URL")
    log = tmp_path / "worker.log"
    worker = workers(worker_env(tmp_path), log)  # email into the local mailbox
    wait_for("the worker to start", lambda: "started" in read(log), log)

    # A claim filed ten days ago, all but a few seconds: its five-day reminder is overdue, its
    # ten-day escalation to finance comes due in a few seconds - while the database is down.
    due_in = 8
    filed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=10) + dt.timedelta(seconds=due_in)
    with freeze_time(filed_at):
        claim = file_claim(client)
    claim_id, check_id = claim.id, ready_task(claim, "check_claim").id  # the session is closed below
    escalation_due = filed_at + dt.timedelta(days=10)

    def history(action: str) -> int:
        return scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == claim_id, AuditEvent.action == action))

    def notices() -> Counter:
        try:
            return Counter(data["template"] for data in db.session.scalars(select(AuditEvent.data).where(
                AuditEvent.instance_id == claim_id, AuditEvent.action == "notice")))
        finally:
            db.session.rollback()

    wait_for("the overdue reminder to fire", lambda: notices() == {"claim_reminder": 1}, log)
    assert scalar(select(ProcessInstance.next_timer_at).where(ProcessInstance.id == claim_id)) == escalation_due
    db.session.remove()
    db.engine.dispose()  # the test's own connections, which the stop would break
    cluster.pause()
    assert dt.datetime.now(dt.UTC) < escalation_due - dt.timedelta(seconds=1), "stopped too late to prove anything"
    try:
        past_due = escalation_due + dt.timedelta(seconds=1)
        wait_for("the escalation to come due during the outage, and the worker to say the database is away",
                 lambda: dt.datetime.now(dt.UTC) > past_due and UNREACHABLE in read(log), log)
        time.sleep(1)  # a few more rounds without the database
        assert worker.poll() is None, read(log)[-3000:]
    finally:
        cluster.resume()

    wait_for("the escalation to fire", lambda: history("escalated") == 1, log)
    wait_for("the worker to say the database is back", lambda: BACK in read(log), log)
    time.sleep(1)  # rounds after: nothing fires again
    assert worker.poll() is None, read(log)[-3000:]
    assert history("escalated") == 1
    told = notices()  # the reminder (before the outage) and finance's notice of the escalation
    assert told["claim_reminder"] == 1 and len(told) == 2 and set(told.values()) == {1}, told
    db.session.expire_all()
    [task] = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == claim_id)).all()
    assert task.id == check_id  # the escalation widened the one waiting task; it opened no other
    felix = db.session.scalar(select(User.id).where(User.email.startswith("felix")))
    assert db.session.scalar(select(func.count()).select_from(TaskCandidate).where(
        TaskCandidate.task_id == check_id, TaskCandidate.user_id == felix)) == 1
    mails = Counter(db.session.execute(select(OutboxMessage.to_address, OutboxMessage.template).where(
        OutboxMessage.instance_id == claim_id)).all())
    assert mails and set(mails.values()) == {1}, mails  # nobody told anything twice

    text = read(log)
    assert text.count(UNREACHABLE) == 1 and text.count(BACK) == 1, text[-3000:]
    assert "Traceback" not in text, text[-3000:]


def test_the_worker_says_once_that_the_mail_server_is_away_and_once_that_it_is_back(app, caplog):
    relay = Inbox()
    smtp = start_smtp(relay)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5)
    queue_messages(3)
    smtp.stop()
    outages = Outages()
    start = dt.datetime.now(dt.UTC)
    caplog.set_level(logging.WARNING, logger="app.services.worker")
    for hour in range(4):  # every round finds messages due again, and the server away
        with freeze_time(start + dt.timedelta(hours=hour)):
            assert run_round("w", outages) == "emails sent 0, to retry 3, failed 0"
    smtp = start_smtp(relay)
    app.config.update(MAIL_PORT=smtp.port)
    try:
        with freeze_time(start + dt.timedelta(hours=5)):
            assert run_round("w", outages) == "emails sent 3, to retry 0, failed 0"
            assert run_round("w", outages) == ""
    finally:
        smtp.stop()
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2 and not any(record.exc_info for record in caplog.records), said
    assert said[0].startswith("worker: the mail server is unreachable (ConnectionRefusedError")
    assert said[1] == "worker: the mail server is back"


@pytest.mark.app_config(MAIL_LEASE_SECONDS=3)
def test_a_living_worker_keeps_its_messages_however_long_its_batch_takes(app):
    """The lease is three seconds, the batch takes about seven: renewed as the worker goes (at
    most every second, so a busy machine has two seconds of slack), it never runs out, and
    another worker polling all along takes and sends nothing."""
    relay = SlowRelay()
    relay.delay = 1.2
    smtp = start_smtp(relay)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5)
    subjects = queue_messages(6)
    done = []

    def first():
        with app.app_context():
            done.append(deliver_outbox(worker="first"))

    thread = threading.Thread(target=first)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not relay.messages and time.monotonic() < deadline:  # the first worker has claimed them all
            time.sleep(0.05)
        others = []
        while thread.is_alive():
            others.append(deliver_outbox(worker="second").sent)
            time.sleep(0.2)
        thread.join(60)
    finally:
        smtp.stop()
    assert done[0].sent == 6 and len(others) > 5 and set(others) == {0}, (done, others)
    assert sorted(m["Subject"] for m in relay.messages) == subjects  # each once


@pytest.mark.app_config(MAIL_BATCH_SIZE=2)
def test_after_a_full_batch_the_worker_goes_on_at_once_and_waits_once_the_outbox_is_empty(app):
    """Five emails, batches of two: the rounds that fill a batch say there is more (the worker
    then skips its wait); the round that sends the last one says there is not."""
    relay = Inbox()
    smtp = start_smtp(relay)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5)
    subjects = queue_messages(5)
    outages = Outages()
    said = []
    try:
        for _ in range(3):
            run_round("w", outages)
            said.append(outages.backlog)
    finally:
        smtp.stop()
    assert said == [True, True, False]
    assert sorted(m["Subject"] for m in relay.messages) == subjects
