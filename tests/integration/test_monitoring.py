"""The secretariat follows every request: the filtered list and its CSV, an instance's page
and diagram, and the administrator's cancel, retry and reassign, over HTTP.

Marta files travel claims for Circular ICT; Lukas asks for an expert for his group; Clara and
Tom are coordinators, Felix is Finance, Helena the Commission, and the administrator acts.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import event, insert, select, update

from app.extensions import db
from app.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    OutboxMessage,
    ProcessInstance,
    ProcessVersion,
    TaskCandidate,
    TaskState,
    WorkingGroup,
)
from app.services.instances import fire_due_timers
from app.services.monitoring import RowPagination, cancel_instance
from app.services.versions import folder_file_sets, store_version
from app.steps import engine
from tests.conftest import ROOT, loaded, person, post_form, sign_in
from tests.integration.test_expert_request_http import expert_request
from tests.integration.test_travel_http import file_claim, ready_task

MONITORS = ("clara", "felix", "helena", "admin")
LISTED = re.compile(r'href="/monitor/instances/(\d+)"')


def instance_of(instance_id: int) -> ProcessInstance:
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance_id)


def listed(client, query: str = "") -> list[int]:
    """The request ids the list shows, in order, for a query string."""
    response = client.get(f"/monitor/instances{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return [int(i) for i in LISTED.findall(response.get_data(as_text=True))]


def decide(client, who: str, task: HumanTask, **data) -> None:
    sign_in(client, who)
    response = post_form(client, f"/tasks/{task.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def outbox(instance: ProcessInstance, template: str) -> dict[str, OutboxMessage]:
    """The emails of one template about an instance, by recipient's email name."""
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance.id,
                                                          OutboxMessage.template == template))
    return {row.to_address.split("@")[0].split(".")[0]: row for row in rows}


def history_of(instance: ProcessInstance, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def requests(client):
    """Five requests in different states, processes and groups, made as people make them."""
    waiting_check = file_claim(client)  # Circular ICT, waits for the coordinators
    waiting_payment = file_claim(client)
    decide(client, "clara", ready_task(waiting_payment, "check_claim"), decision="approve")
    rejected = file_claim(client)
    decide(client, "tom", ready_task(rejected, "check_claim"), decision="reject",
           coordinator_comment="Not a group meeting.")
    zero = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name.startswith("Zero")))
    sign_in(client, "lukas")
    response = post_form(client, "/start/expert_request", expert_request(10, working_group_id=str(zero)))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    expert = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    cancelled = file_claim(client)
    cancel_instance(person("admin"), instance_of(cancelled.id), "Filed twice by mistake.")
    db.session.commit()
    return {"waiting_check": waiting_check.id, "waiting_payment": waiting_payment.id, "rejected": rejected.id,
            "expert": expert.id, "cancelled": cancelled.id}


# -- who may look --------------------------------------------------------------------------------


def test_buyers_get_403_and_the_secretariat_sees_every_request(client, requests):
    one = requests["waiting_payment"]
    urls = ["/monitor/instances", "/monitor/instances.csv", f"/monitor/instances/{one}",
            f"/monitor/instances/{one}/diagram.xml", f"/monitor/instances/{one}/markers.json"]
    for buyer, own_page in (("marta", 200), ("ana", 403)):  # Marta filed the claim; Ana may not see it
        sign_in(client, buyer)
        assert "All requests" not in loaded(client.get("/inbox"))
        for url in urls:
            assert client.get(url).status_code == 403, (buyer, url)
        assert "Follow this request in monitoring" not in loaded(client.get(f"/requests/{one}"), own_page)
    for who in MONITORS:
        sign_in(client, who)
        assert "All requests" in loaded(client.get("/inbox"))
        assert sorted(listed(client)) == sorted(requests.values())
        for url in urls:
            assert client.get(url).status_code == 200, (who, url)
        assert f'href="/monitor/instances/{one}"' in loaded(client.get(f"/requests/{one}"))
    client.post("/sign-out")


