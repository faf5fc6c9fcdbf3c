"""A person's data: the ZIP of everything held about them (their own, or anyone's for an
administrator), and the administrators' record of processing."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from app.errors import NotAllowed
from app.extensions import db
from app.models import Attachment, AuditEvent, WorkingGroup
from app.services import personal_export
from app.services.personal_export import export_personal_data
from app.services.storage import storage
from app.services.worker import run_round
from tests.conftest import ROOT, csrf_token, loaded, person, post_form, sign_in
from tests.diagrams import text, upload_process
from tests.integration.test_travel_http import PDF, PNG, claim, file_claim, ready_task
from tests.s3 import bucket, server  # noqa: F401 - the fixtures

OTHER_PDF = b"%PDF-1.4\n% Pierre's hotel\n%%EOF\n"
PIERRE_IBAN = "FR76 3000 6000 0112 3456 7890 189"


def paid_claim(client):
    """Marta's claim with two receipts, checked by Clara and paid by Felix."""
    instance = file_claim(client)
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}",
                     {"decision": "approve"}).status_code == 302
    sign_in(client, "felix")
    assert post_form(client, f"/tasks/{ready_task(instance, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-2026-0042"}).status_code == 302
    return instance


def pierre_claim(client):
    sign_in(client, "pierre")
    group = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name == "Zero-emission construction sites"))
    data = claim(account_holder="Pierre Martin", iban=PIERRE_IBAN, travel_from="Lyon", working_group_id=str(group))
    response = post_form(client, "/start/travel_reimbursement", data,
                         {"receipts": [(io.BytesIO(OTHER_PDF), "pierre-hotel.pdf")]})
    assert response.status_code == 302, text(response)[:2000]


def download(client, url: str) -> zipfile.ZipFile:
    """Open the page, press its button; the ZIP it sends."""
    loaded(client.get(url))
    response = post_form(client, url, {})
    assert response.status_code == 200, text(response)[:2000]
    assert response.mimetype == "application/zip"
    assert "attachment;" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()  # the spooled ZIP, as a server closes it once sent
    return zipfile.ZipFile(io.BytesIO(body))


def read(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name))


def everything(archive: zipfile.ZipFile) -> bytes:
    return b"".join(archive.read(name) for name in archive.namelist())


def test_a_person_downloads_their_paid_claim_with_its_receipts_and_no_one_elses(client):
    instance = paid_claim(client)
    pierre_claim(client)
    sign_in(client, "marta")
    page = loaded(client.get("/profile"))
    assert 'href="/profile/data">Download your data</a>' in page

    archive = download(client, "/profile/data")
    names = archive.namelist()
    assert {"README.txt", "account.json", "requests.json", "tasks.json", "meetings.json", "emails.json"} <= set(names)
    receipts = sorted(name for name in names if name.startswith(f"files/request-{instance.id}/"))
    assert receipts == [f"files/request-{instance.id}/hotel.png", f"files/request-{instance.id}/train.pdf"]
    assert archive.read(receipts[0]) == PNG and archive.read(receipts[1]) == PDF  # byte-identical

    account = read(archive, "account.json")
    assert account["email"] == "marta.nowak@gdansk.example.eu" and account["roles"] == ["buyer"]
    assert account["organisation"]["name"] == "City of Gdańsk"
    assert "Circular ICT" in account["working_groups_of_your_organisation"]
    assert account["signed_in_now"], "this very sign-in"
    assert account["two_step_sign_in"] is False

    claims = [r for r in read(archive, "requests.json") if r["number"] == instance.id]
    assert len(claims) == 1 and claims[0]["status"] == "Paid"
    answers = {a["question"]: a.get("answer", a.get("files"))
               for step in claims[0]["answers"] for a in step["answers"]}
    assert answers["IBAN"] == "PL61 1090 1014 0000 0712 1981 2874"  # her own bank details, whole
    assert answers["Receipts"] == [receipts[1], receipts[0]]
    assert answers["Payment reference"] == "BB-2026-0042"  # finance's answer in her request
    assert any("Felix Wagner" == step["by"] for step in claims[0]["answers"])

    emails = read(archive, "emails.json")
    assert emails and all(e["to"] == "marta.nowak@gdansk.example.eu" for e in emails)
    assert all("%%" not in e["text"] for e in emails)
    assert any("paid" in e["subject"].lower() for e in emails)
    meetings = read(archive, "meetings.json")
    assert meetings["invited"] and all(m["working_group"] == "Circular ICT" for m in meetings["invited"])
    assert any(m["attended"] == "In person" for m in meetings["invited"])
    assert meetings["planned"] == []
    assert "requests.json" in archive.read("README.txt").decode()

    whole = everything(archive)
    assert OTHER_PDF not in whole and PIERRE_IBAN.encode() not in whole and b"pierre" not in whole.lower()
    assert b"felix.wagner@" not in whole and b"clara.schmidt@" not in whole  # others' addresses

    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "personal_data_exported")).one()
    assert event.actor_id == person("marta").id and {k: v for k, v in event.data.items() if k != "$line"} == {
        "user_id": person("marta").id}


