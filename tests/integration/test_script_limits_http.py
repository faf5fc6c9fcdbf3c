"""A diagram whose code runs on, or builds something huge, fails its step cleanly (issue 12).

The upload check accepts such a diagram (nothing can tell a loop that ends from one that does
not), so the limits hold where the code runs: starting a request over HTTP answers with the
reason and saves nothing; a timer's step marks its request in error and the worker goes on.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from freezegun import freeze_time
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, InstanceStatus, ProcessInstance
from app.services.diagram_checks import check_upload
from app.services.instances import fire_due_timers, start_instance
from app.services.versions import store_version
from tests.conftest import person, post_form, sign_in
from tests.integration.test_travel_http import file_claim, ready_task
from tests.unit.test_engine import BPMN

SCRIPT = "doubled = amount * 2\ndue = add_days(date(2030, 1, 1), 3)"


def mini(script: str = SCRIPT, condition: str = 'decision == "approve"', after_reminder: str = "") -> str:
    xml = BPMN.replace(SCRIPT, script).replace('decision == "approve"', condition)
    if after_reminder:  # the reminder runs a script instead of sending an email
        start = xml.index('<bpmn:sendTask id="remind"')
        end = xml.index("</bpmn:sendTask>") + len("</bpmn:sendTask>")
        xml = (xml[:start] + '<bpmn:scriptTask id="remind" name="Remind" scriptFormat="python">'
               '<bpmn:incoming>f7</bpmn:incoming><bpmn:outgoing>f8</bpmn:outgoing>'
               f"<bpmn:script>{after_reminder}</bpmn:script></bpmn:scriptTask>" + xml[end:])
        xml = xml.replace('"P5D"', '"P1D"')
    return xml


def upload(xml: str):
    report = check_upload({"mini.bpmn": xml.encode()})
    assert report.ok, report.as_text()  # the check cannot tell, so it accepts
    version, _ = store_version(report.files, person("admin"))
    db.session.commit()
    return version


def instances() -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessInstance))


def test_starting_a_request_whose_script_never_ends_answers_within_the_limit(app, client):
    app.config["SCRIPT_CPU_SECONDS"] = 0.5
    upload(mini("while True:\n    pass"))
    before = instances()
    sign_in(client, "marta")
    started = time.perf_counter()
    response = post_form(client, "/start/mini", {"amount": "12.00"})
    took = time.perf_counter() - started
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and took < 3, took
    assert "could not start" in page and "ran out of time" in page and "0.5 s of processor time" in page
    assert instances() == before  # nothing saved


def test_starting_a_request_whose_script_builds_something_huge_is_refused_at_once(client):
    upload(mini("x = 'ab' * 50_000_000\ny = 10 ** 10 ** 8"))
    before = instances()
    sign_in(client, "marta")
    started = time.perf_counter()
    response = post_form(client, "/start/mini", {"amount": "12.00"})
    assert response.status_code == 400 and time.perf_counter() - started < 2
    assert "too much memory" in response.get_data(as_text=True)
    assert instances() == before


def test_a_decision_whose_condition_is_too_big_is_not_saved(client):
    version = upload(mini(condition="decision == 'approve' and 'ab' * 50_000_000 == ''"))
    instance = start_instance(person("marta"), version, {"amount": Decimal("12.00")}).instance
    db.session.commit()
    review = ready_task(instance, "review")
    sign_in(client, "clara")
    response = post_form(client, f"/tasks/{review.id}", {"decision": "approve"})
    page = response.get_data(as_text=True)
    assert "The next step could not run, so nothing was saved" in page and "too much memory" in page
    assert ready_task(instance, "review") is not None  # still waiting


def test_a_timer_whose_step_never_ends_marks_its_request_in_error_and_the_next_timer_fires(app, client):
    app.config["SCRIPT_CPU_SECONDS"] = 0.5
    version = upload(mini(after_reminder="while True:\n    pass"))
    looping = start_instance(person("marta"), version, {"amount": Decimal("12.00")}).instance
    db.session.commit()
    claim = file_claim(client)  # its reminder is due after the looping one's
    db.session.expire_all()
    looping = db.session.get(ProcessInstance, looping.id)
    claim = db.session.get(ProcessInstance, claim.id)
    assert looping.next_timer_at < claim.next_timer_at

    started = time.perf_counter()
    with freeze_time(claim.next_timer_at + dt.timedelta(minutes=1)):
        assert fire_due_timers() == 1  # the claim's; the looping one failed
    assert time.perf_counter() - started < 5
    db.session.expire_all()
    looping = db.session.get(ProcessInstance, looping.id)
    assert looping.status == InstanceStatus.ERROR and "ran out of time" in looping.error
    error = db.session.scalar(select(AuditEvent).where(AuditEvent.instance_id == looping.id,
                                                       AuditEvent.action == "error"))
    assert "“Remind” was stopped" in error.summary and error.data["bpmn_id"] == "remind"
    claim = db.session.get(ProcessInstance, claim.id)
    assert claim.status == InstanceStatus.RUNNING
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.instance_id == claim.id, AuditEvent.action == "notice")) == 1  # reminded
