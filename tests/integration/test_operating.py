"""What an operator reads (README, "Operating"): the access log's line per request with its
request id, the id carried into the worker's jobs, JSON lines, and the Prometheus metrics.

In-process, on both passes; tests/integration/test_operating_processes.py runs the same under
gunicorn and a ``flask worker``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

import pytest
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text

from app import logs
from app.extensions import db
from app.models import InstanceStatus, OutboxMessage, OutboxStatus, ProcessInstance, User
from app.outbox.deliver import deliver_outbox
from app.services.instances import fire_due_timers
from app.services.storage import EXTENSION
from tests.conftest import loaded, post_form, sign_in
from tests.integration.test_travel_http import claim, file_claim, ready_task, receipts

PROXY_ID = "4f1c2a9e8b7d6c5a4f1c2a9e8b7d6c5a"  # as nginx's $request_id looks


def access_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "app.access"]


def job_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "app.jobs"]


def test_each_request_is_logged_once_with_its_route_status_time_person_and_id(client, caplog):
    marta = sign_in(client, "marta")
    instance = file_claim(client)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app"):
        response = client.get(f"/requests/{instance.id}")
    assert response.status_code == 200
    [line] = access_lines(caplog)
    assert (line.method, line.path, line.status, line.user_id) == ("GET", "/requests/<instance_id>", 200, marta.id)
    assert line.duration_ms > 0 and line.request_id == response.headers["X-Request-ID"]
    assert len(line.request_id) == 32  # made here: nothing in front of the app is trusted
    assert line.getMessage().startswith("GET /requests/<instance_id> 200 ") and f"user {marta.id}" in line.getMessage()

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app"):
        other = client.get(f"/requests/{instance.id}", headers={"X-Request-ID": PROXY_ID})
    assert other.headers["X-Request-ID"] not in (PROXY_ID, response.headers["X-Request-ID"])  # not trusted
    with caplog.at_level(logging.INFO, logger="app"):
        client.get("/healthz")
    assert len(access_lines(caplog)) == 1  # a health check that passes is not logged at INFO


@pytest.mark.app_config(TRUSTED_PROXIES=1)
def test_a_trusted_proxys_request_id_is_kept_if_well_formed(client, caplog):
    with caplog.at_level(logging.INFO, logger="app"):
        kept = client.get("/sign-in", headers={"X-Request-ID": PROXY_ID})
        forged = client.get("/sign-in", headers={"X-Request-ID": 'a b" FAKE=LINE'})
    assert kept.headers["X-Request-ID"] == PROXY_ID
    assert forged.headers["X-Request-ID"] != 'a b" FAKE=LINE' and len(forged.headers["X-Request-ID"]) == 32
    assert [line.request_id for line in access_lines(caplog)] == [PROXY_ID, forged.headers["X-Request-ID"]]
    assert "FAKE=LINE" not in caplog.text


@pytest.mark.app_config(TRUSTED_PROXIES=1)
def test_the_request_id_follows_the_emails_and_the_timer_into_the_worker(client, caplog):
    client.environ_base["HTTP_X_REQUEST_ID"] = PROXY_ID
    sign_in(client, "marta")
    response = post_form(client, "/start/travel_reimbursement", claim(), receipts())
    assert response.status_code == 302 and response.headers["X-Request-ID"] == PROXY_ID
    del client.environ_base["HTTP_X_REQUEST_ID"]
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance.id)).all()
    assert queued and {row.request_id for row in queued} == {PROXY_ID}  # the coordinators' task emails
    assert instance.request_id == PROXY_ID and instance.next_timer_at is not None  # the 5-day reminder

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app"):
        with freeze_time(instance.next_timer_at + dt.timedelta(seconds=1)):
            assert fire_due_timers() == 1
            delivery = deliver_outbox(worker="test")
    [timer] = [line for line in job_lines(caplog) if line.job == "timer"]
    assert (timer.outcome, timer.instance_id, timer.request_id) == ("fired", instance.id, PROXY_ID)
    db.session.expire_all()
    reminders = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == instance.id, OutboxMessage.template == "claim_reminder")).all()
    assert reminders and {row.request_id for row in reminders} == {PROXY_ID}  # queued by the timer's step
    emails = [line for line in job_lines(caplog) if line.job == "email"]
    assert len(emails) == delivery.sent == len(queued) + len(reminders)
    assert {line.request_id for line in emails} == {PROXY_ID}
    assert all(line.duration_ms >= 0 and line.outcome == "sent to the local mailbox" for line in emails)

    # No personal data: no email address, no bank account, no form value, in any of the app's lines.
    written = "\n".join(logs.formatter("json").format(record) for record in caplog.records)
    addresses = db.session.scalars(select(User.email)).all()
    assert not [address for address in addresses if address in written]
    assert "PL61" not in written and "Gdańsk" not in written and "180.40" not in written


@pytest.mark.app_config(LOG_FORMAT="json")
def test_json_lines_carry_every_field(app, client, caplog):
    [handler] = [h for h in logging.getLogger("app").handlers if isinstance(h, logs.AppHandler)]
    with caplog.at_level(logging.INFO, logger="app"):
        response = client.get("/sign-in")
    [line] = access_lines(caplog)
    fields = json.loads(handler.format(line))
    assert fields["logger"] == "app.access" and fields["level"] == "INFO" and fields["time"]
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/sign-in", 200)
    assert fields["request_id"] == response.headers["X-Request-ID"] and fields["user_id"] is None
    assert isinstance(fields["duration_ms"], float)
    try:
        raise ValueError("boom")
    except ValueError:
        failure = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "ValueError: boom" in json.loads(handler.format(failure))["exc_info"]  # one line, traceback inside


def test_a_log_format_that_is_neither_text_nor_json_stops_the_start(tmp_path):
    from app import create_app
    from app.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        create_app({"INSTANCE_PATH": str(tmp_path), "LOG_FORMAT": "xml", "TESTING": True})


# -- /metrics -------------------------------------------------------------------------------


def samples(exposition: str) -> dict[str, dict[tuple, float]]:
    """Each sample's value by its name and its labels (sorted), as Prometheus would read them."""
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def scrape(client, **kwargs) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def test_metrics_are_off_unless_switched_on(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.app_config(METRICS_ENABLED=True)
def test_metrics_answer_the_machine_itself_only_without_a_token(client):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 404


@pytest.mark.app_config(METRICS_ENABLED=True, METRICS_TOKEN="s3cret-scraper-token")
def test_with_a_token_metrics_answer_whoever_sends_it(client):
    assert client.get("/metrics").status_code == 404  # loopback is not enough then
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    scrape(client, headers={"Authorization": "Bearer s3cret-scraper-token"},
           environ_base={"REMOTE_ADDR": "203.0.113.7"})


@pytest.mark.app_config(METRICS_ENABLED=True)
def test_metrics_count_requests_steps_and_what_waits_in_the_database(client):
    route = (("endpoint", "tasks.show"), ("method", "GET"), ("status", "200"))
    before = scrape(client)
    instance = file_claim(client)
    task = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    loaded(client.get(f"/tasks/{task.id}"))
    loaded(client.get(f"/tasks/{task.id}"))
    assert post_form(client, f"/tasks/{task.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}).status_code == 302
    after = scrape(client)

    def grew(name: str, labels: tuple) -> float:
        return after[name].get(labels, 0) - before.get(name, {}).get(labels, 0)

    assert grew("bbw_http_request_duration_seconds_count", route) == 3  # the form's post reads it first too
    assert grew("bbw_http_request_duration_seconds_bucket", tuple(sorted((*route, ("le", "+Inf"))))) == 3
    assert grew("bbw_step_duration_seconds_count", (("kind", "start"),)) == 1
    assert grew("bbw_step_duration_seconds_count", (("kind", "completion"),)) == 1
    assert after["bbw_database_up"][()] == 1

    unsent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING))
    assert unsent > 0 and after["bbw_outbox_unsent"][()] == unsent
    assert 0 <= after["bbw_outbox_oldest_unsent_age_seconds"][()] < 60

    # An email that has waited an hour, one that failed, a timer overdue by a day, a request in error.
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    oldest = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                               .order_by(OutboxMessage.id))
    oldest.created_at = hour_ago
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                               .order_by(OutboxMessage.id.desc()))
    failed.status = OutboxStatus.FAILED
    db.session.get_one(ProcessInstance, instance.id).next_timer_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    db.session.commit()
    other = file_claim(client)
    other.status = InstanceStatus.ERROR
    other.next_timer_at = None
    db.session.commit()
    now = scrape(client)
    assert now["bbw_outbox_unsent"][()] == unsent - 1 + 2  # one failed; the second claim's two task emails
    assert 3600 <= now["bbw_outbox_oldest_unsent_age_seconds"][()] < 3700
    assert now["bbw_outbox_failed"][()] == 1
    assert now["bbw_timers_due"][()] == 1 and 86400 <= now["bbw_timers_oldest_due_age_seconds"][()] < 86500
    assert now["bbw_requests_in_error"][()] == 1


