"""Call activities over HTTP: a request of "Expert booking" calls the stored process "Expert
check", whose task finance does; data goes in and out only as camunda:in / camunda:out say; the
called version is fixed when the request starts; uploads that call what is not there, or call
round in a circle, are refused; the request's pages show the process it calls."""

from __future__ import annotations

from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import InstanceStatus, OutboxMessage, ProcessVersion
from app.outbox.compose import written_message
from app.services.migration import dry_run
from app.services.versions import store_version
from app.steps import engine
from tests.conftest import person, sign_in
from tests.diagrams import (
    FIXTURES,
    complete,
    ready_tasks,
    refreshed,
    start_request,
    text,
    upload_process,
    upload_report,
)
from tests.integration.test_workflows_check_cli import run_check

CALLED = (FIXTURES / "diagrams" / "expert_check.bpmn").read_text()
CALLER = (FIXTURES / "diagrams" / "expert_booking.bpmn").read_text()
IN_AND_OUT = """        <camunda:in source="budget" target="budget" />
        <camunda:in source="topic" target="subject" />
        <camunda:in sourceExpression="${budget &gt; 1000}" target="large" />
        <camunda:out source="decision" target="expert_decision" />
        <camunda:out source="checked_budget" target="approved_budget" />
"""


def called_v2() -> str:
    """Version 2 of Expert check: another name for its task, 200 added to the budget instead of 100."""
    return (CALLED.replace('name="Review expert"', 'name="Review the expert budget"')
            .replace("budget + 100", "budget + 200"))


def caller(**replace: str) -> bytes:
    xml = CALLER
    for old, new in replace.items():
        xml = xml.replace(old, new)
    return xml.encode()


def store(xml: str, name: str = "expert_check.bpmn") -> ProcessVersion:
    """Store a version as `flask workflows upload --activate` would (the HTTP upload is tested
    with the caller; each administrator sign-in spends an authenticator code)."""
    version, _ = store_version({name: xml}, None)
    db.session.commit()
    return version


def workflow(instance):
    instance = refreshed(instance)
    return engine().load(load_model(instance.version, instance.called), instance.state)


def start_booking(client, budget: int = 2000):
    return start_request(client, "marta", "expert_booking",
                         {"topic": "Circular ICT tenders", "budget": str(budget), "private_note": "mine only"})


def test_called_process_runs_inside_its_caller(client):
    called = store(CALLED)
    upload_process(client, {"expert_booking.bpmn": caller()})
    instance = start_booking(client)
    assert instance.called_versions == {"expert_check": called.id}
    # Marked camunda:isStartableInTasklist="false": it runs only when called.
    start_page = client.get("/start").get_data(as_text=True)  # its banner may name the called step
    assert 'href="/start/expert_booking"' in start_page and 'href="/start/expert_check"' not in start_page
    assert client.get("/start/expert_check").status_code == 403

    # The called process's task waits for finance, named with the process it belongs to.
    [task] = ready_tasks(instance)
    assert task.bpmn_id == "expert_check:review_expert"
    assert task.name == "Review expert (Expert check)"
    assert {c.user.email for c in task.candidates} == {person("felix").email}
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.task_id == task.id)).all()
    assert mail.to_address == person("felix").email
    assert written_message(mail).subject == "Your decision, please: Review expert (Expert check) – Expert booking"
    sign_in(client, "felix")
    assert "Review expert (Expert check)" in text(client.get("/inbox"))
    page = text(client.get(f"/tasks/{task.id}"))
    assert "Circular ICT tenders" in page  # the form's ${subject}, mapped in from the caller's topic

    # In: only what camunda:in names, nothing else of the caller's data.
    wf = workflow(instance)
    assert engine().task_data(wf, task.spiff_task_id) == {"budget": 2000, "subject": "Circular ICT tenders",
                                                          "large": True}

    complete(client, "felix", task, {"decision": "approve", "finance_comment": "fine"})
    [confirm] = ready_tasks(instance)
    assert confirm.bpmn_id == "confirm_booking"
    assert {c.user.email for c in confirm.candidates} == {person("marta").email}
    # Out: the caller keeps its data and gets only what camunda:out names.
    data = engine().task_data(workflow(instance), confirm.spiff_task_id)
    assert data["expert_decision"] == "approve" and data["approved_budget"] == 2100
    assert data["private_note"] == "mine only" and data["topic"] == "Circular ICT tenders"
    assert "finance_comment" not in data and "checked_budget" not in data and "subject" not in data

    complete(client, "marta", confirm, {"confirmed": "y"})
    instance = refreshed(instance)
    assert instance.status == InstanceStatus.COMPLETED and instance.outcome == "end_booked"


