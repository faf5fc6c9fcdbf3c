"""Journey e: an administrator revises a process and follows a request on its diagram.

The administrator uploads a revised travel reimbursement diagram (its coordinator step
renamed), reads the validation report and what changes, stores it, activates it with a
reason, and then opens a claim filed on the new version in the monitoring pages: the
diagram is drawn with the step the claim waits at highlighted.
"""

from __future__ import annotations

from tests.conftest import ROOT
from tests.integration.test_travel_http import file_claim

RENAMED = "Check the claim and its receipts"


def revised_diagram() -> list[dict]:
    bpmn = (ROOT / "workflows" / "travel_reimbursement.bpmn").read_text()
    assert bpmn.count('name="Check claim"') == 1
    bpmn = bpmn.replace('name="Check claim"', f'name="{RENAMED}"')
    dmn = (ROOT / "workflows" / "travel_eligibility.dmn").read_bytes()
    return [{"name": "travel_reimbursement.bpmn", "mimeType": "application/xml", "buffer": bpmn.encode()},
            {"name": "travel_eligibility.dmn", "mimeType": "application/xml", "buffer": dmn}]


def test_administrator_activates_a_revised_diagram_and_follows_a_claim_on_it(app, people):
    admin = people("admin")
    admin.click("Administration", "administration")
    admin.click("Processes and versions", "processes")
    page = admin.click("Upload a diagram", "upload")
    page.get_by_label("Diagram files").set_input_files(revised_diagram())
    page.get_by_label("Note (optional)").fill("The coordinator's step says what to check.")
    page = admin.send("report", button="Check the files")
    assert "Check and store Travel reimbursement" in admin.text()
    assert "Nothing has been stored yet." in admin.text()
    assert "Validation report" in admin.text() and "No errors" in admin.text()
    assert RENAMED in admin.text()  # what changes for new requests
    page.get_by_label("Activate it now").uncheck()  # store it first, activate it on purpose
    admin.send("stored", button="Store as version 2")
    assert "Stored version 2 of Travel reimbursement. It is not active" in admin.text()

    page = admin.click("Activate version 2", "activate")
    assert "New requests will use version 2 at once." in admin.text()
    page.get_by_label("Reason").fill("Coordinators asked for a clearer step name.")
    admin.send("activated", button="Activate version 2")
    assert "Version 2 of Travel reimbursement is now active" in admin.text()

    client = app.test_client()
    claim = file_claim(client)  # Marta files a claim: it starts on version 2

    admin.open("/monitor/instances", "monitoring")
    admin.click(claim.title, "claim-diagram", ready="#diagram.app-diagram--ready")
    text = admin.text()
    assert "Version 2 of Travel reimbursement" in text and RENAMED in text
    current = page.locator('#diagram [data-element-id="check_claim"]')
    assert "app-step-current" in current.get_attribute("class")
    assert "receipts" in current.text_content()  # the new name, drawn in the diagram
    done = page.locator('#diagram [data-element-id="start_claim"]')
    assert "app-step-done" in done.get_attribute("class")

    # What Clara was (or is about to be) sent about it, as the administrator reads it.
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMessage

    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.instance_id == claim.id, OutboxMessage.to_address.startswith("clara")))
    admin.open(f"/admin/mail/{message.id}", "claim-email")
    text = admin.text()
    assert f"Your decision, please: {RENAMED}" in text and "Marta Nowak's travel claim" in text
