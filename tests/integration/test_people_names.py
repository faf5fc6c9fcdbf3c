"""Camunda's meaning of people (issue 10): names the app does not know are warnings with a link
to map them; until mapped, and for a task that names nobody, the task waits for the
administrators; ``${expression}`` assignments are worked out on the task's data; BPMN
potentialOwner and humanPerformer count as assignments. Walked over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    HumanTask,
    InstanceStatus,
    NameMapping,
    OutboxMessage,
    WorkingGroup,
)
from app.outbox.deliver import deliver_outbox
from app.services.diagram_checks import check_upload
from tests.conftest import csrf_token, loaded, person, post_form, sign_in
from tests.diagrams import (
    FIXTURES,
    complete,
    history,
    ready_tasks,
    refreshed,
    start_request,
    text,
    upload_process,
    upload_report,
    waiting_for,
)


def diagram(name: str) -> dict[str, bytes]:
    return {f"{name}.bpmn": (FIXTURES / "diagrams" / f"{name}.bpmn").read_bytes()}






@pytest.fixture
def other(app):
    """A second browser, for everyone but the administrator: the administrator signs in (with a
    code from their app) as few times as possible, each code being good once."""
    return app.test_client()


def as_admin(client) -> None:
    """Sign the administrator in on ``client``, unless they are already."""
    if client.get("/admin/").status_code != 200:
        sign_in(client, "admin")


def map_name(client, name: str, stands_for: str):
    as_admin(client)
    return post_form(client, "/admin/names/new", {"name": name, "stands_for": stands_for})


def admin_completes(client, task: HumanTask, data: dict) -> None:
    as_admin(client)
    loaded(client.get(f"/tasks/{task.id}"))
    response = post_form(client, f"/tasks/{task.id}", data)
    assert response.status_code == 302, text(response)[:3000]


def test_unknown_names_warn_with_a_link_and_their_tasks_wait_for_administrators_until_mapped(client, other):
    files = diagram("people_mapping")
    report = upload_report(client, files)
    assert "cannot be stored" not in report and "3 warnings" in report, report[:3000]
    assert "Map ‘management’ to people" in report and "Map ‘Accounting’ to people" in report
    assert "it will wait for the administrators" in report  # archive_invoice: no lane, no assignment
    upload_process(client, files)

    instance = start_request(other, "marta", "people_mapping", {"subject": "Invoice 12"})
    [approve] = ready_tasks(instance, "approve_invoice")
    assert waiting_for(approve) == {"admin"}
    why = "Nobody is named for this step yet: an administrator can map ‘management’ under Administration → " \
          "Names in diagrams. Until then it waits for the administrators."
    assert why in history(instance)
    deliver_outbox()
    db.session.expire_all()
    email = db.session.scalar(select(OutboxMessage.delivered_text).where(
        OutboxMessage.task_id == approve.id, OutboxMessage.to_address.startswith("admin")))
    assert why in " ".join(email.split()), email  # the administrators' e-mail says why it came to them
    as_admin(client)
    assert why in text(client.get(f"/tasks/{approve.id}"))
    assert "can map ‘management’" in text(client.get(f"/monitor/instances/{instance.id}"))

    response = map_name(client, "Management", "role:coordinator")
    assert response.status_code == 302, text(response)[:2000]
    assert waiting_for(approve) == {"clara", "tom"}  # the waiting task moved from the administrators
    assert any("‘Management’ now stands for everyone with the coordinator role: Approve the invoice now also waits "
               "for Clara Schmidt, Tom Peeters and no longer waits for Platform Administrator" in line
               for line in history(instance)), history(instance)
    assert "can map" not in text(client.get(f"/monitor/instances/{instance.id}"))
    report = check_upload(files)  # the report now says what the name stands for
    assert any("‘management’ stands for everyone with the coordinator role" in n.message for n in report.notes)
    assert not any(w.map_name == "management" for w in report.warnings)

    complete(other, "clara", approve, {"note": "Fine"})
    [book] = ready_tasks(instance, "book_invoice")  # lane Accounting: not mapped yet
    assert waiting_for(book) == {"admin"}
    felix = person("felix")
    assert map_name(client, "accounting", f"person:{felix.id}").status_code == 302  # any case
    assert waiting_for(book) == {"felix"}

    complete(other, "felix", book, {"note": "Booked"})
    [archive] = ready_tasks(instance, "archive_invoice")  # no lane, no assignment
    assert waiting_for(archive) == {"admin"}
    assert any("the diagram gives it no lane or assignment" in line for line in history(instance))
    admin_completes(client, archive, {"note": "Archived"})
    assert refreshed(instance).status == InstanceStatus.COMPLETED


def test_expressions_are_worked_out_on_the_task_data(client, other):
    upload_process(client, diagram("people_expressions"))
    instance = start_request(other, "marta", "people_expressions", {
        "subject": "Paper", "reviewer": "felix.wagner@iclei.example.eu",
        "second_reviewer": "clara.schmidt@iclei.example.eu", "backup": ""})

    [first] = ready_tasks(instance, "first_review")  # camunda:assignee="${reviewer}", from the start form
    assert waiting_for(first) == {"felix"}
    assert "First review: ${reviewer} names felix.wagner@iclei.example.eu" in history(instance)
    complete(other, "felix", first, {"note": "Read"})

    [panel] = ready_tasks(instance, "panel_review")  # ${panel}: a list a script made, an address and a role
    assert waiting_for(panel) == {"clara", "felix"}
    complete(other, "clara", panel, {"note": "Agreed"})

    [backup] = ready_tasks(instance, "backup_review")  # #{backup}: the start form left it empty
    assert waiting_for(backup) == {"admin"}
    lines = history(instance)
    assert any(line.startswith("Backup review: #{backup}") for line in lines), lines
    assert any(line.startswith("Nobody is named for this step: #{backup}") and
               line.endswith("It waits for the administrators.") for line in lines), lines
    admin_completes(client, backup, {"note": "Done"})

    [read] = ready_tasks(instance, "read_reviews")  # ${starter}: the start event's camunda:initiator
    assert waiting_for(read) == {"marta"}  # her own step: separation of duties does not bar her
    complete(other, "marta", read, {"note": "Thanks"})
    assert refreshed(instance).status == InstanceStatus.COMPLETED


def test_potential_owner_and_human_performer_name_people_as_in_camunda_7(client, other):
    report = upload_report(client, diagram("people_performers"))
    assert "Map ‘board’ to people" in report  # potentialOwner "board": a bare name is a group
    upload_process(client, diagram("people_performers"))
    circular = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))
    instance = start_request(other, "marta", "people_performers", {"subject": "Contract",
                                                                   "working_group_id": str(circular.id)})

    [check] = ready_tasks(instance, "check_contract")  # user(helena…), group(coordinator)
    assert waiting_for(check) == {"helena", "clara", "tom"}
    complete(other, "tom", check, {"note": "Checked"})
    [sign] = ready_tasks(instance, "sign_contract")  # humanPerformer: the assignee
    assert waiting_for(sign) == {"felix"}
    complete(other, "felix", sign, {"note": "Signed"})

    [file] = ready_tasks(instance, "file_contract")
    assert waiting_for(file) == {"admin"}
    assert map_name(client, "Board", "group_role:initiator").status_code == 302
    assert waiting_for(file) == {"marta"}  # the person who started the request: their own step
    mapping = db.session.scalar(select(NameMapping).where(NameMapping.name_key == "board"))
    response = post_form(client, f"/admin/names/{mapping.id}",
                         {"name": "Board", "stands_for": "group_role:group_members"})
    assert response.status_code == 302, text(response)[:2000]
    assert waiting_for(file) == {"ana"}  # the buyers of Circular ICT's members, but not Marta, who started it
    complete(other, "ana", file, {"note": "Filed"})
    assert refreshed(instance).status == InstanceStatus.COMPLETED


def test_administrators_add_change_and_remove_names_and_bad_input_is_explained(client, other):
    upload_process(client, diagram("people_mapping"))
    instance = start_request(other, "marta", "people_mapping", {"subject": "Invoice 13"})
    [approve] = ready_tasks(instance, "approve_invoice")

    as_admin(client)
    listing = text(client.get("/admin/names/"))
    assert "‘management’: 1 waiting task – Map ‘management’ to people" in listing
    page = loaded(client.get("/admin/names/new?name=management"))
    assert 'value="management"' in page  # the report's link fills the name in
    for data, message in [
        ({"name": "", "stands_for": ""}, "Enter the name the diagram uses"),
        ({"name": "management", "stands_for": ""}, "Select who the name stands for"),
        ({"name": "management", "stands_for": "role:emperor"}, "Select who the name stands for"),
        ({"name": "management", "stands_for": "person:999999"}, "Select a person who can sign in from the list"),
        ({"name": "Coordinator", "stands_for": "role:finance"}, "‘Coordinator’ already stands for everyone with the "
                                                                "coordinator role"),
        ({"name": "${manager}", "stands_for": "role:finance"}, "${manager} is an expression"),
    ]:
        response = post_form(client, "/admin/names/new", data)
        assert response.status_code == 400, data
        page = text(response)
        assert "There is a problem" in page and message in page, (data, page[:1500])
    assert db.session.scalar(select(NameMapping.id)) is None  # nothing stored

    response = post_form(client, "/admin/names/new?name=management&next=/admin/processes/",
                         {"name": "management", "stands_for": "role:finance"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/processes/")
    assert "Map ‘management’ to people" not in text(client.get("/admin/names/"))  # no longer waiting
    assert waiting_for(approve) == {"felix"}
    response = post_form(client, "/admin/names/new", {"name": "MANAGEMENT", "stands_for": "role:coordinator"})
    assert response.status_code == 400 and "‘management’ is already mapped" in text(response)
    response = post_form(client, "/admin/names/new?next=//elsewhere.example/", {"name": "Board",
                                                                                "stands_for": "role:commission"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/names/")
    listing = text(client.get("/admin/names/"))
    assert "management – change everyone with the finance role" in listing

    mapping = db.session.scalar(select(NameMapping))
    response = post_form(client, f"/admin/names/{mapping.id}", {"name": "management", "stands_for": "role:coordinator"})
    assert response.status_code == 302
    assert waiting_for(approve) == {"clara", "tom"}
    response = post_form(client, f"/admin/names/{mapping.id}", {"name": "", "stands_for": "role:coordinator"})
    assert response.status_code == 400 and "Enter the name the diagram uses" in text(response)

    response = client.post(f"/admin/names/{mapping.id}/remove",
                           data={"csrf_token": csrf_token(client, f"/admin/names/{mapping.id}")})
    assert response.status_code == 302
    assert waiting_for(approve) == {"admin"}  # back with the administrators
    assert db.session.scalar(select(NameMapping.id).where(NameMapping.name_key == "management")) is None
    changes = text(client.get("/admin/"))
    assert "‘management’ in diagrams no longer stands for everyone with the coordinator role" in changes
    assert "‘management’ in diagrams: stands for everyone with the finance role → everyone with the coordinator " \
           "role" in changes

    sign_in(other, "clara")
    assert other.get("/admin/names/").status_code == 403