def test_variables_all_passes_everything_both_ways(client):
    store(CALLED)
    upload_process(client, {"expert_booking.bpmn": caller(**{IN_AND_OUT: (
        '        <camunda:in variables="all" />\n        <camunda:in source="topic" target="subject" />\n'
        '        <camunda:out variables="all" />\n')})})
    instance = start_booking(client, budget=500)
    [task] = ready_tasks(instance)
    data = engine().task_data(workflow(instance), task.spiff_task_id)
    assert data["private_note"] == "mine only" and data["budget"] == 500 and data["subject"] == "Circular ICT tenders"
    complete(client, "felix", task, {"decision": "reject", "finance_comment": "too little"})
    [confirm] = ready_tasks(instance)
    data = engine().task_data(workflow(instance), confirm.spiff_task_id)
    assert data["finance_comment"] == "too little" and data["checked_budget"] == 0 and data["decision"] == "reject"


def test_a_running_request_keeps_the_version_it_started_with(client):
    first = store(CALLED)
    upload_process(client, {"expert_booking.bpmn": caller()})
    before = start_booking(client)
    second = store(called_v2())
    assert second.number == 2 and second.active
    after = start_booking(client)
    assert refreshed(before).called_versions == {"expert_check": first.id}
    assert refreshed(after).called_versions == {"expert_check": second.id}

    [old_task] = ready_tasks(before)
    [new_task] = ready_tasks(after)
    assert old_task.name == "Review expert (Expert check)"
    assert new_task.name == "Review the expert budget (Expert check)"
    complete(client, "felix", old_task, {"decision": "approve"})
    complete(client, "felix", new_task, {"decision": "approve"})
    [old_confirm], [new_confirm] = ready_tasks(before), ready_tasks(after)
    assert engine().task_data(workflow(before), old_confirm.spiff_task_id)["approved_budget"] == 2100  # version 1
    assert engine().task_data(workflow(after), new_confirm.spiff_task_id)["approved_budget"] == 2200  # version 2


def test_a_pinned_version_is_called_even_when_another_is_active(client):
    first = store(CALLED)
    store(called_v2())
    upload_process(client, {"expert_booking.bpmn": caller(**{
        'calledElement="expert_check"': 'calledElement="expert_check" camunda:calledElementBinding="version" '
                                        'camunda:calledElementVersion="1"'})})
    instance = start_booking(client)
    assert instance.called_versions == {"expert_check": first.id}
    [task] = ready_tasks(instance)
    assert task.name == "Review expert (Expert check)"
    complete(client, "felix", task, {"decision": "approve"})
    [confirm] = ready_tasks(instance)
    assert engine().task_data(workflow(instance), confirm.spiff_task_id)["approved_budget"] == 2100


def check(app, xml: bytes | str, name: str = "expert_booking.bpmn", tmp_path=None) -> str:
    """`flask workflows check` on one file: the same checks as the upload page."""
    path = tmp_path / name
    path.write_bytes(xml.encode() if isinstance(xml, str) else xml)
    result = app.test_cli_runner().invoke(args=["workflows", "check", str(path)])
    return result.output


