"""A request's title and key fields in the reader's language (issue 13).

A step stores the title and the key fields in English and, beside them, the raw values they
were made of (``process_instance.parts``); a French or German reader sees them filled into the
translated title template, with dates, amounts, option labels and Yes/No as their language
writes them: on the inbox, the request page, the task page and in the task email. An English
reader sees the stored text, as before; a request stored before the raw values were kept shows
its stored English text to everyone.
"""

from __future__ import annotations

import html

from flask_babel import force_locale
from sqlalchemy import event, null, select, update

from app.engine import FieldSpec
from app.extensions import db
from app.models import ProcessInstance
from app.models.base import utcnow
from app.outbox.deliver import deliver_outbox
from forms import display_value
from tests.conftest import loaded, person, sign_in
from tests.integration.test_email import parts, smtp  # noqa: F401 - the SMTP server fixture
from tests.integration.test_expert_request_http import start as start_expert_request
from tests.integration.test_onboarding_http import browser  # noqa: F401 - a signed-in client per person
from tests.integration.test_personal_data import download, read
from tests.integration.test_travel_http import file_claim, ready_task

ENGLISH = "Travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR"
FRENCH = "Note de frais pour Circular ICT, 3rd meeting, Brussels, 10 novembre 2026 : 493,00 €"
GERMAN = "Reisekostenabrechnung für Circular ICT, 3rd meeting, Brussels, 10. November 2026: 493,00 €"


def text(page: str) -> str:
    """A page's or email's words, its spaces (a French thin space before "€") made plain."""
    return " ".join(html.unescape(page).split())


def choose(who: str, language: str) -> None:
    person(who).language = language
    db.session.commit()


def test_a_french_and_a_german_reader_see_the_title_and_summary_in_their_language(client, smtp):  # noqa: F811
    choose("clara.schmidt", "fr")
    choose("tom.peeters", "de")
    claim = file_claim(client)  # Marta, in English
    assert claim.title == ENGLISH  # stored in English, for the search, the CSV and the history
    assert claim.summary["Meeting date"] == "10 November 2026"
    check = ready_task(claim, "check_claim")

    sign_in(client, "clara")
    inbox = text(loaded(client.get("/inbox")))
    assert FRENCH in inbox and ENGLISH not in inbox
    page = text(loaded(client.get(f"/requests/{claim.id}")))
    assert f"<h1 class=\"govuk-heading-l\">{FRENCH}</h1>" in page
    # The key fields: the diagram's French labels, French dates, amounts and Yes/No.
    assert "Date de la réunion</dt>" in page and "10 novembre 2026</dd>" in page
    assert "Total demandé (EUR)</dt>" in page and "493,00 €</dd>" in page
    assert "Déposée tardivement après la réunion</dt>" in page
    assert ">Non</dd>" in page and ">No</dd>" not in page and "November" not in page
    task_page = text(loaded(client.get(f"/tasks/{check.id}")))
    assert f'<span class="govuk-caption-l">{FRENCH}</span>' in task_page

    sign_in(client, "tom")
    inbox = text(loaded(client.get("/inbox")))
    assert GERMAN in inbox
    page = text(loaded(client.get(f"/requests/{claim.id}")))
    assert "Datum der Sitzung</dt>" in page and "10. November 2026</dd>" in page and ">Nein</dd>" in page

    deliver_outbox()
    [french] = smtp.to("clara.schmidt")
    body, _html = parts(french)
    assert FRENCH in text(french["Subject"])
    assert "- Date de la réunion: 10 novembre 2026" in text(body)
    assert "- Total demandé (EUR): 493,00 €" in text(body) and ": Non" in text(body) and "November" not in body
    [german] = smtp.to("tom.peeters")
    body, _html = parts(german)
    assert GERMAN in text(german["Subject"])
    assert "- Datum der Sitzung: 10. November 2026" in text(body) and ": Nein" in text(body)


def test_an_english_reader_sees_the_stored_text_and_no_version_is_read_for_it(client):
    claim = file_claim(client)
    sign_in(client, "clara")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        inbox = loaded(client.get("/inbox"))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert ENGLISH in html.unescape(inbox)
    # Neither the title nor the task names (the ``diagram`` filter) read a version on an English page.
    assert not [s for s in statements if "FROM process_version" in s]
    page = loaded(client.get(f"/requests/{claim.id}"))
    assert f"<h1 class=\"govuk-heading-l\">{ENGLISH}</h1>" in html.unescape(page)
    assert "10 November 2026" in page and "493.00 EUR" in page and ">No</dd>" in page


def test_a_french_list_reads_each_version_once(client):
    claims = [file_claim(client) for _ in range(4)]
    choose("clara.schmidt", "fr")
    sign_in(client, "clara")
    db.session.expire_all()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        inbox = text(loaded(client.get("/inbox")))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert inbox.count(FRENCH) == len(claims)
    assert len([s for s in statements if "FROM process_version" in s]) <= 1  # one version, whatever the rows
    assert not [s for s in statements if "process_instance.state" in s]  # no workflow loaded for a title


