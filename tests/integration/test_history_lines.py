"""A request's history in the reader's language: each line is worked out when it is shown, from
its kind and parameters, with the diagram's texts (task names, the end reached) translated by the
version's catalogue; a row written before lines were kept shows its stored sentence."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

from flask_babel import force_locale
from freezegun import freeze_time
from sqlalchemy import event, select

from app.engine import load_model
from app.extensions import db
from app.models import AuditEvent, ProcessInstance
from app.services.history import instance_history
from app.services.instances import fire_due_timers
from app.services.retention.purge import purge_due
from app.services.worker import run_round
from tests.conftest import loaded, person, post_form, sign_in
from tests.integration.test_travel_http import PDF, claim, file_claim, ready_task

HISTORY = re.compile(r'<ol class="app-history">(.*?)</ol>', re.S)


def history_text(client, instance: ProcessInstance) -> str:
    """The history list of the request's page, as its reader sees it (tags dropped)."""
    page = loaded(client.get(f"/requests/{instance.id}"))
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", HISTORY.search(page).group(1))).split())


def claim_paid_after_changes(client) -> ProcessInstance:
    """Marta files a claim; Clara sends it back; Marta corrects it; Tom approves; Felix pays."""
    instance = file_claim(client)
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}).status_code == 302
    sign_in(client, "marta")
    fix = claim(accommodation_cost="280.00")
    fix.pop("working_group_id")
    assert post_form(client, f"/tasks/{ready_task(instance, 'revise_claim').id}", fix,
                     {"additional_receipts": [(io.BytesIO(PDF), "hotel-invoice.pdf")]}).status_code == 302
    sign_in(client, "tom")
    assert post_form(client, f"/tasks/{ready_task(instance, 'check_claim').id}",
                     {"decision": "approve"}).status_code == 302
    sign_in(client, "felix")
    assert post_form(client, f"/tasks/{ready_task(instance, 'approve_payment').id}", {
        "decision": "approve", "payment_date": "2026-11-30", "payment_reference": "BB-2026-0042"}).status_code == 302
    db.session.expire_all()
    return db.session.get_one(ProcessInstance, instance.id)


def read_by_marta_in(client, language: str) -> None:
    marta = person("marta")
    marta.language = language
    db.session.commit()
    sign_in(client, "marta")


def test_an_english_reader_sees_the_lines_as_they_always_read(client):
    instance = claim_paid_after_changes(client)
    read_by_marta_in(client, "en")
    shown = history_text(client, instance)
    for line in ("Marta Nowak started Travel reimbursement", "Check claim is waiting",
                 "Clara Schmidt completed Check claim", "Revise claim is waiting", "Marta Nowak completed Revise claim",
                 "Tom Peeters completed Check claim", "Felix Wagner completed Approve payment",
                 "The request finished: Claim paid"):
        assert line in shown, line
    # The stored English sentences are the lines an English reader sees, word for word.
    stored = db.session.scalars(select(AuditEvent.summary).where(AuditEvent.instance_id == instance.id)).all()
    assert "Clara Schmidt completed Check claim" in stored and "The request finished: Claim paid" in stored


def test_a_french_reader_sees_the_claims_history_in_french(client):
    instance = claim_paid_after_changes(client)
    read_by_marta_in(client, "fr")
    shown = history_text(client, instance)
    for line in ("Marta Nowak a lancé « Remboursement des frais de déplacement »",
                 "L’étape « Vérifier la demande » est en attente",
                 "Clara Schmidt a terminé l’étape « Vérifier la demande »",
                 "L’étape « Modifier la demande » est en attente",
                 "Marta Nowak a terminé l’étape « Modifier la demande »",
                 "Tom Peeters a terminé l’étape « Vérifier la demande »",
                 "Felix Wagner a terminé l’étape « Approuver le paiement »",
                 "La demande est terminée : Demande payée"):
        assert line in shown, line
    for english in ("started", "completed", "is waiting", "Check claim", "The request finished"):
        assert english not in shown, english


