"""How the shipped diagrams' end events read as statuses, and what follows their timers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import has_tasks_after_timers, parse_files
from app.steps.outcome import outcome_label, status_word

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def model(process_id: str):
    files = {path.name: path.read_text() for path in WORKFLOWS.iterdir() if path.suffix in (".bpmn", ".dmn")
             and (path.suffix == ".dmn" or path.stem == process_id)}
    return parse_files(files)


@pytest.mark.parametrize(("process_id", "end", "name", "status"), [
    ("travel_reimbursement", "end_claim_paid", "Claim paid", "Paid"),
    ("travel_reimbursement", "end_claim_rejected", "Claim rejected", "Rejected"),
    ("group_onboarding", "end_withdrawn", "Application withdrawn", "Withdrawn"),
    ("group_onboarding", "end_member", "Organisation is a member", "Member"),
    ("group_onboarding", "end_sector_proposal", "Sector proposal handled", "Proposal handled"),
    ("market_engagement", "end_event_declined", "Budget not signed off", "Not signed off"),
    ("market_engagement", "end_event_closed", "Event closed", "Closed"),
    ("expert_request", "end_expert_payable", "Expert payable", "Payable"),
])
def test_a_finished_requests_status_is_its_end_events_name_without_its_subject(process_id, end, name, status):
    shipped = model(process_id)
    assert outcome_label(end, shipped) == name
    assert status_word(end, shipped) == status


def test_an_end_without_a_name_or_model_reads_as_its_id_in_words():
    assert outcome_label("end_ok") == "Ok" and status_word("end_ok") == "Ok"
    assert outcome_label("end_claim_paid") == "Claim paid" and status_word("end_claim_paid") == "Paid"
    assert outcome_label("") == "Done"


def test_only_the_event_waits_for_a_timer_that_leads_to_someones_task():
    # The event's report follows its timer; the others' timers lead to reminders, escalations, ends.
    assert has_tasks_after_timers(model("market_engagement"))
    assert not has_tasks_after_timers(model("travel_reimbursement"))
    assert not has_tasks_after_timers(model("group_onboarding"))
