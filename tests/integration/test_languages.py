"""Each person's language: chosen on the settings page, first taken from the browser; pages
signed out follow the browser or the switch; dates, numbers and money in the page's language."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask_babel import force_locale

from app.extensions import db
from app.outbox.deliver import deliver_outbox
from app.outbox.render import render_email
from forms.text import format_date, format_moment, format_money, format_number
from tests.conftest import loaded, person, post_form, sign_in
from tests.integration.test_email import decision_links, parts, smtp  # noqa: F401 - the SMTP server fixture
from tests.integration.test_travel_http import file_claim
from tests.unit.test_notice_templates import DATA, context

HTML_LANG = re.compile(r'<html lang="([a-z]+)"')


def test_a_person_chooses_french_and_the_pages_follow(app, client):
    marta = sign_in(client, "marta")
    page = loaded(client.get("/profile"))
    assert HTML_LANG.search(page).group(1) == "en" and "Your settings" in page
    assert '<label class="govuk-label govuk-radios__label" for="language-fr" lang="fr">Français</label>' in page
    saved = post_form(client, "/profile", {"form": "language", "language": "fr"})
    assert saved.status_code == 302
    page = loaded(client.get("/profile"))
    assert HTML_LANG.search(page).group(1) == "fr"
    assert "Vos paramètres" in page and "Votre langue est enregistrée." in page
    assert re.search(r'value="fr"\s+checked', page)
    db.session.expire_all()
    assert db.session.get(type(marta), marta.id).language == "fr"


def test_a_language_not_offered_is_refused(app, client):
    sign_in(client, "marta")
    page = loaded(post_form(client, "/profile", {"form": "language", "language": "xx"}), 400)
    assert "Select a language" in page and 'href="#field-language"' in page
    assert person("marta").language is None


def test_the_first_sign_in_keeps_the_browsers_language_and_a_choice_wins_over_it(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-AT,de;q=0.9,en;q=0.5"
    page = loaded(client.get("/sign-in"))
    assert HTML_LANG.search(page).group(1) == "de"
    sign_in(client, "pierre")
    db.session.expire_all()
    assert person("pierre").language == "de"  # written down at the first sign-in
    post_form(client, "/profile", {"form": "language", "language": "en"})
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    assert HTML_LANG.search(loaded(client.get("/profile"))).group(1) == "en"  # the choice, not the browser


def test_a_browser_asking_for_no_offered_language_gets_english_and_nothing_is_written(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pl,es;q=0.8"
    assert HTML_LANG.search(loaded(client.get("/sign-in"))).group(1) == "en"
    sign_in(client, "marta")
    assert person("marta").language is None


def test_the_switch_on_signed_out_pages_changes_the_language_until_sign_in(app, client):
    page = loaded(client.get("/sign-in"))
    switch = re.search(r'<nav class="app-language-select" aria-label="Language">(.*?)</nav>', page, re.S).group(1)
    assert '<span aria-current="true" lang="en">English</span>' in switch
    french = re.search(r'<a class="govuk-link" href="([^"]+)" hreflang="fr" lang="fr" rel="alternate">Français</a>',
                       switch).group(1)
    assert HTML_LANG.search(loaded(client.get(french))).group(1) == "fr"
    assert HTML_LANG.search(loaded(client.get("/account/forgotten-password"))).group(1) == "fr"  # kept
    sign_in(client, "marta")
    assert person("marta").language == "fr"
    assert "app-language-select" not in loaded(client.get("/profile"))  # signed in: the settings page


def test_dates_numbers_and_money_in_each_language(app):
    day, moment = dt.date(2026, 12, 3), dt.datetime(2026, 9, 26, 13, 5, tzinfo=dt.UTC)
    brussels = ZoneInfo("Europe/Brussels")
    expected = {
        "en": ("3 December 2026", "3 December", "26 Sep 2026, 15:05", "10,000", "0.50", "1,234.50 EUR"),
        "fr": ("3 décembre 2026", "3 décembre", "26 sept. 2026, 15:05", "10\u202f000", "0,50", "1\u202f234,50\xa0€"),
        "de": ("3. Dezember 2026", "3. Dezember", "26.09.2026, 15:05", "10.000", "0,50", "1.234,50\xa0€"),
    }
    for language, wanted in expected.items():
        with force_locale(language):
            assert (format_date(day), format_date(day, this_year=2026), format_moment(moment, brussels),
                    format_number(10000), format_number(Decimal("0.5")), format_money(Decimal("1234.5"))) == wanted
    assert format_date(day) == "3 December 2026"  # no page: the default language


def test_task_emails_go_out_in_each_recipients_language(app, client, smtp):  # noqa: F811
    sign_in(client, "clara")
    post_form(client, "/profile", {"form": "language", "language": "fr"})  # as Clara would
    tom = person("tom.peeters")
    tom.language = "de"  # Tom chose German earlier
    db.session.commit()
    instance = file_claim(client)  # Marta, in English, files a claim Clara and Tom check
    deliver_outbox()
    title = "Travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR"
    assert instance.title == title  # stored once for everyone, in the default language

    [french] = smtp.to("clara.schmidt")
    text, html = parts(french)
    # The title in French: the template's translation, the date and the amount as French writes them.
    french_title = "Note de frais pour Circular ICT, 3rd meeting, Brussels, 10 novembre 2026 : 493,00\xa0€"
    assert " ".join(french["Subject"].split()) == " ".join(
        f"Votre décision, s’il vous plaît : Vérifier la demande – {french_title}".split())
    assert text.startswith("Bonjour Clara Schmidt,")
    assert "Demande de Marta Nowak : note de frais pour" in text and "Elle attend depuis le " in text
    assert "10 novembre 2026" in text and "November" not in text
    assert "Décidez depuis cet email" in text and '<html lang="fr">' in html
    assert "Vous recevez ce message parce que vous participez" in html

    [german] = smtp.to("tom.peeters")
    text, html = parts(german)
    german_title = "Reisekostenabrechnung für Circular ICT, 3rd meeting, Brussels, 10. November 2026: 493,00 €"
    assert " ".join(german["Subject"].split()) == f"Ihre Entscheidung, bitte: Antrag prüfen – {german_title}"
    assert text.startswith("Guten Tag Tom Peeters,") and "Entscheiden Sie direkt aus dieser E-Mail" in text
    assert '<html lang="de">' in html

    # The French email's buttons carry the diagram's French words; its link decides as any other.
    [approve] = [url for label, url in decision_links(french).items() if label.startswith("Approuver")]
    page = client.get(approve)
    client.post(approve, data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)})
    deliver_outbox()
    [english] = smtp.to("felix")  # Felix chose nothing: English, as before
    text, html = parts(english)
    assert english["Subject"] == f"Your decision, please: Approve payment – {title}"
    assert text.startswith("Dear Felix Wagner,") and '<html lang="en">' in html


def test_a_paid_claim_notice_in_german_formats_the_money_and_dates_in_german(app):
    klaus = SimpleNamespace(name="Klaus Weber", language="de")
    data = {**DATA["travel_reimbursement"], "eligible_amount": Decimal("1234.5"), "total_claimed": Decimal("1300")}
    rendered = render_email("email/notices/claim_paid.txt", {**context(data), "recipient": klaus}, to=klaus)
    assert rendered.subject == "Ihr Reisekostenantrag wurde ausgezahlt: 1.234,50 €"  # one line: spaces made plain
    assert rendered.text.startswith("Guten Tag Klaus Weber,\n\nWir haben 1.234,50\xa0€ für Ihren Reisekostenantrag")
    assert "Sie haben 1.300,00\xa0€ beantragt." in rendered.text
    assert "- Ausgezahlter Betrag: 1.234,50\xa0€" in rendered.text
    english = render_email("email/notices/claim_paid.txt", context(data))  # no account: English, as before
    assert english.subject == "Your travel claim has been paid: 1,234.50 EUR"


def test_an_error_page_names_its_language_too(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert HTML_LANG.search(loaded(client.get("/no-such-page"), 404)).group(1) == "de"
