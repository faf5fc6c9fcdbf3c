"""The market engagement event process, driven headless through the engine API.

Each test plays the people of one path: a group lead proposes an event, the coordinator
reviews it, the Commission signs off budgets above its threshold, the coordinator organises
the logistics, and the day after the event the lead reports and the coordinator closes it.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal

import pytest
from freezegun import freeze_time

from app.engine import Engine, parse_files
from forms.rules import COMPUTATIONS
from tests.workflows.steps import WORKFLOWS, complete, ready, shipped_model

FILE = "market_engagement.bpmn"
EVENT_DAY = date(2030, 6, 12)
# The timer's iso(add_days(event_date, 1)) is a naive midnight: the server's local midnight
# starting 13 June, somewhere between these two moments whatever the server's time zone.
REPORT_DUE_RANGE = (dt.datetime(2030, 6, 12, 12, tzinfo=dt.UTC), dt.datetime(2030, 6, 13, 12, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def model():
    return shipped_model(FILE)


@pytest.fixture
def sent():
    """Emails the process queued, as the notify service saw them."""
    return []


@pytest.fixture
def engine(sent):
    def notify(data, properties):
        sent.append((properties["template"], properties["to"]))
        return {}

    return Engine(services={"notify": notify})


def proposal(venue="6000.00", catering="3000.00", interpretation="1000.00", **changes):
    """The start form as the forms layer hands it over, budget_total computed by forms/rules."""
    data = {
        "working_group_id": 5,
        "title": "Meet the makers of zero-emission construction machinery",
        "event_format": "hybrid",
        "event_date": EVENT_DAY,
        "location": "Brussels",
        "market_segment": "Zero-emission construction machinery",
        "target_suppliers": "Manufacturers and rental companies of electric excavators, "
        "wheel loaders and cranes, including SMEs.",
        "objectives": "Learn what the market can deliver by 2027 and test our draft award criteria.",
        "expected_participants": 120,
        "budget_venue": Decimal(venue),
        "budget_catering": Decimal(catering),
        "budget_interpretation": Decimal(interpretation),
    }
    data.update(changes)
    if "budget_total" not in changes:
        data["budget_total"] = COMPUTATIONS["market_engagement_budget_total"](data)
    return data


def approve_review(engine, wf):
    complete(engine, wf, "review_event", decision="approve", review_comment=None)


def organise(engine, wf):
    complete(
        engine,
        wf,
        "organise_logistics",
        venue_confirmed=True,
        registration_link="https://events.bigbuyers.example/zero-emission-machinery",
        invitation_date=date(2030, 5, 2),
        pin_reference="2030/S 061-184215",
    )


def report(engine, wf, findings="Electric excavators up to 25 t are available now."):
    complete(
        engine,
        wf,
        "report_event",
        suppliers_attending=38,
        buyers_attending=17,
        key_findings=findings,
        follow_up_actions="Draft a joint statement of demand by September.",
        attendance_list=[77],
    )


# -- review and Commission sign-off -------------------------------------------------------------


def test_10000_eur_exactly_needs_no_commission_signoff(model, engine, sent):
    wf = engine.start(model, proposal())
    assert engine.data(wf)["budget_total"] == Decimal("10000.00")
    assert ready(engine, wf) == [("review_event", "Coordinator")]

    approve_review(engine, wf)

    assert ready(engine, wf) == [("organise_logistics", "Coordinator")]
    assert "commission_signoff" not in engine.trail(wf)


def test_above_10000_eur_needs_commission_signoff(model, engine, sent):
    wf = engine.start(model, proposal(interpretation="1000.01"))
    assert engine.data(wf)["budget_total"] == Decimal("10000.01")
    approve_review(engine, wf)

    assert ready(engine, wf) == [("commission_signoff", "Commission")]
    complete(engine, wf, "commission_signoff", decision="approve", commission_comment=None)

    assert ready(engine, wf) == [("organise_logistics", "Coordinator")]
    assert sent == []


def test_commission_rejects(model, engine, sent):
    wf = engine.start(model, proposal(venue="18000.00"))
    approve_review(engine, wf)
    complete(
        engine,
        wf,
        "commission_signoff",
        decision="reject",
        commission_comment="A venue of 18 000 EUR is out of proportion for 120 people.",
    )

    assert engine.ended_at(wf) == "end_event_declined"
    assert sent == [("event_declined_by_commission", "initiator")]
    assert engine.data(wf)["commission_comment"].startswith("A venue of 18 000 EUR")
    assert "organise_logistics" not in engine.trail(wf)


def test_gateway_uses_the_server_total_not_the_one_sent(model, engine):
    forged = proposal(venue="14000.00", budget_total=Decimal("900.00"))
    wf = engine.start(model, forged)

    assert engine.data(wf)["budget_total"] == Decimal("18000.00")
    approve_review(engine, wf)
    assert ready(engine, wf) == [("commission_signoff", "Commission")]


def test_coordinator_rejects(model, engine, sent):
    wf = engine.start(model, proposal())
    complete(
        engine,
        wf,
        "review_event",
        decision="reject",
        review_comment="The group held a similar event in March.",
    )

    assert engine.ended_at(wf) == "end_event_rejected"
    assert sent == [("event_rejected", "initiator")]
    assert engine.data(wf)["review_comment"] == "The group held a similar event in March."


def test_changes_go_back_to_the_lead_and_the_total_is_recomputed(model, engine, sent):
    wf = engine.start(model, proposal())
    complete(
        engine,
        wf,
        "review_event",
        decision="request_changes",
        review_comment="Add interpretation into French and German.",
    )

    assert ready(engine, wf) == [("revise_event", "Group lead")]
    revise = engine.ready_tasks(wf)[0]
    form = revise.definition.form
    assert form.get("review_comment").readonly
    assert form.get("title").default == "${title}"
    assert form.get("budget_total").properties["computed"] == "market_engagement_budget_total"
    revised = proposal(interpretation="4500.00")
    del revised["working_group_id"]  # the revise form does not offer it
    complete(engine, wf, "revise_event", **revised)

    assert engine.data(wf)["budget_total"] == Decimal("13500.00")
    assert ready(engine, wf) == [("review_event", "Coordinator")]
    approve_review(engine, wf)
    assert ready(engine, wf) == [("commission_signoff", "Commission")]


# -- the event day, the report and closing ------------------------------------------------------
# Saved state is dumped and loaded outside freeze_time: dates made inside it are freezegun's
# FakeDate, which the state serializer does not know.


def test_report_is_asked_for_the_day_after_the_event(model, engine, sent):
    data = proposal()
    with freeze_time("2030-04-22 09:00:00"):
        wf = engine.start(model, data)
        approve_review(engine, wf)
        organise(engine, wf)
        assert sent == [("event_confirmed", "initiator")]
        assert ready(engine, wf) == []
        assert REPORT_DUE_RANGE[0] <= engine.next_timer(wf) <= REPORT_DUE_RANGE[1]
    wf = engine.load(model, engine.dump(wf))

    with freeze_time("2030-06-12 09:00:00"):  # the event day itself: nothing yet
        engine.fire_timers(wf)
    assert ready(engine, wf) == []
    with freeze_time("2030-06-13 12:00:00"):
        engine.fire_timers(wf)
    assert ready(engine, wf) == [("report_event", "Group lead")]

    report(engine, wf)
    assert ready(engine, wf) == [("close_event", "Coordinator")]
    complete(engine, wf, "close_event", decision="approve", close_comment=None)

    assert engine.ended_at(wf) == "end_event_closed"
    assert sent == [("event_confirmed", "initiator"), ("event_closed", "initiator")]
    data = engine.data(wf)
    assert (data["suppliers_attending"], data["buyers_attending"]) == (38, 17)
    assert data["attendance_list"] == [77]
    assert data["pin_reference"] == "2030/S 061-184215"


def test_coordinator_asks_for_more_then_accepts_the_report(model, engine, sent):
    with freeze_time("2030-04-22 09:00:00"):
        wf = engine.start(model, proposal())
        approve_review(engine, wf)
        organise(engine, wf)
    with freeze_time("2030-06-13 12:00:00"):
        engine.fire_timers(wf)
    report(engine, wf, findings="Good event.")
    complete(
        engine,
        wf,
        "close_event",
        decision="request_changes",
        close_comment="Which suppliers could deliver by 2027, and at what price range?",
    )

    assert ready(engine, wf) == [("report_event", "Group lead")]
    again = engine.ready_tasks(wf)[0]
    assert engine.task_data(wf, again.id)["close_comment"].startswith("Which suppliers")
    report(engine, wf, findings="Four of the six manufacturers can deliver by 2027.")
    assert ready(engine, wf) == [("close_event", "Coordinator")]
    complete(engine, wf, "close_event", decision="approve", close_comment=None)

    assert engine.ended_at(wf) == "end_event_closed"
    assert engine.data(wf)["key_findings"].startswith("Four of the six")
    assert engine.trail(wf).count("report_event") == 2


def test_a_postponed_event_moves_the_report_date(model, engine):
    with freeze_time("2030-04-22 09:00:00"):
        wf = engine.start(model, proposal())
        complete(
            engine,
            wf,
            "review_event",
            decision="request_changes",
            review_comment="The venue is taken on 12 June; can you move to July?",
        )
        revised = proposal(event_date=date(2030, 7, 3))
        del revised["working_group_id"]
        complete(engine, wf, "revise_event", **revised)
        approve_review(engine, wf)
        organise(engine, wf)
    with freeze_time("2030-06-13 12:00:00"):
        engine.fire_timers(wf)
    assert ready(engine, wf) == []
    with freeze_time("2030-07-04 12:00:00"):
        engine.fire_timers(wf)
    assert ready(engine, wf) == [("report_event", "Group lead")]


# -- the forms ----------------------------------------------------------------------------------


def test_budget_total_computation():
    total = COMPUTATIONS["market_engagement_budget_total"]
    assert total(
        {"budget_venue": Decimal("2500.5"), "budget_catering": Decimal("1200"), "budget_interpretation": None}
    ) == Decimal("3700.50")
    assert total({}) == Decimal("0.00")


def test_forms_declare_what_the_spec_asks(model):
    start = model.start_form
    assert start.key == "market_engagement.start"
    assert model.start_lane == "Group lead"
    assert start.get("working_group_id").properties["choices"] == "led_groups"
    assert start.get("event_date").properties["future"] == "true"
    participants = start.get("expected_participants")
    assert (participants.number("min"), participants.number("max")) == (1, 500)
    assert start.get("budget_total").readonly
    assert [v for v, _ in start.get("event_format").options] == ["face_to_face", "virtual", "hybrid"]

    assert set(model.tasks) == {
        "review_event",
        "revise_event",
        "commission_signoff",
        "organise_logistics",
        "report_event",
        "close_event",
    }
    for task in model.tasks.values():
        assert task.form.key == f"market_engagement.{task.bpmn_id}"
        assert task.lane in {"Group lead", "Coordinator", "Commission"}
        assert len(task.documentation) > 80
    assert dict(model.tasks["close_event"].form.decisions) == {
        "approve": "Accept report",
        "request_changes": "Ask for more",
    }
    signoff = model.tasks["commission_signoff"].form
    assert signoff.get("commission_comment").properties["required_if"] == "decision=reject"
    attendance = model.tasks["report_event"].form.get("attendance_list")
    assert attendance.properties["accept"] == "pdf,jpeg,png,csv,xlsx"
    assert not model.tasks["organise_logistics"].form.get("pin_reference").required


def revised(old: str, new: str):
    """The shipped diagram with the expression ``old`` changed to ``new``, as an administrator
    would upload it."""
    text = (WORKFLOWS / FILE).read_text(encoding="utf-8")
    assert text.count(old) == 1
    return parse_files({FILE: text.replace(old, new)})


@pytest.mark.parametrize(("interpretation", "signoff"), [("0.00", False), ("0.01", True)])
def test_signoff_threshold_is_read_from_the_diagram(engine, interpretation, signoff):
    """Lowered to 5 000 EUR in the diagram, the threshold moves with no change to the code."""
    model = revised("budget_total &gt; 10000", "budget_total &gt; 5000")
    wf = engine.start(model, proposal(venue="3000.00", catering="2000.00", interpretation=interpretation))
    approve_review(engine, wf)

    waits_for = ("commission_signoff", "Commission") if signoff else ("organise_logistics", "Coordinator")
    assert ready(engine, wf) == [waits_for]


def test_report_date_is_read_from_the_diagram(engine):
    """Asked for three days after the event instead of one, the report timer moves with it."""
    model = revised("iso(add_days(event_date, 1))", "iso(add_days(event_date, 3))")
    with freeze_time("2030-04-22 09:00:00"):
        wf = engine.start(model, proposal())
        approve_review(engine, wf)
        organise(engine, wf)
        due = engine.next_timer(wf)
    two_days = dt.timedelta(days=2)
    assert REPORT_DUE_RANGE[0] + two_days <= due <= REPORT_DUE_RANGE[1] + two_days
