"""Journey h: a fifth process arrives by upload alone, and a working group walks it.

The administrator uploads the joint statement of demand (a diagram, its decision table and its
email texts: no code) through Administration → Processes and activates it. Ana, lead of
Circular ICT, drafts a statement; the buyers of the group's two other member organisations
endorse it, each from their own task; Clara publishes it. The members are told by the text that
came with the upload, and Ana's running market engagement event of the same group hears of it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import InstanceStatus, OutboxMessage, ProcessInstance, Role
from app.services.people import create_user
from tests.browser.conftest import PDF, fill_date
from tests.diagrams import FIXTURES

SUMMARY = ("The group will buy refurbished laptops for 40 000 staff from 2028, with a five-year warranty, "
           "spare parts for seven years and take-back of the old devices.")


def upload_files() -> list[dict]:
    kinds = {".bpmn": "application/xml", ".dmn": "application/xml", ".txt": "text/plain",
             ".po": "text/x-gettext-translation"}
    return [{"name": path.name, "mimeType": kinds[path.suffix], "buffer": path.read_bytes()}
            for path in sorted((FIXTURES / "joint_statement").iterdir())]


def test_a_joint_statement_uploaded_without_code_is_endorsed_and_published(people):
    create_user("jan.devries@utrecht.example.eu", "Jan de Vries", DEMO_PASSWORD, [Role.BUYER], "Gemeente Utrecht")
    db.session.commit()

    admin = people("admin")
    admin.click("Administration", "administration")
    admin.click("Processes and versions", "processes")
    page = admin.click("Upload a diagram", "upload")
    page.get_by_label("Diagram files").set_input_files(upload_files())
    page = admin.send("report", button="Check the files")
    assert "Joint statement of demand" in admin.text() and "No errors" in admin.text()
    admin.send("stored", button="Store as version 1")
    assert "Joint statement of demand" in admin.text()

    ana = people("ana")
    ana.click("Start a request", "start-list")
    page = ana.click("Joint statement of demand", "statement-form")
    page.get_by_label("Circular ICT (ICT equipment)").check()
    page.get_by_label("Title").fill("Refurbished laptops")
    page.get_by_label("Summary").fill(SUMMARY)
    page.get_by_label("Draft statement").set_input_files(
        {"name": "laptops-statement.pdf", "mimeType": "application/pdf", "buffer": PDF})
    ana.send("statement-sent")
    statement = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert statement.process_id == "joint_statement"

    marta = people("marta")
    marta.open_task("Endorse the joint statement: City of Gdańsk", "endorse-gdansk")
    assert "Refurbished laptops" in marta.text() and "1 of 2 done" not in marta.text()
    marta.choose("Yes, we endorse it")
    marta.send("endorsed-gdansk")

    jan = people("jan")
    jan.open_task("Endorse the joint statement: Gemeente Utrecht", "endorse-utrecht")
    assert "1 of 2 done" in jan.text()
    jan.choose("No, we object to it")
    jan.send("objection-without-reason")  # the reason is needed when objecting
    assert "There is a problem" in jan.text()
    jan.choose("Yes, we endorse it")
    jan.send("endorsed-utrecht")

    clara = people("clara")
    page = clara.open_task("Publish the joint statement", "publish")
    assert "Refurbished laptops" in clara.text()
    page.get_by_label("Link to the published statement").fill("https://bigbuyers.eu/statements/laptops")
    fill_date(page, "Publication date", dt.date(2027, 2, 1))
    clara.send("published")

    db.session.expire_all()
    statement = db.session.get(ProcessInstance, statement.id)
    assert statement.status == InstanceStatus.COMPLETED and statement.outcome == "end_published"
    told = sorted(m.to_address for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.instance_id == statement.id, OutboxMessage.template == "statement_published")))
    assert told == ["ana.costa@lisboa.example.eu", "jan.devries@utrecht.example.eu", "marta.nowak@gdansk.example.eu"]
    ana.open(f"/requests/{statement.id}", "statement-finished")
    assert "Refurbished laptops" in ana.text()
