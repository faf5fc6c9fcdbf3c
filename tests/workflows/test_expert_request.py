"""The expert request process, driven headless through the engine API.

Each test plays the people of one path: the requester asks for an expert, the coordinator
assesses, Finance and the Commission approve when the estimated cost needs them, the
coordinator assigns the expert and the requester accepts (or disputes) the deliverable.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.engine import Engine
from forms.rules import check
from tests.workflows.steps import complete, ready, shipped_model

FILES = ("expert_request.bpmn", "expert_approval_level.dmn")


@pytest.fixture(scope="module")
def model():
    return shipped_model(*FILES)


@pytest.fixture
def sent():
    """Emails the process queued, as the notify service saw them."""
    return []


@pytest.fixture
def engine(sent):
    def notify(data, properties):
        sent.append({"template": properties["template"], "to": properties["to"]})
        return {}

    return Engine(services={"notify": notify})


def request(expert_days=8, **changes):
    data = {
        "working_group_id": 4,
        "topic": "life_cycle_costing",
        "topic_other": "",
        "deliverable": "A life-cycle cost model comparing the three heat pump offers, "
        "with a two-page note for the buyers.",
        "expert_days": expert_days,
        "deadline": date.today() + timedelta(days=60),
        "preferred_expert": "",
        "justification": "None of the seven buyers has LCC experience for heat pumps; the "
        "model feeds the award criteria of our joint tender in spring.",
    }
    data.update(changes)
    return data


def approve_assessment(engine, wf, rate):
    complete(
        engine, wf, "assess_request", decision="approve", estimated_daily_rate=rate, coordinator_comment=""
    )


def assign(engine, wf, daily_rate=Decimal("500.00")):
    complete(
        engine,
        wf,
        "assign_expert",
        expert_name="Dr Anna Keller",
        expert_email="anna.keller@lcc-experts.example",
        daily_rate=daily_rate,
        contract_reference="BBI-EXP-2025-017",
    )
    # The expert works; when the deliverable is in, the coordinator records it for the requester.
    assert ready(engine, wf) == [("record_deliverable", "Coordinator")]
    complete(engine, wf, "record_deliverable", deliverable_file=[1],
             deliverable_summary="A life-cycle cost model of the three offers, with a guidance note.")


def accept(engine, wf):
    complete(engine, wf, "accept_deliverable", decision="approve", revision_comment="")


def ask_revision(engine, wf, comment="Add the maintenance costs of year 10 to 15."):
    complete(engine, wf, "accept_deliverable", decision="request_changes", revision_comment=comment)


def assert_payable(engine, wf, sent):
    assert engine.is_completed(wf)
    assert engine.ended_at(wf) == "end_expert_payable"
    assert sent[-1] == {"template": "expert_payable", "to": "Finance"}


# -- the three approval levels ------------------------------------------------------------


def test_4000_eur_needs_only_the_coordinator(model, engine, sent):
    wf = engine.start(model, request(expert_days=8))
    assert ready(engine, wf) == [("assess_request", "Coordinator")]

    approve_assessment(engine, wf, Decimal("500.00"))

    assert engine.data(wf)["estimated_cost"] == Decimal("4000.00")
    assert engine.data(wf)["approval_level"] == "coordinator"
    assert ready(engine, wf) == [("assign_expert", "Coordinator")]
    assign(engine, wf)
    assert ready(engine, wf) == [("accept_deliverable", "Requester")]
    accept(engine, wf)

    assert_payable(engine, wf, sent)
    assert sent == [{"template": "expert_payable", "to": "Finance"}]
    trail = engine.trail(wf)
    assert "finance_approval" not in trail and "commission_signoff" not in trail


def test_12000_eur_needs_finance(model, engine, sent):
    wf = engine.start(model, request(expert_days=20))
    approve_assessment(engine, wf, Decimal("600.00"))

    assert engine.data(wf)["estimated_cost"] == Decimal("12000.00")
    assert engine.data(wf)["approval_level"] == "finance"
    assert ready(engine, wf) == [("finance_approval", "Finance")]
    complete(engine, wf, "finance_approval", decision="approve", finance_comment="")

    assert ready(engine, wf) == [("assign_expert", "Coordinator")]
    assign(engine, wf, daily_rate=Decimal("600.00"))
    accept(engine, wf)
    assert_payable(engine, wf, sent)
    assert "commission_signoff" not in engine.trail(wf)


def test_20000_eur_needs_finance_then_the_commission(model, engine, sent):
    wf = engine.start(model, request(expert_days=25))
    approve_assessment(engine, wf, Decimal("800.00"))

    assert engine.data(wf)["estimated_cost"] == Decimal("20000.00")
    assert engine.data(wf)["approval_level"] == "finance_and_commission"
    assert ready(engine, wf) == [("finance_approval", "Finance")]
    complete(
        engine,
        wf,
        "finance_approval",
        decision="approve",
        finance_comment="Covered by the 2025 expertise budget.",
    )
    assert ready(engine, wf) == [("commission_signoff", "Commission")]
    complete(engine, wf, "commission_signoff", decision="approve", commission_comment="")

    assert ready(engine, wf) == [("assign_expert", "Coordinator")]
    assign(engine, wf, daily_rate=Decimal("800.00"))
    accept(engine, wf)
    assert_payable(engine, wf, sent)
    assert engine.data(wf)["finance_comment"] == "Covered by the 2025 expertise budget."


@pytest.mark.parametrize(
    ("days", "rate", "level"),
    [
        (10, Decimal("500.00"), "coordinator"),  # exactly the coordinator's limit
        (10, Decimal("500.01"), "finance"),
        (30, Decimal("500.00"), "finance"),  # exactly Finance's limit
        (30, Decimal("500.01"), "finance_and_commission"),
    ],
)
def test_limits_belong_to_the_lower_level(model, engine, days, rate, level):
    wf = engine.start(model, request(expert_days=days))
    approve_assessment(engine, wf, rate)
    assert engine.data(wf)["approval_level"] == level


# -- rejections -----------------------------------------------------------------------------


def test_coordinator_rejects(model, engine, sent):
    wf = engine.start(model, request())
    complete(
        engine,
        wf,
        "assess_request",
        decision="reject",
        estimated_daily_rate=None,
        coordinator_comment="The group's tender was cancelled.",
    )

    assert engine.is_completed(wf)
    assert engine.ended_at(wf) == "end_request_rejected"
    assert sent == [{"template": "expert_request_rejected", "to": "Requester"}]
    assert engine.data(wf)["coordinator_comment"] == "The group's tender was cancelled."
    assert "assign_expert" not in engine.trail(wf)


def test_finance_rejects(model, engine, sent):
    wf = engine.start(model, request(expert_days=20))
    approve_assessment(engine, wf, Decimal("600.00"))
    complete(
        engine,
        wf,
        "finance_approval",
        decision="reject",
        finance_comment="The expertise budget for this year is spent.",
    )

    assert engine.ended_at(wf) == "end_request_rejected"
    assert sent == [{"template": "expert_request_rejected", "to": "Requester"}]
    assert engine.data(wf)["finance_comment"] == "The expertise budget for this year is spent."


def test_commission_rejects_after_finance_approved(model, engine, sent):
    wf = engine.start(model, request(expert_days=25))
    approve_assessment(engine, wf, Decimal("800.00"))
    complete(engine, wf, "finance_approval", decision="approve", finance_comment="")
    complete(
        engine,
        wf,
        "commission_signoff",
        decision="reject",
        commission_comment="Covered by the JRC study already under way.",
    )

    assert engine.ended_at(wf) == "end_request_rejected"
    assert sent == [{"template": "expert_request_rejected", "to": "Requester"}]
    assert "assign_expert" not in engine.trail(wf)


# -- loops ----------------------------------------------------------------------------------


def test_request_changes_goes_back_to_the_requester_then_to_assessment(model, engine, sent):
    wf = engine.start(model, request(expert_days=30))
    complete(
        engine,
        wf,
        "assess_request",
        decision="request_changes",
        estimated_daily_rate=None,
        coordinator_comment="30 days is a lot: can the model cover two offers only?",
    )

    assert ready(engine, wf) == [("revise_request", "Requester")]
    complete(engine, wf, "revise_request", **request(expert_days=8))

    assert ready(engine, wf) == [("assess_request", "Coordinator")]
    assert engine.data(wf)["expert_days"] == 8
    approve_assessment(engine, wf, Decimal("500.00"))
    assert engine.data(wf)["approval_level"] == "coordinator"
    assert ready(engine, wf) == [("assign_expert", "Coordinator")]
    assert sent == []


def test_one_revision_of_the_deliverable_then_accepted(model, engine, sent):
    wf = engine.start(model, request())
    approve_assessment(engine, wf, Decimal("500.00"))
    assign(engine, wf)
    ask_revision(engine, wf)

    assert engine.data(wf)["revision_count"] == 1
    assert engine.data(wf)["revision_comment"] == "Add the maintenance costs of year 10 to 15."
    assert ready(engine, wf) == [("assign_expert", "Coordinator")]
    assign(engine, wf)
    assert ready(engine, wf) == [("accept_deliverable", "Requester")]
    accept(engine, wf)

    assert_payable(engine, wf, sent)
    assert engine.trail(wf).count("assign_expert") == 2


def test_revisions_past_the_limit_go_to_the_coordinator(model, engine, sent):
    wf = engine.start(model, request())
    approve_assessment(engine, wf, Decimal("500.00"))
    limit = engine.data(wf)["max_revisions"]
    assert limit == 2  # the default the diagram sets

    assign(engine, wf)
    for number in range(1, limit + 1):
        ask_revision(engine, wf, comment=f"Revision {number}: more detail on energy prices.")
        assert engine.data(wf)["revision_count"] == number
        assert ready(engine, wf) == [("assign_expert", "Coordinator")]
        assign(engine, wf)

    ask_revision(engine, wf, comment="Still no sensitivity analysis.")

    assert ready(engine, wf) == [("resolve_deliverable_dispute", "Coordinator")]
    assert engine.data(wf)["revision_count"] == limit
    complete(engine, wf, "resolve_deliverable_dispute", decision="approve", dispute_comment="")
    assert_payable(engine, wf, sent)
    assert engine.trail(wf).count("assign_expert") == limit + 1


def test_coordinator_rejects_a_disputed_deliverable(model, engine, sent):
    wf = engine.start(model, request())
    approve_assessment(engine, wf, Decimal("500.00"))
    assign(engine, wf)
    for _ in range(engine.data(wf)["max_revisions"]):
        ask_revision(engine, wf)
        assign(engine, wf)
    ask_revision(engine, wf, comment="The model still ignores maintenance.")

    complete(
        engine,
        wf,
        "resolve_deliverable_dispute",
        decision="reject",
        dispute_comment="The expert did not deliver what the contract asks for.",
    )

    assert engine.ended_at(wf) == "end_deliverable_rejected"
    assert sent == [{"template": "expert_deliverable_rejected", "to": "Requester"}]


# -- what the app relies on -----------------------------------------------------------------


def test_instance_survives_saving_between_steps(model, engine, sent):
    wf = engine.start(model, request(expert_days=25))
    approve_assessment(engine, wf, Decimal("800.00"))
    wf = engine.load(model, engine.dump(wf))

    assert engine.data(wf)["estimated_cost"] == Decimal("20000.00")
    assert engine.data(wf)["deadline"] == date.today() + timedelta(days=60)
    complete(engine, wf, "finance_approval", decision="approve", finance_comment="")
    wf = engine.load(model, engine.dump(wf))
    complete(engine, wf, "commission_signoff", decision="approve", commission_comment="")
    assign(engine, wf, daily_rate=Decimal("800.00"))
    wf = engine.load(model, engine.dump(wf))
    accept(engine, wf)
    assert_payable(engine, wf, sent)


def test_group_lead_may_also_accept_the_deliverable(model):
    task = model.tasks["accept_deliverable"]
    assert task.lane == "Requester"
    assert task.properties.get("also") == "Group lead"
    assert task.form.decisions == (("approve", "Accept deliverable"), ("request_changes", "Request revision"))


def test_start_form_ties_the_request_to_one_of_my_groups(model):
    form = model.start_form
    assert form.key == "expert_request.start"
    group = form.get("working_group_id")
    assert group.type == "enum" and group.required
    assert group.properties["choices"] == "my_groups"
    days = form.get("expert_days")
    assert (days.number("min"), days.number("max")) == (1, 40)
    assert form.get("deadline").properties["future"] == "true"


def test_other_topic_must_be_named(model):
    assert check("expert_request.start", {"topic": "other", "topic_other": ""}) == {
        "topic_other": "Enter the topic, as you selected Other"
    }
    assert (
        check("expert_request.revise_request", {"topic": "other", "topic_other": "Circular textiles"}) == {}
    )
    assert check("expert_request.start", {"topic": "market_analysis", "topic_other": ""}) == {}
