"""Email with a real SMTP server: people are told, approvers decide from the email."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import threading
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActionToken, HumanTask, NotifyMode, OutboxMessage, OutboxStatus, ProcessInstance, TaskState
from app.outbox.deliver import deliver_outbox
from app.outbox.digest import queue_digests
from app.services.worker import run_round
from tests.conftest import csrf_token, loaded, person, post_form, sign_in
from tests.integration.test_travel_http import file_claim, ready_task

LINK = re.compile(r"http://mail\.test(/[^\s\"<>]+)")


class Inbox:
    """The SMTP handler: keeps every message it accepts, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        content = envelope.original_content  # headers in UTF-8 when sent with SMTPUTF8 (RFC 6532)
        self.messages.append(email.message_from_bytes(content, policy=email.policy.default) if content.isascii()
                             else email.message_from_string(content.decode("utf-8"), policy=email.policy.default))
        return "250 OK"

    def to(self, address_start: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"].addresses[0].username.startswith(address_start)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5,
                      EXTERNAL_BASE_URL="http://mail.test")
    inbox.controller = controller

    def restart():
        inbox.controller = Controller(inbox, hostname="127.0.0.1", port=port)
        inbox.controller.start()

    inbox.restart = restart
    yield inbox
    inbox.controller.stop()


def parts(message) -> tuple[str, str]:
    text, html = (message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))
    return text, html


def links(message) -> list[str]:
    return LINK.findall(parts(message)[0])


def decision_links(message) -> dict[str, str]:
    """{first word of the decision's label: link path}, e.g. {"Approve": "/decide/..."}."""
    text = parts(message)[0]
    found = re.findall(r"^(.+)…: http://mail\.test(/decide/\S+)$", text, re.M)
    return {label.split()[0]: path for label, path in found}


def test_coordinators_are_told_and_one_approves_from_the_email(app, client, smtp):
    instance = file_claim(client)
    assert deliver_outbox().sent >= 2
    [message] = smtp.to("clara.schmidt")
    assert len(smtp.to("tom.peeters")) == 1 and smtp.to("felix") == []
    text, html = parts(message)
    assert message["Subject"] == ("Your decision, please: Check claim – "
                                  "Travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR")
    assert message["Message-ID"] == db.session.scalar(select(OutboxMessage.message_id).where(
        OutboxMessage.to_address == "clara.schmidt@iclei.example.eu"))
    assert ("Marta Nowak's travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR "
            "— please check it.") in " ".join(text.split())
    assert "e-mail" not in text and "e-mail" not in html
    for line in ("Total claimed (EUR): 493.00 EUR", "Eligible amount (EUR): 473.00 EUR",
                 "Accommodation above the nightly cap: Yes"):  # the request's key fields and flags
        assert f"- {line}" in text and f"<li>{line}</li>" in html
    assert text.count(f"http://mail.test/tasks/{ready_task(instance, 'check_claim').id}") == 1
    check = ready_task(instance, "check_claim")
    assert f"http://mail.test/tasks/{check.id}" in text and f'href="http://mail.test/tasks/{check.id}"' in html
    decisions = decision_links(message)
    assert set(decisions) == {"Approve", "Ask", "Reject"}
    # The decisions come first, the form (where one signs in) after them, in both parts.
    for part, form_link in ((text, f"http://mail.test/tasks/{check.id}"),
                            (html, f'href="http://mail.test/tasks/{check.id}"')):
        assert max(part.index(path) for path in decisions.values()) < part.index(form_link)
        assert part.index("please check it") < min(part.index(path) for path in decisions.values())
    assert "Or sign in to read the whole request and answer on its form" in text
    assert db.session.scalar(select(func.count()).select_from(ActionToken)) == 6  # 3 links x 2 people
    secret = decisions["Approve"].rsplit("/", 1)[1]
    assert db.session.scalar(select(func.count()).select_from(ActionToken).where(
        ActionToken.token_hash == secret)) == 0  # only the hash is stored

    page = client.get(decisions["Approve"])  # not signed in, as from a mail program
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Confirm your decision: Approve" in body
    assert "Circular ICT, 3rd meeting, Brussels" in body and "train.pdf" in body
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    done = client.post(decisions["Approve"], data={"csrf_token": token})
    assert done.status_code == 200 and "Decision recorded" in done.get_data(as_text=True)

    db.session.expire_all()
    task = db.session.get(HumanTask, check.id)
    assert task.state == TaskState.COMPLETED and task.channel == "email"
    assert task.completed_by.email.startswith("clara")
    assert ready_task(instance, "approve_payment") is not None
    sign_in(client, "marta")
    assert "Clara Schmidt completed Check claim by email" in loaded(client.get(
        f"/requests/{instance.id}"))

    again = client.post(decisions["Approve"], data={"csrf_token": csrf_token(client, "/inbox")})
    assert again.status_code == 410 and "already been decided" in again.get_data(as_text=True)
    toms = decision_links(smtp.to("tom.peeters")[0])
    late = client.get(toms["Reject"])
    assert late.status_code == 410 and "Clara Schmidt completed" in late.get_data(as_text=True)


