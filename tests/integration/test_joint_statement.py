"""The fifth process, joint statement of demand, arrives by upload alone (issue 10): a diagram,
its decision table and its email texts, uploaded through Administration → Processes, then
walked over HTTP by the group lead, each member organisation's buyer and the coordinator."""

from __future__ import annotations

import datetime as dt
import io

from freezegun import freeze_time
from sqlalchemy import select

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import AuditEvent, InstanceStatus, OutboxMessage, Role
from app.services.instances import fire_due_timers
from app.services.people import create_user
from tests.conftest import loaded, sign_in
from tests.diagrams import FIXTURES, complete, ready_tasks, refreshed, start_request, text, upload_process
from tests.integration.test_market_engagement_http import OPEN_GROUP, group_id, proposal

FOLDER = FIXTURES / "joint_statement"
GROUP = OPEN_GROUP  # Circular ICT: Lisbon (Ana, the lead), Gdańsk (Marta), Utrecht (Jan, added below)
SUMMARY = ("The group will buy refurbished laptops for 40 000 staff from 2028, with a five-year warranty, "
           "spare parts for seven years and take-back of the old devices.")


def upload_statement(client):
    files = {path.name: path.read_bytes() for path in sorted(FOLDER.iterdir())}
    return upload_process(client, files)


def add_utrecht_buyer() -> None:
    create_user("jan.devries@utrecht.example.eu", "Jan de Vries", DEMO_PASSWORD, [Role.BUYER], "Gemeente Utrecht")
    db.session.commit()


def draft(name: str = "statement.pdf") -> dict:
    return {"draft": (io.BytesIO(b"%PDF-1.4 joint statement"), name)}


def start_statement(client):
    return start_request(client, "ana", "joint_statement", {
        "working_group_id": str(group_id(GROUP)), "title": "Refurbished laptops", "summary": SUMMARY,
        "endorsements_needed": ""}, draft())


def endorse_all(client, instance, answers: dict[str, tuple[str, str]]) -> None:
    """Each buyer named answers their own organisation's waiting endorsement task."""
    for who, (answer, reason) in answers.items():
        mine = [t for t in ready_tasks(instance, "endorse_statement") if who_can(client, who, t)]
        assert len(mine) == 1, (who, [t.id for t in mine])
        complete(client, who, mine[0], {"endorsement": answer, "objection_reason": reason})


def who_can(client, who: str, task) -> bool:
    """Whether the task page offers ``who`` its form."""
    sign_in(client, who)
    page = client.get(f"/tasks/{task.id}")
    return page.status_code == 200 and "Does your organisation endorse it?" in text(page)


