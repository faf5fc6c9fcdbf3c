"""Each step is one transaction; of two simultaneous completions exactly one wins."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance, TaskState
from app.services import tasks as task_service
from tests.conftest import csrf_token, sign_in
from tests.integration.test_travel_http import file_claim, ready_task


@pytest.fixture
def both_past_the_ready_check(monkeypatch):
    """Hold each completion once it has found the task READY and theirs, until both have:
    the two then run the step and write at the same time."""
    barrier = threading.Barrier(2, timeout=10)
    real_load_model = task_service.load_model

    def load_then_wait(version, called=()):
        model = real_load_model(version, called)
        barrier.wait()
        return model

    monkeypatch.setattr(task_service, "load_model", load_then_wait)
    return barrier


def test_two_coordinators_approving_at_once_one_wins_the_other_is_told(app, both_past_the_ready_check):
    first = app.test_client()
    instance = file_claim(first)
    check = ready_task(instance, "check_claim")
    clients = {}
    for who in ("clara", "tom"):
        clients[who] = app.test_client()
        sign_in(clients[who], who)
    tokens = {who: csrf_token(c, f"/tasks/{check.id}") for who, c in clients.items()}
    responses = {}

    def approve(who):
        responses[who] = clients[who].post(f"/tasks/{check.id}", data={
            "decision": "approve", "csrf_token": tokens[who]})

    threads = [threading.Thread(target=approve, args=(who,)) for who in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    statuses = sorted(r.status_code for r in responses.values())
    assert statuses == [302, 409], statuses
    loser = next(who for who, r in responses.items() if r.status_code == 409)
    winner = "tom" if loser == "clara" else "clara"
    page = responses[loser].get_data(as_text=True)
    assert "This task is no longer waiting" in page and "Nothing you sent was saved" in page

    db.session.expire_all()
    task = db.session.get(HumanTask, check.id)
    assert task.state == TaskState.COMPLETED and task.completed_by.email.startswith(winner)
    assert task.completed_by.name in page  # the loser is told who decided
    completions = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.task_id == check.id, AuditEvent.action == "task_completed"))
    assert completions == 1
    payments = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == "approve_payment"))
    assert payments == 1


def test_a_replayed_post_changes_nothing(client):
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    token = csrf_token(client, f"/tasks/{check.id}")
    form = {"decision": "approve", "csrf_token": token}
    assert client.post(f"/tasks/{check.id}", data=form).status_code == 302
    db.session.expire_all()
    version = db.session.get(ProcessInstance, instance.id).lock_version
    replay = client.post(f"/tasks/{check.id}", data=form)
    assert replay.status_code == 409
    assert "was completed by <strong>Clara Schmidt</strong>" in replay.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).lock_version == version


def test_a_failing_step_rolls_back_everything(app, client, monkeypatch):
    """A service task that fails mid-step leaves the task waiting and no trace of the step."""
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    from app.steps import engine

    def broken(data, props):
        raise RuntimeError("the mail relay is on fire")

    monkeypatch.setitem(engine().services, "notify", broken)
    sign_in(client, "clara")
    response = client.post(f"/tasks/{check.id}", data={
        "decision": "reject", "coordinator_comment": "Not eligible.",
        "csrf_token": csrf_token(client, f"/tasks/{check.id}")})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, check.id).state == TaskState.READY
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