def test_the_person_who_started_a_request_reads_your_and_a_task_without_decisions_has_one_button(
        app, client, smtp):
    instance = file_claim(client)
    sign_in(client, "clara")
    post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."})
    revise = ready_task(instance, "revise_claim")
    deliver_outbox()
    [message] = [m for m in smtp.to("marta") if "Revise claim" in m["Subject"]]
    text, html = parts(message)
    assert message["Subject"] == ("Waiting for you: Revise claim – "
                                  "Travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR")
    assert ("Your travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR "
            "— please revise it.") in " ".join(text.split())
    assert f"Open the form: http://mail.test/tasks/{revise.id}" in text and "Or sign in" not in text
    assert html.count(f'href="http://mail.test/tasks/{revise.id}"') == 1 and ">Open the form<" in html


def test_get_and_head_on_every_link_change_nothing(app, client, smtp):
    instance = file_claim(client)
    deliver_outbox()
    paths = [path for message in smtp.messages for path in links(message)]
    assert any(p.startswith("/decide/") for p in paths)

    def snapshot():
        db.session.expire_all()
        return (db.session.scalar(select(func.count()).select_from(HumanTask).where(
                    HumanTask.state == TaskState.READY)),
                db.session.scalar(select(func.max(ProcessInstance.lock_version))),
                db.session.scalar(select(func.count()).select_from(ActionToken).where(
                    ActionToken.used_at.is_not(None))))

    before = snapshot()
    scanner = app.test_client()  # like a mail scanner: no session, opens everything twice
    for path in paths * 2:
        assert scanner.head(path).status_code in (200, 302, 403, 404, 410)
        assert scanner.get(path).status_code in (200, 302, 403, 404, 410)
    assert snapshot() == before
    assert ready_task(instance, "check_claim") is not None


def test_tampered_expired_reused_and_other_peoples_links_are_refused(app, client, smtp):
    instance = file_claim(client)
    deliver_outbox()
    claras = decision_links(smtp.to("clara.schmidt")[0])
    approve = claras["Approve"]

    tampered = approve[:-3] + ("AAA" if not approve.endswith("AAA") else "BBB")
    page = client.get(tampered)
    assert page.status_code == 404 and "This link does not work" in page.get_data(as_text=True)

    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
        page = client.get(approve)
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)

    # Clara is no longer a coordinator: her links stop working, nothing decided.
    from app.models import TaskCandidate

    check = ready_task(instance, "check_claim")
    db.session.execute(TaskCandidate.__table__.delete().where(
        TaskCandidate.task_id == check.id, TaskCandidate.user_id == person("clara").id))
    db.session.commit()
    page = client.get(approve)
    assert page.status_code == 403 and "no longer yours" in page.get_data(as_text=True)

    # Tom's link is his alone and works once; the task moves on once.
    toms = decision_links(smtp.to("tom.peeters")[0])
    page = client.get(toms["Reject"])
    assert page.status_code == 200
    assert 'name="coordinator_comment"' in page.get_data(as_text=True)  # the reason a rejection needs
    assert "Comment to the claimant" in page.get_data(as_text=True)
    token = csrf_token(client, toms["Reject"])
    refused = client.post(toms["Reject"], data={"csrf_token": token})  # a rejection needs a reason
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)
    assert ready_task(instance, "check_claim") is not None
    done = client.post(toms["Reject"], data={"csrf_token": token, "coordinator_comment": "Duplicate claim."})
    assert done.status_code == 200
    reused = client.post(toms["Reject"], data={"csrf_token": token, "coordinator_comment": "Again."})
    assert reused.status_code == 410
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).outcome == "end_claim_rejected"


def test_two_people_deciding_from_two_emails_one_wins(app, client, smtp):
    instance = file_claim(client)
    deliver_outbox()
    links_of = {who: decision_links(smtp.to(who)[0])["Approve"] for who in ("clara.schmidt", "tom.peeters")}
    browsers = {who: app.test_client() for who in links_of}
    tokens = {who: csrf_token(browsers[who], path) for who, path in links_of.items()}
    results = {}

    def press(who):
        results[who] = browsers[who].post(links_of[who], data={"csrf_token": tokens[who]})

    threads = [threading.Thread(target=press, args=(who,)) for who in links_of]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    codes = sorted(r.status_code for r in results.values())
    assert codes in ([200, 409], [200, 410]), codes
    loser = next(who for who, r in results.items() if r.status_code != 200)
    winner = next(who for who in results if who != loser)
    assert person(winner.split(".")[0]).name in results[loser].get_data(as_text=True)
    db.session.expire_all()
    payments = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == "approve_payment"))
    assert payments == 1


