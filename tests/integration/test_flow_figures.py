"""What the step writer keeps for the flow report (app/steps/figures.py): each request's year
and hours from start to end, and on each task row copies of its request's columns and the
hours it waited; the copies follow a request moved to another version or group; and the migration
that added them fills them in for the requests already there."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_migrate import downgrade, upgrade
from freezegun import freeze_time
from sqlalchemy import select, text

from app.engine import cache
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskState, WorkingGroup
from app.services import migration
from app.services.tasks import complete_task
from app.steps import save_instance
from tests.conftest import person
from tests.integration.test_migration import with_new_check_instructions
from tests.integration.test_travel_http import file_claim, ready_task

FILED = dt.datetime(2026, 12, 31, 20, 17, tzinfo=dt.UTC)
COPIES = ("request_year", "request_started_at", "request_version_id", "request_group_id", "request_initiator_id")


@pytest.fixture(autouse=True)
def parsed_versions_forgotten():
    cache._MODELS.clear()
    yield
    cache._MODELS.clear()


def task_rows(instance: ProcessInstance) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                   .order_by(HumanTask.id)))


def copies(task: HumanTask) -> tuple:
    return tuple(getattr(task, name) for name in COPIES)


def own(instance: ProcessInstance) -> tuple:
    return (instance.started_year, instance.started_at, instance.version_id, instance.working_group_id,
            instance.initiator_id)


def paid_claim(client) -> ProcessInstance:
    """A claim filed on New Year's Eve, checked 2 days 5 hours 30 minutes later, paid 1 day
    40 minutes after (no duration a whole number of hours, where rounding could differ)."""
    with freeze_time(FILED):
        instance = file_claim(client)
    with freeze_time(FILED + dt.timedelta(days=2, hours=5, minutes=30)):
        complete_task(person("clara"), ready_task(instance, "check_claim").id, {"decision": "approve"})
        db.session.commit()
    with freeze_time(FILED + dt.timedelta(days=3, hours=6, minutes=10)):
        complete_task(person("felix"), ready_task(instance, "approve_payment").id,
                      {"decision": "approve", "payment_date": "2027-01-03", "payment_reference": "BB-9"})
        db.session.commit()
    db.session.expire_all()
    return instance


def test_a_step_keeps_the_request_s_hours_and_its_task_rows_copies_and_waits(client):
    instance = paid_claim(client)
    assert instance.status == InstanceStatus.COMPLETED
    assert (instance.started_year, instance.hours_to_end) == (2026, 3 * 24 + 6)  # filed in 2026, ended in 2027
    check, payment = task_rows(instance)
    assert (check.bpmn_id, check.hours_waited) == ("check_claim", 2 * 24 + 5)
    assert (payment.bpmn_id, payment.hours_waited) == ("approve_payment", 24)
    assert copies(check) == copies(payment) == own(instance)


def test_a_waiting_task_has_no_hours_yet_and_a_request_moved_to_another_version_moves_its_rows(client):
    with freeze_time(FILED):
        instance = file_claim(client)
    first_version = instance.version_id
    (waiting,) = task_rows(instance)
    assert waiting.state == TaskState.READY and waiting.hours_waited is None
    assert copies(waiting) == own(instance)

    target = with_new_check_instructions()
    result = migration.migrate_instances(person("admin"), target, [instance.id], "New travel rules.")
    assert [moved.id for moved in result.moved] == [instance.id]
    db.session.expire_all()
    assert instance.version_id == target.id != first_version
    assert all(copies(task) == own(instance) for task in task_rows(instance))


def test_a_step_that_moves_the_request_to_another_group_moves_its_rows(client):
    with freeze_time(FILED):
        instance = file_claim(client)
    other = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.id != instance.working_group_id))
    save_instance(instance, {"working_group_id": other})  # as sync_instance writes a move (_follow_group)
    db.session.commit()
    db.session.expire_all()
    assert instance.working_group_id == other
    assert [task.request_group_id for task in task_rows(instance)] == [other]


def test_the_migration_fills_in_the_figures_of_requests_already_there(client):
    """Down to the revision before the figures (the columns go), up again: each request and
    task row gets what the step writer wrote for it."""
    instance = paid_claim(client)
    with freeze_time(FILED + dt.timedelta(hours=3)):
        waiting = file_claim(client)
    written = {task.id: (copies(task), task.hours_waited) for task in task_rows(instance) + task_rows(waiting)}
    ended = {row.id: (row.started_year, row.hours_to_end) for row in (instance, waiting)}
    db.session.remove()
    downgrade(revision="d5a8c3e7f1b2")
    assert "hours_waited" not in db.session.execute(text("SELECT * FROM human_task")).keys()
    db.session.remove()
    upgrade()
    db.session.expire_all()
    assert {task.id: (copies(task), task.hours_waited)
            for task in task_rows(instance) + task_rows(waiting)} == written
    assert {row.id: (row.started_year, row.hours_to_end) for row in (instance, waiting)} == ended
