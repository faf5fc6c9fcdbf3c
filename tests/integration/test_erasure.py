"""Erasing a person at their request (GDPR Article 17): what goes, what is kept and why, their
waiting tasks back to their lanes, and everything else still working under their pseudonym.
Both database passes run them."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ProcessInstance, User
from tests.conftest import csrf_token, loaded, person, post_form, sign_in
from tests.diagrams import complete, data_of, history, ready_tasks, refreshed, text, waiting_for
from tests.integration.test_retention import IBAN, paid_claim, rejected_claim
from tests.integration.test_travel_http import file_claim, ready_task


def erase(client, user: User) -> str:
    """The administrator opens the confirmation page, reads it, and erases; the page's text."""
    sign_in(client, "admin")
    page = text(client.get(f"/admin/people/{user.id}/erase"))
    response = post_form(client, f"/admin/people/{user.id}/erase", {})
    assert response.status_code == 302, text(response)[:2000]
    return page


def test_erasing_marta_keeps_what_the_rules_keep_and_names_her_by_a_pseudonym(client):
    ids = {"paid": paid_claim(client).id, "rejected": rejected_claim(client).id, "held": rejected_claim(client).id,
           "running": file_claim(client).id}  # the last waits for the secretariat's check
    sign_in(client, "admin")
    post_form(client, f"/monitor/instances/{ids['held']}/hold", {"reason": "Claimant disputes the rejection."})
    marta = person("marta")
    marta_id = marta.id

    sign_in(client, "admin")
    assert f"/admin/people/{marta_id}/erase" in loaded(client.get(f"/admin/people/{marta_id}"))
    page = erase(client, marta)
    kept = page[page.index("What is kept, and why"):]
    assert "EU financial rules require paid claims to be kept for audit (kept 7 years after it finished)" in kept
    assert "On legal hold: Claimant disputes the rejection." in kept
    assert "Still in progress: the secretariat can finish it" in kept
    erased = page[page.index("What is erased"):page.index("What is kept")]
    assert "The personal answers and files of 1 finished request they started" in erased
    assert db.session.get_one(ProcessInstance, ids["rejected"]).title in erased

    db.session.expire_all()
    marta = db.session.get_one(User, marta_id)
    pseudonym = marta.name
    assert pseudonym.startswith("Person ") and not marta.active and marta.erased_at is not None
    assert "marta" not in marta.email and not marta.roles
    response = post_form(client, f"/admin/people/{marta_id}", {  # nobody brings the account back
        "name": "Marta Nowak", "email": "marta.nowak@gdansk.example.eu", "organisation": str(marta.organisation_id),
        "roles": "buyer", "active": "y"})
    assert response.status_code == 400 and "was erased at their request" in text(response)

    # she can no longer sign in
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    response = client.post("/sign-in", data={"email": "marta.nowak@gdansk.example.eu", "password": "bigbuyers-demo",
                                             "csrf_token": csrf_token(client, "/sign-in")})
    assert response.status_code != 302 or "/sign-in" in response.headers.get("Location", "")

    # the finished claim no rule keeps is purged; the others keep their data
    assert refreshed(db.session.get_one(ProcessInstance, ids["rejected"])).purged_at is not None
    assert data_of(db.session.get_one(ProcessInstance, ids["rejected"]))["iban"] is None
    for name in ("paid", "held", "running"):
        instance = db.session.get_one(ProcessInstance, ids[name])
        assert instance.purged_at is None and data_of(instance)["iban"] == IBAN.replace(" ", ""), name

    # the secretariat still follows her requests, under the pseudonym, and finishes the running one
    sign_in(client, "clara")
    listing = text(client.get("/monitor/instances"))
    assert pseudonym in listing and "Marta Nowak" not in listing
    csv = client.get("/monitor/instances.csv").get_data(as_text=True)
    assert pseudonym in csv and "Marta Nowak" not in csv
    page = text(client.get(f"/monitor/instances/{ids['running']}"))
    # the claim keeps its answers while it runs (the bank account's holder among them), nothing else names her
    assert pseudonym in page and "Marta Nowak" not in page.replace("Bank account holder Marta Nowak", "")
    paid_page = text(client.get(f"/monitor/instances/{ids['paid']}"))
    assert f"Started by {pseudonym}" in paid_page
    # its history's lines name her by the pseudonym: her actions (from her row) and the notices she got
    assert f"{pseudonym} started Travel reimbursement" in paid_page
    assert f"{pseudonym} was emailed “Your travel claim has been paid" in paid_page
    assert "Marta Nowak was emailed" not in paid_page and "Marta Nowak started" not in paid_page
    check = ready_task(db.session.get_one(ProcessInstance, ids["running"]), "check_claim")
    complete(client, "clara", check, {"decision": "approve"})
    assert ready_tasks(db.session.get_one(ProcessInstance, ids["running"]), "approve_payment")

    events = db.session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "user_erased")).all()
    assert len(events) == 1 and pseudonym in events[0] and "Marta" not in events[0]
    assert all("Marta Nowak" not in line for line in history(db.session.get_one(ProcessInstance, ids["running"])))


def test_erasing_clara_gives_her_waiting_task_to_tom_who_completes_it(client):
    claim = file_claim(client)
    check = ready_task(claim, "check_claim")
    assert waiting_for(check) == {"clara", "tom"}
    clara = person("clara")
    page = erase(client, clara)
    assert "Tasks waiting for them" in page and f"Check claim of “{refreshed(claim).title}”" in page
    assert "Nothing they started needs to be kept." in page

    assert waiting_for(check) == {"tom"}
    complete(client, "tom", check, {"decision": "approve"})
    assert ready_tasks(claim, "approve_payment")
    db.session.expire_all()
    pseudonym = db.session.get_one(User, clara.id).name
    assert any(pseudonym in line for line in history(claim, "task_released"))


def test_an_erasure_that_must_wait_says_why(client):
    sign_in(client, "admin")
    admin = person("admin")
    page = text(client.get(f"/admin/people/{admin.id}/erase"))
    assert "You cannot erase your own account" in page and "Erase this person" not in page
    ana = person("ana")  # the lead of Circular ICT
    assert "Ana Costa leads Circular ICT. Choose another lead first." in text(
        client.get(f"/admin/people/{ana.id}/erase"))
    response = post_form(client, f"/admin/people/{ana.id}/erase", {})
    assert response.status_code == 400 and db.session.get_one(User, ana.id).erased_at is None
