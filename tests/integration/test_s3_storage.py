"""Attachments in S3-compatible object storage (ATTACHMENT_STORAGE=s3), against a real server
on loopback (tests/s3.py): claims with receipts, downloads, kept uploads and their purge, and
an outage that loses nothing. Both database passes run them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time

import pytest
from sqlalchemy import select

from app import create_app
from app.config import ConfigurationError, check
from app.extensions import db
from app.models import Attachment, OutboxMessage, ProcessInstance
from app.services.attachments import STORAGE_NOTICE
from app.services.storage import EXTENSION
from app.services.worker import run_round
from tests.conftest import app_config, loaded, post_form, sign_in
from tests.integration.test_kept_uploads import first_try
from tests.integration.test_meetings import plan
from tests.integration.test_travel_http import PDF, PNG, claim, file_claim, ready_task
from tests.s3 import PREFIX, bucket, server  # noqa: F401 - the fixtures

KEPT = "Your answers are kept below, but the files were not saved: attach them again"


def stored(store) -> dict[str, bytes]:
    """Every object in the test's bucket: {key: content}."""
    client, name = store
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=name, Key=item["Key"])["Body"].read() for item in listed}


def key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{PREFIX}/{digest[:2]}/{digest}"


def test_a_claims_receipts_go_to_the_bucket_and_clara_downloads_them(client, app, bucket, tmp_path):  # noqa: F811
    instance = file_claim(client)  # Marta, with a PDF and a PNG receipt
    assert stored(bucket) == {key(PDF): PDF, key(PNG): PNG}
    assert not (tmp_path / "uploads").exists()  # nothing on this node's disk
    rows = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)
                              .order_by(Attachment.filename)).all()
    assert [row.filename for row in rows] == ["hotel.png", "train.pdf"]

    sign_in(client, "clara")
    page = loaded(client.get(f"/tasks/{ready_task(instance, 'check_claim').id}"))
    assert "train.pdf" in page and "hotel.png" in page
    for row, data in zip(rows, (PNG, PDF), strict=True):
        response = client.get(f"/attachments/{row.id}")
        assert response.status_code == 200
        assert response.data == data
        assert response.headers["Content-Disposition"] == f"attachment; filename={row.filename}"
        assert response.headers["Content-Type"] == row.content_type
        assert response.headers["Content-Length"] == str(len(data))
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["ETag"] == f'"{row.sha256}"'

    sign_in(client, "helena")  # the Commission sees amounts, never receipts: checked before the bucket
    assert client.get(f"/attachments/{rows[0].id}").status_code == 403


def test_a_kept_upload_waits_in_the_bucket_and_goes_with_the_claim(client, bucket):  # noqa: F811
    page, kept = first_try(client)  # the receipts were good, the IBAN was not
    assert "Enter an IBAN in the correct format" in page and len(kept) == 2
    assert set(stored(bucket)) == {key(PDF), key(PNG)}
    response = post_form(client, "/start/travel_reimbursement", {**claim(), "receipts-kept": kept})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    db.session.expire_all()
    rows = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()
    assert sorted(str(row.id) for row in rows) == sorted(kept)
    sign_in(client, "felix")
    assert {client.get(f"/attachments/{row.id}").data for row in rows} == {PDF, PNG}


def test_abandoned_kept_uploads_are_purged_from_the_bucket(client, app, bucket):  # noqa: F811
    _, kept = first_try(client)
    assert run_round("test") == ""  # within their lifetime: kept
    assert len(stored(bucket)) == 2
    for row in db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))):
        row.created_at -= dt.timedelta(hours=app.config["KEPT_UPLOAD_HOURS"], minutes=1)
    db.session.commit()
    assert run_round("test") == "files of forms never sent deleted: 2"
    assert stored(bucket) == {}


def test_content_shared_by_a_sent_claim_stays_when_a_kept_copy_is_purged(client, app, bucket):  # noqa: F811
    file_claim(client)
    _, kept = first_try(client)  # the same two files, kept again: stored once
    for row in db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))):
        row.created_at -= dt.timedelta(hours=app.config["KEPT_UPLOAD_HOURS"], minutes=1)
    db.session.commit()
    assert run_round("test").endswith("files of forms never sent deleted: 2")  # and the claim's emails
    assert stored(bucket) == {key(PDF): PDF, key(PNG): PNG}