# -- /readyz: the database answers and its schema is the one this code expects ------------------


def test_not_ready_on_a_database_migrated_past_this_code(client):
    head = client.get("/readyz")
    assert (head.status_code, head.get_data(as_text=True)) == (200, "ready\n")
    db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed1234'"))  # a newer release's
    db.session.commit()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Cache-Control"] == "no-store"
    assert ready.get_data(as_text=True).startswith("not ready: database at migration f00dfeed1234, this code expects ")


def test_not_ready_while_the_upload_folder_cannot_take_files(app, client, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    app.extensions.pop(EXTENSION, None)
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_data(as_text=True)) == (
        503, "not ready: upload folder missing and cannot be created\n")
    app.config["UPLOAD_FOLDER"] = "/proc"  # there, but nobody may write in it, not even root
    app.extensions.pop(EXTENSION, None)
    assert client.get("/readyz").get_data(as_text=True) == "not ready: upload folder not writable\n"
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "new" / "uploads")  # a fresh deployment's: made, as a save would
    app.extensions.pop(EXTENSION, None)
    assert client.get("/readyz").get_data(as_text=True) == "ready\n"
    assert (tmp_path / "new" / "uploads").is_dir() and not any((tmp_path / "new" / "uploads").iterdir())
    app.extensions.pop(EXTENSION, None)
