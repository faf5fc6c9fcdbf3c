"""A diagram's texts in the reader's language: the .po files uploaded with it, the English
fallback, the validation report's list of what is missing, and a running request that keeps
its version's texts."""

from __future__ import annotations

from babel.messages.pofile import read_po

from app.extensions import db
from app.models import ProcessInstance
from tests.conftest import post_form, sign_in
from tests.diagrams import FIXTURES, complete, ready_tasks, start_request, text, upload_process, upload_report

DIAGRAMS = FIXTURES / "diagrams"
BPMN = "supplier_visit.bpmn"
FRENCH = "supplier_visit.fr.po"


def files(french: str | None = None) -> dict[str, bytes]:
    """The supplier visit with its French catalogue (or ``french`` instead of it)."""
    po = (french if french is not None else (DIAGRAMS / FRENCH).read_text(encoding="utf-8")).encode()
    return {BPMN: (DIAGRAMS / BPMN).read_bytes(), FRENCH: po}


def in_french(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9,en;q=0.5"


def test_the_report_lists_the_texts_a_language_lacks(client):
    report = upload_report(client, files())
    assert "supplier_visit.fr.po" in report
    # the start event and the gateway are texts too (issue 13), listed in the diagram's order
    assert ("3 of 24 texts have no French translation and are shown in English: “Nights away”, "
            "“Visit asked for”, “Approved?”") in report
    assert "Store as version 1" in report and "These files cannot be stored" not in report  # a warning only


def test_the_report_reads_in_french_for_a_french_administrator(client):
    in_french(client)
    report = upload_report(client, {BPMN: (DIAGRAMS / BPMN).read_bytes(),
                                    "site_visit.fr.po": (DIAGRAMS / FRENCH).read_bytes()})
    assert ("site_visit.fr.po une traduction doit porter le nom du processus et d’une langue, par exemple "
            "supplier_visit.fr.po") in report
    report = upload_report(client, files())
    assert ("3 textes sur 24 n’ont pas de traduction en français et s’affichent en anglais : “Nights away”, "
            "“Visit asked for”, “Approved?”") in report


def test_a_french_reader_sees_the_diagram_in_french_and_english_where_untranslated(client):
    upload_process(client, files())
    sign_in(client, "marta")
    in_french(client)
    page = text(client.get("/start"))
    assert "Visite chez un fournisseur" in page
    shown = text(client.get("/start/supplier_visit"))
    for french in ("Visite chez un fournisseur", "Demandez à visiter l’usine d’un fournisseur.", "Ville à visiter",
                   "La ville où se trouve l’usine.", "Moyen de transport", "Train", "Avion"):
        assert french in shown, french
    assert "Nights away" in shown  # no translation: shown as drawn
    assert "City to visit" not in shown

    response = post_form(client, "/start/supplier_visit", {"nights": "12"})
    assert response.status_code == 400
    errors = text(response)
    assert "Saisissez la ville à visiter" in errors  # the diagram's own message, translated
    assert "Choisissez votre moyen de transport" in errors
    assert "La réponse à « Nights away » doit être 10 ou moins" in errors  # generated, in French

    instance = start_request(client, "marta", "supplier_visit", {"city": "Lyon", "transport": "train", "nights": "2"})
    task = ready_tasks(instance, "approve_visit")[0]
    sign_in(client, "clara")
    in_french(client)
    assert "Approuver la visite" in text(client.get("/inbox"))
    page = text(client.get(f"/tasks/{task.id}"))
    for french in ("Approuver la visite", "Vérifiez que la visite justifie son coût.", "Décision", "Approuver",
                   "Refuser", "Ville à visiter"):
        assert french in page, french


def test_an_english_reader_sees_the_diagram_as_drawn(client):
    upload_process(client, files())
    sign_in(client, "marta")
    shown = text(client.get("/start/supplier_visit"))
    assert "City to visit" in shown and "Plane" in shown
    assert "Ville à visiter" not in shown


def test_a_running_request_keeps_its_versions_texts(client):
    upload_process(client, files())
    first = start_request(client, "marta", "supplier_visit", {"city": "Lyon", "transport": "plane", "nights": "1"})
    revised = (DIAGRAMS / FRENCH).read_text(encoding="utf-8").replace(
        'msgstr "Approuver la visite"', 'msgstr "Valider la visite"')
    upload_process(client, files(revised))
    second = start_request(client, "marta", "supplier_visit", {"city": "Gand", "transport": "train", "nights": "1"})
    assert first.version_id != second.version_id
    sign_in(client, "clara")
    in_french(client)
    old_task, new_task = ready_tasks(first)[0], ready_tasks(second)[0]
    assert "Approuver la visite" in text(client.get(f"/tasks/{old_task.id}"))
    assert "Valider la visite" in text(client.get(f"/tasks/{new_task.id}"))

    complete(client, "clara", old_task, {"decision": "approve"})
    in_french(client)
    db.session.expire_all()
    finished = db.session.get_one(ProcessInstance, first.id)
    page = text(client.get(f"/requests/{finished.id}"))
    assert "Visite chez un fournisseur · demande" in page  # the process's name
    assert "Statut Approuvée" in page  # the status word of the end event "Visit approved"


def test_a_catalogue_named_for_another_process_is_refused(client):
    report = upload_report(client, {BPMN: (DIAGRAMS / BPMN).read_bytes(),
                                    "site_visit.fr.po": (DIAGRAMS / FRENCH).read_bytes()})
    assert ("site_visit.fr.po a translation must be named after the process and a language, like "
            "supplier_visit.fr.po") in report
    assert "These files cannot be stored" in report


def test_the_command_writes_the_texts_to_translate_and_keeps_translations(app, tmp_path):
    (tmp_path / BPMN).write_bytes((DIAGRAMS / BPMN).read_bytes())
    french = (DIAGRAMS / FRENCH).read_text(encoding="utf-8")
    (tmp_path / FRENCH).write_text(french.replace('msgid "Decision"\nmsgstr "Décision"\n\n', ""), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["workflows", "translations", str(tmp_path / BPMN), "--language", "de"])

    assert result.exit_code == 0, result.output
    template = read_catalogue_texts(tmp_path / "supplier_visit.pot")
    assert len(template) == 24 and "Approve the visit" in template and "Approved" in template
    assert "Requester" in template and "Coordinator" in template  # the lanes, named on pages too
    assert "Visit asked for" in template and "Approved?" in template  # the start event and the gateway
    assert set(template.values()) == {""}
    updated = read_catalogue_texts(tmp_path / FRENCH)
    assert updated["Approve the visit"] == "Approuver la visite"  # kept
    assert updated["Decision"] == ""  # added back, to translate
    german = read_catalogue_texts(tmp_path / "supplier_visit.de.po")
    assert set(german) == set(template) and set(german.values()) == {""}


def read_catalogue_texts(path) -> dict[str, str]:
    with path.open("rb") as handle:
        return {message.id: message.string for message in read_po(handle) if message.id}


def test_one_text_no_longer_drawn_is_counted_in_the_singular(client):
    french = (DIAGRAMS / FRENCH).read_text(encoding="utf-8") + '\nmsgid "Old text"\nmsgstr "Ancien texte"\n'
    report = upload_report(client, files(french))
    assert "1 text is not in the diagram (any longer) and is not used: “Old text”" in report
