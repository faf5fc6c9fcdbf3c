"""The travel claim's start form in French and German, as a browser asking for that language
sees it: the diagram's labels, hints, options and messages translated, axe clean."""

from __future__ import annotations

import pytest

from tests.browser.conftest import User

LANGUAGES = {
    "fr": ("marta", "fr-FR", ["Remboursement des frais de déplacement", "Lieu de départ",
                                       "Avion (classe économique)", "Distance d’un trajet simple, en kilomètres."],
           ["Saisissez votre lieu de départ", "Choisissez votre moyen de transport"]),
    "de": ("pierre", "de-DE", ["Reisekostenerstattung", "Abreiseort", "Flugzeug (Economy Class)",
                                        "Entfernung einer einfachen Fahrt in Kilometern."],
           ["Geben Sie Ihren Abreiseort ein", "Wählen Sie, wie Sie gereist sind"]),
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_travel_claim_form_in_the_readers_language(people, chromium, live_server, journey, language):
    who, locale, shown, messages = LANGUAGES[language]
    # A browser set to the language (its Accept-Language); ``people`` checks every page with axe at the end.
    context = chromium.new_context(locale=locale, timezone_id="Europe/Brussels",
                                   viewport={"width": 1100, "height": 900})
    try:
        reader = User(who, context, journey, live_server.url)
        reader.sign_in()
        send_empty_start_form(reader, language, shown, messages)
    finally:
        context.close()


def send_empty_start_form(reader: User, language: str, shown: list[str], messages: list[str]) -> None:
    page = reader.open("/start/travel_reimbursement", f"travel-start-{language}")
    text = reader.text()
    for words in shown:
        assert words in text, words
    assert "Travelling from" not in text

    reader.send(f"travel-start-{language}-errors", button={"fr": "Envoyer", "de": "Senden"}[language])
    summary = " ".join(page.locator(".govuk-error-summary").inner_text().split())
    for message in messages:
        assert message in summary, message