def test_only_administrators_get_the_action_pages(client, requests):
    one = requests["waiting_check"]
    task = ready_task(instance_of(one), "check_claim")
    sign_in(client, "clara")
    page = loaded(client.get(f"/monitor/instances/{one}"))
    assert "Cancel this request" not in page and "Reassign" not in page
    for url in (f"/monitor/instances/{one}/cancel", f"/monitor/instances/{one}/retry",
                f"/monitor/tasks/{task.id}/reassign"):
        assert client.get(url).status_code == 403
    sign_in(client, "admin")
    page = loaded(client.get(f"/monitor/instances/{one}"))
    assert f'href="/monitor/instances/{one}/cancel"' in page
    assert f'href="/monitor/tasks/{task.id}/reassign"' in page
    assert "Run the failed step again" not in page  # it is not in error


# -- the list and its filters --------------------------------------------------------------------


def test_each_filter_narrows_the_list(client, requests):
    r = requests
    sign_in(client, "clara")
    assert listed(client) == sorted(r.values(), reverse=True)  # newest first

    assert listed(client, "?process_id=expert_request") == [r["expert"]]
    assert set(listed(client, "?process_id=travel_reimbursement")) == set(r.values()) - {r["expert"]}
    assert listed(client, "?status=completed") == [r["rejected"]]
    assert listed(client, "?status=cancelled") == [r["cancelled"]]
    assert set(listed(client, "?status=running")) == {r["waiting_check"], r["waiting_payment"], r["expert"]}
    zero = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name.startswith("Zero")))
    assert listed(client, f"?group={zero}") == [r["expert"]]

    assert listed(client, "?waiting_role=finance") == [r["waiting_payment"]]
    assert listed(client, f"?waiting_person={person('felix').id}") == [r["waiting_payment"]]
    coordinators = set(listed(client, "?waiting_role=coordinator"))
    assert r["waiting_check"] in coordinators and r["waiting_payment"] not in coordinators
    assert set(listed(client, f"?waiting_person={person('tom').id}")) == coordinators
    assert listed(client, f"?waiting_person={person('marta').id}") == []
    assert listed(client, "?waiting_role=coordinator&process_id=travel_reimbursement") == [r["waiting_check"]]

    # Started between two dates, in the secretariat's time zone, both days included.
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == r["rejected"])
                       .values(started_at=dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)))  # 10 March in Brussels
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == r["expert"])
                       .values(started_at=dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)))
    db.session.commit()
    assert listed(client, "?started_from=2026-03-10&started_to=2026-03-20") == [r["expert"], r["rejected"]]
    assert listed(client, "?started_from=2026-03-11&started_to=2026-03-19") == []
    assert listed(client, "?started_to=2026-03-10") == [r["rejected"]]
    assert r["rejected"] not in listed(client, "?started_from=2026-03-11")


def test_a_wrong_date_is_explained_and_nothing_listed(client, requests):
    sign_in(client, "clara")
    response = client.get("/monitor/instances?started_from=10%2F03%2F2026")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "There is a problem" in text and "Started on or after must be a real date" in text
    assert 'href="#field-started_from"' in text and not LISTED.findall(text)
    response = client.get("/monitor/instances?started_from=2026-03-20&started_to=2026-03-10")
    assert response.status_code == 400 and "must be the same as or after" in response.get_data(as_text=True)
    assert client.get("/monitor/instances.csv?started_from=yesterday").status_code == 400


def test_the_list_says_who_each_request_waits_for(client, requests):
    sign_in(client, "helena")
    text = loaded(client.get(f"/monitor/instances?waiting_person={person('felix').id}"))
    assert "Approve payment: Felix Wagner" in text
    text = loaded(client.get("/monitor/instances?process_id=travel_reimbursement&status=running"))
    assert "Check claim: Clara Schmidt, Tom Peeters" in text


