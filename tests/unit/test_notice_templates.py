"""Every notice a diagram sends has a template that renders plain, complete, safe emails.

The templates are found from the diagrams themselves: each ``notify`` service task in
workflows/*.bpmn names one with its ``template`` property. Each is rendered the way the outbox
does (app/outbox/queue.py ``queue_notice``) with realistic task data of its process, with
hostile text in that data, and with no data at all.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import create_app
from app.engine.reading import parse_xml
from app.outbox.render import render_email

ROOT = Path(__file__).resolve().parents[2]
NOTICES = ROOT / "templates" / "email" / "notices"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
REQUEST_URL = "https://bigbuyers.example.eu/requests/42"
HOSTILE = "R&D <day>"


def notify_tasks() -> dict[str, tuple[str, str]]:
    """Template name -> (process id, ``to``) for every notify task of every diagram."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((ROOT / "workflows").glob("*.bpmn")):
        for task in parse_xml(path.name, path.read_bytes()).iter(f"{BPMN}serviceTask"):
            if task.get(f"{CAMUNDA}topic") != "notify":
                continue
            props = {p.get("name"): p.get("value") for p in task.iter(f"{CAMUNDA}property")}
            found.setdefault(props["template"], (path.stem, props.get("to", "initiator")))
    return found


NOTIFY = notify_tasks()
TEMPLATES = sorted(NOTIFY)

# Task data as it stands when each process's notices are sent (typed as the engine keeps it).
DATA = {
    "travel_reimbursement": {
        "working_group_id": 3, "meeting": "Circular ICT, 3rd meeting, Brussels",
        "meeting_date": dt.date(2027, 3, 5), "travel_from": "Kraków", "travel_to": "Brussels",
        "departure_date": dt.date(2027, 3, 4), "return_date": dt.date(2027, 3, 6),
        "travel_mode": "rail", "distance_km": 1150, "rail_hours": None,
        "ticket_cost": Decimal("212.40"), "accommodation_nights": 2,
        "accommodation_cost": Decimal("340.00"), "other_costs": Decimal("0.00"),
        "total_claimed": Decimal("552.40"), "account_holder": "Marta Kowalska",
        "iban": "PL61109010140000071219812874", "receipts": [11, 12], "declaration": True,
        "initiator_id": 5, "filed_on": dt.date(2027, 3, 12),
        "flag_air_not_allowed": False, "eligible_ticket_cost": Decimal("212.40"),
        "accommodation_cap": Decimal("280.00"), "flag_late": False,
        "eligible_accommodation_cost": Decimal("280.00"), "flag_accommodation_capped": True,
        "eligible_amount": Decimal("492.40"),
        "eligibility_note": "Accommodation capped at 280.00 EUR for 2 night(s).",
        "decision": "approve", "coordinator_comment": "The second hotel invoice is missing.",
        "payment_date": dt.date(2027, 3, 30), "payment_reference": "BBI-TR-2027-0142",
        "finance_comment": None,
    },
    "group_onboarding": {
        "organisation_name": "Métropole de Lyon", "organisation_type": "region",
        "country": "FR", "contact_name": "Claire Martin", "contact_email": "c.martin@grandlyon.fr",
        "working_group_id": 3, "new_sector_proposal": "Low-carbon cement for public works",
        "spend_band": "100m_1bn", "motivation": "We buy for 59 municipalities and want to " * 3,
        "commitment": True, "initiator_id": 5, "filed_on": dt.date(2027, 3, 1),
        "decision": "reject", "coordinator_question": "Which departments would take part?",
        "information": None,
        "rejection_reason": "Your organisation is a private company, not a public buyer.",
        "group_member_count": 7, "offered_group_id": "5",
        "coordinator_comment": "No other group works on construction materials yet.",
        "decline_reason": "The group already has two members from France.",
        "sector_group_name": "Low-carbon construction materials",
        "sector_comment": "Too close to the zero-emission construction sites group.",
        "signatory_name": "Anne Dupont", "signatory_role": "Vice-president",
        "signed_on": dt.date(2027, 4, 2), "signed_letter": [21], "membership_added": True,
    },
    "market_engagement": {
        "working_group_id": 3, "title": "Meet the market: zero-emission excavators",
        "event_format": "hybrid", "event_date": dt.date(2027, 6, 10),
        "location": "Brussels, Square Meeting Centre", "market_segment": "Construction machinery",
        "target_suppliers": "Makers of electric excavators", "objectives": "Test readiness",
        "expected_participants": 60, "budget_venue": Decimal("6000.00"),
        "budget_catering": Decimal("4500.00"), "budget_interpretation": Decimal("2000.00"),
        "budget_total": Decimal("12500.00"), "initiator_id": 5, "filed_on": dt.date(2027, 2, 1),
        "decision": "approve", "review_comment": "The date clashes with Bauma; pick another week.",
        "commission_comment": "Catering at 75 EUR a head is too high for this event.",
        "venue_confirmed": True, "registration_link": "https://events.example.eu/zero-emission",
        "invitation_date": dt.date(2027, 5, 1), "pin_reference": "2027/S 045-123456",
        "suppliers_attending": 24, "buyers_attending": 9, "key_findings": "Ready by 2029",
        "follow_up_actions": "Draft the specifications", "close_comment": None,
    },
    "expert_request": {
        "working_group_id": 3, "topic": "life_cycle_costing", "topic_other": None,
        "deliverable": "An LCC model for electric buses", "expert_days": 12,
        "deadline": dt.date(2027, 9, 30), "preferred_expert": None, "justification": "None of us",
        "initiator_id": 5, "filed_on": dt.date(2027, 2, 1), "max_revisions": 2,
        "revision_count": 2, "revision_comment": "Section 3 still lacks the cost model.",
        "decision": "reject", "estimated_daily_rate": Decimal("850.00"),
        "coordinator_comment": "The deadline leaves the expert too little time.",
        "estimated_cost": Decimal("10200.00"), "approval_level": "finance",
        "finance_comment": None, "commission_comment": None,
        "expert_name": "Dr Ana Ruiz", "expert_email": "ana.ruiz@example.org",
        "daily_rate": Decimal("820.00"), "contract_reference": "BBI-EXP-2027-014",
        "dispute_comment": "The deliverable does not contain the cost model that was asked for.",
    },
}

