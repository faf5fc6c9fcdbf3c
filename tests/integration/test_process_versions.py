"""Administrators upload a revised process, compare it, activate it, roll back and download,
over HTTP; requests already running finish on the version they started with."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from sqlalchemy import func, select

from app.cli import DEMO_PASSWORD
from app.engine import parse_files
from app.extensions import db
from app.models import AuditEvent, PendingUpload, ProcessDefinition, ProcessInstance, ProcessVersion, Role
from app.services.diagram_checks import check_upload
from app.services.people import create_user
from app.services.versions import compare_models
from tests.conftest import ROOT, csrf_token, post_form, sign_in
from tests.diagrams import FIXTURES, upload_process
from tests.integration.test_travel_http import claim, file_claim, ready_task, receipts

BPMN = "travel_reimbursement.bpmn"
DMN = "travel_eligibility.dmn"
NEW_FIELD = """<camunda:formField id="purchase_order" label="Purchase order number" type="string">
            <camunda:properties>
              <camunda:property id="hint" value="Only if your organisation gave you one for this trip." />
            </camunda:properties>
            <camunda:validation>
              <camunda:constraint name="maxlength" config="40" />
            </camunda:validation>
          </camunda:formField>
          """


def shipped() -> dict[str, bytes]:
    """The travel process as `flask workflows sync` stores it: the diagram, its table, its translations."""
    names = (BPMN, DMN, "travel_reimbursement.fr.po", "travel_reimbursement.de.po")
    return {name: (ROOT / "workflows" / name).read_bytes() for name in names}


def revised() -> dict[str, bytes]:
    """The travel process with a 120 EUR nightly cap and an optional purchase order number."""
    files = shipped()
    dmn = files[DMN].decode()
    assert dmn.count('Decimal("140.00")') == 2
    files[DMN] = dmn.replace('Decimal("140.00")', 'Decimal("120.00")').encode()
    bpmn = files[BPMN].decode()
    receipts_field = '<camunda:formField id="receipts"'
    assert bpmn.count(receipts_field) == 1
    files[BPMN] = bpmn.replace(receipts_field, NEW_FIELD + receipts_field).encode()
    return files


def as_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client, files: dict[str, bytes], note: str = ""):
    return post_form(client, "/admin/processes/upload", {"note": note},
                     {"files": [(io.BytesIO(data), name) for name, data in files.items()]})


def text(response) -> str:
    """The page as a person reads it: tags dropped, white space collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def travel() -> ProcessDefinition:
    db.session.expire_all()
    return db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "travel_reimbursement"))


def active_number() -> int:
    return travel().active_version.number


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def latest_instance() -> ProcessInstance:
    db.session.expire_all()
    return db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))


def store_upload(client, files: dict[str, bytes], activate: bool = True, note: str = "") -> ProcessVersion:
    """Upload, read the review, confirm; the stored version."""
    sign_in(client, "admin")
    response = upload(client, files, note)
    assert response.status_code == 302, text(response)[:3000]
    review_url = response.headers["Location"]
    response = post_form(client, review_url, {"activate": "y"} if activate else {})
    assert response.status_code == 302, text(response)[:3000]
    return travel().versions[-1]


def check_page(client, instance: ProcessInstance) -> str:
    sign_in(client, "clara")
    return text(client.get(f"/tasks/{ready_task(instance, 'check_claim').id}"))


def pay(client, instance: ProcessInstance) -> ProcessInstance:
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}",
                     {"decision": "approve"}).status_code == 302
    sign_in(client, "felix")
    response = post_form(client, f"/tasks/{ready_task(instance, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-2026-0077"})
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


# --- The whole story ---------------------------------------------------------------------------


