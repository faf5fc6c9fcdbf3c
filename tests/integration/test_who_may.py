"""Who may see and do what (issue 12): lanes checked again when roles or leads change,
separation of duties, and bank details only for those who handle the claim."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, AuditEvent, HumanTask, OutboxMessage, ProcessInstance, TaskState, WorkingGroup
from app.outbox.deliver import deliver_outbox
from tests.conftest import csrf_token, loaded, person, post_form, sign_in
from tests.diagrams import text
from tests.integration.test_admin import person_form
from tests.integration.test_onboarding_http import interest
from tests.integration.test_travel_http import claim, file_claim, ready_task, receipts

FULL_IBAN = "PL61 1090 1014 0000 0712 1981 2874"
MASKED_IBAN = "•••• 2874"


def decision_links(who: str, task: HumanTask) -> dict[str, str]:
    """{first word of the decision's label: link path} from the task email sent to ``who``."""
    deliver_outbox()
    db.session.expire_all()
    text = db.session.scalar(select(OutboxMessage.delivered_text).where(
        OutboxMessage.to_address.startswith(who), OutboxMessage.task_id == task.id))
    found = re.findall(r"^(.+)…: \S+?(/decide/\S+)$", text, re.M)
    return {label.split()[0]: path for label, path in found}


def set_roles(client, who: str, *roles: str) -> None:
    """The administrator gives ``who`` these roles, through the people page."""
    sign_in(client, "admin")
    user = person(who)
    response = post_form(client, f"/admin/people/{user.id}", person_form(user, roles=list(roles)))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()


def candidates(task: HumanTask) -> set[str]:
    db.session.expire_all()
    task = db.session.get_one(HumanTask, task.id)
    return {c.user.email.split(".")[0] for c in task.candidates}


def history(instance: ProcessInstance) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.summary).where(AuditEvent.instance_id == instance.id)))


def task_emails_to(who: str, task: HumanTask) -> int:
    return len(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.to_address.startswith(who), OutboxMessage.task_id == task.id)).all())


# -- 1. losing a role or a lead's place -----------------------------------------------------------

def test_a_coordinator_who_loses_the_role_loses_the_task_the_request_and_the_link(client):
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    approve = decision_links("clara", check)["Approve"]
    sign_in(client, "clara")
    assert "Check claim" in loaded(client.get("/inbox"))

    set_roles(client, "clara", "buyer")

    assert candidates(check) == {"tom"}
    assert any("no longer waits for Clara Schmidt" in line for line in history(instance))
    sign_in(client, "clara")
    assert "Check claim" not in loaded(client.get("/inbox"))
    assert client.get(f"/tasks/{check.id}").status_code == 403
    assert client.get(f"/requests/{instance.id}").status_code == 403  # no lasting pass from a lost role
    page = client.get(approve)
    assert page.status_code == 403 and "no longer waiting for you" in page.get_data(as_text=True)
    refused = client.post(approve, data={"csrf_token": csrf_token(client, "/inbox")})
    assert refused.status_code in (403, 409)
    assert ready_task(instance, "check_claim") is not None  # nothing decided


