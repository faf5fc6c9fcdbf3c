"""A travel claim through every branch, over HTTP, as the people its lanes name."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskState
from tests.conftest import loaded, person, post_form, sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def claim(**changes) -> dict:
    data = {
        "working_group_id": str(circular_ict_id()),
        "meeting_id": "other", "meeting": "Circular ICT, 3rd meeting, Brussels",
        "meeting_date": "2026-11-10", "travel_from": "Gdańsk", "travel_to": "Brussels",
        "departure_date": "2026-11-09", "return_date": "2026-11-11", "travel_mode": "rail",
        "distance_km": "1400", "rail_hours": "", "ticket_cost": "180.40",
        "accommodation_nights": "2", "accommodation_cost": "300.00", "other_costs": "12.60",
        "account_holder": "Marta Nowak", "iban": "PL61 1090 1014 0000 0712 1981 2874",
        "declaration": "true",
    }
    data.update(changes)
    return data


def receipts():
    return {"receipts": [(io.BytesIO(PDF), "train.pdf"), (io.BytesIO(PNG), "hotel.png")]}


def circular_ict_id() -> int:
    from app.models import WorkingGroup

    return db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name == "Circular ICT"))


def ready_task(instance: ProcessInstance, bpmn_id: str) -> HumanTask:
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == bpmn_id,
        HumanTask.state == TaskState.READY))


def file_claim(client) -> ProcessInstance:
    sign_in(client, "marta")
    response = post_form(client, "/start/travel_reimbursement", claim(), receipts())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))


def inbox_text(client, who: str) -> str:
    sign_in(client, who)
    return loaded(client.get("/inbox"))


def test_claim_is_paid_after_changes_requested_and_resubmitted(client):
    instance = file_claim(client)
    assert instance.working_group.name == "Circular ICT"
    check = ready_task(instance, "check_claim")
    assert {c.user.email.split("@")[0] for c in check.candidates} == {"clara.schmidt", "tom.peeters"}
    assert check.name == "Check claim"
    assert check.name in inbox_text(client, "clara")
    assert check.name not in inbox_text(client, "felix")
    assert check.name not in inbox_text(client, "ana")

    sign_in(client, "clara")
    page = loaded(client.get(f"/tasks/{check.id}"))
    assert "Circular ICT, 3rd meeting, Brussels" in page and "train.pdf" in page
    assert "Not a meeting the app knows" in page  # a meeting typed in is flagged for the check
    response = post_form(client, f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."})
    assert response.status_code == 302

    revise = ready_task(instance, "revise_claim")
    assert [c.user_id for c in revise.candidates] == [person("marta").id]
    sign_in(client, "marta")
    page = loaded(client.get(f"/tasks/{revise.id}"))
    assert "Please add the hotel invoice." in page
    fix = claim(accommodation_cost="280.00")
    fix.pop("working_group_id")
    response = post_form(client, f"/tasks/{revise.id}", fix,
                         {"additional_receipts": [(io.BytesIO(PDF), "hotel-invoice.pdf")]})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    check = ready_task(instance, "check_claim")
    sign_in(client, "tom")
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302

    pay = ready_task(instance, "approve_payment")
    assert [c.user_id for c in pay.candidates] == [person("felix").id]
    sign_in(client, "felix")
    response = post_form(client, f"/tasks/{pay.id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-2026-0042"})
    assert response.status_code == 302

    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_claim_paid"
    sign_in(client, "marta")
    page = loaded(client.get(f"/requests/{instance.id}"))
    assert ">Paid</strong>" in page and "The request finished: Claim paid" in page and "BB-2026-0042" in page
    assert instance.summary["Total claimed (EUR)"] == "473.00 EUR"  # 180.40 + 280.00 + 12.60
    assert instance.summary["Payment reference"] == "BB-2026-0042"


def test_rejected_claim_ends_with_the_reason_recorded(client):
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    response = post_form(client, f"/tasks/{check.id}", {"decision": "reject"})
    assert response.status_code == 400  # a rejection needs its reason
    assert "There is a problem" in response.get_data(as_text=True)
    assert ready_task(instance, "check_claim") is not None
    response = post_form(client, f"/tasks/{check.id}", {"decision": "reject",
                                                         "coordinator_comment": "Not a group meeting."})
    assert response.status_code == 302
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.outcome == "end_claim_rejected"
    sign_in(client, "marta")
    assert "Not a group meeting." in loaded(client.get(f"/requests/{instance.id}"))


def test_finance_returns_the_claim_to_the_coordinator(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {"decision": "approve"})
    sign_in(client, "felix")
    response = post_form(client, f"/tasks/{ready_task(instance, 'approve_payment').id}", {
        "decision": "request_changes", "finance_comment": "IBAN holder differs."})
    assert response.status_code == 302
    again = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    assert "IBAN holder differs." in loaded(client.get(f"/tasks/{again.id}"))