def test_a_request_stored_before_the_raw_values_shows_its_stored_title(client):
    claim = file_claim(client)
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == claim.id).values(parts=None))
    db.session.commit()
    choose("clara.schmidt", "fr")
    sign_in(client, "clara")
    assert ENGLISH in text(loaded(client.get("/inbox")))
    page = text(loaded(client.get(f"/requests/{claim.id}")))
    assert f"<h1 class=\"govuk-heading-l\">{ENGLISH}</h1>" in page
    assert "10 November 2026</dd>" in page  # the stored value; its label still in French
    assert "Date de la réunion</dt>" in page


def test_the_backfill_gives_older_requests_their_parts_once(client):
    """``flask backfill`` fills in the parts of requests stored before them, as the step wrote
    them; a purged request is left alone; a second run changes nothing."""
    claim, older, purged = file_claim(client), file_claim(client), file_claim(client)
    written = refreshed_parts(claim)
    assert written and written["title"]["meeting_date"] == {"date": "2026-11-10"}
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == claim.id).values(parts=None))  # JSON null
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id.in_([older.id, purged.id]))
                       .values(parts=null()))  # a row older than the column: SQL NULL
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == purged.id).values(purged_at=utcnow()))
    db.session.commit()
    choose("clara.schmidt", "fr")
    sign_in(client, "clara")
    assert f"<h1 class=\"govuk-heading-l\">{ENGLISH}</h1>" in text(loaded(client.get(f"/requests/{claim.id}")))

    run = client.application.test_cli_runner().invoke(args=["backfill"])
    assert run.exit_code == 0 and "titles written for 2 requests" in run.output, run.output
    assert refreshed_parts(claim) == refreshed_parts(older) == written  # as the step writer wrote them
    assert refreshed_parts(purged) is None
    page = text(loaded(client.get(f"/requests/{claim.id}")))
    assert f"<h1 class=\"govuk-heading-l\">{FRENCH}</h1>" in page and "10 novembre 2026</dd>" in page
    assert FRENCH in text(loaded(client.get("/inbox")))

    again = client.application.test_cli_runner().invoke(args=["backfill"])
    assert again.exit_code == 0 and "titles written for 0 requests" in again.output, again.output
    assert refreshed_parts(claim) == written


def refreshed_parts(instance: ProcessInstance):
    return db.session.scalar(select(ProcessInstance.parts).where(ProcessInstance.id == instance.id))


def test_an_option_label_in_the_title_is_the_diagrams_translation(browser):  # noqa: F811
    expert = start_expert_request(browser, 10)
    assert expert.title == "Expert request: Life-cycle costing for Circular ICT"
    choose("marta", "fr")
    page = text(loaded(browser("marta").get(f"/requests/{expert.id}")))
    assert "<h1 class=\"govuk-heading-l\">Demande d’expertise : Coût du cycle de vie pour Circular ICT</h1>" in page
    assert "Thème</dt>" in page and "Coût du cycle de vie</dd>" in page


def test_the_personal_data_download_names_the_request_in_the_readers_language(client):
    claim = file_claim(client)  # signed in as Marta
    choose("marta", "fr")
    exported = read(download(client, "/profile/data"), "requests.json")
    titles = [item["title"] for item in exported if item["number"] == claim.id]
    assert [" ".join(title.split()) for title in titles] == [FRENCH]


def test_yes_no_and_file_counts_are_in_the_readers_language(app):
    flag = FieldSpec(id="late", label="Late", type="boolean")
    files = FieldSpec(id="receipts", label="Receipts", type="file")
    with app.test_request_context():
        assert [display_value(flag, True), display_value(flag, False), display_value(files, [{}, {}])] == [
            "Yes", "No", "2 files"]
        with force_locale("fr"):
            assert [display_value(flag, True), display_value(flag, False), display_value(files, [{}])] == [
                "Oui", "Non", "1 fichier"]
        with force_locale("de"):
            assert [display_value(flag, False), display_value(files, [{}, {}, {}])] == ["Nein", "3 Dateien"]


def test_the_other_lists_show_the_title_in_the_readers_language(client):
    claim = file_claim(client)  # Marta's
    choose("marta", "fr")
    assert FRENCH in text(loaded(client.get("/requests")))  # My requests
    choose("clara.schmidt", "de")
    sign_in(client, "clara")
    assert GERMAN in text(loaded(client.get("/monitor/instances")))  # every request, for the secretariat
    assert GERMAN in text(loaded(client.get(f"/groups/{claim.working_group_id}")))
    csv = client.get("/monitor/instances.csv").get_data(as_text=True)
    assert ENGLISH in csv  # the CSV keeps the stored English title, whoever downloads it
