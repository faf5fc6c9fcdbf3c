"""The pages in French and in German for a browser that asks for them (Accept-Language): the
sign-in page and its messages, the inbox, a task page, a request page with what happens next,
an error page and a flash message. Names of people, groups and diagram texts are data and stay
as they are; the service's own words are translated."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from app.outbox.deliver import deliver_outbox
from app.steps.lanes import day_label
from tests.conftest import csrf_token, post_form, sign_in
from tests.diagrams import FIXTURES, history, ready_tasks, start_request, text, upload_process
from tests.integration.test_email import decision_links, smtp  # noqa: F401 - the SMTP server fixture
from tests.integration.test_travel_http import file_claim, ready_task

# As read: text() turns the non-breaking space French puts before ":" and "?" into a space.
WORDS = {
    "fr": {
        "sign_in": "Se connecter", "forgotten": "Mot de passe oublié ?", "email_label": "Adresse e-mail",
        "enter_email": "Saisissez votre adresse e-mail", "problem": "Il y a un problème",
        "signed_out": "Vous êtes déconnecté.", "sign_in_first": "Connectez-vous pour continuer.",
        "inbox": "En attente de ma part", "waiting_since": "En attente depuis",
        "started_by": "Lancée par", "waiting": "vous attend",
        "sent": "Envoyée :", "next": "Et ensuite", "history": "Historique",
        "waiting_for": "En attente de Clara Schmidt ou Tom Peeters (coordination) pour",
        "since": "depuis le {day}.",
        "started_line": "Déposée par Marta Nowak pour Circular ICT le {day}. En attente de votre part depuis le {day}.",
        "so_far": "Cette demande jusqu’ici", "send": "Envoyer", "done": "Terminé :",
        "not_found": "Page introuvable", "not_found_hint": "Si vous avez saisi l’adresse web",
        "skip": "Aller au contenu principal", "sign_out": "Se déconnecter", "my_requests": "Mes demandes",
        "decide": ("Confirmez votre décision : Approuver la demande", "Décision enregistrée", "Et ensuite",
                   "Felix Wagner (le service financier) va",
                   "Une décision a déjà été prise", "Clara Schmidt a terminé « Vérifier la demande » le"),
        "why": "Personne n’est encore désigné pour cette étape : un administrateur peut associer « management » "
               "sous Administration → Noms dans les diagrammes. D’ici là, elle attend les administrateurs.",
    },
    "de": {
        "sign_in": "Anmelden", "forgotten": "Passwort vergessen?", "email_label": "E-Mail-Adresse",
        "enter_email": "Geben Sie Ihre E-Mail-Adresse ein", "problem": "Es gibt ein Problem",
        "signed_out": "Sie sind abgemeldet.", "sign_in_first": "Melden Sie sich an, um fortzufahren.",
        "inbox": "Für mich zu erledigen", "waiting_since": "Wartet seit",
        "started_by": "Gestellt von", "waiting": "auf Sie, die neueste",
        "sent": "Gesendet:", "next": "Wie es weitergeht", "history": "Verlauf",
        "waiting_for": "auf Clara Schmidt oder Tom Peeters (Koordination):",
        "since": "Wartet seit dem {day} auf",
        "started_line": "Gestellt von Marta Nowak für Circular ICT am {day}. Wartet seit dem {day} auf Sie.",
        "so_far": "Dieser Antrag bisher", "send": "Senden", "done": "Erledigt:",
        "not_found": "Seite nicht gefunden", "not_found_hint": "Wenn Sie die Webadresse eingegeben haben",
        "skip": "Zum Hauptinhalt springen", "sign_out": "Abmelden", "my_requests": "Meine Anträge",
        "decide": ("Bestätigen Sie Ihre Entscheidung: Antrag genehmigen", "Entscheidung gespeichert",
                   "Wie es weitergeht",
                   "Als Nächstes ist Felix Wagner (der Finanzabteilung) an der Reihe",
                   "Darüber wurde bereits entschieden", "Clara Schmidt hat „Antrag prüfen“ erledigt am"),
        "why": "Für diesen Schritt ist noch niemand benannt: Die Administration kann „management“ unter "
               "Verwaltung → Namen in Diagrammen zuordnen. Bis dahin wartet er auf die Administration.",
    },
}


@pytest.fixture(params=["fr", "de"])
def language(request, client) -> str:
    """The browser asks for this language on every request the test makes."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = f"{request.param};q=1.0, en;q=0.5"
    return request.param


