"""Absence and deputies (issue 12): a person away names a deputy, who is asked too for the
tasks that open meanwhile; the email and the history say why; the absence ends by itself."""

from __future__ import annotations

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage
from app.outbox.deliver import deliver_outbox
from app.steps.lanes import local_today
from tests.conftest import loaded, person, post_form, sign_in
from tests.integration.test_travel_http import file_claim, ready_task
from tests.integration.test_who_may import candidates, set_roles


def set_absence(client, who: str, start: dt.date, end: dt.date, deputy: str):
    sign_in(client, who)
    return post_form(client, "/profile", {
        "form": "absence", "away_from": start.isoformat(), "away_to": end.isoformat(),
        "deputy": str(person(deputy).id) if deputy else ""})


def clara_away_with_felix(client, days: int = 10) -> dt.date:
    """Clara (coordinator) is away from today for ``days`` days; Felix (finance) deputises."""
    today = local_today()
    end = today + dt.timedelta(days=days)
    response = set_absence(client, "clara", today, end, "felix")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return end


def delivered_text(who: str, task_id: int) -> str:
    deliver_outbox()
    db.session.expire_all()
    return db.session.scalar(select(OutboxMessage.delivered_text).where(
        OutboxMessage.to_address.startswith(who), OutboxMessage.task_id == task_id)) or ""


def test_a_claim_filed_during_the_absence_goes_to_the_deputy_too_and_the_email_says_why(client):
    end = clara_away_with_felix(client)

    instance = file_claim(client)
    check = ready_task(instance, "check_claim")

    assert candidates(check) == {"clara", "tom", "felix"}  # Clara stays a candidate
    until = f"{end.day} {end:%B}" + (f" {end.year}" if end.year != dt.date.today().year else "")
    assert f"You are deputising for Clara Schmidt, who is away until {until}." in delivered_text("felix", check.id)
    assert "deputising" not in delivered_text("tom", check.id)
    assert "deputising" not in delivered_text("clara", check.id)
    events = db.session.execute(select(AuditEvent.action, AuditEvent.summary, AuditEvent.data).where(
        AuditEvent.instance_id == instance.id, AuditEvent.task_id == check.id)).all()
    added = [(summary, {k: v for k, v in data.items() if k != "$line"}) for action, summary, data in events
             if action == "deputy_added"]
    assert added == [(f"Felix Wagner asked too: deputising for Clara Schmidt, who is away until {until}",
                      {"to": person("felix").id, "for": person("clara").id, "until": end.isoformat()})]
    sign_in(client, "felix")  # the deputy can open and do the task
    assert "Check claim" in loaded(client.get("/inbox"))
    assert client.get(f"/tasks/{check.id}").status_code == 200


def test_after_the_absence_ends_a_new_claim_does_not_go_to_the_deputy(client):
    end = clara_away_with_felix(client, days=2)
    # Midnight after the last day in Brussels (UTC+1 in winter): 23:30 UTC is already the next day there.
    with freeze_time(dt.datetime.combine(end, dt.time(23, 30), tzinfo=dt.UTC)):
        instance = file_claim(client)
        assert candidates(ready_task(instance, "check_claim")) == {"clara", "tom"}
    with freeze_time(dt.datetime.combine(end, dt.time(22, 30), tzinfo=dt.UTC)):  # 23:30 on the last day
        instance = file_claim(client)
        assert candidates(ready_task(instance, "check_claim")) == {"clara", "tom", "felix"}


def test_a_task_opened_before_the_absence_is_not_moved(client):
    before = file_claim(client)
    clara_away_with_felix(client)
    assert candidates(ready_task(before, "check_claim")) == {"clara", "tom"}
    sign_in(client, "felix")
    assert client.get(f"/tasks/{ready_task(before, 'check_claim').id}").status_code == 403