def test_a_candidate_row_that_outlived_the_role_decides_nothing(client):
    """Defence in depth: even if a role is taken away behind the app's back (no re-check), the
    lane is checked again at completion and on a decision link."""
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    approve = decision_links("clara", check)["Approve"]
    clara = person("clara")
    clara.set_roles(["buyer"])
    db.session.commit()

    sign_in(client, "clara")
    assert client.get(f"/tasks/{check.id}").status_code == 403
    response = client.post(f"/tasks/{check.id}", data={"decision": "approve",
                                                       "csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 403
    assert "no longer waiting for you" in client.get(approve).get_data(as_text=True)
    page = client.post(approve, data={"csrf_token": csrf_token(client, "/inbox")})
    assert page.status_code in (403, 409)
    assert ready_task(instance, "check_claim") is not None


def test_gaining_a_role_brings_its_waiting_tasks_and_their_email(client):
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    assert task_emails_to("felix", check) == 0

    set_roles(client, "felix", "finance", "coordinator")

    assert candidates(check) == {"clara", "tom", "felix"}
    assert task_emails_to("felix", check) == 1
    assert any("now also waits for Felix Wagner" in line for line in history(instance))
    sign_in(client, "felix")
    assert "Check claim" in loaded(client.get("/inbox"))
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302


def test_a_new_group_lead_takes_over_the_leads_tasks(client):
    sign_in(client, "kati")
    assert post_form(client, "/start/group_onboarding", interest()).status_code == 302
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    sign_in(client, "clara")
    review = ready_task(instance, "review_eligibility")
    assert post_form(client, f"/tasks/{review.id}", {"decision": "approve"}).status_code == 302
    confirm = ready_task(instance, "confirm_member")
    assert candidates(confirm) == {"ana"}

    sign_in(client, "admin")
    ict = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))
    response = post_form(client, f"/admin/groups/{ict.id}",
                         {"name": ict.name, "sector": ict.sector, "lead": str(person("lukas").id)})
    assert response.status_code == 302

    assert candidates(confirm) == {"lukas"}
    assert task_emails_to("lukas", confirm) == 1
    sign_in(client, "ana")
    assert "Confirm the new member" not in loaded(client.get("/inbox"))
    assert client.get(f"/tasks/{confirm.id}").status_code == 403
    assert client.get(f"/requests/{instance.id}").status_code == 403
    sign_in(client, "lukas")
    assert "Confirm the new member" in loaded(client.get("/inbox"))
    assert loaded(client.get(f"/tasks/{confirm.id}"))


# -- 2. separation of duties ----------------------------------------------------------------------