def test_the_sign_in_page_its_errors_and_the_sign_out_message_are_in_the_browsers_language(client, language):
    words = WORDS[language]
    response = client.get("/inbox")  # not signed in yet: to the sign-in page, with a message
    assert response.status_code == 302
    assert words["sign_in_first"] in text(client.get(response.headers["Location"]))
    shown = text(client.get("/sign-in"))
    for key in ("sign_in", "forgotten", "email_label", "skip"):
        assert words[key] in shown
    assert "Forgotten your password?" not in shown and "Email address" not in shown

    refused = text(client.post("/sign-in", data={"email": "", "password": "",
                                                 "csrf_token": csrf_token(client, "/sign-in")}))
    assert words["problem"] in refused and words["enter_email"] in refused
    assert "There is a problem" not in refused

    sign_in(client, "marta")
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 302
    assert words["signed_out"] in text(client.get(response.headers["Location"]))


def test_inbox_task_and_request_pages_speak_french_or_german_around_the_data(app, client, language):
    words = WORDS[language]
    with app.test_request_context(headers={"Accept-Language": language}):
        # as the pages name a day: in the display time zone (after 23:00 UTC, Brussels is a day ahead)
        today = day_label(dt.datetime.now(ZoneInfo(app.config["DISPLAY_TIMEZONE"])).date())
    instance = file_claim(client)  # Marta files a travel claim for Circular ICT

    request_page = text(client.get(f"/requests/{instance.id}"))
    assert words["sent"] in request_page  # the flash after the start form
    assert words["next"] in request_page and words["history"] in request_page
    assert words["waiting_for"] in request_page and words["since"].format(day=today) in request_page
    assert "What happens next" not in request_page and "Waiting for" not in request_page
    assert words["my_requests"] in text(client.get("/requests"))

    sign_in(client, "clara")
    inbox = text(client.get("/inbox"))
    assert words["inbox"] in inbox and words["waiting_since"] in inbox and words["started_by"] in inbox
    assert words["waiting"] in inbox and words["sign_out"] in inbox
    assert "Waiting for me" not in inbox and "newest first" not in inbox

    check = ready_task(instance, "check_claim")
    task_page = text(client.get(f"/tasks/{check.id}"))
    assert words["started_line"].format(day=today) in task_page
    assert words["so_far"] in task_page and words["send"] in task_page
    assert "This request so far" not in task_page

    response = post_form(client, f"/tasks/{check.id}", {"decision": "approve"})
    assert response.status_code == 302, text(response)[:2000]
    assert words["done"] in text(client.get(response.headers["Location"]))


def test_an_error_page_is_in_the_browsers_language(client, language):
    words = WORDS[language]
    sign_in(client, "marta")
    page = text(client.get("/requests/987654"))
    assert words["not_found"] in page and words["not_found_hint"] in page
    assert "Page not found" not in page


def test_why_a_task_waits_for_the_administrators_follows_the_reader_and_the_history_stays_in_english(
        app, client, language):
    """The task page works the sentence out as it is shown; the history keeps the one written."""
    upload_process(client, {"people_mapping.bpmn": (FIXTURES / "diagrams" / "people_mapping.bpmn").read_bytes()})
    marta = app.test_client()  # she starts it from a browser in the same language: the step runs in it
    marta.environ_base["HTTP_ACCEPT_LANGUAGE"] = client.environ_base["HTTP_ACCEPT_LANGUAGE"]
    instance = start_request(marta, "marta", "people_mapping", {"subject": "Invoice 12"})
    [approve] = ready_tasks(instance, "approve_invoice")  # its lane, 'management', is mapped to nobody yet
    page = text(client.get(f"/tasks/{approve.id}"))  # the administrator, signed in by the upload
    assert WORDS[language]["why"] in page
    assert "Nobody is named" not in page
    assert ("Nobody is named for this step yet: an administrator can map ‘management’ under Administration → "
            "Names in diagrams. Until then it waits for the administrators.") in history(instance)


def test_a_decision_from_an_email_link_is_confirmed_and_recorded_in_the_browsers_language(
        client, language, smtp):  # noqa: F811
    confirm, recorded, next_heading, next_line, decided, who = WORDS[language]["decide"]
    file_claim(client)
    deliver_outbox()
    approve = decision_links(smtp.to("clara.schmidt")[0])["Approve"]  # the label is the diagram's
    page = client.get(approve)
    assert confirm in text(page) and "Confirm your decision" not in text(page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = text(client.post(approve, data={"csrf_token": token}))
    assert recorded in done and next_heading in done and next_line in done, done
    again = client.get(approve)  # the task is done: the link says by whom, and changes nothing
    assert again.status_code == 410 and decided in text(again) and who in text(again)