def test_uploads_calling_what_is_not_there_are_refused(app, client, tmp_path):
    report = upload_report(client, {"expert_booking.bpmn": caller()})
    assert "calls expert_check, which is not a stored process: upload that process first" in report
    assert "travel_reimbursement" in report  # the stored processes are listed
    assert "expert_booking.bpmn" in report and "call_check" in report
    assert db.session.scalar(select(ProcessVersion).join(ProcessVersion.definition)
                             .where(ProcessVersion.sha256 != "").order_by(ProcessVersion.id.desc())
                             ).definition.process_id != "expert_booking"

    store(CALLED)
    out = check(app, caller(**{'calledElement="expert_check"': 'calledElement="expert_check" '
                               'camunda:calledElementBinding="version" camunda:calledElementVersion="3"'}),
                tmp_path=tmp_path)
    assert "calls version 3 of “Expert check”, which does not exist (stored versions: 1)" in out
    assert "it would be refused" in out
    out = check(app, caller(**{'calledElement="expert_check"': 'calledElement="${which}"'}), tmp_path=tmp_path)
    assert "calledElement is an expression, which is not supported" in out and "it would be refused" in out
    out = check(app, caller(**{'calledElement="expert_check"': 'calledElement="expert_booking"'}),
                tmp_path=tmp_path)
    assert "a process may not call itself" in out and "expert_booking → expert_booking" in out


def test_a_process_calling_back_its_caller_is_refused(app, client, tmp_path):
    store(CALLED)
    store(CALLER, "expert_booking.bpmn")
    # A new Expert check that calls Expert booking, which calls Expert check.
    loop = (CALLER.replace('calledElement="expert_check"', 'calledElement="CALLS"')
            .replace('"expert_booking"', '"expert_check"').replace('calledElement="CALLS"',
                                                                  'calledElement="expert_booking"'))
    out = check(app, loop, "expert_check.bpmn", tmp_path=tmp_path)
    assert "expert_check → expert_booking → expert_check" in out and "it would be refused" in out


def test_both_diagrams_pass_the_checks_without_a_warning(app, tmp_path):
    assert check(app, CALLED, "expert_check.bpmn", tmp_path=tmp_path).strip() == (
        "expert_check: 0 errors, 0 warnings: it can be uploaded")
    store(CALLED)
    assert check(app, CALLER, tmp_path=tmp_path).strip() == "expert_booking: 0 errors, 0 warnings: it can be uploaded"


def test_a_called_process_without_an_active_version_is_a_warning(app, tmp_path):
    version, _ = store_version({"expert_check.bpmn": CALLED}, None, activate=False)
    db.session.commit()
    out = check(app, caller(), tmp_path=tmp_path)
    assert "has no active version: activate one before a request reaches this step" in out
    assert "it can be uploaded" in out


def test_request_pages_show_the_called_process(client):
    store(CALLED)
    upload_process(client, {"expert_booking.bpmn": caller()})
    instance = start_booking(client)
    sign_in(client, "marta")
    page = text(client.get(f"/requests/{instance.id}"))
    assert "Calls Expert check, version 1: waiting" in page
    assert "Review expert (Expert check)" in page  # what it waits for
    french = text(client.get(f"/requests/{instance.id}", headers={"Accept-Language": "fr"}))
    assert "Appelle Expert check, version 1 : en cours" in french  # the state in the page's words
    assert "Waiting for Felix Wagner (finance) to review expert (Expert check), since" in text(client.get("/requests"))

    sign_in(client, "clara")  # the diagram shown is the caller's: its call activity is where it waits
    assert client.get(f"/monitor/instances/{instance.id}/markers.json").get_json() == {
        "completed": ["start_booking"], "current": ["call_check"], "failed": []}

    [task] = ready_tasks(instance)
    complete(client, "felix", task, {"decision": "approve"})
    sign_in(client, "clara")
    assert client.get(f"/monitor/instances/{instance.id}/markers.json").get_json() == {
        "completed": ["start_booking", "call_check"], "current": ["confirm_booking"], "failed": []}
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "Calls Expert check, version 1: finished" in page
    # Its steps, in the caller's steps and history.
    assert ("Check asked (Expert check) Review expert (Expert check) – Felix Wagner" in page
            and "Work out the budget (Expert check) – automatic" in page and "Check the expert – called Expert check"
            in page)
    sign_in(client, "marta")
    page = text(client.get(f"/requests/{instance.id}"))
    assert "Calls Expert check, version 1: finished" in page
    assert "Felix Wagner completed Review expert (Expert check)" in page


