"""Requests are told apart: each process's title template, filled in from what was sent.

Each shipped process (and the uploaded fifth) is started over HTTP as its people start it; its
title is then read where people read it: the inbox, My requests, the task page, monitoring and
its CSV export. The upload check warns of a name no form asks for and refuses a personal one.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace as copy
from pathlib import Path

from app.engine.parser import parse_files
from app.outbox.titles import request_title
from app.services.diagram_checks import check_upload
from forms.text import format_date
from tests.conftest import loaded, post_form
from tests.diagrams import FIXTURES, ready_tasks, refreshed, start_request, upload_process
from tests.integration import test_onboarding_http as onboarding
from tests.integration.test_expert_request_http import start as start_expert_request
from tests.integration.test_joint_statement import SUMMARY, draft
from tests.integration.test_market_engagement_http import EVENT_DAY, TITLE, propose
from tests.integration.test_onboarding_http import FULL_GROUP, apply, group_id
from tests.integration.test_travel_http import PDF, file_claim
from tests.integration.test_travel_http import claim as claim_data

browser = onboarding.browser
WORKFLOWS = Path(__file__).parents[2] / "workflows"
CLAIM_TITLE = "Travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR"


def test_each_shipped_process_titles_its_requests_from_what_was_sent(browser):
    claim = file_claim(browser("marta"))
    assert refreshed(claim).title == CLAIM_TITLE
    circular = apply(browser)
    full = apply(browser, FULL_GROUP)
    assert refreshed(circular).title == "Group onboarding: Tallinn City, Circular ICT"
    assert refreshed(full).title == f"Group onboarding: Tallinn City, {FULL_GROUP}"
    expert = start_expert_request(browser, 10)
    other = start_expert_request(browser, 5, topic="other", topic_other="Repair clauses")
    assert refreshed(expert).title == "Expert request: Life-cycle costing for Circular ICT"
    assert refreshed(other).title == "Expert request: Other, Repair clauses for Circular ICT"
    event = propose(browser)
    assert refreshed(event).title == f"Market engagement event: {TITLE}, {format_date(EVENT_DAY)}"

    upload_process(browser("admin"), {p.name: p.read_bytes() for p in (FIXTURES / "joint_statement").iterdir()})
    statement = start_request(browser("ana"), "ana", "joint_statement", {
        "working_group_id": str(group_id("Circular ICT")), "title": "Refurbished laptops", "summary": SUMMARY,
        "endorsements_needed": ""}, draft())
    assert refreshed(statement).title == "Joint statement of demand: Refurbished laptops, Circular ICT"


def test_people_read_the_titles_in_every_list(browser):
    claim = file_claim(browser("marta"))
    circular = apply(browser)
    full = apply(browser, FULL_GROUP)
    inbox = loaded(browser("clara").get("/inbox"))  # the coordinator reviews both applications
    assert "Group onboarding: Tallinn City, Circular ICT" in inbox
    assert f"Group onboarding: Tallinn City, {FULL_GROUP}" in inbox
    assert CLAIM_TITLE in inbox
    assert CLAIM_TITLE in loaded(browser("marta").get("/requests"))  # My requests
    [check] = ready_tasks(claim, "check_claim")
    assert CLAIM_TITLE in loaded(browser("clara").get(f"/tasks/{check.id}"))
    assert CLAIM_TITLE in loaded(browser("clara").get(f"/requests/{claim.id}"))
    monitoring = loaded(browser("admin").get("/monitor/instances"))
    assert CLAIM_TITLE in monitoring and f"Tallinn City, {FULL_GROUP}" in monitoring
    csv = loaded(browser("admin").get("/monitor/instances.csv"))
    assert CLAIM_TITLE in csv and f"Group onboarding: Tallinn City, {FULL_GROUP}" in csv
    assert refreshed(circular).title != refreshed(full).title


def test_a_title_leaves_out_what_is_not_known_and_never_shows_bank_details(app):
    with open(WORKFLOWS / "travel_reimbursement.bpmn") as bpmn, open(WORKFLOWS / "travel_eligibility.dmn") as dmn:
        files = {"travel_reimbursement.bpmn": bpmn.read(), "travel_eligibility.dmn": dmn.read()}
    model = parse_files(files)
    day = dt.date(2027, 3, 12)
    total = "412.50"
    full = {"meeting": "Circular ICT meeting, Brussels", "meeting_date": day, "total_claimed": total}
    assert request_title(model, full, {}) == (
        "Travel claim for Circular ICT meeting, Brussels, 12 March 2027: 412.50 EUR")
    assert request_title(model, {**full, "meeting": None}, {}) == "Travel claim for 12 March 2027: 412.50 EUR"
    assert request_title(model, {**full, "meeting_date": ""}, {}) == (
        "Travel claim for Circular ICT meeting, Brussels: 412.50 EUR")
    assert request_title(model, {**full, "total_claimed": None}, {}) == (
        "Travel claim for Circular ICT meeting, Brussels, 12 March 2027")
    assert request_title(model, {}, {}) == "Travel claim"

    iban = "PL61 1090 1014 0000 0712 1981 2874"
    personal = replace(model, "Travel claim: ${iban} ${account_holder} ${receipts} ${total_claimed}")
    assert request_title(personal, {**full, "iban": iban, "account_holder": "Marta Nowak",
                                    "receipts": [{"name": "a.pdf"}]}, {}) == "Travel claim: 412.50 EUR"
    # Values a step worked out (no form asks for them) are shown plainly; a missing one's brackets go too.
    worked_out = replace(model, "Claim: ${claim_number}, checked ${checked_on} (${checked_by})")
    assert request_title(worked_out, {"claim_number": 1250, "checked_on": dt.date(2027, 3, 14)}, {}) == (
        "Claim: 1,250, checked 14 March 2027")
    bracketed = replace(model, "Claim: ${meeting} (${meeting_date})")  # the value's own brackets stay
    assert request_title(bracketed, {"meeting": "Brussels (3rd"}, {}) == "Claim: Brussels (3rd"
    assert request_title(bracketed, {"meeting": "Brussels (3rd)", "meeting_date": day}, {}) == (
        "Claim: Brussels (3rd) (12 March 2027)")
    untitled = replace(model, "")
    assert request_title(untitled, full, {"Meeting attended": "Brussels"}) == "Travel reimbursement: Brussels"
    assert request_title(untitled, {}, {}) == "Travel reimbursement"


def replace(model, title: str):
    """The model with another title template, as a revised diagram would declare it."""
    return copy(model, properties={**model.properties, "title": title})


def shipped_travel(title: str) -> dict[str, bytes]:
    bpmn = (WORKFLOWS / "travel_reimbursement.bpmn").read_text()
    old = 'value="Travel claim for ${meeting}, ${meeting_date}: ${total_claimed}"'
    assert old in bpmn
    return {"travel_reimbursement.bpmn": bpmn.replace(old, f'value="{title}"').encode(),
            "travel_eligibility.dmn": (WORKFLOWS / "travel_eligibility.dmn").read_bytes()}


def test_the_upload_check_reads_the_title(app):
    assert "title" not in check_upload(shipped_travel(
        "Travel claim for ${meeting}, ${meeting_date}: ${total_claimed}")).as_text()
    report = check_upload(shipped_travel("Travel claim: ${meeting_place}, ${iban}, ${meeting.date}")).as_text()
    lines = [line for line in report.splitlines() if "title" in line]
    assert any(line.startswith("ERROR") and "“IBAN” (iban), which holds personal data" in line for line in lines)
    assert any(line.startswith("WARNING") and "${meeting_place} is not a field of any form" in line
               and "did you mean ${meeting_date}" in line for line in lines)
    assert any(line.startswith("WARNING") and "${meeting.date} is left out" in line for line in lines)
    refused = check_upload(shipped_travel("Travel claim: ${account_holder}"))
    assert not refused.ok


def test_a_title_is_worked_out_again_as_the_data_changes(browser):
    claim = file_claim(browser("marta"))
    [check] = ready_tasks(claim, "check_claim")
    assert post_form(browser("clara"), f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}).status_code == 302
    [revise] = ready_tasks(claim, "revise_claim")
    assert CLAIM_TITLE in loaded(browser("marta").get(f"/tasks/{revise.id}"))
    fix = claim_data(accommodation_cost="280.00", meeting_date="2026-11-11")
    fix.pop("working_group_id")
    response = post_form(browser("marta"), f"/tasks/{revise.id}", fix,
                         {"additional_receipts": [(io.BytesIO(PDF), "hotel-invoice.pdf")]})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    revised = "Travel claim for Circular ICT, 3rd meeting, Brussels, 11 November 2026: 473.00 EUR"
    assert refreshed(claim).title == revised
    assert revised in loaded(browser("clara").get("/inbox"))
