"""Travel reimbursement, driven headless through the engine: every branch of the diagram."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time

from app.engine import Engine
from forms.rules import COMPUTATIONS, check
from tests.workflows.steps import shipped_model

FILES = ("travel_reimbursement.bpmn", "travel_eligibility.dmn")
MEETING = dt.date(2030, 3, 12)


@pytest.fixture(scope="module")
def model():
    return shipped_model(*FILES)


@pytest.fixture
def calls():
    return []


@pytest.fixture
def engine(calls):
    def notify(data, props):
        calls.append(("notify", props))
        return {}

    def escalate(data, props):
        calls.append(("escalate", props))
        return {}

    def meeting_attended(data, props):
        # The application's service reads the meeting records (tests/integration/
        # test_meeting_claims.py); headless, every claim names a meeting typed in.
        return {"meeting_known": False, "meeting_record": "Not a meeting the app knows."}

    return Engine(services={"notify": notify, "escalate": escalate, "meeting_attended": meeting_attended})


def claim(**changes):
    """A rail trip Utrecht - Brussels with one hotel night, as the start form delivers it."""
    data = {
        "working_group_id": 3,
        "meeting_id": "other",
        "meeting": "Circular ICT working group, 3rd meeting",
        "meeting_date": MEETING,
        "travel_from": "Utrecht",
        "travel_to": "Brussels",
        "departure_date": dt.date(2030, 3, 11),
        "return_date": dt.date(2030, 3, 12),
        "travel_mode": "rail",
        "distance_km": 180,
        "rail_hours": Decimal("2.50"),
        "ticket_cost": Decimal("124.60"),
        "accommodation_nights": 1,
        "accommodation_cost": Decimal("118.00"),
        "other_costs": Decimal("12.40"),
        "account_holder": "Anna de Vries",
        "iban": "NL91ABNA0417164300",
        "receipts": [101, 102],  # attachment ids
        "declaration": True,
        "initiator_id": 11,
        "filed_on": dt.date(2030, 3, 20),
    }
    data.update(changes)
    data["total_claimed"] = COMPUTATIONS["travel_claim_total"](data)
    return data


def only_task(engine, wf, bpmn_id, lane):
    """The one task waiting for a person: check it is the expected step in the expected lane."""
    [task] = engine.ready_tasks(wf)
    assert (task.bpmn_id, task.definition.lane) == (bpmn_id, lane)
    return task


def approve_claim(engine, wf):
    task = only_task(engine, wf, "check_claim", "Coordinator")
    engine.complete(wf, task.id, {"decision": "approve", "coordinator_comment": ""})


def pay(engine, wf, reference="TR-2030-0042"):
    task = only_task(engine, wf, "approve_payment", "Finance")
    engine.complete(wf, task.id, {"decision": "approve", "payment_date": dt.date(2030, 4, 2),
                                  "payment_reference": reference, "finance_comment": ""})


def notices(calls):
    return [(props["template"], props["to"]) for name, props in calls if name == "notify"]


# -- the diagram as the app sees it -------------------------------------------------------------
def test_forms_lanes_and_decisions(model):
    assert model.process_id == "travel_reimbursement"
    start = model.start_form
    assert start.key == "travel_reimbursement.start"
    assert start.get("working_group_id").properties["choices"] == "my_groups"
    assert start.get("total_claimed").readonly
    assert start.get("total_claimed").properties["computed"] == "travel_claim_total"
    assert "travel_claim_total" in COMPUTATIONS
    receipts = start.get("receipts")
    assert receipts.required and receipts.properties["multiple"] == "true"
    assert start.get("declaration").properties["checked"] == "true"
    assert [v for v, _ in start.get("travel_mode").options] == ["rail", "air", "bus", "car", "other"]
    lanes = {t.bpmn_id: t.lane for t in model.tasks.values()}
    assert lanes == {"check_claim": "Coordinator", "revise_claim": "Claimant",
                     "approve_payment": "Finance"}
    assert [v for v, _ in model.tasks["check_claim"].form.decisions] == [
        "approve", "request_changes", "reject"]
    assert model.tasks["approve_payment"].form.decisions == (
        ("approve", "Approve the payment"), ("request_changes", "Return to coordinator"))
    assert {"notify", "escalate", "meeting_attended"} == set(model.service_topics.values())
    assert start.get("meeting_id").properties["choices"] == "attended_meetings"
    assert start.get("meeting").properties["required_if"] == "meeting_id=other"


def test_a_typed_meeting_date_is_checked_and_a_listed_meetings_is_left_to_the_service_task():
    outside = dt.date(2030, 3, 14)
    assert "meeting_date" in check("travel_reimbursement.start", claim(meeting_date=outside))
    # A meeting chosen from the list: its own date is checked when the claim is tied to it.
    assert check("travel_reimbursement.start", claim(meeting_id="42", meeting_date=outside)) == {}


def test_claim_rules_check_dates_and_total():
    good = claim()
    assert good["total_claimed"] == Decimal("255.00")
    assert check("travel_reimbursement.start", good) == {}
    back_early = claim(return_date=dt.date(2030, 3, 10))
    assert "return_date" in check("travel_reimbursement.start", back_early)
    outside = claim(meeting_date=dt.date(2030, 3, 14))
    assert "meeting_date" in check("travel_reimbursement.revise_claim", outside)
    too_many_nights = claim(accommodation_nights=3)
    assert "accommodation_nights" in check("travel_reimbursement.start", too_many_nights)


# -- branches -----------------------------------------------------------------------------------
def test_happy_path_pays_the_eligible_amount(engine, model, calls):
    wf = engine.start(model, claim())
    task = only_task(engine, wf, "check_claim", "Coordinator")
    data = engine.task_data(wf, task.id)
    assert data["eligible_amount"] == Decimal("255.00")
    assert (data["flag_air_not_allowed"], data["flag_accommodation_capped"], data["flag_late"]) == (
        False, False, False)
    assert data["eligibility_note"] == "Within the travel rules."
    engine.complete(wf, task.id, {"decision": "approve", "coordinator_comment": "All in order."})
    pay(engine, wf)
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end_claim_paid"
    final = engine.data(wf)
    assert final["eligible_amount"] == Decimal("255.00")
    assert final["payment_reference"] == "TR-2030-0042"
    assert notices(calls) == [("claim_paid", "initiator")]


def test_request_changes_then_resubmit_and_pay(engine, model, calls):
    wf = engine.start(model, claim(travel_mode="air", distance_km=180, rail_hours=Decimal("2.50")))
    task = only_task(engine, wf, "check_claim", "Coordinator")
    assert engine.task_data(wf, task.id)["flag_air_not_allowed"] is True
    engine.complete(wf, task.id, {
        "decision": "request_changes",
        "coordinator_comment": "A flight for 180 km is not covered. Did you go by train?"})

    task = only_task(engine, wf, "revise_claim", "Claimant")
    form = task.definition.form
    assert form.get("coordinator_comment").readonly
    assert form.get("ticket_cost").default == "${ticket_cost}"  # the claim is shown prefilled
    revised = claim(travel_mode="rail", ticket_cost=Decimal("98.00"))
    typed = {f.id: revised[f.id] for f in form.fields if not f.readonly and f.type != "file"}
    engine.complete(wf, task.id, typed | {"total_claimed": revised["total_claimed"],
                                          "additional_receipts": [105]})

    task = only_task(engine, wf, "check_claim", "Coordinator")
    data = engine.task_data(wf, task.id)
    assert data["flag_air_not_allowed"] is False  # re-assessed, not left over
    assert data["eligible_amount"] == Decimal("228.40")
    assert data["total_claimed"] == Decimal("228.40")
    assert (data["receipts"], data["additional_receipts"]) == ([101, 102], [105])
    engine.complete(wf, task.id, {"decision": "approve", "coordinator_comment": ""})
    pay(engine, wf)
    assert engine.ended_at(wf) == "end_claim_paid"
    assert engine.trail(wf).count("assess_eligibility") == 2
    assert notices(calls) == [("claim_paid", "initiator")]


def test_reject_tells_the_claimant(engine, model, calls):
    wf = engine.start(model, claim())
    task = only_task(engine, wf, "check_claim", "Coordinator")
    engine.complete(wf, task.id, {"decision": "reject",
                                  "coordinator_comment": "This meeting was online."})
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end_claim_rejected"
    assert engine.data(wf)["coordinator_comment"] == "This meeting was online."
    assert notices(calls) == [("claim_rejected", "initiator")]


def test_finance_returns_the_claim_to_the_coordinator(engine, model, calls):
    wf = engine.start(model, claim())
    approve_claim(engine, wf)
    task = only_task(engine, wf, "approve_payment", "Finance")
    engine.complete(wf, task.id, {"decision": "request_changes",
                                  "finance_comment": "The IBAN does not match the holder."})
    task = only_task(engine, wf, "check_claim", "Coordinator")
    assert engine.task_data(wf, task.id)["finance_comment"] == "The IBAN does not match the holder."
    approve_claim(engine, wf)
    pay(engine, wf, reference="TR-2030-0043")
    assert engine.ended_at(wf) == "end_claim_paid"
    assert engine.data(wf)["payment_reference"] == "TR-2030-0043"
    assert notices(calls) == [("claim_paid", "initiator")]


# -- the travel rules (travel_eligibility.dmn) --------------------------------------------------
def assessed(engine, model, **changes):
    wf = engine.start(model, claim(**changes))
    task = only_task(engine, wf, "check_claim", "Coordinator")
    return engine.task_data(wf, task.id)


def test_air_under_400_km_is_flagged_and_excluded(engine, model):
    data = assessed(engine, model, travel_mode="air", distance_km=320, rail_hours=Decimal("3.50"),
                    ticket_cost=Decimal("210.00"))
    assert data["flag_air_not_allowed"] is True
    assert data["total_claimed"] == Decimal("340.40")
    assert data["eligible_amount"] == Decimal("130.40")  # accommodation + other costs only
    assert data["eligibility_note"].startswith("Air ticket excluded")


@pytest.mark.parametrize("distance_km, rail_hours", [
    (401, None),            # long enough
    (400, Decimal("6.50")),  # short, but slow by rail
])
def test_air_for_long_or_slow_trips_counts_in_full(engine, model, distance_km, rail_hours):
    data = assessed(engine, model, travel_mode="air", distance_km=distance_km,
                    rail_hours=rail_hours, ticket_cost=Decimal("210.00"))
    assert data["flag_air_not_allowed"] is False
    assert data["eligible_amount"] == Decimal("340.40")


def test_air_at_the_limits_without_rail_time_is_excluded(engine, model):
    data = assessed(engine, model, travel_mode="air", distance_km=400, rail_hours=None,
                    ticket_cost=Decimal("210.00"))
    assert data["flag_air_not_allowed"] is True


def test_accommodation_is_capped_per_night(engine, model):
    data = assessed(engine, model, departure_date=dt.date(2030, 3, 11),
                    return_date=dt.date(2030, 3, 13), accommodation_nights=2,
                    accommodation_cost=Decimal("350.00"))
    assert data["flag_accommodation_capped"] is True
    assert data["accommodation_cap"] == Decimal("280.00")
    assert data["eligible_amount"] == Decimal("124.60") + Decimal("280.00") + Decimal("12.40")
    assert "Accommodation capped at 280.00 EUR" in data["eligibility_note"]


def test_accommodation_at_the_cap_is_not_flagged(engine, model):
    data = assessed(engine, model, accommodation_cost=Decimal("140.00"))
    assert data["flag_accommodation_capped"] is False
    assert data["eligible_amount"] == Decimal("277.00")


@pytest.mark.parametrize("days_after, late", [(60, False), (61, True)])
def test_claims_filed_after_60_days_are_flagged_late(engine, model, days_after, late):
    data = assessed(engine, model, filed_on=MEETING + dt.timedelta(days=days_after))
    assert data["flag_late"] is late
    assert data["eligible_amount"] == Decimal("255.00")  # late is for the coordinator to weigh
    assert ("late" in data["eligibility_note"]) is late


# -- timers -------------------------------------------------------------------------------------
def test_reminder_after_5_days_and_escalation_after_10(engine, model, calls):
    # Saved state is loaded and dumped outside freeze_time: dates restored inside it would be
    # freezegun's FakeDate, which the state serializer does not know.
    data = claim()
    with freeze_time("2030-03-20 09:00:00"):
        wf = engine.start(model, data)
        assert engine.next_timer(wf) == dt.datetime(2030, 3, 25, 9, tzinfo=dt.UTC)
    state = engine.dump(wf)

    wf = engine.load(model, state)
    with freeze_time("2030-03-24 09:00:00"):  # 4 days: nothing yet
        engine.fire_timers(wf)
    assert calls == []

    with freeze_time("2030-03-25 09:00:01"):
        engine.fire_timers(wf)
    assert notices(calls) == [("claim_reminder", "Coordinator")]
    only_task(engine, wf, "check_claim", "Coordinator")  # still waiting: non-interrupting
    assert engine.next_timer(wf) == dt.datetime(2030, 3, 30, 9, tzinfo=dt.UTC)
    state = engine.dump(wf)

    wf = engine.load(model, state)
    with freeze_time("2030-03-30 09:00:01"):
        engine.fire_timers(wf)
    assert ("escalate", {"task": "check_claim", "to": "Finance"}) in calls
    assert notices(calls) == [("claim_reminder", "Coordinator"), ("claim_escalated", "Finance")]
    assert engine.next_timer(wf) is None
    only_task(engine, wf, "check_claim", "Coordinator")

    with freeze_time("2030-03-31 10:00:00"):  # the same task is still decided, a day later
        approve_claim(engine, wf)
        pay(engine, wf)
    assert engine.is_completed(wf) and engine.ended_at(wf) == "end_claim_paid"