def test_revised_process_applies_to_new_claims_while_running_ones_finish_on_theirs(client):
    before = file_claim(client)  # 2 nights, 300 EUR: capped at 280 under version 1
    assert before.version.number == 1

    sign_in(client, "admin")
    assert "Processes and versions" in text(client.get("/admin/"))
    response = upload(client, revised(), note="Nightly cap down to 120 EUR; purchase order number")
    assert response.status_code == 302
    review = text(client.get(response.headers["Location"]))
    assert "No errors" in review
    for warning in check_upload(revised()).warnings:
        assert warning.message in review
    assert ("Fields added “Purchase order number” purchase_order (string, optional)" in review), review
    assert "travel_eligibility.dmn: changed" in review
    assert ('Rule 2 (rule_any_other_trip): Accommodation cap (EUR) Decimal("140.00") * accommodation_nights '
            'Decimal("120.00") * accommodation_nights') in review
    assert "No user task is added, removed or changed." in review
    assert "Version 1 Active 1" in review  # one running claim on version 1
    assert "Store as version 2" in review
    assert len(travel().versions) == 1 and count(PendingUpload) == 1  # nothing stored yet

    response = post_form(client, response.headers["Location"], {"activate": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/processes/travel_reimbursement")
    page = text(client.get(response.headers["Location"]))
    assert "Stored version 2 of Travel reimbursement and made it active" in page
    assert "Nightly cap down to 120 EUR; purchase order number" in page
    assert active_number() == 2 and count(PendingUpload) == 0
    assert "Travel reimbursement version 2 activated" in text(client.get("/admin/"))

    sign_in(client, "marta")
    assert "Purchase order number" in text(client.get("/start/travel_reimbursement"))
    response = post_form(client, "/start/travel_reimbursement", claim(purchase_order="PO-2026-118"), receipts())
    assert response.status_code == 302, text(response)[:3000]
    after = latest_instance()
    assert after.version.number == 2
    after_page = check_page(client, after)
    assert "Accommodation capped at 240.00 EUR for 2 night(s)." in after_page
    assert "PO-2026-118" in after_page

    # The claim filed before goes round again after the change: still the 140 EUR rule.
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{ready_task(before, 'check_claim').id}", {
        "decision": "request_changes", "coordinator_comment": "Add the hotel invoice."}).status_code == 302
    sign_in(client, "marta")
    fix = claim()
    fix.pop("working_group_id")
    response = post_form(client, f"/tasks/{ready_task(before, 'revise_claim').id}", fix,
                         {"additional_receipts": [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "hotel.pdf")]})
    assert response.status_code == 302, text(response)[:3000]
    before_page = check_page(client, before)
    assert "Accommodation capped at 280.00 EUR for 2 night(s)." in before_page
    assert "Purchase order number" not in before_page
    before = pay(client, before)
    assert before.outcome == "end_claim_paid" and before.version.number == 1
    assert before.summary["Amount to pay (EUR)"] == "473.00 EUR"  # 180.40 + 280.00 + 12.60
    assert pay(client, after).summary["Amount to pay (EUR)"] == "433.00 EUR"  # 180.40 + 240.00 + 12.60

    # Roll back: a reason is required, then new claims use the 140 EUR rule again.
    sign_in(client, "admin")
    url = "/admin/processes/travel_reimbursement/versions/1/activate"
    page = text(client.get(url))
    assert "Roll back Travel reimbursement to version 1" in page
    assert "Fields removed “Purchase order number”" in page
    response = post_form(client, url, {"reason": "  "})
    assert response.status_code == 400 and "Enter the reason for this change" in text(response)
    assert active_number() == 2
    response = post_form(client, url, {"reason": "The finance committee kept the 140 EUR cap"})
    assert response.status_code == 302
    assert active_number() == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "version_rolled_back"))
    assert event.channel == "admin" and event.data["reason"] == "The finance committee kept the 140 EUR cap"
    history = text(client.get("/admin/processes/travel_reimbursement"))
    assert ("Travel reimbursement rolled back to version 1 (from version 2): "
            "The finance committee kept the 140 EUR cap") in history

    sign_in(client, "marta")
    assert "Purchase order number" not in text(client.get("/start/travel_reimbursement"))
    third = file_claim(client)
    assert third.version.number == 1
    assert "Accommodation capped at 280.00 EUR for 2 night(s)." in check_page(client, third)


def test_overview_lists_every_process_with_its_versions_and_running_requests(client):
    file_claim(client)
    store_upload(client, revised(), activate=True)
    file_claim(client)
    file_claim(client)
    sign_in(client, "admin")
    page = text(client.get("/admin/processes/"))
    assert "4 processes" in page
    assert "Travel reimbursement – versions travel_reimbursement Version 2 2 2 on version 2 1 on version 1" in page
    assert "Expert request – versions expert_request Version 1 1 None" in page
    page = text(client.get("/admin/processes/travel_reimbursement"))
    assert "2 versions, newest first" in page
    assert "by Platform Administrator" in page and "Roll back to version 1" in page
    assert travel().versions[1].sha256[:12] in page