def test_the_version_filter_and_the_diagram_follow_each_instance_s_own_version(client, requests):
    old = instance_of(requests["waiting_payment"])
    first = old.version
    path = ROOT / "workflows" / "travel_reimbursement.bpmn"
    files = next(f for f in folder_file_sets(ROOT / "workflows") if path.name in f)  # with its DMN table
    changed = files[path.name].replace('name="Check claim"', 'name="Check the travel claim"')
    assert changed != files[path.name]
    second, created = store_version({**files, path.name: changed}, person("admin"), note="renamed a step")
    db.session.commit()
    assert created and second.active and second.number == first.number + 1
    new = file_claim(client)

    sign_in(client, "clara")
    assert listed(client, f"?version={second.id}") == [new.id]
    assert new.id not in listed(client, f"?version={first.id}") and old.id in listed(client, f"?version={first.id}")

    old_xml = client.get(f"/monitor/instances/{old.id}/diagram.xml")
    assert old_xml.mimetype == "application/xml"
    assert old_xml.get_data(as_text=True) == first.files[path.name]
    assert 'name="Check claim"' in old_xml.get_data(as_text=True)
    assert 'name="Check the travel claim"' in client.get(f"/monitor/instances/{new.id}/diagram.xml").get_data(
        as_text=True)
    page = loaded(client.get(f"/monitor/instances/{old.id}"))
    assert f"Version {first.number} of" in page and "not the version new requests use" in page


def import_requests(count: int) -> None:
    """``count`` finished requests of a process called old_import, one an hour from 2025."""
    marta = person("marta")
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.active.is_(True)))
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    db.session.execute(insert(ProcessInstance), [
        {"version_id": version.id, "process_id": "old_import", "title": f"Imported {n}", "initiator_id": marta.id,
         "state": "not a workflow", "summary": {}, "status": InstanceStatus.COMPLETED,
         "started_at": start + dt.timedelta(hours=n), "lock_version": 1} for n in range(count)])
    db.session.commit()


def test_the_list_pages_by_25(client, requests):
    import_requests(40)
    sign_in(client, "clara")
    first = listed(client, "?process_id=old_import")
    second = listed(client, "?process_id=old_import&page=2")
    assert len(first) == 25 and len(second) == 15 and not set(first) & set(second)
    text = loaded(client.get("/monitor/instances?process_id=old_import"))
    assert "40 requests match the filters" in text and "page 1 of 2" in text
    assert 'href="/monitor/instances?page=2&amp;process_id=old_import"' in text


def test_past_the_count_limit_the_list_says_more_than_and_still_pages(client, requests, monkeypatch):
    monkeypatch.setattr(RowPagination, "count_limit", 10)  # 10 000 in production: counting a million costs
    import_requests(40)
    sign_in(client, "clara")
    text = loaded(client.get("/monitor/instances?process_id=old_import"))
    assert "More than 10 requests match the filters, newest first; page 1" in text
    assert "all the requests (more than 10)" in text
    assert 'href="/monitor/instances?page=2&amp;process_id=old_import" rel="next"' in text
    second = loaded(client.get("/monitor/instances?process_id=old_import&page=2"))
    assert "page 2" in second and 'rel="next"' not in second and 'rel="prev"' in second
    assert len(listed(client, "?process_id=old_import&page=2")) == 15


# -- the CSV -------------------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_holds_the_filtered_list(client, requests):
    sign_in(client, "felix")
    for query in ("", "?status=running", "?process_id=travel_reimbursement&status=running", "?waiting_role=finance"):
        rows = read_csv(client.get(f"/monitor/instances.csv{query}"))
        assert [int(row["ID"]) for row in rows] == listed(client, query), query
    rows = read_csv(client.get("/monitor/instances.csv?waiting_role=finance"))
    assert list(rows[0]) == ["ID", "Process", "Version", "Title", "Status", "Working group", "Started by",
                             "Started", "Ended", "Waiting for"]
    row = rows[0]
    claim = instance_of(requests["waiting_payment"])
    assert row["Process"] == "Travel reimbursement" and row["Version"] == str(claim.version.number)
    assert row["Title"] == claim.title
    assert row["Status"] == "In progress" and row["Working group"] == "Circular ICT"
    assert row["Started by"] == "Marta Nowak" and row["Ended"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["Started"])
    assert row["Waiting for"] == "Approve payment: Felix Wagner"
    cancelled = read_csv(client.get("/monitor/instances.csv?status=cancelled"))
    assert cancelled[0]["Status"] == "Cancelled" and cancelled[0]["Ended"] and cancelled[0]["Waiting for"] == ""


