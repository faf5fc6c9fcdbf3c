"""Files are never silently dropped: after another field's error they stay uploaded until the
form is sent, only for the person who uploaded them, and not for ever."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, ProcessInstance
from app.services.worker import run_round
from tests.conftest import loaded, post_form, sign_in
from tests.integration.test_travel_http import PDF, PNG, claim, file_claim, ready_task


def kept_ids(page: str, field: str = "receipts") -> list[str]:
    return re.findall(rf'name="{field}-kept" value="(\d+)"', page)


def first_try(client) -> tuple[str, list[str]]:
    """Marta sends her claim with receipts but a mistyped IBAN."""
    sign_in(client, "marta")
    files = {"receipts": [(io.BytesIO(PDF), "train.pdf"), (io.BytesIO(PNG), "hotel.png")]}
    page = loaded(post_form(client, "/start/travel_reimbursement", claim(iban="PL61 1090"), files), 400)
    return page, kept_ids(page)


def test_receipts_stay_uploaded_after_another_fields_error_and_go_with_the_claim(client, app):
    page, kept = first_try(client)
    assert "Enter an IBAN in the correct format" in page
    assert "493.00 EUR" in page  # the total claimed, known though the IBAN is wrong
    assert "train.pdf</span> — uploaded" in page and "hotel.png</span> — uploaded" in page
    assert len(kept) == 2
    held = db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))).all()
    assert {(row.filename, row.instance_id) for row in held} == {("train.pdf", None), ("hotel.png", None)}
    stored = Path(app.config["UPLOAD_FOLDER"]) / held[0].stored_path
    assert stored.read_bytes() in (PDF, PNG)

    # The second try sends no file again: the kept ones go with the claim.
    response = post_form(client, "/start/travel_reimbursement", {**claim(), "receipts-kept": kept})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    db.session.expire_all()
    rows = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()
    assert sorted(row.filename for row in rows) == ["hotel.png", "train.pdf"]
    sign_in(client, "clara")
    check = ready_task(instance, "check_claim")
    page = loaded(client.get(f"/tasks/{check.id}"))
    assert "train.pdf" in page and "hotel.png" in page


def test_kept_receipts_count_as_answered_and_new_ones_add_to_them(client):
    _, kept = first_try(client)
    files = {"receipts": [(io.BytesIO(PDF), "taxi.pdf")]}
    page = loaded(post_form(client, "/start/travel_reimbursement",
                            {**claim(ticket_cost="lots"), "receipts-kept": kept}, files), 400)
    assert "Select the receipts" not in page
    assert sorted(kept_ids(page)) == sorted([*kept, *kept_ids(page)[2:]]) and len(kept_ids(page)) == 3
    assert "taxi.pdf</span> — uploaded" in page


def test_a_removed_file_is_gone_and_a_required_field_asks_again(client, app):
    _, kept = first_try(client)
    page = loaded(post_form(client, "/start/travel_reimbursement",
                            {**claim(), "receipts-kept": kept, "receipts-remove": kept}), 400)
    assert "Select the receipts for your claim" in page and kept_ids(page) == []
    db.session.expire_all()
    assert db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))).all() == []


def test_only_the_uploader_can_send_a_kept_file(client):
    _, kept = first_try(client)
    sign_in(client, "pierre")  # another buyer, sending Marta's file ids
    page = loaded(post_form(client, "/start/travel_reimbursement", {
        **claim(working_group_id=""), "receipts-kept": kept}), 400)
    assert "Select the receipts for your claim" in page and kept_ids(page) == []
    db.session.expire_all()
    assert all(row.instance_id is None for row in db.session.scalars(select(Attachment)))


def test_files_of_a_form_never_sent_are_deleted_after_their_lifetime(client, app):
    _, kept = first_try(client)
    rows = db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))).all()
    paths = [Path(app.config["UPLOAD_FOLDER"]) / row.stored_path for row in rows]
    assert run_round("test") == ""  # within the lifetime: nothing is deleted
    for row in db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))):
        row.created_at -= dt.timedelta(hours=app.config["KEPT_UPLOAD_HOURS"], minutes=1)
    db.session.commit()
    assert run_round("test") == "files of forms never sent deleted: 2"
    assert not any(path.exists() for path in paths)
    sign_in(client, "marta")
    page = loaded(post_form(client, "/start/travel_reimbursement", {**claim(), "receipts-kept": kept}), 400)
    assert "Select the receipts for your claim" in page


def test_a_task_form_keeps_its_files_too_and_only_for_that_task(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    check = ready_task(instance, "check_claim")
    assert post_form(client, f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Add the hotel invoice."}).status_code == 302
    revise = ready_task(instance, "revise_claim")
    sign_in(client, "marta")
    files = {"additional_receipts": [(io.BytesIO(PDF), "hotel-invoice.pdf")]}
    page = loaded(post_form(client, f"/tasks/{revise.id}", claim(ticket_cost=""), files), 400)
    assert "Enter the cost of tickets in euros" in page and "hotel-invoice.pdf</span> — uploaded" in page
    kept = kept_ids(page, "additional_receipts")
    # Sent to the start form instead, the file is not brought back: it belongs to this task's form.
    page = loaded(post_form(client, "/start/travel_reimbursement", {**claim(), "receipts-kept": kept}), 400)
    assert "Select the receipts for your claim" in page
    response = post_form(client, f"/tasks/{revise.id}", {**claim(), "additional_receipts-kept": kept})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    row = db.session.get(Attachment, int(kept[0]))
    assert (row.instance_id, row.task_id, row.filename) == (instance.id, revise.id, "hotel-invoice.pdf")


def test_a_meetings_files_are_never_taken_for_the_files_of_a_form_never_sent(client, app):
    """A meeting's agenda files belong to no request either; the clean-up leaves them alone."""
    from app.models import Meeting, MeetingMode, WorkingGroup
    from tests.conftest import person

    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))
    long_ago = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    meeting = Meeting(group_id=group.id, title="Kick-off", starts_at=long_ago, ends_at=long_ago,
                      time_zone="Europe/Brussels", mode=MeetingMode.ONLINE, uid="kick-off@test",
                      planned_by_id=person("ana").id)
    db.session.add(meeting)
    db.session.flush()
    agenda = Attachment(meeting_id=meeting.id, field_id="agenda_files", filename="agenda.pdf",
                        content_type="application/pdf", size=len(PDF), sha256="0" * 64, stored_path="00/" + "0" * 64,
                        uploaded_by_id=person("ana").id, created_at=long_ago)
    db.session.add(agenda)
    db.session.commit()
    agenda_id = agenda.id
    assert run_round("test") == ""
    db.session.expire_all()
    assert db.session.get(Attachment, agenda_id) is not None