def test_download_gives_back_the_uploaded_files(client):
    files = revised()
    version = store_upload(client, files)
    response = client.get(f"/admin/processes/travel_reimbursement/versions/{version.number}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "travel_reimbursement-version-2.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == files


def test_a_bpmn_alone_downloads_as_itself(client):
    bpmn = (FIXTURES / "diagrams" / "supplier_visit.bpmn").read_bytes()
    upload_process(client, {"supplier_visit.bpmn": bpmn})
    response = client.get("/admin/processes/supplier_visit/versions/1/download")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert "supplier_visit.bpmn" in response.headers["Content-Disposition"]
    assert response.data == bpmn


def test_identical_content_stores_nothing(client):
    sign_in(client, "admin")
    response = upload(client, shipped())
    assert response.status_code == 200
    assert "This is version 1 of Travel reimbursement already" in text(response)
    assert len(travel().versions) == 1 and count(PendingUpload) == 0

    store_upload(client, revised())
    events = count(AuditEvent)
    response = upload(client, revised())
    assert "This is version 2 of Travel reimbursement already" in text(response)
    response = upload(client, shipped())
    assert "This is version 1 of Travel reimbursement already" in text(response)
    assert "activate version 1 from the list of versions" in text(response)
    assert len(travel().versions) == 2 and active_number() == 2
    assert count(PendingUpload) == 0 and count(AuditEvent) == events


def test_a_zip_upload_is_stored_and_activated_only_when_asked(client):
    sign_in(client, "admin")
    response = post_form(client, "/admin/processes/upload", {"note": "zipped"},
                         {"files": [(io.BytesIO(as_zip(revised())), "travel.zip")]})
    assert response.status_code == 302, text(response)[:3000]
    review = text(client.get(response.headers["Location"]))
    assert "travel_eligibility.dmn: changed" in review and "Purchase order number" in review
    response = post_form(client, response.headers["Location"], {})  # "activate now" unticked
    assert response.status_code == 302
    assert "It is not active" in text(client.get(response.headers["Location"]))
    definition = travel()
    assert [v.number for v in definition.versions] == [1, 2] and active_number() == 1
    assert {name: text_.encode() for name, text_ in definition.versions[1].files.items()} == revised()

    url = "/admin/processes/travel_reimbursement/versions/2/activate"
    assert "Fields added “Purchase order number”" in text(client.get(url))
    assert post_form(client, url, {"reason": "Approved by the board"}).status_code == 302
    assert active_number() == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "version_activated")
                              .order_by(AuditEvent.id.desc()))
    assert event.channel == "admin"
    assert event.summary == "Travel reimbursement version 2 activated: Approved by the board"


def test_an_upload_with_errors_shows_the_report_and_stores_nothing(client):
    sign_in(client, "admin")
    files = shipped()
    del files[DMN]  # the rule task names a decision table that is not there
    events = count(AuditEvent)
    response = upload(client, files)
    assert response.status_code == 400
    page = text(response)
    assert "These files cannot be stored" in page and "Validation report" in page
    assert "travel_eligibility" in page
    assert "Store as version" not in page
    assert len(travel().versions) == 1 and active_number() == 1
    assert count(PendingUpload) == 0 and count(AuditEvent) == events


def test_a_new_process_is_stored_as_its_version_1(client):
    files = shipped()
    bpmn = files.pop(BPMN).decode()
    bpmn = bpmn.replace('id="travel_reimbursement" name="Travel reimbursement"',
                        'id="staff_travel" name="Staff travel"')
    bpmn = bpmn.replace('processRef="travel_reimbursement"', 'processRef="staff_travel"')
    files["staff_travel.bpmn"] = bpmn.encode()
    for language in ("fr", "de"):  # a translation is named after its process
        files[f"staff_travel.{language}.po"] = files.pop(f"travel_reimbursement.{language}.po")
    sign_in(client, "admin")
    response = upload(client, files, note="A pilot for secretariat staff")
    assert response.status_code == 302, text(response)[:3000]
    review = text(client.get(response.headers["Location"]))
    assert "New process" in review and "these files will be its version 1" in review
    assert "Store as version 1" in review
    response = post_form(client, response.headers["Location"], {"activate": "y"})
    assert response.headers["Location"].endswith("/admin/processes/staff_travel")
    db.session.expire_all()
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "staff_travel"))
    assert [(v.number, v.active, v.note) for v in definition.versions] == [(1, True, "A pilot for secretariat staff")]
    assert "Staff travel" in text(client.get("/admin/processes/"))
    sign_in(client, "marta")
    assert "Staff travel" in text(client.get("/start"))


def test_refused_uploads_say_why(client):
    sign_in(client, "admin")
    response = upload(client, {})
    assert response.status_code == 400
    assert "Select a .bpmn file" in text(response)
    response = upload(client, {"notes.pdf": b"%PDF-1.4"})
    assert response.status_code == 400 and "There is a problem" in text(response)
    assert count(PendingUpload) == 0