def test_csv_cells_never_start_a_formula(client, requests):
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == requests["expert"])
                       .values(title='=HYPERLINK("http://evil.example","x")'))
    db.session.commit()
    sign_in(client, "clara")
    rows = read_csv(client.get("/monitor/instances.csv?process_id=expert_request"))
    assert rows[0]["Title"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"


def test_csv_cells_split_on_a_semicolon_never_start_a_formula_either(client, requests):
    """Where Excel splits on ';' (Belgium, Germany, France), each segment is a cell of its own."""
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == requests["expert"])
                       .values(title="Tallinn;=1+1,@SUM(A1)\t-2"))
    db.session.commit()
    sign_in(client, "clara")
    response = client.get("/monitor/instances.csv?process_id=expert_request")
    rows = read_csv(response)
    assert rows[0]["Title"] == "Tallinn;'=1+1,'@SUM(A1)\t'-2"
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"ID","Process","Version"')
    assert all(line.startswith('"') and line.endswith('"') for line in lines), "every field is quoted"


# -- one request: steps, diagram markers, data, files --------------------------------------------


def test_markers_list_completed_and_current_steps(client, requests):
    sign_in(client, "clara")
    markers = client.get(f"/monitor/instances/{requests['waiting_payment']}/markers.json").get_json()
    assert markers["current"] == ["approve_payment"] and markers["failed"] == []
    assert {"start_claim", "assess_eligibility", "check_claim"} <= set(markers["completed"])
    assert "approve_payment" not in markers["completed"]
    done = client.get(f"/monitor/instances/{requests['rejected']}/markers.json").get_json()
    assert done["current"] == [] and "end_claim_rejected" in done["completed"]


def test_the_page_lists_the_steps_data_and_files_in_text(client, requests):
    claim = instance_of(requests["waiting_payment"])
    sign_in(client, "clara")  # a coordinator: the receipts too (the Commission sees no bank details)
    text = loaded(client.get(f"/monitor/instances/{claim.id}"))
    steps = text[text.index('id="steps-title"'):text.index(">Data</h2>")]
    assert re.search(r"<strong>Approve payment</strong>, waiting for Felix Wagner since", steps)
    done = steps[steps.index("Done, in order"):]
    assert done.index("Travel claim filed") < done.index("Check claim") < done.index("Not reached yet")
    assert "Check claim <span class=\"app-muted\">– Clara Schmidt" in done
    # The diagram is drawn by the page's own script from same-origin URLs; no inline code.
    assert f'data-xml-url="/monitor/instances/{claim.id}/diagram.xml"' in text
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in text
    assert "<script>" not in text and "style=" not in text
    data = text[text.index(">Data</h2>"):text.index(">Files</h2>")]
    assert "Start: Travel reimbursement" in data and "Circular ICT, 3rd meeting, Brussels" in data
    files = text[text.index(">Files</h2>"):text.index(">History</h2>")]
    link = re.search(r'href="(/attachments/\d+)">train.pdf</a>', files)
    assert link and "hotel.png" in files
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.get_data().startswith(b"%PDF")
    download.close()
    assert "Clara Schmidt completed Check claim" in text[text.index(">History</h2>"):]


def test_the_vendored_viewer_is_served_with_its_licence(client):
    for path in ("bpmn-navigated-viewer.production.min.js", "diagram-js.css", "bpmn-js.css",
                 "bpmn-font/css/bpmn.css", "bpmn-font/font/bpmn.woff2", "LICENSE", "README"):
        response = client.get(f"/static/vendor/bpmn-js/{path}")
        assert response.status_code == 200, path
        response.close()
    readme = (ROOT / "app/static/vendor/bpmn-js/README").read_text()
    assert "18.31.1" in readme and "watermark" in readme
    assert "bjs-powered-by" not in (ROOT / "app/static/app.css").read_text()  # never hidden or moved


# -- administrator actions -----------------------------------------------------------------------


