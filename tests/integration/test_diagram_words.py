"""The diagram's own words inside the app's sentences, in the reader's language: what happens
next, the answered steps, the decision pages, the privacy notice and the record of processing;
and an invitation written in the language the inviting person chose for the new account; and the
last English words found walking the demo in French."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from app.outbox.deliver import deliver_outbox
from tests.conftest import loaded, person, post_form, sign_in
from tests.diagrams import text
from tests.integration.test_admin import organisation
from tests.integration.test_email import parts, smtp  # noqa: F401 - the SMTP server fixture
from tests.integration.test_statements import row
from tests.integration.test_travel_http import file_claim, ready_task


def in_language(client, language: str) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = f"{language};q=1.0"


def complete(client, task, data: dict):
    response = post_form(client, f"/tasks/{task.id}", data)
    assert response.status_code == 302, text(response)[:2000]
    return text(client.get(response.headers["Location"]))


def test_what_happens_next_and_the_answered_steps_name_the_steps_in_french(client):
    in_language(client, "fr")
    instance = file_claim(client)  # Marta, in French from her first sign-in
    mine = text(client.get("/requests"))
    assert "pour vérifier la demande, depuis le" in mine
    assert "check claim" not in mine and "Check claim" not in mine
    page = text(client.get(f"/requests/{instance.id}"))
    assert "En attente de Clara Schmidt ou Tom Peeters (coordination) pour vérifier la demande" in page

    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    after = complete(client, check, {"decision": "approve"})
    assert "Terminé : Vérifier la demande." in after
    assert "Felix Wagner (le service financier) va approuver le paiement." in after
    assert "Approve payment" not in after and "Check claim" not in after

    pay = ready_task(instance, "approve_payment")
    sign_in(client, "felix")
    task_page = loaded(client.get(f"/tasks/{pay.id}"))  # the coordinator's answers, under the step's name
    assert '<h3 class="govuk-heading-s govuk-!-margin-bottom-1">Vérifier la demande</h3>' in task_page
    assert ">Check claim</h3>" not in task_page
    after = complete(client, pay, {"decision": "approve", "payment_date": "2026-11-20",
                                   "payment_reference": "BBI-2026-0042"})
    assert "La demande est terminée : Demande payée." in after

    sign_in(client, "marta")
    page = text(client.get(f"/requests/{instance.id}"))
    assert "Statut Payée" in page  # the history beneath keeps its English line


def test_what_happens_next_in_german_keeps_the_nouns_capital_and_english_is_unchanged(client):
    in_language(client, "de")
    instance = file_claim(client)
    page = text(client.get(f"/requests/{instance.id}"))
    assert "auf Clara Schmidt oder Tom Peeters (Koordination): Antrag prüfen." in page

    english = client.application.test_client()
    sign_in(english, "tom")  # Tom's browser asks for no language: English, as before
    mine = english.get(f"/requests/{instance.id}").get_data(as_text=True)
    assert f'href="/tasks/{ready_task(instance, "check_claim").id}">Waiting for you: Check claim, since' in mine


def test_the_privacy_notice_in_german_names_processes_fields_and_ends_in_german(client):
    in_language(client, "de")
    page = loaded(client.get("/privacy"))
    travel = row(page, "Reisekostenerstattung")
    assert "IBAN (Bankverbindung)" in travel and "„Abgelehnt“" in travel
    assert "Ansprechperson (Kontaktdaten)" in row(page, "Aufnahme in eine Gruppe")  # the diagram's kind of data
    for english in ("Travel reimbursement", "Group onboarding", "Contact person", "Rejected", "contact details"):
        assert english not in page, english


def test_the_record_of_processing_and_its_csv_in_french(client):
    sign_in(client, "admin")
    in_language(client, "fr")
    page = text(client.get("/admin/processing"))
    assert "Remboursement des frais de déplacement" in page
    assert "Travel reimbursement" not in page and "« Refusée »" in page
    assert "Expert souhaité (Texte, nom de l’expert)" in page  # a field, and the kind of data it holds
    assert "Demandeur (la personne qui a lancé la demande)" in page  # a lane, in the diagram's French
    csv = client.get("/admin/processing.csv").get_data(as_text=True)
    assert "Remboursement des frais de déplacement" in csv and "Travel reimbursement" not in csv


def test_an_invitation_is_written_in_the_language_chosen_for_the_new_account(client, smtp):  # noqa: F811
    sign_in(client, "admin")
    in_language(client, "fr")
    form = loaded(client.get("/admin/people/new"))
    assert "Langue" in form
    assert re.search(r'value="fr"\s+checked', form)  # the inviting person's language first
    assert '<label class="govuk-label govuk-radios__label" for="field-language-3" lang="de">Deutsch</label>' in form

    response = post_form(client, "/admin/people/new", {
        "name": "Jana Novak", "email": "jana.novak@ljubljana.example.eu",
        "organisation": str(organisation("City of Vienna").id), "roles": ["buyer"], "language": "de"})
    assert response.status_code == 302, text(response)[:2000]
    jana = person("jana.novak")
    assert jana.language == "de"
    deliver_outbox()
    [invitation] = smtp.to("jana.novak")
    body, html = parts(invitation)
    assert invitation["Subject"] == "Sie sind zu Big Buyers Workflow eingeladen"
    assert body.startswith("Guten Tag Jana Novak,") and '<html lang="de">' in html


def test_an_invitation_without_a_choice_is_in_the_inviting_persons_language(client, smtp):  # noqa: F811
    sign_in(client, "admin")
    in_language(client, "fr")
    post_form(client, "/admin/people/new", {  # a form without the radios: the inviting person's language
        "name": "Jana Novak", "email": "jana.novak@ljubljana.example.eu",
        "organisation": str(organisation("City of Vienna").id), "roles": ["buyer"]})
    assert person("jana.novak").language == "fr"
    deliver_outbox()
    [invitation] = smtp.to("jana.novak")
    assert invitation["Subject"] == "Vous êtes invité à rejoindre Big Buyers Workflow"


def test_a_language_not_offered_is_refused_and_nobody_is_added(client):
    sign_in(client, "admin")
    response = post_form(client, "/admin/people/new", {
        "name": "Jana Novak", "email": "jana.novak@ljubljana.example.eu",
        "organisation": str(organisation("City of Vienna").id), "roles": ["buyer"], "language": "xx"})
    page = loaded(response, 400)
    assert "Select the language of the invitation" in page and 'href="#field-language"' in page
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_monitoring_names_the_process_its_steps_and_what_waits_in_french(client):
    instance = file_claim(client)
    sign_in(client, "clara")
    in_language(client, "fr")
    html = loaded(client.get("/monitor/instances"))
    assert re.search(r'<option value="travel_reimbursement"\s*>Remboursement des frais de déplacement</option>', html)
    listing = text(client.get("/monitor/instances"))
    assert "Remboursement des frais de déplacement, version 1 · demande" in listing
    assert "Vérifier la demande : Clara Schmidt, Tom Peeters" in listing
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    assert "Version 1 de Remboursement des frais de déplacement" in page
    assert "Vérifier la demande , en attente de Clara Schmidt, Tom Peeters depuis le" in page
    assert "Approuver le paiement" in page  # a step still ahead
    assert "Remboursement des frais de déplacement · demande" in page and "Lieu de départ Gdańsk" in page


def test_a_task_for_others_names_the_step_and_its_lane_in_french(client):
    in_language(client, "fr")
    instance = file_claim(client)  # Marta may read her request, not do the coordinators' step
    check = ready_task(instance, "check_claim")
    page = text(client.get(f"/tasks/{check.id}"))
    assert "« Vérifier la demande » pour" in page and "Coordinateur" in page
    assert "Check claim" not in page and "Coordinator" not in page


def test_the_last_english_words_found_walking_the_demo_in_french(client):
    in_language(client, "fr")
    sign_in(client, "ana")
    settings = text(client.get("/profile"))  # the deputy list named each person's role in English
    assert "Clara Schmidt (Coordinateur)" in settings and "(coordinator)" not in settings
    sign_in(client, "clara")
    report = text(client.get("/reports/flow"))  # the period's end read "Destinataire", an email's "To"
    assert "Au Par exemple" in report and "Destinataire" not in report
    in_language(client, "en")
    sign_in(client, "tom")  # in English, as before
    assert "To For example" in text(client.get("/reports/flow"))


def test_monitoring_names_the_automatic_steps_and_events_in_french_and_german(client):
    """Issue 13: a request's start event, service, rule and script tasks read as the catalogue words them."""
    instance = file_claim(client)
    sign_in(client, "clara")
    in_language(client, "fr")
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    for french in ("Note de frais déposée", "Rattacher à la réunion", "Évaluer l’éligibilité",
                   "Calculer le montant éligible"):
        assert french in page
    for english in ("Travel claim filed", "Match meeting", "Assess eligibility", "Compute eligible amount"):
        assert english not in page
    in_language(client, "de")
    page = text(client.get(f"/monitor/instances/{instance.id}"))
    for german in ("Reisekostenantrag eingereicht", "Sitzung zuordnen", "Erstattungsfähigkeit prüfen",
                   "Erstattungsfähigen Betrag berechnen"):
        assert german in page
    assert "Match meeting" not in page