def test_nobody_approves_their_own_claim(client):
    set_roles(client, "marta", "buyer", "coordinator", "finance")
    instance = file_claim(client)
    check = ready_task(instance, "check_claim")
    assert candidates(check) == {"clara", "tom"}  # not Marta, though she is a coordinator
    sign_in(client, "marta")
    assert "Check claim" not in loaded(client.get("/inbox"))
    response = client.post(f"/tasks/{check.id}", data={"decision": "approve",
                                                       "csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 403

    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302
    pay = ready_task(instance, "approve_payment")
    assert candidates(pay) == {"felix"}  # not Marta, though she is in finance

    sign_in(client, "admin")
    url = f"/monitor/tasks/{pay.id}/reassign"
    response = post_form(client, url, {"person": str(person("marta").id), "reason": "She is in finance."})
    assert "started this request" in response.get_data(as_text=True)
    assert candidates(pay) == {"felix"}


def test_the_claimants_own_steps_still_reach_them(client):
    set_roles(client, "marta", "buyer", "coordinator")
    instance = file_claim(client)
    sign_in(client, "clara")
    check = ready_task(instance, "check_claim")
    assert post_form(client, f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}).status_code == 302
    assert candidates(ready_task(instance, "revise_claim")) == {"marta"}


# -- 3. bank details ------------------------------------------------------------------------------

def receipt(instance: ProcessInstance) -> Attachment:
    return db.session.scalar(select(Attachment).where(Attachment.instance_id == instance.id,
                                                      Attachment.field_id == "receipts"))


def download(client, file: Attachment) -> int:
    response = client.get(f"/attachments/{file.id}")
    response.close()
    return response.status_code


def test_the_commission_sees_amounts_not_bank_details(client):
    instance = file_claim(client)
    file = receipt(instance)
    for who in ("marta", "clara", "felix"):  # the claimant, the coordinators, finance
        sign_in(client, who)
        page = loaded(client.get(f"/requests/{instance.id}"))
        assert FULL_IBAN in page and "Marta Nowak" in page and "train.pdf" in page, who
        assert download(client, file) == 200, who

    for who in ("helena", "admin"):
        sign_in(client, who)
        for url in (f"/requests/{instance.id}", f"/monitor/instances/{instance.id}"):
            page = loaded(client.get(url))
            assert "180.40 EUR" in page, (who, url)  # the amounts, yes
            assert MASKED_IBAN in page and "PL61" not in page and "1981 2874" not in page, (who, url)
            assert "train.pdf" not in page and f"/attachments/{file.id}" not in page, (who, url)
            assert "hidden" in page
        assert download(client, file) == 403, who
        csv = client.get("/monitor/instances.csv").get_data(as_text=True)
        assert "PL61" not in csv and "2874" not in csv


def test_a_payment_given_to_the_commission_shows_the_iban_masked(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    check = ready_task(instance, "check_claim")
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302
    pay = ready_task(instance, "approve_payment")
    sign_in(client, "admin")
    response = post_form(client, f"/monitor/tasks/{pay.id}/reassign",
                         {"person": str(person("helena").id), "reason": "Finance is away."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    sign_in(client, "helena")
    page = loaded(client.get(f"/tasks/{pay.id}"))
    assert MASKED_IBAN in page and "1981 2874" not in page and "hidden" in page
    assert "train.pdf" not in page  # the history beside the form: no receipts either


def test_a_revised_claim_keeps_bank_details_from_the_commission(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    check = ready_task(instance, "check_claim")
    assert post_form(client, f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}).status_code == 302
    revise = ready_task(instance, "revise_claim")
    sign_in(client, "marta")
    fix = claim(iban="DE89 3704 0044 0532 0130 00")
    fix.pop("working_group_id")
    files = receipts()
    response = post_form(client, f"/tasks/{revise.id}", fix, {"additional_receipts": files["receipts"][:1]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    extra = db.session.scalar(select(Attachment).where(Attachment.instance_id == instance.id,
                                                       Attachment.field_id == "additional_receipts"))
    sign_in(client, "helena")
    page = loaded(client.get(f"/monitor/instances/{instance.id}"))
    assert "•••• 3000" in page and "3704" not in page
    assert download(client, extra) == 403
    assert ready_task(instance, "check_claim").state == TaskState.READY


def test_a_claim_filed_on_a_version_without_the_marks_is_masked_by_the_active_ones(client):
    """The marks live in the diagram: a request started on an earlier version, from before
    the fields were marked, is masked like a new one once a marked version is active."""
    from app.models import ProcessDefinition, ProcessVersion
    from app.services.versions.store import activate_version, store_version
    from tests.conftest import ROOT

    names = ("travel_reimbursement.bpmn", "travel_eligibility.dmn")
    files = {name: (ROOT / "workflows" / name).read_text() for name in names}
    marked = db.session.scalar(select(ProcessVersion).join(ProcessDefinition).where(
        ProcessDefinition.process_id == "travel_reimbursement", ProcessVersion.active.is_(True)))
    mark = '<camunda:property id="personal" value="bank" />'
    assert files[names[0]].count(mark) == 8
    unmarked = dict(files, **{names[0]: files[names[0]].replace(mark, "")})
    store_version(unmarked, None, activate=True)
    db.session.commit()
    instance = file_claim(client)
    assert instance.version_id != marked.id

    sign_in(client, "helena")  # unmarked and its version the active one: the IBAN by its type only
    page = loaded(client.get(f"/requests/{instance.id}"))
    assert MASKED_IBAN in page and "1981 2874" not in page

    activate_version(None, db.session.get_one(ProcessVersion, marked.id))
    db.session.commit()
    page = loaded(client.get(f"/requests/{instance.id}"))
    assert MASKED_IBAN in page and "1981 2874" not in page and "train.pdf" not in page
    assert download(client, receipt(instance)) == 403


def test_a_decision_link_to_someone_outside_the_claim_names_no_receipt(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    check = ready_task(instance, "check_claim")
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code == 302
    pay = ready_task(instance, "approve_payment")
    assert "train.pdf" in loaded(client.get(decision_links("felix", pay)["Approve"]))
    sign_in(client, "admin")
    response = post_form(client, f"/monitor/tasks/{pay.id}/reassign",
                         {"person": str(person("helena").id), "reason": "Finance is away."})
    assert response.status_code == 302
    page = loaded(client.get(decision_links("helena", pay)["Approve"]))
    assert "train.pdf" not in page and "1981 2874" not in page


def test_the_masked_word_is_in_the_readers_language(client):
    """Issue 13: receipts Helena may not read say "masqué" / "verborgen", not "hidden"."""
    instance = file_claim(client)
    sign_in(client, "helena")
    for language, word in (("fr", "masqué"), ("de", "verborgen")):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        shown = text(client.get(f"/requests/{instance.id}"))
        assert re.search(rf"\b{word}\b", shown) and not re.search(r"\bhidden\b", shown), language
        assert MASKED_IBAN in shown
