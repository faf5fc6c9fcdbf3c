"""The administrator's personal data pages by keyboard and mouse: what is deleted in the next
30 days, a legal hold placed with its reason, and erasing a person after reading what is kept
and why; axe checks each page (the `people` fixture)."""

from __future__ import annotations

import datetime as dt

from app.extensions import db
from app.models import ProcessInstance
from tests.integration.test_retention import paid_claim, rejected_claim


def test_the_administrator_previews_holds_and_erases(people, client):
    paid_id = paid_claim(client).id
    rejected = rejected_claim(client)
    rejected.ended_at -= dt.timedelta(days=350)  # rejected 350 days ago: deleted in about 15 days
    db.session.commit()
    rejected_id, title = rejected.id, rejected.title

    admin = people("admin")
    admin.open("/admin/", "administration")
    page = admin.click("Personal data to be deleted", "retention-preview")
    table = page.get_by_role("table").inner_text()
    assert title in table and "Travel reimbursement" in table and "On hold" not in table

    page = admin.click(title, "request")
    assert "Kept until" in admin.text()
    admin.tab_to(page.get_by_role("link", name="Put on legal hold", exact=True))
    page = admin.press("Enter", "hold")
    page = admin.send("hold-no-reason", "Put on legal hold")
    assert "Give the reason" in admin.text()
    admin.type_into("Reason", "The claimant disputes the rejection.")
    admin.send("request-held", "Put on legal hold")
    assert "On legal hold" in admin.text() and "The claimant disputes the rejection." in admin.text()

    admin.open("/admin/retention", "retention-preview-held")
    assert "Not while on hold" in admin.text()

    admin.open("/admin/people?q=marta", "people")
    admin.click("Marta Nowak – change", "marta")
    page = admin.click("Erase Marta Nowak at their request", "erase-confirmation")
    text = admin.text()
    assert "EU financial rules require paid claims to be kept for audit" in text
    assert "On legal hold: The claimant disputes the rejection." in text
    admin.send("erased", "Erase this person")
    assert "The person is erased" in admin.text() and "Erased" in admin.text()
    db.session.expire_all()
    assert db.session.get_one(ProcessInstance, paid_id).initiator.name.startswith("Person ")
    assert db.session.get_one(ProcessInstance, rejected_id).purged_at is None  # on hold
