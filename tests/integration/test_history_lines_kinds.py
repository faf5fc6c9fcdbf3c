"""The kinds of history lines besides a diagram's steps, in the reader's language (issue 13):
what the engine ran (signals, escalations, errors, event subprocesses), messages between
requests, a task's people re-checked after a change of roles, and the administrators' records
of people, organisations, groups, names and sign-ins. Each is kept as a kind and its
parameters and put together when shown; its English sentence stays the row's summary."""

from __future__ import annotations

import re
from html import unescape

from flask_babel import force_locale
from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import AuditEvent, OutboxMessage, ProcessInstance, Role
from app.outbox.deliver import deliver_outbox
from app.services import people
from app.services.history import instance_history
from app.services.people.signins import SignInRefused, check_sign_in
from tests.conftest import loaded, person, sign_in
from tests.diagrams import FIXTURES, complete, refreshed, start_request, upload_process
from tests.integration.test_events_http import only, uploaded
from tests.integration.test_history_lines import history_text, read_by_marta_in
from tests.integration.test_messages_http import newest_of, upload
from tests.integration.test_travel_http import file_claim, ready_task


def lines_in(language: str, instance: ProcessInstance) -> list[str]:
    """The request's history as a reader of ``language`` reads it (monitoring's and the request page's)."""
    db.session.expire_all()
    instance = db.session.get_one(ProcessInstance, instance.id)
    with force_locale(language):
        return [entry.line for entry in instance_history(instance, load_model(instance.version, instance.called),
                                                         None)]


def test_the_engines_lines_are_in_french_on_the_request_page(client):
    uploaded(client, "escalation_budget")
    instance = start_request(client, "marta", "escalation_budget", {"subject": "Budget for the study"})
    read_by_marta_in(client, "fr")
    shown = history_text(client, instance)
    assert "L’escalade « late » a été déclenchée à « Budget is late »" in shown
    assert "L’escalade « late » a été interceptée à « Late » pendant que « Prepare the budget » continuait" in shown
    assert "was raised" not in shown and "was caught" not in shown
    # The summary keeps the English sentence, for the search, the CSV and the logs.
    assert "The escalation “late” was raised at “Budget is late”" in db.session.scalars(
        select(AuditEvent.summary).where(AuditEvent.instance_id == instance.id)).all()


def test_errors_signals_and_event_subprocesses_are_in_french_and_german(client):
    uploaded(client, "error_budget")
    refused = start_request(client, "marta", "error_budget", {"subject": "Offer for laptops"})
    complete(client, "clara", only(refused, "check_budget"), {"decision": "reject"})
    assert "L’erreur « No budget » (code no_budget) a été levée à « No budget »" in lines_in("fr", refused)
    assert ("Der Fehler „No budget“ (Code no_budget) hat „Prepare the offer“ beendet; der Antrag ging bei "
            "„No budget“ weiter") in lines_in("de", refused)

    uploaded(client, "event_subprocesses")
    instance = start_request(client, "marta", "event_subprocesses", {"subject": "Stand at the fair"})
    complete(client, "clara", only(instance, "review_request"), {"decision": "reject"})
    french = lines_in("fr", instance)
    assert "L’erreur « Refused » (code refused) a été levée à « Refused »" in french
    assert "Une erreur a lancé « When refused »" in french

    uploaded(client, "signal_withdrawal")
    withdrawn = start_request(client, "marta", "signal_withdrawal", {"subject": "Room for the kick-off"})
    complete(client, "marta", only(withdrawn, "withdraw_request"), {"reason": "No longer needed"})
    french = lines_in("fr", withdrawn)
    assert "Le signal « withdrawn » a été envoyé à « Withdrawal sent »" in french
    assert ("Le signal « withdrawn » a arrêté « Review the request » ; la demande a continué à « Withdrawn »"
            in french)


def test_an_error_nobody_catches_is_in_french_on_the_monitoring_page(client):
    uploaded(client, "uncaught_error")
    instance = start_request(client, "marta", "uncaught_error", {"subject": "Fire safety check"})
    complete(client, "clara", only(instance, "do_check"), {"decision": "reject"})
    english = ("The error “Check failed” (code check_failed) thrown at “Check failed” is caught by nothing, so "
               "the request stopped")
    assert refreshed(instance).error == english  # the error column and the summary: English, as before
    admin = person("admin")
    admin.language = "fr"
    db.session.commit()
    sign_in(client, "admin")
    french = ("L’erreur « Check failed » (code check_failed) levée à « Check failed » n’est interceptée par rien : "
              "la demande s’est donc arrêtée")
    page = " ".join(unescape(loaded(client.get(f"/monitor/instances/{instance.id}"))).split())
    assert page.count(french) == 3 and english not in page  # the warning, the failed step and the history
    retry = " ".join(unescape(loaded(client.get(f"/monitor/instances/{instance.id}/retry"))).split())
    assert french in retry and english not in retry


def test_a_message_sent_and_the_request_it_started_are_in_french(client):
    upload(client, "msg_group_notice", "msg_wait_for_group", "msg_started_by_group")
    waiting = start_request(client, "marta", "msg_wait_for_group", {"group_code": "ICT"})
    start_request(client, "ana", "msg_group_notice", {"group_code": "ICT", "note": "The room is booked"})
    sender, started = newest_of("msg_group_notice"), newest_of("msg_started_by_group")
    assert (f"Le message « Group ready » a été envoyé à {refreshed(waiting).title}, une nouvelle demande "
            f"« {started.title} »") in lines_in("fr", sender)

    assert (f"Die Nachricht „Group ready“ wurde an {refreshed(waiting).title}, einen neuen Antrag "
            f"„{started.title}“ gesendet") in lines_in("de", sender)