def test_the_statement_is_revised_once_then_published_and_the_groups_event_is_told(client):
    add_utrecht_buyer()
    event = start_request(client, "ana", "market_engagement", proposal())  # the same group's, running
    version = upload_statement(client)
    assert version.definition.process_id == "joint_statement" and version.active
    assert "Joint statement of demand" in text(client.get("/start"))

    statement = start_statement(client)
    assert statement.status == InstanceStatus.RUNNING
    # Ana drafted it: her own organisation counts as endorsing; the other two are asked.
    tasks = ready_tasks(statement, "endorse_statement")
    assert sorted(t.name for t in tasks) == ["Endorse the joint statement: City of Gdańsk",
                                             "Endorse the joint statement: Gemeente Utrecht"]
    emailed = {m.to_address for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == statement.id, OutboxMessage.kind == "task"))}
    assert emailed == {"marta.nowak@gdansk.example.eu", "jan.devries@utrecht.example.eu"}

    endorse_all(client, statement, {"marta": ("object", "The warranty must cover batteries too.")})
    sign_in(client, "jan")
    assert "1 of 2 done" in loaded(client.get("/inbox"))
    endorse_all(client, statement, {"jan": ("endorse", "")})

    # 2 of the 3 needed endorsed: the decision table sends it back to the lead with Marta's reason.
    revise = ready_tasks(statement, "revise_statement")
    assert len(revise) == 1
    sign_in(client, "ana")
    assert "City of Gdańsk: The warranty must cover batteries too." in text(client.get(f"/tasks/{revise[0].id}"))
    complete(client, "ana", revise[0], {"summary": SUMMARY + " Batteries are covered."}, draft("statement-v2.pdf"))

    endorse_all(client, statement, {"marta": ("endorse", ""), "jan": ("endorse", "")})
    publish = ready_tasks(statement, "publish")
    assert len(publish) == 1
    complete(client, "clara", publish[0], {"publication_date": "2027-02-01",
                                           "publication_link": "https://bigbuyers.eu/statements/laptops"})

    statement = refreshed(statement)
    assert statement.status == InstanceStatus.COMPLETED and statement.outcome == "end_published"
    told = {m.to_address: m for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == statement.id, OutboxMessage.template == "statement_published"))}
    assert set(told) == {"ana.costa@lisboa.example.eu", "marta.nowak@gdansk.example.eu",
                         "jan.devries@utrecht.example.eu"}
    mail = told["marta.nowak@gdansk.example.eu"]
    assert mail.subject == "Joint statement published: Refurbished laptops"
    assert "https://bigbuyers.eu/statements/laptops" in mail.text_body and "3 member organisations" in mail.text_body

    # The group's running market engagement request received the message and keeps running.
    event = refreshed(event)
    assert event.status == InstanceStatus.RUNNING
    received = db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == event.id)).all()
    group = statement.working_group.name  # the key is the group's id: the lines name the group
    assert f"Received the message “Statement published” for {group} from “{statement.title}”" in [
        e.summary for e in received]
    assert "The message “Joint statement published” started “Joint statement published”" in [
        e.summary for e in received]  # the event subprocess, named as its start event is
    [sent] = [e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == statement.id,
                                                                     AuditEvent.action == "message_sent"))]
    assert sent.summary == f"The message “Statement published” for {group} was sent to {event.title}"
    assert (sent.data["message"], sent.data["key"]) == (  # the names the diagrams use, kept in the data
        "joint_statement_published", str(statement.working_group_id))


def test_members_are_reminded_after_7_days_and_the_round_closes_after_14(client):
    add_utrecht_buyer()
    upload_statement(client)
    statement = start_statement(client)
    assert len(ready_tasks(statement, "endorse_statement")) == 2
    started = refreshed(statement).next_timer_at

    with freeze_time(started + dt.timedelta(minutes=1)):  # the first timer: the 7-day reminder
        assert fire_due_timers() == 1
    reminded = sorted(m.to_address for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == statement.id, OutboxMessage.template == "statement_reminder")))
    assert reminded == ["ana.costa@lisboa.example.eu", "jan.devries@utrecht.example.eu",
                        "marta.nowak@gdansk.example.eu"]
    assert len(ready_tasks(statement, "endorse_statement")) == 2  # still waiting

    complete(client, "marta", [t for t in ready_tasks(statement, "endorse_statement")
                               if who_can(client, "marta", t)][0], {"endorsement": "endorse"})
    deadline = refreshed(statement).next_timer_at
    with freeze_time(deadline + dt.timedelta(minutes=1)):  # 14 days: Jan never answered
        assert fire_due_timers() == 1
    statement = refreshed(statement)
    assert ready_tasks(statement, "endorse_statement") == []
    # Ana's and Marta's organisations endorsed: 2 of the 3 needed, so back to the lead.
    assert len(ready_tasks(statement, "revise_statement")) == 1


def test_a_statement_still_short_after_two_revisions_is_dropped(client):
    add_utrecht_buyer()
    upload_statement(client)
    statement = start_statement(client)
    for _ in range(2):
        endorse_all(client, statement, {"marta": ("object", "Too vague."), "jan": ("endorse", "")})
        [revise] = ready_tasks(statement, "revise_statement")
        complete(client, "ana", revise, {"summary": SUMMARY}, draft())
    endorse_all(client, statement, {"marta": ("object", "Still too vague."), "jan": ("endorse", "")})

    statement = refreshed(statement)
    assert statement.status == InstanceStatus.COMPLETED and statement.outcome == "end_dropped"
    [mail] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == statement.id, OutboxMessage.template == "statement_dropped")).all()
    assert mail.to_address == "ana.costa@lisboa.example.eu"
    assert "after 2 revisions" in mail.text_body and "City of Gdańsk: Still too vague." in mail.text_body