def test_cancel_needs_a_reason_then_withdraws_tasks_and_tells_everyone(client, requests):
    claim = instance_of(requests["waiting_check"])
    check = ready_task(claim, "check_claim")
    sign_in(client, "admin")
    url = f"/monitor/instances/{claim.id}/cancel"
    response = post_form(client, url, {"reason": "  "})
    assert response.status_code == 400
    assert "Give the reason" in response.get_data(as_text=True)
    assert instance_of(claim.id).status == InstanceStatus.RUNNING and outbox(claim, "request_cancelled") == {}

    reason = "The meeting was cancelled; Marta was told to file nothing."
    assert post_form(client, url, {"reason": reason}).status_code == 302
    claim = instance_of(claim.id)
    assert claim.status == InstanceStatus.CANCELLED and claim.ended_at and claim.next_timer_at is None
    check = db.session.get(HumanTask, check.id)
    assert check.state == TaskState.CANCELLED and not any(c.ready for c in check.candidates)
    sign_in(client, "clara")
    assert f"/tasks/{check.id}" not in loaded(client.get("/inbox"))

    told = outbox(claim, "request_cancelled")
    assert set(told) == {"marta", "clara", "tom"}
    assert reason in told["marta"].text_body and "your request" in told["marta"].text_body
    assert "start a new request" in told["marta"].text_body
    assert "started by Marta Nowak" in told["clara"].text_body and "- Check claim" in told["clara"].text_body
    assert told["tom"].subject == f"Request cancelled: {claim.title}"
    for row in told.values():
        assert "None" not in row.text_body and f"/requests/{claim.id}" in row.text_body

    events = history_of(claim, "cancelled")
    assert len(events) == 1 and events[0].channel == "admin" and events[0].actor_id == person("admin").id
    assert events[0].data["reason"] == reason
    sign_in(client, "marta")
    page = loaded(client.get(f"/requests/{claim.id}"))
    assert "Platform Administrator cancelled this request. Reason: The meeting was cancelled" in page
    sign_in(client, "admin")
    assert post_form(client, url, {"reason": "Again."}).status_code == 400  # already cancelled


def test_reassign_gives_the_task_to_one_person_and_tells_the_others(client, requests):
    claim = instance_of(requests["waiting_check"])
    check = ready_task(claim, "check_claim")
    sign_in(client, "admin")
    url = f"/monitor/tasks/{check.id}/reassign"
    response = post_form(client, url, {"person": str(person("felix").id), "reason": ""})
    assert response.status_code == 400 and 'href="#field-reason"' in response.get_data(as_text=True)
    response = post_form(client, url, {"person": "", "reason": "Clara and Tom are on leave."})
    assert response.status_code == 400 and "Choose who should do this task" in response.get_data(as_text=True)
    assert {c.user_id for c in ready_task(claim, "check_claim").candidates} == {person("clara").id,
                                                                               person("tom").id}

    response = post_form(client, url, {"person": str(person("felix").id), "reason": "Clara and Tom are on leave."})
    assert response.status_code == 302
    check = ready_task(claim, "check_claim")
    assert [c.user_id for c in check.candidates] == [person("felix").id]
    task_mail = outbox(claim, "task")
    assert task_mail["felix"].task_id == check.id
    notices = outbox(claim, "task_reassigned")
    assert set(notices) == {"clara", "tom"}
    assert "Felix Wagner" in notices["clara"].text_body and "Clara and Tom are on leave." in notices["tom"].text_body
    assert notices["clara"].subject.startswith("“Check claim” no longer waits for you")

    sign_in(client, "clara")
    assert f"/tasks/{check.id}" not in loaded(client.get("/inbox"))
    assert post_form(client, f"/tasks/{check.id}", {"decision": "approve"}).status_code != 302
    sign_in(client, "felix")
    assert f"/tasks/{check.id}" in loaded(client.get("/inbox"))
    decide(client, "felix", check, decision="approve")
    assert ready_task(claim, "approve_payment") is not None

    event = history_of(claim, "reassigned")[0]
    assert event.channel == "admin" and event.task_id == check.id and event.data["to"] == person("felix").id
    sign_in(client, "clara")
    page = loaded(client.get(f"/monitor/instances/{claim.id}"))
    assert "Platform Administrator gave Check claim to Felix Wagner. Reason: Clara and Tom are on leave." in page


def failing_notices(monkeypatch):
    """Make every notice fail, as a broken mail template would; undo() is the fix."""
    def broken(data, props):
        raise RuntimeError("the notice templates are missing")

    monkeypatch.setitem(engine().services, "notify", broken)