# What each notice must tell its reader, given the realistic data above.
MUST_SAY = {
    "application_rejected": ["Your organisation is a private company, not a public buyer."],
    "application_withdrawn": ["Which departments would take part?", "new expression of interest"],
    "information_reminder": ["Which departments would take part?"],
    "member_declined": ["The group already has two members from France."],
    "new_member": ["Métropole de Lyon", "c.martin@grandlyon.fr", "2 April 2027"],
    "sector_group_planned": ["Low-carbon construction materials"],
    "sector_proposal_declined": ["Too close to the zero-emission construction sites group."],
    "sector_proposal_recorded": ["Low-carbon cement for public works", "eligible"],
    "waiting_list": ["waiting list", "Circular ICT"],
    "waiting_list_closed": ["No other group works on construction materials yet."],
    "welcome": ["Métropole de Lyon", "Circular ICT"],
    "event_rejected": ["The date clashes with Bauma; pick another week."],
    "event_declined_by_commission": ["Catering at 75 EUR a head is too high", "12,500.00 EUR"],
    "event_confirmed": ["10 June 2027", "https://events.example.eu/zero-emission", "1 May 2027"],
    "event_closed": ["Meet the market: zero-emission excavators"],
    "expert_request_rejected": ["The deadline leaves the expert too little time."],
    "expert_deliverable_rejected": ["does not contain the cost model", "BBI-EXP-2027-014"],
    "expert_payable": ["Dr Ana Ruiz", "BBI-EXP-2027-014", "820.00 EUR"],
    "claim_paid": ["492.40 EUR", "30 March 2027", "BBI-TR-2027-0142", "552.40 EUR",
                   "Accommodation capped"],
    "claim_rejected": ["The second hotel invoice is missing."],
    "claim_reminder": ["Circular ICT, 3rd meeting, Brussels", "552.40 EUR", "12 Mar 2027"],
    "claim_escalated": ["Circular ICT, 3rd meeting, Brussels", "552.40 EUR", "12 Mar 2027"],
}
SUBJECT_SAYS = {"claim_paid": "492.40 EUR", "event_confirmed": "Meet the market",
                "claim_rejected": "Circular ICT, 3rd meeting", "expert_payable": "BBI-EXP-2027-014",
                "new_member": "Métropole de Lyon"}


@pytest.fixture
def mail_app(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "EXTERNAL_BASE_URL": "https://bigbuyers.example.eu"})
    # An app context only, no request: the worker renders timer-driven notices like this.
    with app.app_context():
        yield app


def context(data: dict, **instance) -> dict:
    ready_since = dt.datetime(2027, 3, 12, 13, 5, tzinfo=dt.UTC)
    tasks = [SimpleNamespace(bpmn_id=bpmn_id, is_ready=True, created_at=ready_since)
             for bpmn_id in ("check_claim", "provide_information")]
    fields = {
        "id": 42, "title": "Travel reimbursement: Circular ICT, 3rd meeting, Brussels",
        "summary": {"Meeting attended": "Circular ICT, 3rd meeting, Brussels"},
        "initiator": SimpleNamespace(name="Jan de Vries", email="jan@example.eu"),
        "working_group": SimpleNamespace(name="Circular ICT"), "tasks": tasks,
    }
    fields.update(instance)
    inst = SimpleNamespace(**fields)
    return {
        "recipient": SimpleNamespace(name="Marta Kowalska", email="marta@example.eu"),
        "instance": inst, "data": data, "template": "",
        "process_name": "Travel reimbursement",
        "group_name": inst.working_group.name if inst.working_group else "",
        "request_url": REQUEST_URL,
    }


