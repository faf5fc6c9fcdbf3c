"""Personal data past its retention period: the diagram's periods, the purge (files, personal
answers, people), legal hold and the administrators' preview. Both database passes run them."""

from __future__ import annotations

import datetime as dt
import json

from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, AuditEvent, OutboxMessage, ProcessInstance
from app.services.retention.purge import purge_due, purge_request
from app.services.worker import PURGED_AT, run_round
from tests.conftest import ROOT, loaded, post_form, sign_in
from tests.diagrams import data_of, history, refreshed, text, upload_report
from tests.integration.test_travel_http import PDF, PNG, file_claim, ready_task
from tests.s3 import bucket, server  # noqa: F401 - the fixtures

IBAN = "PL61 1090 1014 0000 0712 1981 2874"


def paid_claim(client) -> ProcessInstance:
    """Marta's claim with two receipts, checked by Clara and paid by Felix."""
    instance = file_claim(client)
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}",
                     {"decision": "approve"}).status_code == 302
    sign_in(client, "felix")
    assert post_form(client, f"/tasks/{ready_task(instance, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-2026-0042"}).status_code == 302
    instance_id = instance.id
    run_round("test")  # the emails go, as they would long before the purge
    instance = db.session.get_one(ProcessInstance, instance_id)
    assert instance.outcome == "end_claim_paid"
    return instance


def rejected_claim(client) -> ProcessInstance:
    instance = file_claim(client)
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {
        "decision": "reject", "coordinator_comment": "Not a group meeting."}).status_code == 302
    instance_id = instance.id
    run_round("test")
    return db.session.get_one(ProcessInstance, instance_id)


def everything_about(instance: ProcessInstance) -> str:
    """Every stored row of the request as text: what a purge must have cleaned."""
    instance = refreshed(instance)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                .order_by(AuditEvent.id)).all()
    return json.dumps([instance.title, instance.summary, instance.parts, instance.state, instance.initiator.name,
                       [(e.actor.name if e.actor else "", e.summary, e.data) for e in events]], ensure_ascii=False)


def test_a_paid_claim_is_purged_after_seven_years_and_a_second_purge_changes_nothing(client, app, tmp_path):
    instance = paid_claim(client)
    uploads = tmp_path / "uploads"
    assert len([p for p in uploads.rglob("*") if p.is_file()]) == 2
    before = everything_about(instance)
    assert IBAN.replace(" ", "") in before.replace(" ", "") and "Marta Nowak" in before

    ended = instance.ended_at
    assert purge_due(ended + dt.timedelta(days=365 * 7 - 1)) == 0  # not yet
    assert purge_due(ended + dt.timedelta(days=365 * 7 + 2)) == 1

    after = everything_about(instance)
    for gone in ("Marta Nowak", "marta.nowak@", "Clara Schmidt", "Felix Wagner", "2874", "train.pdf"):
        assert gone not in after, gone
    assert "BB-2026-0042" in after  # what is not personal stays: the payment reference
    assert not [p for p in uploads.rglob("*") if p.is_file()]  # the receipts are deleted from storage
    assert db.session.scalar(select(Attachment.id).where(Attachment.instance_id == instance.id)) is None
    assert data_of(instance)["iban"] is None and data_of(instance)["receipts"] == []
    assert db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.instance_id == instance.id)) is None
    purged = history(instance, "purged")
    assert len(purged) == 1 and "retention period of 7 years has ended" in purged[0]
    assert "2 files deleted" in purged[0]

    instance = refreshed(instance)
    marta = instance.initiator
    assert marta.name.startswith("Person ") and not marta.active  # the same pseudonym in every row
    steps = db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.instance_id == instance.id,
                                                                 AuditEvent.action == "started")).all()
    assert steps == [marta.id]

    # run twice: nothing changes the second time, neither by the worker nor by hand
    assert purge_due(ended + dt.timedelta(days=365 * 8)) == 0
    assert purge_request(refreshed(instance), None, "worker", "again") == 0
    db.session.commit()
    assert everything_about(instance) == after

    sign_in(client, "clara")  # the secretariat still follows it: who did what, when, by pseudonym
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert marta.name in page and "Marta" not in page and "Deleted on" in page
    csv = client.get("/monitor/instances.csv").get_data(as_text=True)
    assert marta.name in csv.splitlines()[-1] or any(marta.name in line for line in csv.splitlines())
    assert "Marta Nowak" not in "".join(line for line in csv.splitlines() if instance.title in line)


def test_a_rejected_claim_goes_after_twelve_months(client):
    instance = rejected_claim(client)
    assert purge_due(instance.ended_at + dt.timedelta(days=360)) == 0
    assert purge_due(instance.ended_at + dt.timedelta(days=370)) == 1
    assert "retention period of 12 months has ended" in history(instance, "purged")[0]