def test_nested_calls_run_and_are_fixed_at_the_start(client):
    """Booking round calls Expert booking, which calls Expert check: all three in one request."""
    check_v1 = store(CALLED)
    booking = store(CALLER, "expert_booking.bpmn")
    upload_process(client, {"booking_round.bpmn": caller(**{
        '"expert_booking"': '"booking_round"', 'name="Expert booking"': 'name="Booking round"',
        'calledElement="expert_check"': 'calledElement="expert_booking"',
        '<camunda:in source="topic" target="subject" />': '<camunda:in source="topic" target="topic" />',
        'expert_booking.': 'booking_round.'})})
    instance = start_request(client, "marta", "booking_round", {"topic": "Reuse", "budget": "300"})
    assert instance.called_versions == {"expert_booking": booking.id, "expert_check": check_v1.id}
    [task] = ready_tasks(instance)
    assert (task.bpmn_id, task.name) == ("expert_check:review_expert", "Review expert (Expert check)")
    assert engine().task_data(workflow(instance), task.spiff_task_id) == {"budget": 300, "subject": "Reuse",
                                                                          "large": False}
    complete(client, "felix", task, {"decision": "approve"})
    [inner] = ready_tasks(instance)
    assert (inner.bpmn_id, inner.name) == ("expert_booking:confirm_booking", "Confirm the booking (Expert booking)")
    assert engine().task_data(workflow(instance), inner.spiff_task_id)["approved_budget"] == 400
    complete(client, "marta", inner, {"confirmed": "y"})
    [outer] = ready_tasks(instance)
    assert (outer.bpmn_id, outer.name) == ("confirm_booking", "Confirm the booking")
    complete(client, "marta", outer, {"confirmed": "y"})
    assert refreshed(instance).status == InstanceStatus.COMPLETED
    sign_in(client, "clara")
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "Expert booking, version 1: finished" in page and "Expert check, version 1: finished" in page


def test_requests_that_call_processes_stay_on_their_version(client):
    store(CALLED)
    upload_process(client, {"expert_booking.bpmn": caller()})
    instance = start_booking(client)
    newer = store(CALLER.replace('name="Confirm the booking"', 'name="Confirm"'), "expert_booking.bpmn")
    [plan] = dry_run(newer)
    assert plan.instance.id == instance.id and not plan.movable
    assert plan.reasons == ["It calls other processes (call activities), and such requests stay on the version "
                            "they started on."]


def test_a_check_without_a_database_says_the_calls_were_not_looked_up(tmp_path):
    done = run_check(tmp_path, FIXTURES / "diagrams" / "expert_booking.bpmn")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert ("WARNING expert_booking.bpmn: the processes it calls were not looked up: the database has no tables yet "
            "(run `flask db upgrade`)") in done.stdout


def test_monitoring_names_a_called_processs_steps_through_its_own_catalogue(client):
    """Issue 13: the called version's .po words its steps and its name on the caller's page."""
    french = ('msgid "Expert check"\nmsgstr "Vérification de l’expert"\n\n'
              'msgid "Check asked"\nmsgstr "Vérification demandée"\n\n'
              'msgid "Work out the budget"\nmsgstr "Calcul du budget"\n')
    store_version({"expert_check.bpmn": CALLED, "expert_check.fr.po": french}, None)
    db.session.commit()
    upload_process(client, {"expert_booking.bpmn": caller()})
    instance = start_booking(client)
    [task] = ready_tasks(instance)
    complete(client, "felix", task, {"decision": "approve"})
    sign_in(client, "clara")
    page = text(client.get(f"/monitor/instances/{instance.id}", headers={"Accept-Language": "fr"}))
    assert "Vérification demandée (Vérification de l’expert)" in page
    assert "Calcul du budget (Vérification de l’expert)" in page
    assert "a appelé Vérification de l’expert" in page
    assert "Check asked" not in page and "Work out the budget" not in page