def test_retry_runs_the_failed_step_again_once_the_cause_is_fixed(client, requests, monkeypatch):
    claim = instance_of(requests["waiting_check"])
    due = claim.next_timer_at + dt.timedelta(minutes=1)
    failing_notices(monkeypatch)
    with freeze_time(due):
        fire_due_timers()
    claim = instance_of(claim.id)
    assert claim.status == InstanceStatus.ERROR and "the notice templates are missing" in claim.error

    sign_in(client, "clara")
    assert client.get(f"/monitor/instances/{claim.id}/markers.json").get_json()["failed"] == ["notify_check_reminder"]
    assert listed(client, "?status=error") == [claim.id]
    page = loaded(client.get(f"/monitor/instances/{claim.id}"))
    assert "Needs attention" in page and "the notice templates are missing" in page
    failed = html.unescape(page[page.index(">Failed</h3>"):page.index(">Waiting now</h3>")])
    assert "<strong>Remind coordinator</strong>: service task 'notify' failed" in failed

    sign_in(client, "admin")
    url = f"/monitor/instances/{claim.id}/retry"
    assert "Run the failed step again" in loaded(client.get(f"/monitor/instances/{claim.id}"))
    with freeze_time(due):
        sign_in(client, "admin")  # a sign-in left unused until the timer's time has ended by then
        assert post_form(client, url, {"reason": ""}).status_code == 400
        assert post_form(client, url, {"reason": "Trying before the fix."}).status_code == 302
    claim = instance_of(claim.id)
    assert claim.status == InstanceStatus.ERROR and "the notice templates are missing" in claim.error
    again = history_of(claim, "error")[-1]
    assert again.channel == "admin" and "failed again" in again.summary
    line = again.data.pop("$line")  # the line's kind and parameters, shown in the reader's language
    assert again.data == {"reason": "Trying before the fix.", "bpmn_id": "notify_check_reminder"}
    assert line["key"] == "retry_failed" and line["args"]["reason"] == "Trying before the fix."
    assert outbox(claim, "claim_reminder") == {}

    monkeypatch.undo()  # the templates are back
    with freeze_time(due):
        assert post_form(client, url, {"reason": "The notice templates are restored."}).status_code == 302
    claim = instance_of(claim.id)
    assert claim.status == InstanceStatus.RUNNING and claim.error == ""
    assert claim.next_timer_at > due  # the escalation is next
    assert set(outbox(claim, "claim_reminder")) == {"clara", "tom"}  # the reminder went out after all
    retried = history_of(claim, "retried")
    assert len(retried) == 1 and retried[0].data["reason"] == "The notice templates are restored."
    with freeze_time(due):  # the administrator signed in, with a code, at the timer's time
        page = loaded(client.get(f"/monitor/instances/{claim.id}"))
        assert "ran the failed step again and it worked" in page and "Run the failed step again" not in page
        assert post_form(client, url, {"reason": "Once more."}).status_code == 400  # not in error any more


# -- at scale ------------------------------------------------------------------------------------


# A page shows 25 requests and the CSV 3 334: a statement per request would run more than this.
STATEMENTS_PER_PAGE = 20