def test_object_storage_down_keeps_the_answers_and_loses_nothing(client, app, bucket, server, caplog):  # noqa: F811
    sign_in(client, "marta")
    before = db.session.scalar(select(db.func.count()).select_from(ProcessInstance))
    filed = claim(meeting="Circular ICT, 5th meeting, Tallinn")
    server.stop()
    try:
        page = loaded(post_form(client, "/start/travel_reimbursement", filed,
                                {"receipts": [(io.BytesIO(PDF), "train.pdf")]}), 503)
        assert KEPT in page
        assert 'value="Circular ICT, 5th meeting, Tallinn"' in page
        assert 'value="PL61 1090 1014 0000 0712 1981 2874"' in page
        assert db.session.scalar(select(db.func.count()).select_from(ProcessInstance)) == before
        db.session.expire_all()
        [notice] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == STORAGE_NOTICE)).all()
        assert notice.to_address == "admin@bigbuyers.example.eu"
        assert f"Object storage: bucket {bucket[1]}/{PREFIX} at {server.endpoint}" in notice.text_body
        assert "Check that the object storage is reachable" in notice.text_body
        assert any("object storage" in r.getMessage() and "refused a file" in r.getMessage()
                   for r in caplog.records)
    finally:
        server.start()
    sent = post_form(client, "/start/travel_reimbursement", filed, {"receipts": [(io.BytesIO(PDF), "train.pdf")]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    assert stored(bucket) == {key(PDF): PDF}


def test_a_download_while_object_storage_is_down_says_to_try_again(client, bucket, server):  # noqa: F811
    instance = file_claim(client)
    row = db.session.scalar(select(Attachment).where(Attachment.instance_id == instance.id))
    server.stop()
    try:
        page = loaded(client.get(f"/attachments/{row.id}"), 503)
        assert "The file cannot be downloaded at the moment" in page and "Try again in a few minutes." in page
    finally:
        server.start()
    assert client.get(f"/attachments/{row.id}").data in (PDF, PNG)


def test_object_storage_needs_a_bucket():
    with pytest.raises(ConfigurationError, match="ATTACHMENT_STORAGE=s3 needs S3_BUCKET"):
        check({"APP_ENV": "development", "ATTACHMENT_STORAGE": "s3", "S3_BUCKET": ""})
    with pytest.raises(ConfigurationError, match="ATTACHMENT_STORAGE must be folder or s3"):
        check({"APP_ENV": "development", "ATTACHMENT_STORAGE": "ftp"})


def test_a_meetings_agenda_file_goes_to_the_bucket_and_members_download_it(client, bucket):  # noqa: F811
    meeting = plan(client)  # Ana, the group's lead, with agenda.pdf
    row = db.session.scalar(select(Attachment).where(Attachment.meeting_id == meeting.id))
    assert stored(bucket) == {key(PDF): PDF}
    sign_in(client, "marta")  # a member of the group, invited
    response = client.get(f"/meetings/files/{row.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"] == "attachment; filename=agenda.pdf"


def test_a_file_one_node_stored_is_downloaded_from_another(client, app, bucket, server, tmp_path):  # noqa: F811
    """Two app processes on different machines: their own instance folders, one database, one bucket."""
    instance = file_claim(client)  # on the first node
    row = db.session.scalar(select(Attachment).where(Attachment.instance_id == instance.id,
                                                     Attachment.filename == "train.pdf"))
    other = create_app({**app_config(tmp_path / "node2", app.config["SQLALCHEMY_DATABASE_URI"]),
                        **server.settings(bucket[1], PREFIX)})
    with other.app_context():
        try:
            browser = other.test_client()
            sign_in(browser, "clara")
            response = browser.get(f"/attachments/{row.id}")
            assert response.status_code == 200 and response.data == PDF
        finally:
            db.session.remove()
            db.engine.dispose()
    assert not (tmp_path / "node2" / "uploads").exists()


def test_a_hung_object_store_gives_the_message_within_its_timeouts(client, app, bucket, server):  # noqa: F811
    """The store takes connections but never answers: S3_TIMEOUT (2 s here) bounds the wait."""
    sign_in(client, "marta")
    server.freeze()
    try:
        started = time.monotonic()
        page = loaded(post_form(client, "/start/travel_reimbursement", claim(),
                                {"receipts": [(io.BytesIO(PNG), "hotel.png")]}), 503)
        waited = time.monotonic() - started
    finally:
        server.thaw()
    assert KEPT in page
    assert waited < 15, waited  # two tries of 2 s each and a back-off, not a worker's timeout


def test_the_purge_waits_for_object_storage_to_come_back(client, app, bucket, server, caplog):  # noqa: F811
    _, kept = first_try(client)
    for row in db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))):
        row.created_at -= dt.timedelta(hours=app.config["KEPT_UPLOAD_HOURS"], minutes=1)
    db.session.commit()
    server.stop()
    try:
        assert run_round("test") == ""  # nothing deleted: neither the rows nor, of course, the objects
    finally:
        server.start()
    assert sum("did not delete a file" in r.getMessage() for r in caplog.records) == 1  # one try, then stop
    db.session.expire_all()
    assert len(db.session.scalars(select(Attachment).where(Attachment.id.in_([int(i) for i in kept]))).all()) == 2
    assert run_round("test") == "files of forms never sent deleted: 2"
    assert stored(bucket) == {}


def test_ready_only_while_the_bucket_answers(client, app, bucket, server):  # noqa: F811
    assert client.get("/readyz").get_data(as_text=True) == "ready\n"
    server.stop()
    try:
        started = time.monotonic()
        down = client.get("/readyz")
        assert (down.status_code, down.get_data(as_text=True)) == (503, "not ready: object storage unreachable\n")
        assert down.headers["Cache-Control"] == "no-store"
        assert time.monotonic() - started < app.config["S3_TIMEOUT"]  # refused at once
    finally:
        server.start()
    server.freeze()  # takes connections, answers nothing: the store's short timeout, two tries
    try:
        started = time.monotonic()
        assert client.get("/readyz").get_data(as_text=True) == "not ready: object storage unreachable\n"
        assert time.monotonic() - started < 3 * app.config["S3_TIMEOUT"] + 1
    finally:
        server.thaw()
    assert client.get("/readyz").get_data(as_text=True) == "ready\n"
    app.config["S3_BUCKET"] = "bbw-nobody-made-this"
    app.extensions.pop(EXTENSION, None)
    gone = client.get("/readyz")
    assert (gone.status_code, gone.get_data(as_text=True)) == (503, "not ready: object storage has no such bucket\n")
