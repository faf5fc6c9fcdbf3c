"""Bad input gets a clear message and changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from app.engine import load_model
from app.extensions import db
from app.models import Attachment, AuditEvent, HumanTask, ProcessInstance, TaskState
from app.steps import engine
from tests.conftest import csrf_token, post_form, sign_in
from tests.integration.test_travel_http import PDF, PNG, claim, file_claim, ready_task, receipts


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def data_of(instance: ProcessInstance) -> dict:
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance.id)
    return engine().data(engine().load(load_model(instance.version), instance.state))


def start_claim(client, data: dict, files: dict | None = None):
    sign_in(client, "marta")
    return post_form(client, "/start/travel_reimbursement", data, files if files is not None else receipts())


def test_missing_required_field_is_named_and_nothing_starts(client):
    response = start_claim(client, claim(meeting=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Error: Travel reimbursement" in page
    assert 'href="#field-meeting"' in page and 'id="field-meeting-error"' in page
    assert "Gdańsk" in page  # what was typed is kept, and the files sent stay uploaded for the next try
    assert count(ProcessInstance) == 0
    attached = select(func.count()).select_from(Attachment).where(Attachment.instance_id.is_not(None))
    assert db.session.scalar(attached) == 0


def test_wrong_type_and_text_over_the_limit_are_refused(client):
    response = start_claim(client, claim(distance_km="far", ticket_cost="12.345", meeting="x" * 201))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("distance_km", "ticket_cost", "meeting"):
        assert f'href="#field-{field}"' in page, field
    assert count(ProcessInstance) == 0


def test_return_before_departure_is_refused_by_the_cross_field_rule(client):
    response = start_claim(client, claim(return_date="2026-11-08"))
    assert response.status_code == 400
    assert 'href="#field-return_date"' in response.get_data(as_text=True)
    assert count(ProcessInstance) == 0


def test_invalid_iban_is_refused(client):
    response = start_claim(client, claim(iban="PL61 1090 1014 0000 0712 1981 2875"))
    assert response.status_code == 400
    assert 'href="#field-iban"' in response.get_data(as_text=True)


def test_file_of_the_wrong_type_or_too_big_is_refused_and_not_stored(app, client):
    disguised = {"receipts": [(io.BytesIO(PNG), "ticket.pdf")]}
    response = start_claim(client, claim(), disguised)
    assert response.status_code == 400 and 'href="#field-receipts"' in response.get_data(as_text=True)
    huge = {"receipts": [(io.BytesIO(PDF + b"0" * (10 * 1024 * 1024)), "scan.pdf")]}
    response = start_claim(client, claim(), huge)
    assert response.status_code == 400 and "10 MB" in response.get_data(as_text=True)
    assert count(ProcessInstance) == 0 and count(Attachment) == 0
    uploads = Path(app.config["UPLOAD_FOLDER"])
    assert [p for p in uploads.rglob("*") if p.is_file()] == []  # no file stored (rglob of no folder is empty)


def test_unknown_and_readonly_fields_in_a_crafted_post_change_nothing(client):
    instance = file_claim(client)
    before = data_of(instance)
    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    response = post_form(client, f"/tasks/{check.id}", {
        "decision": "approve", "eligible_amount": "99999.00", "flag_late": "false",
        "total_claimed": "1.00", "is_admin": "true", "initiator_id": "1"})
    assert response.status_code == 302
    after = data_of(instance)
    assert after["eligible_amount"] == before["eligible_amount"] != Decimal("99999.00")
    assert after["total_claimed"] == before["total_claimed"]
    assert after["initiator_id"] == before["initiator_id"]
    assert "is_admin" not in after


def test_a_person_the_lane_does_not_name_cannot_complete(client):
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    sign_in(client, "marta")  # the claimant herself, not a coordinator
    response = client.post(f"/tasks/{check.id}", data={
        "decision": "approve", "csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 403
    assert "This task is for someone else" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, check.id).state == TaskState.READY
    sign_in(client, "ana")  # a buyer with no part in this claim cannot even look
    assert client.get(f"/tasks/{check.id}").status_code == 403
    assert client.get(f"/requests/{instance.id}").status_code == 403


def test_a_post_without_its_csrf_token_is_refused(client):
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    events = count(AuditEvent)
    sign_in(client, "clara")
    response = client.post(f"/tasks/{check.id}", data={"decision": "approve"})
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, check.id).state == TaskState.READY
    assert count(AuditEvent) == events


def test_sign_in_with_a_wrong_password_says_so(client):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": "clara.schmidt@iclei.example.eu",
                                             "password": "guess", "csrf_token": token})
    assert response.status_code == 400
    assert "Enter a correct email address and password" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302  # still signed out


def test_sign_in_never_redirects_off_site(client):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in?next=//evil.example/steal", data={
        "email": "clara.schmidt@iclei.example.eu", "password": "bigbuyers-demo", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