def test_a_pending_upload_belongs_to_its_uploader(client):
    sign_in(client, "admin")
    review_url = upload(client, revised()).headers["Location"]
    create_user("second.admin@bigbuyers.example.eu", "Second Administrator", DEMO_PASSWORD,
                [Role.ADMINISTRATOR], "EUROCITIES")
    db.session.commit()
    sign_in(client, "second.admin")
    assert client.get(review_url).status_code == 404
    response = client.post(review_url, data={"activate": "y", "csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 404
    assert len(travel().versions) == 1 and count(PendingUpload) == 1


def test_a_discarded_upload_is_gone(client):
    sign_in(client, "admin")
    review_url = upload(client, revised()).headers["Location"]
    response = client.post(review_url + "/discard", data={"csrf_token": csrf_token(client, review_url)})
    assert response.status_code == 302 and count(PendingUpload) == 0
    assert client.get(review_url).status_code == 404
    assert len(travel().versions) == 1


def test_activating_the_active_version_changes_nothing(client):
    sign_in(client, "admin")
    url = "/admin/processes/travel_reimbursement/versions/1/activate"
    assert "Version 1 is the active version already." in text(client.get(url))
    events = count(AuditEvent)
    response = client.post(url, data={"reason": "again", "csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 400 and "Version 1 is already the active version" in text(response)
    assert count(AuditEvent) == events


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/admin/processes/"),
    ("get", "/admin/processes/travel_reimbursement"),
    ("get", "/admin/processes/upload"),
    ("post", "/admin/processes/upload"),
    ("get", "/admin/processes/travel_reimbursement/versions/1/activate"),
    ("post", "/admin/processes/travel_reimbursement/versions/1/activate"),
    ("get", "/admin/processes/travel_reimbursement/versions/1/download"),
])
def test_only_administrators_manage_versions(client, method, url):
    sign_in(client, "clara")
    if method == "post":
        response = client.post(url, data={"reason": "mine now", "csrf_token": csrf_token(client, "/inbox")})
    else:
        response = client.get(url)
    assert response.status_code == 403
    assert active_number() == 1


# --- The comparison on its own -----------------------------------------------------------------


def _model(files: dict[str, bytes]):
    return parse_files({name: data.decode() for name, data in files.items()})


def test_comparison_lists_tasks_added_removed_and_changed():
    old = shipped()
    new = dict(old)
    bpmn = old[BPMN].decode()
    bpmn = bpmn.replace("revise_claim", "amend_claim")  # the same step under a new id
    bpmn = bpmn.replace('<bpmn:userTask id="check_claim" name="Check claim"',
                        '<bpmn:userTask id="check_claim" name="Check the claim"')
    new[BPMN] = bpmn.encode()
    comparison = compare_models(_model(old), _model(new))
    assert [t.bpmn_id for t in comparison.tasks_added] == ["amend_claim"]
    assert [t.bpmn_id for t in comparison.tasks_removed] == ["revise_claim"]
    changed = {t.bpmn_id: t for t in comparison.tasks_changed}
    assert [(c.what, c.old, c.new) for c in changed["check_claim"].changes] == [
        ("Name", "Check claim", "Check the claim")]
    assert not comparison.tables_changed and not comparison.start

    comparison = compare_models(_model(revised()), _model(old))
    assert [f.id for f in comparison.start.fields.removed] == ["purchase_order"]
    assert comparison.tables_changed == [DMN]
    assert not comparison.tasks_added and not comparison.tasks_removed and not comparison.tasks_changed


def test_comparison_lists_field_and_script_changes():
    old = shipped()
    bpmn = old[BPMN].decode()
    bpmn = bpmn.replace('<camunda:formField id="accommodation_nights" label="Accommodation nights" type="long">',
                        '<camunda:formField id="accommodation_nights" label="Nights in a hotel" type="long">')
    bpmn = bpmn.replace('<camunda:constraint name="max" config="60" />',
                        '<camunda:constraint name="max" config="30" />')
    bpmn = bpmn.replace('eligibility_note = "Within the travel rules."', 'eligibility_note = "Within the rules."')
    comparison = compare_models(_model(old), _model({BPMN: bpmn.encode(), DMN: old[DMN]}))
    (field, changes), = comparison.start.fields.changed
    assert field.id == "accommodation_nights"
    assert [(c.what, c.old, c.new) for c in changes] == [
        ("Label", "Accommodation nights", "Nights in a hotel"),
        ("Constraints", "required, min 0, max 60", "required, min 0, max 30")]
    (revise,) = comparison.tasks_changed  # its form repeats the field, with the same limit
    assert revise.bpmn_id == "revise_claim" and not revise.changes
    assert [(f.id, [c.what for c in changes]) for f, changes in revise.fields.changed] == [
        ("accommodation_nights", ["Constraints"])]
    assert [e.element_id for e in comparison.elements_changed] == ["compute_eligible_amount"]
    assert not comparison.elements_added and not comparison.elements_removed