def test_a_coordinators_export_holds_their_decisions_masked_as_they_see_them(client):
    title = paid_claim(client).title
    assert "emails" in run_round("test")  # sent: the emails as written, links and all
    sign_in(client, "felix")
    archive = download(client, "/profile/data")
    done = [t for t in read(archive, "tasks.json") if t["step"] == "Approve payment"]
    assert len(done) == 1 and done[0]["request"] == title and done[0]["through"] == "web"
    answers = {a["question"]: a.get("answer") for a in done[0]["answers"]}
    assert answers["Payment reference"] == "BB-2026-0042"
    assert not [r for r in read(archive, "requests.json") if r["title"] == title]  # not his request
    assert PDF not in everything(archive)  # Marta's receipts are hers
    texts = [email["text"] for email in read(archive, "emails.json")]
    assert any("[link: approve]" in t for t in texts) and not any("%%" in t for t in texts)


def test_an_administrator_downloads_someones_data_and_a_buyer_cannot(client):
    instance = paid_claim(client)
    marta = person("marta")
    sign_in(client, "pierre")
    assert client.get(f"/admin/people/{marta.id}/data").status_code == 403
    assert "Pierre Martin" in read(download(client, "/profile/data"), "account.json")["name"]  # his own only
    token = csrf_token(client, "/profile/data")
    response = client.post(f"/admin/people/{marta.id}/data", data={"csrf_token": token})
    assert response.status_code == 403 and response.mimetype != "application/zip"
    with pytest.raises(NotAllowed):
        export_personal_data(person("pierre"), marta)

    sign_in(client, "admin")
    assert f'href="/admin/people/{marta.id}/data"' in loaded(client.get(f"/admin/people/{marta.id}"))
    page = loaded(client.get(f"/admin/people/{marta.id}/data"))
    assert "Download the data of Marta Nowak" in page
    archive = download(client, f"/admin/people/{marta.id}/data")
    assert read(archive, "account.json")["email"] == marta.email
    assert read(download(client, "/profile/data"), "account.json")["two_step_sign_in"] is True  # the admin's own
    assert archive.read(f"files/request-{instance.id}/train.pdf") == PDF
    assert "Marta Nowak" in archive.read("README.txt").decode()
    assert "Platform Administrator downloaded the data of Marta Nowak" in text(client.get("/admin/"))


def test_the_files_come_from_the_bucket_when_attachments_are_in_object_storage(client, tmp_path, bucket):  # noqa: F811
    instance = paid_claim(client)
    assert not (tmp_path / "uploads").exists()  # the receipts are only in the bucket
    sign_in(client, "marta")
    archive = download(client, "/profile/data")
    assert archive.read(f"files/request-{instance.id}/train.pdf") == PDF
    assert archive.read(f"files/request-{instance.id}/hotel.png") == PNG


def test_a_download_larger_than_the_memory_limit_is_written_to_disk_and_sent_whole(client, monkeypatch):
    monkeypatch.setattr(personal_export, "SPOOL_BYTES", 256)  # the receipts alone are bigger
    instance = paid_claim(client)
    marta = person("marta")
    spool = personal_export.export_personal_data(marta, marta)
    assert spool._rolled  # on disk, not in memory
    spool.close()
    db.session.rollback()  # its record of the download: this one was not sent
    sign_in(client, "marta")
    archive = download(client, "/profile/data")
    assert archive.read(f"files/request-{instance.id}/train.pdf") == PDF
    assert read(archive, "account.json")["name"] == "Marta Nowak"