def test_a_deputy_who_is_a_candidate_anyway_is_not_recorded_again(client):
    today = local_today()
    assert set_absence(client, "clara", today, today, "tom").status_code == 302
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    assert candidates(check) == {"clara", "tom"}
    assert "deputising" not in delivered_text("tom", check.id)
    assert not db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == "deputy_added")).all()


def test_an_absent_person_with_an_inactive_deputy_has_none(client):
    clara_away_with_felix(client)
    person("felix").active = False
    db.session.commit()
    instance = file_claim(client)
    assert candidates(ready_task(instance, "check_claim")) == {"clara", "tom"}


def test_clearing_the_absence_stops_the_deputy(client):
    clara_away_with_felix(client)
    sign_in(client, "clara")
    assert post_form(client, "/profile", {"form": "absence", "clear": "1"}).status_code == 302
    db.session.expire_all()
    clara = person("clara")
    assert (clara.away_from, clara.away_to, clara.deputy_id) == (None, None, None)
    instance = file_claim(client)
    assert candidates(ready_task(instance, "check_claim")) == {"clara", "tom"}


def test_the_profile_refuses_self_an_inactive_deputy_and_an_end_before_the_start(client):
    today = local_today()
    refused = set_absence(client, "clara", today, today, "clara")
    assert refused.status_code == 400 and "Select someone other than yourself" in refused.get_data(as_text=True)
    helena = person("helena")
    helena.active = False
    db.session.commit()
    refused = set_absence(client, "clara", today, today, "helena")
    assert refused.status_code == 400 and "Select someone whose account is active" in refused.get_data(as_text=True)
    refused = set_absence(client, "clara", today, today - dt.timedelta(days=1), "felix")
    assert refused.status_code == 400
    assert "The last day must be the same as or after the first day" in refused.get_data(as_text=True)
    refused = set_absence(client, "clara", today - dt.timedelta(days=9), today - dt.timedelta(days=2), "felix")
    assert refused.status_code == 400 and "The last day must be today or later" in refused.get_data(as_text=True)
    refused = set_absence(client, "clara", today, today, "")
    assert refused.status_code == 400 and "Select who deputises for you" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert person("clara").away_from is None
    page = loaded(client.get("/profile"))
    assert "Tasks already waiting for you when your absence starts are not moved" in page


def test_the_profile_shows_the_absence(client):
    end = clara_away_with_felix(client)
    sign_in(client, "clara")
    page = loaded(client.get("/profile"))
    assert "Felix Wagner deputises for you" in page
    for part, value in (("day", end.day), ("month", end.month), ("year", end.year)):  # GOV.UK date boxes
        assert f'name="away_to-{part}" type="text" inputmode="numeric" spellcheck="false" value="{value}"' in page


def test_the_absence_days_are_typed_into_day_month_and_year_boxes(client):
    sign_in(client, "clara")
    felix = str(person("felix").id)
    post = {"form": "absence", "save": "1", "deputy": felix, "away_from-day": "5", "away_from-month": "",
            "away_from-year": "2031", "away_to-day": "31", "away_to-month": "2", "away_to-year": "2031"}
    page = loaded(post_form(client, "/profile", post), 400)
    assert "The first day of your absence must include a month" in page
    assert "The last day of your absence must be a real date" in page
    assert '<a href="#field-away_from">' in page  # the summary leads to the day box
    post.update({"away_from-month": "March", "away_to-day": "9", "away_to-month": "3"})
    assert post_form(client, "/profile", post).status_code == 302
    clara = person("clara")
    assert (clara.away_from, clara.away_to) == (dt.date(2031, 3, 5), dt.date(2031, 3, 9))


def test_the_deputy_stays_on_the_task_through_a_role_change_and_decides_it(client):
    clara_away_with_felix(client)
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")

    set_roles(client, "felix", "finance", "buyer")  # the lanes are checked again: the deputy stays
    assert candidates(check) == {"clara", "tom", "felix"}

    sign_in(client, "felix")
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302
    assert ready_task(instance, "approve_payment") is not None
