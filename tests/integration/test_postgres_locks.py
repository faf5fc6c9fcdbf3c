"""Real row locks on PostgreSQL: many people or workers at once, each change made once.

SQLite has one writer at a time, so these races cannot happen there the same way; these tests
run in the PostgreSQL pass (``make test-postgres``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditEvent, HumanTask, OutboxMessage, OutboxStatus, ProcessInstance, Role, TaskState, User
from app.outbox.deliver import deliver_outbox
from app.outbox.queue import queue_email
from app.outbox.render import Rendered
from app.services import tasks as task_service
from app.services.instances import fire_due_timers
from app.services.people import create_user
from tests.conftest import csrf_token, loaded, postgres_url, sign_in
from tests.integration.test_email import Inbox, free_port
from tests.integration.test_travel_http import file_claim, ready_task

pytestmark = pytest.mark.skipif(
    not postgres_url(), reason="needs PostgreSQL's row locks: runs in the PostgreSQL pass (make test-postgres)")

WAIT = 60  # seconds: a bound on every join and barrier, never reached when things work


def run_together(count: int, target) -> list[BaseException]:
    """Run ``target(i)`` in ``count`` threads at once; return what they raised."""
    errors: list[BaseException] = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return errors


@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 5, "pool_timeout": WAIT})
def test_twenty_coordinators_approving_at_once_one_wins_nineteen_are_told(app, monkeypatch):
    for i in range(1, 19):  # the demo has two coordinators; eighteen more
        create_user(f"coordinator{i:02}@bigbuyers.example.eu", f"Coordinator {i:02}", "bigbuyers-demo",
                    [Role.COORDINATOR], "EUROCITIES")
    db.session.commit()
    instance = file_claim(app.test_client())
    check = ready_task(instance, "check_claim")
    people = ["clara", "tom", *(f"coordinator{i:02}" for i in range(1, 19))]
    assert len({c.user_id for c in check.candidates}) == 20
    clients = [app.test_client() for _ in people]
    for client, who in zip(clients, people, strict=True):
        sign_in(client, who)
    tokens = [csrf_token(client, f"/tasks/{check.id}") for client in clients]

    # Hold each completion once it has found the task READY and theirs, until all twenty have:
    # then all twenty run the step and write at once, each on its own connection.
    barrier = threading.Barrier(len(people), timeout=WAIT)
    real_load_model = task_service.load_model

    def load_then_wait(version, called=()):
        model = real_load_model(version, called)
        barrier.wait()
        return model

    monkeypatch.setattr(task_service, "load_model", load_then_wait)
    responses = {}

    def approve(i):
        responses[people[i]] = clients[i].post(f"/tasks/{check.id}", data={
            "decision": "approve", "csrf_token": tokens[i]})

    assert run_together(len(people), approve) == []
    statuses = Counter(r.status_code for r in responses.values())
    assert statuses == {302: 1, 409: 19}, statuses
    [winner] = [who for who, r in responses.items() if r.status_code == 302]

    db.session.expire_all()
    task = db.session.get(HumanTask, check.id)
    assert task.state == TaskState.COMPLETED and task.completed_by.email.startswith(winner)
    for who, response in responses.items():
        if who != winner:
            page = response.get_data(as_text=True)
            assert "This task is no longer waiting" in page and "Nothing you sent was saved" in page
            assert f"was completed by <strong>{task.completed_by.name}</strong>" in page
    completions = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.task_id == check.id, AuditEvent.action == "task_completed"))
    assert completions == 1
    payments = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == "approve_payment")).all()
    assert len(payments) == 1
    finance_mail = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.task_id == payments[0].id))
    assert finance_mail == 1  # finance is asked once, not twenty times


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_TIMEOUT=5,
                      EXTERNAL_BASE_URL="http://mail.test")
    yield inbox
    controller.stop()


def queue_messages(count: int) -> list[str]:
    people = db.session.scalars(select(User).order_by(User.id)).all()
    for i in range(count):
        recipient = people[i % len(people)]
        queue_email(recipient, "notice", Rendered(subject=f"Message {i:03}", text=f"Body {i}\n",
                                                  html=f"<p>Body {i}</p>"))
    db.session.commit()
    return [f"Message {i:03}" for i in range(count)]


def test_a_worker_skips_the_messages_another_is_claiming_and_does_not_wait(app, smtp):
    subjects = queue_messages(6)
    # Another worker is in the middle of claiming the first three: their rows are locked.
    other = db.engine.connect()
    try:
        other.begin()
        locked = other.execute(text(
            "SELECT id FROM outbox_message ORDER BY id LIMIT 3 FOR UPDATE")).scalars().all()
        with app.app_context():
            db.session.execute(text("SET lock_timeout = '5s'"))  # waiting would fail, not hang
            delivery = deliver_outbox(worker="second", size=10)
        assert delivery.sent == 3
        assert sorted(m["Subject"] for m in smtp.messages) == subjects[3:]
        db.session.expire_all()
        waiting = db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.PENDING).order_by(OutboxMessage.id)).all()
        assert waiting == locked
    finally:
        other.rollback()
        other.close()
    assert deliver_outbox(worker="first", size=10).sent == 3
    assert sorted(m["Subject"] for m in smtp.messages) == subjects


@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "pool_timeout": WAIT})
def test_two_workers_draining_one_outbox_send_each_message_once(app, smtp):
    subjects = queue_messages(40)
    barrier = threading.Barrier(2, timeout=WAIT)
    sent = Counter()

    def drain(i):
        with app.app_context():
            while True:
                barrier.wait()  # both claim their next batch at the same moment
                delivery = deliver_outbox(worker=f"worker-{i}", size=3)
                sent[i] += delivery.sent
                assert delivery.retrying == delivery.failed == 0, delivery.errors
                if not delivery.sent:
                    barrier.abort()  # the other one is done too, or finds nothing next time
                    return

    errors = run_together(2, drain)
    assert all(isinstance(e, threading.BrokenBarrierError) for e in errors), errors
    received = Counter(m["Subject"] for m in smtp.messages)
    assert sorted(received) == subjects and set(received.values()) == {1}  # all of them, once each
    assert len({m["Message-ID"] for m in smtp.messages}) == 40
    assert sum(sent.values()) == 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status != OutboxStatus.SENT)) == 0


@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "pool_timeout": WAIT})
def test_two_workers_firing_timers_fire_each_once(app, client):
    claims = [file_claim(client).id for _ in range(6)]
    db.session.expire_all()
    due = max(db.session.scalars(select(ProcessInstance.next_timer_at).where(ProcessInstance.id.in_(claims))))
    barrier = threading.Barrier(2, timeout=WAIT)
    fired = {}

    def worker(i):
        with app.app_context():
            barrier.wait()
            fired[i] = fire_due_timers()

    with freeze_time(due + dt.timedelta(minutes=1)):
        assert run_together(2, worker) == []
    assert sum(fired.values()) == 6, fired

    db.session.expire_all()
    for instance_id in claims:
        reminders = db.session.scalars(select(AuditEvent.data).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "notice")).all()
        assert [r["template"] for r in reminders] == ["claim_reminder"], instance_id
        mails = db.session.scalars(select(OutboxMessage.to_address).where(
            OutboxMessage.instance_id == instance_id, OutboxMessage.template == "claim_reminder")).all()
        assert sorted(mails) == ["clara.schmidt@iclei.example.eu", "tom.peeters@eurocities.example.eu"]
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance.next_timer_at > due  # the escalation is next
    sign_in(client, "clara")
    for instance_id in claims:  # the history shows the reminder once
        page = loaded(client.get(f"/requests/{instance_id}"))
        assert page.count("Clara Schmidt and Tom Peeters were emailed “Reminder: a travel claim from Marta Nowak") == 1


def test_an_answer_and_the_withdrawal_timer_at_once_one_wins_and_nothing_deadlocks(app, monkeypatch):
    """Kati answers at the moment the worker withdraws her application (its 30-day timer).

    The worker holds the request's row lock while it fires; Kati's step takes the same lock
    before it writes anything, so it waits, finds the request changed, and changes nothing.
    (Were the task row written first, each would hold a lock the other needs: a deadlock.)
    """
    from app.services import instances as instance_service
    from tests.integration.test_onboarding_http import interest

    kati, clara = app.test_client(), app.test_client()
    sign_in(kati, "kati")
    sign_in(clara, "clara")
    assert kati.post("/start/group_onboarding", data={
        **interest(), "csrf_token": csrf_token(kati, "/start/group_onboarding")}).status_code == 302
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    review = ready_task(instance, "review_eligibility")
    assert clara.post(f"/tasks/{review.id}", data={
        "decision": "request_changes", "coordinator_question": "Who signs for Tallinn?",
        "csrf_token": csrf_token(clara, f"/tasks/{review.id}")}).status_code == 302
    answer = ready_task(instance, "provide_information")
    late = answer.created_at + dt.timedelta(days=30, minutes=1)

    barrier = threading.Barrier(2, timeout=WAIT)
    for module in (task_service, instance_service):  # each waits once it has loaded the request
        real = module.load_model

        def load_then_wait(version, called=(), real=real):
            model = real(version, called)
            barrier.wait()
            return model

        monkeypatch.setattr(module, "load_model", load_then_wait)
    results = {}

    def worker():
        with app.app_context():
            results["fired"] = fire_due_timers()

    def kati_answers():
        results["answer"] = kati.post(f"/tasks/{answer.id}", data={
            "information": "The deputy mayor.", "csrf_token": token})

    with freeze_time(late):
        sign_in(kati, "kati")  # a session and a form of today
        token = csrf_token(kati, f"/tasks/{answer.id}")
        assert run_together(2, lambda i: (worker, kati_answers)[i]()) == []

    assert results["fired"] == 1
    assert results["answer"].status_code == 409
    page = results["answer"].get_data(as_text=True)
    assert "This task is no longer waiting" in page and "was withdrawn" in page, page
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance.id)
    assert (instance.status, instance.outcome) == ("completed", "end_withdrawn")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == answer.id)).all()
    assert sorted(actions) == ["task_ready", "task_withdrawn"]  # never completed


def test_two_administrators_storing_versions_at_once_one_is_stored_the_other_told(app, monkeypatch):
    """Both uploads would become version 2: one is, the other gets a plain message, keeps its
    upload, and stores it as version 3 when it tries again."""
    from app.models import PendingUpload, ProcessDefinition
    from app.services.versions import store as version_service  # store_version parses here
    from tests.integration.test_process_versions import revised, shipped, text, upload

    create_user("second.admin@bigbuyers.example.eu", "Second Administrator", "bigbuyers-demo",
                [Role.ADMINISTRATOR], "EUROCITIES")
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    sign_in(first, "admin")
    sign_in(second, "second.admin")
    other = shipped()
    other["travel_eligibility.dmn"] = other["travel_eligibility.dmn"].replace(b'Decimal("140.00")',
                                                                              b'Decimal("150.00")')
    urls = [upload(first, revised()).headers["Location"], upload(second, other).headers["Location"]]
    clients = [first, second]
    tokens = [csrf_token(client, url) for client, url in zip(clients, urls, strict=True)]

    barrier = threading.Barrier(2, timeout=WAIT)
    real_parse = version_service.parse_files
    waited = threading.local()

    def parse_then_wait(files):  # each stores once it has parsed, as the other does
        model = real_parse(files)
        if not getattr(waited, "once", False):
            waited.once = True
            barrier.wait()
        return model

    monkeypatch.setattr(version_service, "parse_files", parse_then_wait)
    responses = {}

    def store(i):
        responses[i] = clients[i].post(urls[i], data={"activate": "y", "csrf_token": tokens[i]})

    assert run_together(2, store) == []
    assert sorted(r.status_code for r in responses.values()) == [302, 409]
    [loser] = [i for i, r in responses.items() if r.status_code == 409]
    assert "Another administrator stored a version of this process at the same moment, so nothing was stored" \
        in text(responses[loser])

    def numbers() -> list[int]:
        db.session.expire_all()
        travel = db.session.scalar(select(ProcessDefinition).where(
            ProcessDefinition.process_id == "travel_reimbursement"))
        return sorted(v.number for v in travel.versions)

    assert numbers() == [1, 2]
    assert db.session.scalar(select(func.count()).select_from(PendingUpload)) == 1  # the loser's is kept
    monkeypatch.setattr(version_service, "parse_files", real_parse)
    again = clients[loser].post(urls[loser], data={"activate": "y", "csrf_token": tokens[loser]})
    assert again.status_code == 302, text(again)[:2000]
    assert numbers() == [1, 2, 3]


def test_a_move_to_a_new_version_and_a_decision_at_once_one_wins(app, monkeypatch):
    """An administrator moves a claim to version 2 while Clara approves it: whichever writes
    first wins, and the other is told plainly (the move lists it as not moved; Clara gets the
    clear page), never a server error or a half-moved request."""
    from app.engine import cache
    from app.models import InstanceStatus
    from app.services import migration
    from tests.integration.test_migration import with_cost_centre

    cache._MODELS.clear()  # parsed versions are kept by row id, which each test database reuses
    clara = app.test_client()
    sign_in(clara, "clara")
    claim = file_claim(app.test_client())
    check = ready_task(claim, "check_claim")
    token = csrf_token(clara, f"/tasks/{check.id}")
    target = with_cost_centre()
    admin_id = db.session.scalar(select(User.id).where(User.email.startswith("admin")))
    check_id, claim_id, target_id = check.id, claim.id, target.id  # the threads have no app context

    barrier = threading.Barrier(2, timeout=WAIT)
    real_task_load, real_move_load = task_service.load_model, migration.load_model

    def task_load_then_wait(version, called=()):  # Clara's step, once it has loaded the claim
        model = real_task_load(version, called)
        barrier.wait()
        return model

    def move_load_then_wait(version, called=()):  # the move, once it has loaded the claim (its old version)
        model = real_move_load(version, called)
        if version.id != target_id:
            barrier.wait()
        return model

    monkeypatch.setattr(task_service, "load_model", task_load_then_wait)
    monkeypatch.setattr(migration, "load_model", move_load_then_wait)
    results = {}

    def move():
        with app.app_context():
            admin = db.session.get(User, admin_id)
            moved_to = db.session.get(type(target), target_id)
            outcome = migration.migrate_instances(admin, moved_to, [claim_id], "Finance needs the cost centre.")
            results["moved"] = [i.id for i in outcome.moved]
            results["not_moved"] = [reasons for _, _, reasons in outcome.not_moved]

    def approve():
        results["approve"] = clara.post(f"/tasks/{check_id}", data={"decision": "approve", "csrf_token": token})

    assert run_together(2, lambda i: (move, approve)[i]()) == []
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, claim.id)
    assert instance.status == InstanceStatus.RUNNING
    if results["moved"]:  # the move won: Clara's approval changed nothing
        assert results["approve"].status_code == 409
        assert "Nothing you sent was saved" in results["approve"].get_data(as_text=True)
        assert instance.version_id == target.id and ready_task(claim, "check_claim") is not None
    else:  # Clara won: the claim stays on version 1 and moved on to payment
        assert results["approve"].status_code == 302
        assert results["not_moved"] == [["Someone changed it at the same moment, so it was not moved; try again."]]
        assert instance.version_id != target.id and ready_task(claim, "approve_payment") is not None
