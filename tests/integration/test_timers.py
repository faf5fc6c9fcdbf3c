"""Timers fire on time: the worker moves a waiting claim along when its reminder is due."""

from __future__ import annotations

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ProcessInstance
from app.services.instances import fire_due_timers
from tests.conftest import loaded, person, sign_in
from tests.integration.test_travel_http import file_claim, ready_task


def test_waiting_claim_is_reminded_after_5_days_and_escalated_to_finance_after_10(client):
    instance = file_claim(client)
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance.id)
    due = instance.next_timer_at
    assert dt.timedelta(days=4, hours=23) < due - instance.started_at <= dt.timedelta(days=5, minutes=1)

    assert fire_due_timers(due - dt.timedelta(minutes=1)) == 0  # nothing before its time
    with freeze_time(due + dt.timedelta(minutes=1)):
        assert fire_due_timers() == 1
    db.session.expire_all()
    notices = db.session.scalars(select(AuditEvent.data).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "notice")).all()
    assert [n["template"] for n in notices] == ["claim_reminder"]
    check = ready_task(instance, "check_claim")
    assert person("felix").id not in {c.user_id for c in check.candidates}

    instance = db.session.get(ProcessInstance, instance.id)
    with freeze_time(instance.next_timer_at + dt.timedelta(minutes=1)):
        assert fire_due_timers() == 1
    check = ready_task(instance, "check_claim")  # the same task, still waiting
    assert person("felix").id in {c.user_id for c in check.candidates}
    sign_in(client, "felix")
    assert check.name in loaded(client.get("/inbox"))
    sign_in(client, "clara")
    page = loaded(client.get(f"/requests/{instance.id}"))
    assert "Check claim now also waits for Felix Wagner (finance)" in page and "automatic" in page
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).next_timer_at is None
