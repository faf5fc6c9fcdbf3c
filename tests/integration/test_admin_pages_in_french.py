"""The monitoring, group, meeting, administration and statement pages in French and German: a
browser asking for either language (Accept-Language) gets the page, its form errors, its flash
messages and the CSV's headings in it; names, groups and meetings stay as they were written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Meeting, WorkingGroup
from app.models.base import utcnow
from tests.conftest import loaded, post_form, sign_in
from tests.diagrams import start_request, text
from tests.integration.test_expert_request_http import expert_request

# What each page says in each language; the English of each is asserted by the pages' own tests.
SAYS = {
    "fr": {
        "monitoring": ["Toutes les demandes", "N’afficher que les demandes", "Afficher ces demandes",
                       "Tous les processus", "Lancée le ou après le", "En attente d’un rôle"],
        "csv": "\ufeff\"ID\",\"Processus\",\"Version\",\"Titre\",\"Statut\",\"Groupe de travail\"",
        "in_progress": "\"En cours\"",
        "group": ["Groupe de travail ·", "Organisations membres", "Réunions à venir", "Réunions passées",
                  "Planifier une réunion"],
        "meeting": ["Ordre du jour", "Votre réponse", "Participerez-vous ?", "Je serai présent en personne",
                    "Personnes invitées", "Présence"],
        "answered": "Votre réponse est enregistrée : vous participerez en ligne.",
        "people": ["Personnes", "Ajouter une personne", "Rechercher par nom ou adresse e-mail", "Coordinateur",
                   "Acheteur", "Administrateur"],
        "person_error": "Saisissez le nom complet de la personne",
        "accessibility": ["Déclaration d’accessibilité de Big Buyers Workflow", "partiellement conforme",
                          "État de conformité", "Procédure de mise en œuvre", "admin@bigbuyers.example.eu . Précisez"],
        "privacy": ["Avis de confidentialité", "Ce que nous collectons", "coordonnées bancaires",
                    "7 ans après la clôture de la demande", "Vos droits",
                    "les coordinateurs du secrétariat et les responsables financiers"],
    },
    "de": {
        "monitoring": ["Alle Anträge", "Nur Anträge anzeigen", "Diese Anträge anzeigen", "Alle Prozesse",
                       "Gestellt am oder nach dem", "Wartet auf eine Rolle"],
        "csv": "\ufeff\"ID\",\"Prozess\",\"Version\",\"Titel\",\"Status\",\"Arbeitsgruppe\"",
        "in_progress": "\"In Bearbeitung\"",
        "group": ["Arbeitsgruppe ·", "Mitgliedsorganisationen", "Kommende Sitzungen", "Vergangene Sitzungen",
                  "Sitzung planen"],
        "meeting": ["Tagesordnung", "Ihre Antwort", "Nehmen Sie teil?", "Ich nehme persönlich teil",
                    "Eingeladen", "Anwesend"],
        "answered": "Ihre Antwort ist gespeichert: Sie nehmen online teil.",
        "people": ["Personen", "Person hinzufügen", "Nach Name oder E-Mail-Adresse suchen", "Koordinator",
                   "Einkäufer", "Administrator"],
        "person_error": "Geben Sie den vollständigen Namen der Person ein",
        "accessibility": ["Erklärung zur Barrierefreiheit für Big Buyers Workflow", "teilweise vereinbar",
                          "Stand der Vereinbarkeit", "Durchsetzungsverfahren", "admin@bigbuyers.example.eu . Nennen"],
        "privacy": ["Datenschutzhinweis", "Was wir erheben", "Bankverbindung",
                    "7 Jahre nach Abschluss des Antrags", "Ihre Rechte",
                    "die Koordinatoren des Sekretariats und die Finanzverantwortlichen"],
    },
}
# English these pages said before; the header and footer around them are other pages' concern.
ENGLISH = ["Show these requests", "Waiting for a role", "Coming meetings", "Will you attend?",
           "Add a person", "Accessibility statement for", "Compliance status", "What we collect", "Your rights"]


@pytest.fixture(params=["fr", "de"])
def language(request, client) -> str:
    """Every request of ``client`` asks for the language, as a browser set to it would."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = f"{request.param}-{request.param.upper()},{request.param};q=0.9"
    return request.param


def circular_ict() -> WorkingGroup:
    return db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))


def coming_meeting() -> Meeting:
    return db.session.scalar(select(Meeting).where(Meeting.group_id == circular_ict().id,
                                                   Meeting.starts_at > utcnow()).order_by(Meeting.starts_at))


def assert_says(page: str, expected: list[str]) -> None:
    missing = [words for words in expected if words not in page]
    assert not missing, (missing, page[:3000])


def test_monitoring_and_its_csv_speak_the_browsers_language(client, language):
    sign_in(client, "clara")
    page = text(client.get("/monitor/instances"))
    assert_says(page, SAYS[language]["monitoring"])
    assert not [words for words in ENGLISH if words in page]
    csv = loaded(client.get("/monitor/instances.csv"))
    assert csv.startswith(SAYS[language]["csv"])


def test_the_csv_rows_are_worded_in_the_browsers_language_as_they_stream(client, language):
    start_request(client, "marta", "expert_request", expert_request(5))
    sign_in(client, "clara")
    rows = loaded(client.get("/monitor/instances.csv")).splitlines()
    assert rows[0].startswith(SAYS[language]["csv"]) and len(rows) == 2
    assert SAYS[language]["in_progress"] in rows[1]  # the status: written after the request's context ended


def test_a_group_page_and_a_meeting_page_speak_the_browsers_language(client, language):
    sign_in(client, "marta")
    group_page = text(client.get(f"/groups/{circular_ict().id}"))
    assert_says(group_page, [*SAYS[language]["group"][:4], "Circular ICT"])  # the group's name is data
    meeting = coming_meeting()
    meeting_page = text(client.get(f"/meetings/{meeting.id}"))
    assert_says(meeting_page, [*SAYS[language]["meeting"], meeting.title])
    answered = post_form(client, f"/meetings/{meeting.id}", {"answer": "online"})
    assert answered.status_code == 302
    assert SAYS[language]["answered"] in text(client.get(answered.headers["Location"]))


def test_the_people_list_and_a_refused_form_speak_the_browsers_language(client, language):
    sign_in(client, "admin")
    page = text(client.get("/admin/people"))
    assert_says(page, [*SAYS[language]["people"], "Clara Schmidt"])
    refused = post_form(client, "/admin/people/new", {"name": "", "email": "new.person@example.eu",
                                                      "organisation": "", "roles": "buyer"})
    assert refused.status_code == 400
    assert SAYS[language]["person_error"] in text(refused)


@pytest.mark.parametrize("url, key", [("/accessibility", "accessibility"), ("/privacy", "privacy")])
def test_the_statements_speak_the_browsers_language_signed_out(client, language, url, key):
    page = text(client.get(url))
    assert_says(page, SAYS[language][key])
    assert not [words for words in ENGLISH if words in page]


def test_without_a_language_asked_for_the_pages_stay_english(client):
    statement = text(client.get("/accessibility"))
    assert "Accessibility statement for Big Buyers Workflow" in statement
    assert "tell us by email at admin@bigbuyers.example.eu . Say which page" in statement  # a space after the link
    sign_in(client, "clara")
    assert "Show these requests" in text(client.get("/monitor/instances"))