def test_a_german_reader_sees_the_claims_history_in_german(client):
    instance = claim_paid_after_changes(client)
    read_by_marta_in(client, "de")
    shown = history_text(client, instance)
    for line in ("Marta Nowak hat „Reisekostenerstattung“ begonnen", "„Antrag prüfen“ wartet",
                 "Clara Schmidt hat „Antrag prüfen“ erledigt", "Marta Nowak hat „Antrag überarbeiten“ erledigt",
                 "Felix Wagner hat „Zahlung genehmigen“ erledigt", "Der Antrag ist abgeschlossen: Antrag bezahlt"):
        assert line in shown, line
    assert "completed" not in shown and "Check claim" not in shown


def test_an_old_row_without_a_line_shows_its_stored_sentence(client):
    instance = file_claim(client)
    db.session.add(AuditEvent(instance_id=instance.id, actor_id=person("ana").id, channel="admin",
                              action="cancelled", summary="Ana Costa cancelled this request. Reason: filed twice",
                              data={"reason": "filed twice"}))
    db.session.commit()
    read_by_marta_in(client, "fr")
    shown = history_text(client, instance)
    assert "Ana Costa cancelled this request. Reason: filed twice" in shown  # as written, nothing breaks
    assert "Marta Nowak a lancé" in shown  # beside the lines kept with their parameters


def test_a_purged_requests_lines_name_the_pseudonyms_in_every_language(client, app):
    instance_id = claim_paid_after_changes(client).id
    run_round("test")  # the emails go, as they would long before the purge
    instance = db.session.get_one(ProcessInstance, instance_id)
    assert purge_due(instance.ended_at + dt.timedelta(days=365 * 7 + 2)) == 1
    db.session.expire_all()
    instance = db.session.get_one(ProcessInstance, instance_id)
    model = load_model(instance.version, instance.called)
    for language, completed in (("en", "completed Check claim"), ("fr", "a terminé l’étape « Vérifier la demande »")):
        with force_locale(language):
            lines = [entry.line for entry in instance_history(instance, model, None)]
        text = " | ".join(lines)
        for name in ("Marta Nowak", "Clara Schmidt", "Tom Peeters", "Felix Wagner"):
            assert name not in text, (language, name)
        assert any(re.fullmatch(rf"Person [0-9A-F]{{6}} {re.escape(completed)}", line) for line in lines), lines


def test_the_lines_cost_no_query_of_their_own(client, app):
    """The task page shows the history on every view: a longer history in French runs the same
    statements as a short one (the actors come with the events; the catalogues are kept)."""
    short = file_claim(client)
    long = claim_paid_after_changes(client)

    def statements(instance_id: int) -> int:
        db.session.expire_all()
        instance = db.session.get_one(ProcessInstance, instance_id)
        model = load_model(instance.version, instance.called)
        ran: list[str] = []
        listen = lambda *args: ran.append(args[2])  # noqa: E731 - the statement's text
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            with force_locale("fr"):
                lines = [entry.line for entry in instance_history(instance, model, None)]
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert all("completed" not in line for line in lines)
        return len(ran)

    statements(long.id)  # the version's catalogues read once
    assert statements(long.id) == statements(short.id)


def test_a_reminder_and_an_escalation_read_in_french_with_the_parts_and_names_joined_in_french(client):
    instance = file_claim(client)
    for _ in range(2):  # the reminder after 5 days, the escalation to finance after 10
        db.session.expire_all()
        due = db.session.get_one(ProcessInstance, instance.id).next_timer_at
        with freeze_time(due + dt.timedelta(minutes=1)):
            assert fire_due_timers() == 1
    read_by_marta_in(client, "fr")
    shown = history_text(client, instance)
    assert "Clara Schmidt et Tom Peeters ont reçu l’e-mail « " in shown, shown
    assert "L’étape « Vérifier la demande » attend désormais aussi Felix Wagner (le service financier)" in shown
    read_by_marta_in(client, "en")
    shown = history_text(client, instance)
    assert "Clara Schmidt and Tom Peeters were emailed “" in shown
    assert "Check claim now also waits for Felix Wagner (finance)" in shown


def test_a_french_administrator_reads_the_versions_history_in_french(client):
    admin = person("admin")
    admin.language = "fr"
    db.session.commit()
    sign_in(client, "admin")
    page = unescape(loaded(client.get("/admin/processes/travel_reimbursement")))
    assert "« Travel reimbursement » : version 1 enregistrée" in page
    assert "version 1 stored" not in page