def test_smtp_down_messages_wait_then_arrive_once(app, client, smtp):
    file_claim(client)
    smtp.controller.stop()
    delivery = deliver_outbox()
    assert delivery.sent == 0 and delivery.retrying == 2
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(r.status == OutboxStatus.PENDING and r.last_error for r in rows)
    assert deliver_outbox().sent == 0  # not due yet: backing off
    smtp.restart()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert deliver_outbox(now=later).sent == 2
    assert deliver_outbox(now=later + dt.timedelta(hours=1)).sent == 0
    assert sorted(m["To"].addresses[0].username for m in smtp.messages) == ["clara.schmidt", "tom.peeters"]


def test_a_permanent_refusal_fails_and_administrators_see_why(app, client, smtp):
    file_claim(client)
    smtp.refuse_with = "550 5.1.1 mailbox unavailable"
    delivery = deliver_outbox()
    assert delivery.failed == 2 and smtp.messages == []
    sign_in(client, "admin")
    page = loaded(client.get("/admin/mail/?status=failed"))
    assert "mailbox unavailable" in page


def test_an_address_that_is_not_ascii_goes_where_the_relay_takes_it(app, client, smtp):
    tom = person("tom.peeters")
    tom.email = "tómas.peeters@brussels.example.eu"
    db.session.commit()
    file_claim(client)
    assert deliver_outbox().sent == 2  # aiosmtpd offers SMTPUTF8
    to_tom = smtp.to("tómas")
    assert len(to_tom) == 1 and to_tom[0]["To"].addresses[0].addr_spec == tom.email
    assert to_tom[0]["Subject"].startswith("Your decision, please: Check claim")

    smtp.controller.stop()  # a relay that does not: Tom's message fails alone, and says why
    smtp.controller = Controller(smtp, hostname="127.0.0.1", port=app.config["MAIL_PORT"], enable_SMTPUTF8=False)
    smtp.controller.start()
    smtp.messages.clear()
    file_claim(client)
    delivery = deliver_outbox()
    assert (delivery.sent, delivery.failed, delivery.retrying) == (1, 1, 0)
    assert [m["To"].addresses[0].username for m in smtp.messages] == ["clara.schmidt"]
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED))
    assert failed.to_address == tom.email and "SMTPUTF8" in failed.last_error


def test_a_temporary_refusal_is_retried(app, client, smtp):
    file_claim(client)
    smtp.refuse_with = "451 4.3.0 try again later"
    assert deliver_outbox().retrying == 2
    smtp.refuse_with = None
    assert deliver_outbox(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)).sent == 2
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(row.attempts == 1 for row in rows)  # the refused try counted
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(row.message_id for row in rows)


def test_two_workers_draining_one_outbox_send_each_message_once(app, client, smtp):
    for _ in range(3):
        file_claim(client)
    results = []

    def drain(name):
        with app.app_context():
            results.append(deliver_outbox(worker=name, size=2))

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    while deliver_outbox().sent:
        pass
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 6 and len(set(ids)) == 6


def test_a_timer_fired_by_moving_the_clock_sends_its_reminder(app, client, smtp):
    instance = file_claim(client)
    deliver_outbox()
    db.session.expire_all()
    instance_id = instance.id
    due = db.session.get(ProcessInstance, instance_id).next_timer_at
    with freeze_time(due + dt.timedelta(minutes=1)):
        assert run_round("test-worker").startswith("timers: 1; emails sent 2")
    reminder_ids = set(db.session.scalars(select(OutboxMessage.message_id).where(
        OutboxMessage.template == "claim_reminder")))
    reminders = [m for m in smtp.messages if m["Message-ID"] in reminder_ids]
    assert {m["To"].addresses[0].username for m in reminders} == {"clara.schmidt", "tom.peeters"}
    assert all(f"http://mail.test/requests/{instance_id}" in parts(m)[0] for m in reminders)