def test_a_tasks_people_rechecked_after_a_change_of_roles_read_in_french(client, app):
    claim = file_claim(client)
    tom, admin = person("tom"), person("admin")
    assert tom.id in {c.user_id for c in ready_task(claim, "check_claim").candidates}
    with app.test_request_context(), force_locale("fr"):  # the administrator reads French
        people.update_user(admin, tom, name=tom.name, email=tom.email, organisation_id=tom.organisation_id,
                           roles=[Role.BUYER], active=True)
        clara = person("clara")
        _user, moved = people.update_user(admin, clara, name=clara.name, email=clara.email,
                                          organisation_id=clara.organisation_id, roles=clara.roles, active=False)
        db.session.commit()
    # What the administrator is told of the tasks the deactivation moved, in their language.
    assert [line for line in moved if re.fullmatch(
        r"L’étape « Vérifier la demande » de « Note de frais pour .+ » n’attend plus personne : confiez-la à "
        r"quelqu’un depuis la page de la demande", line)], moved
    assert "Roles or a group's lead changed: Check claim no longer waits for Tom Peeters" in db.session.scalars(
        select(AuditEvent.summary).where(AuditEvent.instance_id == claim.id)).all()
    assert ("Les rôles ou la direction d’un groupe ont changé : l’étape « Vérifier la demande » n’attend plus "
            "Tom Peeters") in lines_in("fr", claim)


def test_the_administrators_records_are_in_german(client, app):
    admin = person("admin")
    with app.test_request_context():
        organisation = people.add_organisation(admin, name="Stadt Graz", kind="city", country="AT")
        invited = people.invite_user(admin, name="Eva Huber", email="eva.huber@graz.example.eu",
                                     organisation_id=organisation.id, roles=[Role.BUYER], language="de")
        people.update_user(admin, invited, name="Eva Maria Huber", email=invited.email,
                           organisation_id=organisation.id, roles=[Role.BUYER, Role.COORDINATOR], active=False)
        group = people.add_group(admin, name="Clean buses", sector="Transport", lead_id=person("ana").id)
        people.add_group_member(admin, group, organisation.id)
        people.add_name_mapping(admin, name="Finance desk", stands_for="role:finance")
        db.session.commit()
    try:
        check_sign_in("nobody@graz.example.eu", "a guess", "192.0.2.7")
    except SignInRefused:
        db.session.commit()
    admin.language = "de"
    db.session.commit()
    sign_in(client, "admin")
    page = " ".join(unescape(loaded(client.get("/admin/"))).split())
    for line in ("Stadt Graz (Stadt, Österreich) hinzugefügt",
                 "Eva Huber (eva.huber@graz.example.eu) mit Einkäufer hinzugefügt, eingeladen auf Deutsch",
                 "Einladung per E-Mail an Eva Huber (eva.huber@graz.example.eu) gesendet",
                 "Eva Maria Huber (eva.huber@graz.example.eu): Name Eva Huber → Eva Maria Huber; "
                 "Rollen Einkäufer → Einkäufer, Koordinator; deaktiviert",
                 "Arbeitsgruppe Clean buses (Transport) hinzugefügt, geleitet von Ana Costa",
                 "Stadt Graz zu Clean buses hinzugefügt",
                 "‚Finance desk‘ in Diagrammen steht für alle mit der Rolle Finanzen",
                 "Fehlgeschlagene Anmeldung mit einer Adresse ohne Konto von 192.0.2.7"):
        assert line in page, line
    for english in ("added with", "Working group", "in diagrams", "Failed sign-in", "emailed to"):
        assert english not in page, english


def test_a_task_waiting_for_the_administrators_says_why_in_french_and_the_name_mapped_later_too(client, app):
    files = {"people_mapping.bpmn": (FIXTURES / "diagrams" / "people_mapping.bpmn").read_bytes()}
    upload_process(client, files)
    admin = person("admin")
    admin.language = "fr"
    db.session.commit()
    instance = start_request(app.test_client(), "marta", "people_mapping", {"subject": "Invoice 12"})
    deliver_outbox()
    db.session.expire_all()
    [approve] = [task for task in refreshed(instance).tasks if task.bpmn_id == "approve_invoice"]
    email = db.session.scalar(select(OutboxMessage.delivered_text).where(
        OutboxMessage.task_id == approve.id, OutboxMessage.to_address.startswith("admin")))
    assert ("Personne n’est encore désigné pour cette étape : un administrateur peut associer « management » sous "
            "Administration → Noms dans les diagrammes. D’ici là, elle attend les administrateurs."
            ) in " ".join(email.split()), email  # the administrator's email says why, in their language
    with app.test_request_context():
        people.add_name_mapping(admin, name="Management", stands_for="role:coordinator")
        db.session.commit()
    assert ("« Management » désigne désormais toutes les personnes ayant le rôle coordinateur : l’étape "
            "« Approve the invoice » attend désormais aussi Clara Schmidt, Tom Peeters et n’attend plus "
            "Platform Administrator") in lines_in("fr", instance)