@contextlib.contextmanager
def statements():
    """The SQL statements run inside the block."""
    run: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        run.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield run
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_list_and_csv_at_10000_requests_show_the_right_rows_without_loading_workflows(client, requests):
    """Rows inserted directly; their state is not a workflow, so loading one would fail. The
    list and the CSV show the right rows with a few statements, however many requests there
    are (their timings are measured by make bench)."""
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.active.is_(True)))
    people = [person(name).id for name in ("marta", "ana", "lukas", "kati")]
    groups = list(db.session.scalars(select(WorkingGroup.id)))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    statuses = [InstanceStatus.RUNNING, InstanceStatus.COMPLETED, InstanceStatus.CANCELLED]
    first = (db.session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc())) or 0) + 1
    db.session.execute(insert(ProcessInstance), [
        {"id": first + n, "version_id": version.id, "process_id": version.definition.process_id,
         "title": f"Bulk request {n}", "initiator_id": people[n % 4], "working_group_id": groups[n % len(groups)],
         "state": "not a workflow", "summary": {}, "status": statuses[n % 3],
         "started_at": start + dt.timedelta(minutes=n), "lock_version": 1} for n in range(10_000)])
    waiting = [first + n for n in range(0, 10_000, 3)]  # the running ones
    db.session.execute(insert(HumanTask), [
        {"id": 100_000 + i, "instance_id": iid, "spiff_task_id": f"{iid:036d}", "bpmn_id": "check_claim",
         "name": "Check claim", "lane": "Coordinator", "form_key": "travel_reimbursement.check_claim",
         "state": TaskState.READY, "created_at": start} for i, iid in enumerate(waiting)])
    coordinators = [person("clara").id, person("tom").id]
    db.session.execute(insert(TaskCandidate), [
        {"task_id": 100_000 + i, "user_id": coordinators[i % 2], "ready": True, "task_created_at": start}
        for i in range(len(waiting))])
    db.session.commit()

    sign_in(client, "clara")
    newest_first = [first + n for n in range(9_999, -1, -1)]
    running = [i for i in newest_first if i in set(waiting)]
    tom_waits = set(waiting[1::2])
    # n from 1380 (2 January, 00:00 in Brussels) to 4259 (3 January, 23:59); page 3 skips 50 rows
    january = [first + n for n in range(4259 - 50, 4259 - 75, -1)]
    for query, bulk in (("", newest_first), ("?status=running", running),
                        (f"?waiting_person={person('tom').id}", [i for i in running if i in tom_waits]),
                        ("?waiting_role=coordinator", running),
                        ("?started_from=2024-01-02&started_to=2024-01-03&page=3", january)):
        with statements() as counted:
            ids = listed(client, query)
        assert len(ids) == 25, query
        shown = [i for i in ids if i >= first]  # after the few requests made today, if they match
        assert shown == bulk[:len(shown)] and shown, query
        assert len(counted) <= STATEMENTS_PER_PAGE, (query, counted)
    with statements() as counted:
        response = client.get("/monitor/instances.csv?waiting_role=coordinator", buffered=False)
        chunks = list(response.iter_encoded())  # written a thousand rows at a time as it is sent
        rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(chunks) >= 1 + len(rows) // 1000, len(chunks)
    assert {int(row["ID"]) for row in rows if int(row["ID"]) >= first} == set(waiting)
    assert len(counted) <= STATEMENTS_PER_PAGE, counted
    assert {row["Waiting for"] for row in rows if row["Title"].startswith("Bulk")} == {
        "Check claim: Clara Schmidt", "Check claim: Tom Peeters"}


def test_monitoring_files_stay_free_of_inline_code():
    for path in (ROOT / "templates" / "monitor").glob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and "style=" not in text and " on" + "click=" not in text, path.name
    assert Path(ROOT / "app/static/diagram.js").is_file()


def test_the_start_dates_are_typed_into_day_month_and_year_boxes(client, requests):
    sign_in(client, "clara")
    iso = "?started_from=2026-03-10&started_to=2026-03-20"
    boxes = ("?started_from-day=10&started_from-month=3&started_from-year=2026"
             "&started_to-day=20&started_to-month=Mar&started_to-year=2026")
    assert listed(client, boxes) == listed(client, iso) == [r for r in listed(client) if r in listed(client, iso)]
    page = loaded(client.get(f"/monitor/instances{boxes}"))
    assert 'name="started_to-month" type="text" inputmode="numeric" spellcheck="false" value="Mar"' in page
    page = loaded(client.get("/monitor/instances?started_from-day=1&started_from-month=1&started_from-year=2000"))
    assert "started_from-day=1&amp;" in page  # the CSV link keeps the filter
    response = client.get("/monitor/instances?started_from-day=10&started_from-year=2026")
    assert response.status_code == 400 and "Started on or after must include a month" in response.get_data(as_text=True)


def test_a_cancellation_names_the_withdrawn_step_in_the_readers_language(client):
    """Issue 13: Tom reads French, Clara German: the step taken out of their inboxes is named in it."""
    person("tom").language, person("clara").language = "fr", "de"
    db.session.commit()
    claim = file_claim(client)
    sign_in(client, "admin")
    assert post_form(client, f"/monitor/instances/{claim.id}/cancel", {"reason": "Filed twice."}).status_code == 302
    told = outbox(claim, "request_cancelled")
    assert "- Vérifier la demande" in told["tom"].text_body and "- Antrag prüfen" in told["clara"].text_body
    assert "Check claim" not in told["tom"].text_body + told["clara"].text_body
