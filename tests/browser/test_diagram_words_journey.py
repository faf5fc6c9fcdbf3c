"""The diagram's words inside the app's sentences, seen in a browser: the French request page's
"what happens next" and a French task page's answered steps, the German privacy notice, and
the French invitation form with its choice of language. axe checks each page."""

from __future__ import annotations

from tests.integration.test_travel_http import file_claim, ready_task


def test_a_french_request_page_a_german_privacy_notice_and_a_french_invitation_form(people, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    instance = file_claim(client)  # Marta's claim, filed in French
    check = ready_task(instance, "check_claim")

    clara = people("clara", locale="fr-FR")
    clara.open(f"/tasks/{check.id}", "fr-check-claim")
    clara.choose("Approuver la demande")
    page = clara.send("fr-check-claim-done", button="Envoyer")
    shown = clara.text()
    assert "Terminé : Vérifier la demande." in shown and "va approuver le paiement" in shown, shown[:500]

    marta = people("marta", locale="fr-FR")
    marta.open(f"/requests/{instance.id}", "fr-request-what-happens-next")
    shown = marta.text()
    assert "Et ensuite" in shown
    assert "En attente de Felix Wagner (le service financier) pour approuver le paiement" in shown

    pay = ready_task(instance, "approve_payment")
    felix = people("felix", locale="fr-FR")
    page = felix.open(f"/tasks/{pay.id}", "fr-approve-payment-answered-steps")
    assert page.get_by_role("heading", name="Vérifier la demande", exact=True).is_visible()

    reader = people("kati", signed_in=False, locale="de-DE")
    page = reader.open("/privacy", "de-privacy-notice")
    shown = reader.text()
    assert "Reisekostenerstattung" in shown and "„Abgelehnt“" in shown and "Travel reimbursement" not in shown

    admin = people("admin", locale="fr-FR")
    page = admin.open("/admin/people/new", "fr-invitation-form")
    assert page.get_by_role("group", name="Langue").is_visible()
    assert page.get_by_label("Français", exact=True).is_checked()
    assert page.get_by_label("Deutsch", exact=True).get_attribute("value") == "de"