def test_a_file_the_store_no_longer_holds_is_named_and_the_rest_come(client):
    instance = paid_claim(client)
    train = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id,
                                                        Attachment.filename == "train.pdf")).one()
    storage().delete(train.stored_path)
    sign_in(client, "marta")
    archive = download(client, "/profile/data")
    assert f"files/request-{instance.id}/train.pdf" not in archive.namelist()
    assert archive.read(f"files/request-{instance.id}/hotel.png") == PNG
    claims = [r for r in read(archive, "requests.json") if r["number"] == instance.id]
    receipts = [a["files"] for step in claims[0]["answers"] for a in step["answers"] if a["question"] == "Receipts"]
    assert receipts == [["train.pdf (no longer kept)", f"files/request-{instance.id}/hotel.png"]]


def test_the_page_and_the_readme_speak_the_readers_language(client):
    sign_in(client, "marta")
    french = {"Accept-Language": "fr"}
    page = client.get("/profile/data", headers=french).get_data(as_text=True)
    assert "Télécharger vos données" in page and "Télécharger (fichier ZIP)" in page
    response = client.post("/profile/data", data={"csrf_token": csrf_token(client, "/profile/data")},
                           headers=french)
    assert response.mimetype == "application/zip"
    body = response.get_data()
    response.close()
    readme = zipfile.ZipFile(io.BytesIO(body)).read("README.txt").decode()
    assert readme.startswith("Vos données de Big Buyers Workflow") and "Marta Nowak" in readme


def test_a_download_without_the_form_token_is_refused(client):
    sign_in(client, "marta")
    response = client.post("/profile/data", data={})
    assert response.status_code == 400 and response.mimetype != "application/zip"


# -- the record of processing -------------------------------------------------------------------


def section(response, name: str) -> str:
    """The text of the record's section on ``name``, from its heading to the next."""
    parts = response.get_data(as_text=True).split('<h2 class="govuk-heading-m">')
    found = [part for part in parts if part.startswith(f"{name}</h2>")]
    assert len(found) == 1, f"no section on {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", found[0]).split())


def test_the_record_of_processing_lists_each_process_and_follows_a_new_version(client):
    sign_in(client, "marta")
    assert client.get("/admin/processing").status_code == 403
    assert client.get("/admin/processing.csv").status_code == 403
    sign_in(client, "admin")
    assert 'href="/admin/processing"' in loaded(client.get("/admin/"))
    response = client.get("/admin/processing")
    page = text(response)
    travel = section(response, "Travel reimbursement")
    assert "IBAN (IBAN, bank details)" in travel and "Receipts (File, bank details)" in travel
    assert "7 years after the request is finished; 12 months when it ends as “Rejected”" in travel
    assert "Claimant (the person who started the request)" in travel
    assert "Finance officers" in travel and "Secretariat coordinators" in travel
    assert "Kept: Receipts" in travel
    onboarding = section(response, "Group onboarding")
    assert "3 years after the request is finished; 12 months when it ends as “Rejected”" in onboarding
    assert "Group lead" in onboarding  # handles the application without its personal data
    for name in ("Expert request", "Market engagement event", "Accounts", "Sign-in records", "Emails"):
        assert name in page
    german = text(client.get("/admin/processing", headers={"Accept-Language": "de"}))
    assert "Verzeichnis der Verarbeitungstätigkeiten" in german and "Aufbewahrungsdauer" in german
    assert "Die Person, die den Antrag gestellt hat" in german
    assert "Your phone number" not in page

    rows = list(csv.DictReader(io.StringIO(client.get("/admin/processing.csv").get_data().decode("utf-8-sig"))))
    by_name = {row["Processing"]: row for row in rows}
    assert "IBAN (IBAN, bank details)" in by_name["Travel reimbursement"]["Personal data"]
    assert by_name["Travel reimbursement"]["How long it is kept"].startswith("7 years")

    bpmn = (ROOT / "workflows" / "group_onboarding.bpmn").read_text()
    field = ('<camunda:formField id="contact_phone" label="=Your phone number" type="string">'
             '<camunda:properties><camunda:property id="personal" value="phone number" /></camunda:properties>'
             '</camunda:formField>\n          ')
    first = '<camunda:formField id="organisation_name"'
    revised = bpmn.replace(first, field + first, 1)
    assert revised != bpmn
    upload_process(client, {"group_onboarding.bpmn": revised.encode()})
    assert "=Your phone number (Text, phone number)" in section(client.get("/admin/processing"), "Group onboarding")
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/processing.csv").get_data().decode("utf-8-sig"))))
    onboarding_row = next(row for row in rows if row["Processing"] == "Group onboarding")
    assert "'=Your phone number (Text, phone number)" in onboarding_row["Personal data"]  # no formula


@pytest.mark.parametrize("url", ["/profile/data", "/admin/processing"])
def test_the_new_pages_need_signing_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