def test_the_digest_gathers_a_days_tasks_into_one_message(app, client, smtp):
    felix = person("felix")
    felix.notify_mode, felix.last_digest_at = NotifyMode.DIGEST, dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    db.session.commit()
    claims = [file_claim(client) for _ in range(2)]
    for claim in claims:
        sign_in(client, "clara")
        post_form(client, f"/tasks/{ready_task(claim, 'check_claim').id}", {"decision": "approve"})
    deliver_outbox()
    assert smtp.to("felix") == []  # no email per task for a digest reader
    assert queue_digests(dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == 1
    deliver_outbox()
    [digest] = smtp.to("felix")
    text = parts(digest)[0]
    assert digest["Subject"] == "2 tasks are waiting for you"
    ask = ("Marta Nowak's travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR "
           "— please approve the payment.")
    assert " ".join(text.split()).count(ask) == 2
    for item in text.split("— please approve the payment.")[1:]:  # each task's decisions, then its form
        assert item.index("/decide/") < item.index("Or sign in to answer on the form: http://mail.test/tasks/")
    decisions = re.findall(r"http://mail\.test(/decide/\S+)", text)
    assert len(decisions) == 4  # approve and return, for each claim
    assert client.get(decisions[0]).status_code == 200
    assert queue_digests(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, hours=1)) == 0  # once a day


def test_a_worker_that_dies_mid_batch_loses_nothing(app, client, smtp):
    from app.outbox.deliver import claim_batch

    file_claim(client)
    now = dt.datetime.now(dt.UTC)
    taken = claim_batch("doomed-worker", 10, now)  # claimed, then the worker dies before sending
    assert len(taken) == 2
    assert deliver_outbox(worker="other", now=now).sent == 0  # the lease still holds them
    after_lease = now + dt.timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
    assert deliver_outbox(worker="other", now=after_lease).sent == 2
    assert sorted(m["To"].addresses[0].username for m in smtp.messages) == ["clara.schmidt", "tom.peeters"]


def test_the_initiator_hears_when_a_request_ends_once(app, client, smtp):
    """A diagram whose last step tells the initiator (claim paid) sends that alone; one whose
    last step tells nobody (here a small process) gets the app's 'request finished' notice."""
    from app.services.instances import start_instance
    from app.services.tasks import complete_task
    from app.services.versions import store_version
    from tests.unit.test_engine import BPMN

    version, _ = store_version({"mini.bpmn": BPMN}, None)
    db.session.commit()
    instance = start_instance(person("marta"), version, {"amount": Decimal("12.00")}).instance
    db.session.commit()
    review = ready_task(instance, "review")
    complete_task(person("clara"), review.id, {"decision": "approve"})
    db.session.commit()
    deliver_outbox()
    [finished] = [m for m in smtp.to("marta") if m["Subject"].startswith("Your request has finished")]
    assert "has finished: Ok" in parts(finished)[0]

    claim = file_claim(client)
    sign_in(client, "clara")
    post_form(client, f"/tasks/{ready_task(claim, 'check_claim').id}", {"decision": "approve"})
    sign_in(client, "felix")
    post_form(client, f"/tasks/{ready_task(claim, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-1"})
    deliver_outbox()
    subjects = [m["Subject"] for m in smtp.to("marta")]
    assert sum(s.startswith("Your travel claim has been paid") for s in subjects) == 1
    assert sum(s.startswith("Your request has finished") for s in subjects) == 1  # the mini one only


def test_an_administrator_reads_a_queued_task_email_before_it_is_written(app, client):
    file_claim(client)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address.startswith("clara")))
    assert row.status == OutboxStatus.PENDING and row.text_body == ""  # written by the worker, at send
    sign_in(client, "admin")
    page = loaded(client.get(f"/admin/mail/{row.id}"))
    assert "Your decision, please: Check claim – Travel claim for Circular ICT" in page
    assert "Not written yet" in page
    assert "Marta Nowak&#39;s travel claim for Circular ICT" in page and "please check it" in page
    assert "[a one-use decision link, made when the email is sent]" in page
    html_part = loaded(client.get(f"/admin/mail/{row.id}/html"))
    assert ">Approve the claim…<" in html_part and "/decide/" not in html_part
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).text_body == ""  # reading it wrote nothing
    assert db.session.scalar(select(func.count()).select_from(ActionToken)) == 0


@pytest.mark.app_config(ACTION_TOKEN_DAYS=1)
def test_links_that_work_for_one_day_say_day(app, client, smtp):
    """Issue 13: "for 1 day", "pendant 1 jour", never "1 days"."""
    person("tom").language = "fr"
    db.session.commit()
    file_claim(client)
    deliver_outbox()
    for who, words in (("clara.schmidt", "only for you, for 1 day."), ("tom.peeters", "pour vous, pendant 1 jour.")):
        said = " ".join(parts(smtp.to(who)[0])[0].split())
        assert words in said, (who, said[-400:])
        assert "1 days" not in said and "1 jours" not in said
