"""Issue 13's proof: a travel claim in French, from the claimant's form to the paid email.

Marta's and Clara's browsers ask for French, so their first sign-in makes French their
language: the pages, the diagram's own texts (labels, steps, options) and the emails they
receive are in French. Felix's asks for German. Clara approves from the link in her French
email; Felix approves the payment; Marta gets "paid" in French, the amount written the French
way. axe checks every page in both languages (the fixture fails the test otherwise).
"""

from __future__ import annotations

import datetime as dt
import re

from babel import dates

from tests.browser.conftest import PDF, fill_date

MEETING_DAY = dt.date.today() - dt.timedelta(days=12)
IBAN = "PL61 1090 1014 0000 0712 1981 2874"


def test_a_claim_filed_decided_and_paid_in_french(people, live_server):
    # Each chooses their language on their settings page (offered in their browser's), so
    # the emails below go out in it.
    clara = people("clara", locale="fr-FR")
    felix = people("felix", locale="de-DE")
    marta = people("marta", locale="fr-FR")
    for who, language, save, name in ((clara, "Français", "Enregistrer la langue", "fr"),
                                      (felix, "Deutsch", "Sprache speichern", "de"),
                                      (marta, "Français", "Enregistrer la langue", "fr")):
        who.open("/profile", f"{name}-settings")
        who.choose(language)
        who.click(save, f"{name}-language-saved", role="button")
    assert marta.page.locator("html").get_attribute("lang") == "fr"
    marta.click("Déposer une demande", "fr-start-list")
    page = marta.click("Remboursement des frais de déplacement", "fr-claim-form")
    page.get_by_label("Circular ICT (ICT equipment)").check()
    page.get_by_label("Une réunion qui ne figure pas dans la liste").check()
    page.get_by_label("Réunion suivie").fill("Circular ICT, 3e réunion, Bruxelles")
    fill_date(page, "Date de la réunion", MEETING_DAY, "fr")
    page.get_by_label("Lieu de départ").fill("Gdańsk")
    page.get_by_label("Lieu d’arrivée").fill("Bruxelles")
    fill_date(page, "Date de départ", MEETING_DAY - dt.timedelta(days=1), "fr")
    fill_date(page, "Date de retour", MEETING_DAY + dt.timedelta(days=1), "fr")
    page.get_by_label("Train", exact=True).check()
    page.get_by_label("Distance aller (km)").fill("1400")
    page.get_by_label("Billets (EUR)").fill("180.40")
    page.get_by_label("Nuits d’hébergement").fill("2")
    page.get_by_label("Hébergement (EUR)").fill("280.00")
    page.get_by_label("Autres frais (EUR)").fill("12.60")
    page.get_by_label("Titulaire du compte bancaire").fill("Marta Nowak")
    page.get_by_label("IBAN").fill(IBAN)
    page.get_by_label("Justificatifs").set_input_files(
        {"name": "billet.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label(re.compile("^Je déclare que cette demande est exacte")).check()
    page = marta.send("fr-request-filed", button="Envoyer")
    assert re.search(r"/requests/\d+$", page.url)
    request_url = page.url.removeprefix(live_server.url)
    # The request's title in French: the template's translation, the date and amount the French way.
    day = dates.format_date(MEETING_DAY, "long", "fr")
    title = f"Note de frais pour Circular ICT, 3e réunion, Bruxelles, {day} : 473,00 €"
    assert " ".join(page.get_by_role("heading", level=1).inner_text().split()) == title
    clara.open("/inbox", "fr-inbox")
    assert title in " ".join(clara.text().split()), clara.text()

    [asked] = live_server.mail.to("clara")
    body = live_server.mail.text(asked)
    assert body.startswith("Bonjour Clara Schmidt,") and "merci de la vérifier" in body, body
    assert "- Réunion suivie : " in body or "- Réunion suivie: " in body, body  # the diagram's labels, in French
    approve = re.search(r"^[^\n]*: (http://\S+/decide/\S+)$", body, re.M)
    assert approve, body
    page = clara.open(approve.group(1), "fr-email-approve-link")
    assert "Confirmez votre décision" in clara.text(), clara.text()
    clara.go(page.get_by_role("button", name=re.compile("^Confirmer")).first.click, "fr-decision-recorded")
    assert "Décision enregistrée" in clara.text()

    page = felix.open_task("Zahlung genehmigen", "de-approve-payment")
    assert "473,00 €" in felix.text(), felix.text()  # the eligible amount, the German way
    felix.choose("Zahlung genehmigen")
    fill_date(page, "Zahlungsdatum", dt.date.today(), "de")
    page.get_by_label("Zahlungsreferenz").fill("BB-2026-0042")
    felix.send("de-payment-approved", button="Senden")

    marta.open(request_url, "fr-request-paid")
    text = marta.text()
    assert "Statut Payée" in text and "Référence du paiement BB-2026-0042" in text, text
    # Its history too, worked out for her: who did which step, by the diagram's French names.
    for line in ("Marta Nowak a lancé « Remboursement des frais de déplacement »",
                 "Clara Schmidt a terminé l’étape « Vérifier la demande » par e-mail",
                 "Felix Wagner a terminé l’étape « Approuver le paiement »",
                 "La demande est terminée : Demande payée"):
        assert line in text, (line, text)
    [paid] = [m for m in live_server.mail.to("marta") if "payée" in m["Subject"]]
    assert paid["Subject"].startswith("Votre demande de remboursement de frais de déplacement a été payée")
    assert "473,00" in paid["Subject"], paid["Subject"]
    body = live_server.mail.text(paid)
    assert "BB-2026-0042" in body and f"{live_server.url}{request_url}" in body