def render(name: str, data: dict, **instance):
    return render_email(f"email/notices/{name}.txt", context(data, **instance))


def check_shape(rendered) -> None:
    """A one-line subject; a body that greets the reader by name and links the request."""
    assert rendered.subject.strip() and "\n" not in rendered.subject
    assert rendered.text.startswith("Dear Marta Kowalska,")
    assert REQUEST_URL in rendered.text
    assert f'href="{REQUEST_URL}"' in rendered.html
    for line in [rendered.subject, *rendered.text.splitlines()]:
        assert "None" not in line and "{{" not in line and "{%" not in line, line
        assert not re.search(r"  | [.,;:)]|\( |\S- [A-Za-z]", line), f"loose words: {line!r}"
    # List items stay together: one list, not one list per item.
    assert not re.search(r"^- .*\n\n- ", rendered.text, re.M), rendered.text


def test_the_diagrams_send_notices():
    assert len(TEMPLATES) >= 20, TEMPLATES


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_notice_a_diagram_sends_has_a_template(name):
    assert (NOTICES / f"{name}.txt").is_file(), f"{NOTIFY[name][0]}.bpmn sends '{name}': no template"


def test_every_template_is_sent_by_a_diagram():
    # The application itself sends these: cancelled and reassigned (app/services/monitoring/actions.py,
    # checked in test_monitoring) and finished (app/steps/writer.py, checked in test_email).
    files = {path.stem for path in NOTICES.glob("*.txt")} - {
        "notice", "request_cancelled", "task_reassigned", "request_finished"}
    assert files <= set(NOTIFY), f"templates no diagram sends: {sorted(files - set(NOTIFY))}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_notice_says_what_happened_with_realistic_data(mail_app, name):
    rendered = render(name, DATA[NOTIFY[name][0]])
    check_shape(rendered)
    for words in MUST_SAY.get(name, []):
        assert words in rendered.text, f"{name} should say {words!r}:\n{rendered.text}"
    if name in SUBJECT_SAYS:
        assert SUBJECT_SAYS[name] in rendered.subject


@pytest.mark.parametrize("name", [*TEMPLATES, "notice"])
def test_notice_renders_without_any_data(mail_app, name):
    rendered = render(name, {}, working_group=None, tasks=[])
    check_shape(rendered)
    assert "—" not in rendered.text, "an empty value printed as a dash"


@pytest.mark.parametrize("name", [*TEMPLATES, "notice"])
def test_html_part_escapes_what_people_typed(mail_app, name):
    process = NOTIFY[name][0] if name in NOTIFY else "travel_reimbursement"
    data = {key: HOSTILE if isinstance(value, str) else value for key, value in DATA[process].items()}
    rendered = render(name, data, working_group=SimpleNamespace(name=HOSTILE),
                      title=HOSTILE, summary={"Meeting attended": HOSTILE})
    assert HOSTILE in rendered.text  # the text part is plain text: nothing to escape
    assert "<day>" not in rendered.html
    assert "R&amp;D &lt;day&gt;" in rendered.html


def test_only_the_apps_own_addresses_become_links(mail_app):
    """An address someone typed into a form is shown as text: a link in an approver's email
    would lend it the app's authority."""
    typed = "https://bigbuyers.example.eu.evil.example/login and http://evil.example/pay"
    rendered = render("notice", {"reason": typed}, summary={"Motivation": typed})
    assert typed in rendered.text
    assert "evil.example/login</a>" not in rendered.html and 'href="http://evil.example' not in rendered.html
    assert 'href="https://bigbuyers.example.eu.evil' not in rendered.html
    assert f'href="{REQUEST_URL}"' in rendered.html  # the request's own page still is a link


@pytest.mark.parametrize(("data", "who", "reason"), [
    ({"coordinator_comment": "Out of scope."}, "by the coordinator", "Out of scope."),
    ({"coordinator_comment": None, "finance_comment": "No budget left this year."},
     "by finance", "No budget left this year."),
    ({"finance_comment": "Fine by us.", "commission_comment": "Ask the JRC instead."},
     "by the European Commission", "Ask the JRC instead."),
])
def test_rejected_expert_request_names_who_rejected_it_and_why(mail_app, data, who, reason):
    rendered = render("expert_request_rejected", {**DATA["expert_request"], **data})
    assert who in rendered.text and reason in rendered.text


def test_paid_claim_explains_nothing_when_all_was_paid(mail_app):
    data = {**DATA["travel_reimbursement"], "eligible_amount": Decimal("552.40")}
    text = render("claim_paid", data).text
    assert "paid less" not in text and "552.40 EUR" in text


def test_generic_notice_shows_the_summary(mail_app):
    rendered = render("notice", {})
    check_shape(rendered)
    assert "- Meeting attended: Circular ICT, 3rd meeting, Brussels" in rendered.text