def test_a_request_on_legal_hold_is_not_purged_until_the_hold_is_lifted(client):
    instance = rejected_claim(client)
    sign_in(client, "admin")
    url = f"/monitor/instances/{instance.id}/hold"
    assert "Put “" in loaded(client.get(url))
    response = post_form(client, url, {"reason": ""})
    assert response.status_code == 400 and "Give the reason" in text(response)
    assert post_form(client, url, {"reason": "Claimant disputes the rejection in court."}).status_code == 302
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "On legal hold" in page and "Claimant disputes the rejection in court." in page
    before = everything_about(instance)

    later = instance.ended_at + dt.timedelta(days=800)
    assert purge_due(later) == 0
    assert everything_about(instance) == before  # untouched

    assert post_form(client, url, {"reason": "The court has decided."}).status_code == 302
    assert "legal hold" in " ".join(history(instance, "legal_hold_lifted"))
    assert purge_due(later) == 1


def test_the_preview_lists_what_goes_in_the_next_30_days(client):
    rejected = rejected_claim(client)
    rejected_id, ended, title = rejected.id, rejected.ended_at, rejected.title
    paid_id = paid_claim(client).id
    sign_in(client, "admin")
    assert "Nothing is due for deletion in the next 30 days." in text(client.get("/admin/retention"))
    assert "Personal data to be deleted" in text(client.get("/admin/"))

    with freeze_time(ended + dt.timedelta(days=365 - 40)):
        sign_in(client, "admin")
        assert "Nothing is due" in text(client.get("/admin/retention"))

    with freeze_time(ended + dt.timedelta(days=365 - 10)):  # 12 months minus 10 days later
        sign_in(client, "admin")
        page = loaded(client.get("/admin/retention"))
        assert title in page and f'href="/monitor/instances/{rejected_id}"' in page
        assert f'href="/monitor/instances/{paid_id}"' not in page  # 7 years away
        assert "Travel reimbursement" in page and "1 request" in page and "On hold" not in page
        post_form(client, f"/monitor/instances/{rejected_id}/hold", {"reason": "An audit of 2026 claims."})

    with freeze_time(ended + dt.timedelta(days=400)):
        sign_in(client, "admin")
        page = text(client.get("/admin/retention"))
        assert "On hold" in page and "Not while on hold" in page

    sign_in(client, "clara")
    assert client.get("/admin/retention").status_code == 403


def test_the_worker_purges_what_is_due_from_the_bucket(client, app, bucket):  # noqa: F811
    instance = rejected_claim(client)
    instance_id = instance.id
    instance.ended_at -= dt.timedelta(days=400)  # rejected 13 months ago (the store refuses a frozen clock)
    db.session.commit()
    client_s3, name = bucket
    assert len(client_s3.list_objects_v2(Bucket=name).get("Contents", [])) == 2
    app.extensions.pop(PURGED_AT, None)  # the round that sent the emails purged; the next waits an hour
    assert "requests purged of personal data: 1" in run_round("test")
    assert client_s3.list_objects_v2(Bucket=name).get("Contents", []) == []
    assert db.session.get_one(ProcessInstance, instance_id).purged_at is not None


def test_a_file_another_request_still_names_stays(client, tmp_path):
    first = rejected_claim(client)  # the same two receipts (same content) ...
    file_claim(client)  # ... in a second claim, still running
    assert purge_due(first.ended_at + dt.timedelta(days=400)) == 1
    assert len([p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]) == 2
    assert {PDF, PNG} == {p.read_bytes() for p in (tmp_path / "uploads").rglob("*") if p.is_file()}


def test_the_upload_check_reads_the_retention_properties(client):
    bpmn = (ROOT / "workflows" / "group_onboarding.bpmn").read_text()
    bad = (bpmn.replace('name="retention" value="3 years"', 'name="retention" value="a while"')
           .replace('name="retention:Withdrawn"', 'name="retention:Approved"'))
    report = upload_report(client, {"group_onboarding.bpmn": bad.encode()})
    assert "the retention “a while” (retention) is not a period" in report
    assert "retention:Approved names the end “Approved”, which the process does not have" in report
    assert "end_withdrawn (Withdrawn)" in report
    assert "retention" not in upload_report(client, {"group_onboarding.bpmn": bpmn.encode()})


def test_the_preview_and_the_privacy_notice_speak_french_and_german(client):
    sign_in(client, "admin")
    assert "Données personnelles à supprimer" in text(client.get("/admin/retention", headers={"Accept-Language": "fr"}))
    assert "In den nächsten 30 Tagen ist nichts zu löschen." in text(
        client.get("/admin/retention", headers={"Accept-Language": "de"}))
    notice = text(client.get("/privacy", headers={"Accept-Language": "fr"}))
    assert "7 ans après la clôture de la demande; 12 mois si elle se termine par « Refusée »" in notice
