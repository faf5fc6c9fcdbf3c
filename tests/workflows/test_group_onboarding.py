"""The group onboarding process, driven headless through the engine API.

Each test plays the people of one path: a buyer sends an expression of interest, the
coordinator reviews its eligibility, the application's group is counted (a full group puts
the applicant on the waiting list), the group's lead confirms the new member and the
applicant signs the participation statement. A new sector proposal skips the group steps.
"""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from freezegun import freeze_time

from app.engine import Engine, parse_files
from forms.rules import check
from tests.workflows.steps import WORKFLOWS, complete, ready, shipped_model

FILE = "group_onboarding.bpmn"
ALLOWED_LANES = {"Applicant", "Coordinator", "Group lead"}


@pytest.fixture(scope="module")
def model():
    return shipped_model(FILE)


@pytest.fixture
def group():
    """The chosen working group as the application sees it: its member count and new members."""
    return {"members": 4, "added": []}


@pytest.fixture
def sent():
    """Emails the process queued, as the notify service saw them."""
    return []


@pytest.fixture
def engine(group, sent):
    def notify(data, properties):
        sent.append((properties["template"], properties["to"]))
        return {}

    def group_member_count(data, properties):
        group["counted"] = data["working_group_id"]
        return {"group_member_count": group["members"]}

    def add_group_member(data, properties):
        group["added"].append((data["organisation_name"], data["working_group_id"]))
        return {"membership_added": True}

    return Engine(
        services={
            "notify": notify,
            "group_member_count": group_member_count,
            "add_group_member": add_group_member,
        }
    )


def interest(**changes):
    """The start form as the forms layer hands it over: typed, None for empty optional fields."""
    data = {
        "organisation_name": "Ville de Lyon",
        "organisation_type": "city",
        "country": "FR",
        "contact_name": "Camille Martin",
        "contact_email": "camille.martin@lyon.example",
        "working_group_id": 3,
        "new_sector_proposal": None,
        "spend_band": "100m_1bn",
        "motivation": "Lyon renews its bus fleet from 2026 and wants to tender zero-emission "
        "vehicles together with other cities of similar size.",
        "commitment": True,
    }
    data.update(changes)
    return data


def sector_proposal():
    return interest(
        working_group_id=None,
        new_sector_proposal="Circular furniture for schools and offices: refurbished and "
        "remanufactured furniture bought as a service.",
    )


def approve_eligibility(engine, wf):
    complete(
        engine, wf, "review_eligibility", decision="approve", coordinator_question=None, rejection_reason=None
    )


def ask_information(engine, wf, question="Which tenders for buses does Lyon plan before 2027?"):
    complete(
        engine,
        wf,
        "review_eligibility",
        decision="request_changes",
        coordinator_question=question,
        rejection_reason=None,
    )


def accept_member(engine, wf):
    complete(engine, wf, "confirm_member", decision="approve", decline_reason=None)


def sign(engine, wf):
    complete(
        engine,
        wf,
        "sign_participation",
        signatory_name="Bruno Bernard",
        signatory_role="Deputy mayor for procurement",
        signed_on=date(2025, 3, 14),
        signed_letter=[41],
    )


# -- joining a group ----------------------------------------------------------------------------


@pytest.mark.parametrize("members", [3, 6])
def test_group_with_room_lead_accepts_applicant_signs_and_joins(model, engine, group, sent, members):
    group["members"] = members
    wf = engine.start(model, interest())
    assert ready(engine, wf) == [("review_eligibility", "Coordinator")]

    approve_eligibility(engine, wf)
    assert group["counted"] == 3
    assert ready(engine, wf) == [("confirm_member", "Group lead")]
    accept_member(engine, wf)
    assert ready(engine, wf) == [("sign_participation", "Applicant")]
    sign(engine, wf)

    assert engine.is_completed(wf)
    assert engine.ended_at(wf) == "end_member"
    assert group["added"] == [("Ville de Lyon", 3)]
    assert sent == [("welcome", "initiator"), ("new_member", "Group lead")]
    data = engine.data(wf)
    assert data["membership_added"] is True
    assert data["signed_letter"] == [41]
    assert data["signed_on"] == date(2025, 3, 14)


@pytest.mark.parametrize("members", [7, 8])
def test_full_group_offers_another_which_the_applicant_joins_in_one_step(model, engine, group, sent, members):
    group["members"] = members
    wf = engine.start(model, interest())
    approve_eligibility(engine, wf)

    assert sent == [("waiting_list", "initiator")]
    assert ready(engine, wf) == [("offer_other_group", "Coordinator")]
    complete(engine, wf, "offer_other_group", decision="approve", offered_group_id="5",
             coordinator_comment="Group 5 buys clean buses too.")
    assert ready(engine, wf) == [("accept_offer", "Applicant")]
    assert "confirm_member" not in engine.trail(wf)

    group["members"] = 4  # the offered group has room
    complete(engine, wf, "accept_offer", decision="approve")
    assert group["counted"] == 5  # the application goes on with the group offered
    assert engine.data(wf)["working_group_id"] == 5
    assert ready(engine, wf) == [("confirm_member", "Group lead")]
    accept_member(engine, wf)
    sign(engine, wf)
    assert engine.ended_at(wf) == "end_member"
    assert group["added"] == [("Ville de Lyon", 5)]
    assert sent == [("waiting_list", "initiator"), ("welcome", "initiator"), ("new_member", "Group lead")]


def test_the_applicant_may_decline_the_group_offered(model, engine, group, sent):
    group["members"] = 7
    wf = engine.start(model, interest())
    approve_eligibility(engine, wf)
    complete(engine, wf, "offer_other_group", decision="approve", offered_group_id="5", coordinator_comment=None)
    complete(engine, wf, "accept_offer", decision="reject")
    assert engine.ended_at(wf) == "end_offer_declined"
    assert engine.data(wf)["working_group_id"] == 3
    assert group["added"] == []


def test_waiting_list_closed_when_no_other_group_fits(model, engine, group, sent):
    group["members"] = 7
    wf = engine.start(model, interest())
    approve_eligibility(engine, wf)
    complete(
        engine,
        wf,
        "offer_other_group",
        decision="reject",
        offered_group_id=None,
        coordinator_comment="No other group works on buses; we will contact you when a place frees up.",
    )

    assert engine.ended_at(wf) == "end_waiting_list"
    assert sent == [("waiting_list", "initiator"), ("waiting_list_closed", "initiator")]
    assert group["added"] == []


@pytest.mark.parametrize(("members", "waits_for"), [
    (4, ("confirm_member", "Group lead")),
    (5, ("offer_other_group", "Coordinator")),
])
def test_group_size_threshold_is_read_from_the_diagram(engine, group, members, waits_for):
    """An administrator who lowers the threshold in the diagram changes who reaches the waiting
    list, with no change to the code."""
    text = (WORKFLOWS / FILE).read_text(encoding="utf-8")
    assert text.count("group_member_count &gt;= 7") == 1
    revised = parse_files({FILE: text.replace("group_member_count &gt;= 7", "group_member_count &gt;= 5")})
    group["members"] = members
    wf = engine.start(revised, interest())
    approve_eligibility(engine, wf)

    assert ready(engine, wf) == [waits_for]


def test_lead_declines(model, engine, group, sent):
    wf = engine.start(model, interest())
    approve_eligibility(engine, wf)
    complete(
        engine,
        wf,
        "confirm_member",
        decision="reject",
        decline_reason="The group's tender is already published; join the next round.",
    )

    assert engine.ended_at(wf) == "end_declined"
    assert sent == [("member_declined", "initiator")]
    assert engine.data(wf)["decline_reason"].startswith("The group's tender")
    assert "sign_participation" not in engine.trail(wf)
    assert group["added"] == []


# -- eligibility review -------------------------------------------------------------------------


def test_coordinator_rejects(model, engine, group, sent):
    wf = engine.start(model, interest(organisation_type="other_public_authority"))
    complete(
        engine,
        wf,
        "review_eligibility",
        decision="reject",
        coordinator_question=None,
        rejection_reason="The initiative is open to public buyers only.",
    )

    assert engine.ended_at(wf) == "end_rejected"
    assert sent == [("application_rejected", "initiator")]
    assert engine.data(wf)["rejection_reason"] == "The initiative is open to public buyers only."
    assert "counted" not in group


def test_more_information_goes_to_the_applicant_then_back_to_review(model, engine, sent):
    wf = engine.start(model, interest())
    ask_information(engine, wf)

    assert ready(engine, wf) == [("provide_information", "Applicant")]
    provide = engine.ready_tasks(wf)[0]
    assert provide.definition.form.get("coordinator_question").readonly
    assert engine.task_data(wf, provide.id)["coordinator_question"].startswith("Which tenders")
    complete(
        engine,
        wf,
        "provide_information",
        information="Two tenders: 120 articulated e-buses in 2026 and charging depots in 2027.",
    )

    assert ready(engine, wf) == [("review_eligibility", "Coordinator")]
    approve_eligibility(engine, wf)
    accept_member(engine, wf)
    sign(engine, wf)
    assert engine.ended_at(wf) == "end_member"
    assert engine.data(wf)["information"].startswith("Two tenders")
    assert sent == [("welcome", "initiator"), ("new_member", "Group lead")]


# -- timers on "more information" ---------------------------------------------------------------
# Saved state is dumped and loaded outside freeze_time: dates made inside it are freezegun's
# FakeDate, which the state serializer does not know.


def test_applicant_silent_14_days_is_reminded_and_can_still_answer(model, engine, sent):
    with freeze_time("2030-03-04 09:00:00"):
        wf = engine.start(model, interest())
        ask_information(engine, wf)
        assert engine.next_timer(wf) == dt.datetime(2030, 3, 18, 9, tzinfo=dt.UTC)
    wf = engine.load(model, engine.dump(wf))

    with freeze_time("2030-03-17 09:00:00"):  # 13 days: nothing yet
        engine.fire_timers(wf)
    assert sent == []
    with freeze_time("2030-03-18 09:00:01"):
        engine.fire_timers(wf)
        assert sent == [("information_reminder", "initiator")]
        assert ready(engine, wf) == [("provide_information", "Applicant")]
        engine.fire_timers(wf)  # the worker runs again: one reminder only
        assert sent == [("information_reminder", "initiator")]
        assert engine.next_timer(wf) == dt.datetime(2030, 4, 3, 9, tzinfo=dt.UTC)
    wf = engine.load(model, engine.dump(wf))

    with freeze_time("2030-03-25 10:00:00"):
        complete(engine, wf, "provide_information", information="Two bus tenders, 2026 and 2027.")
    assert ready(engine, wf) == [("review_eligibility", "Coordinator")]
    assert engine.next_timer(wf) is None
    with freeze_time("2030-04-10 09:00:00"):  # past the 30 days: the answer came in time
        engine.fire_timers(wf)
    assert ready(engine, wf) == [("review_eligibility", "Coordinator")]
    assert sent == [("information_reminder", "initiator")]


def test_applicant_silent_30_days_is_withdrawn(model, engine, group, sent):
    with freeze_time("2030-03-04 09:00:00"):
        wf = engine.start(model, interest())
        ask_information(engine, wf)
    with freeze_time("2030-03-18 09:00:01"):
        engine.fire_timers(wf)
    with freeze_time("2030-04-03 08:59:00"):  # a minute short of 30 days
        engine.fire_timers(wf)
    assert ready(engine, wf) == [("provide_information", "Applicant")]

    with freeze_time("2030-04-03 09:00:01"):
        engine.fire_timers(wf)

    assert engine.is_completed(wf)
    assert engine.ended_at(wf) == "end_withdrawn"
    assert ready(engine, wf) == []
    assert sent == [("information_reminder", "initiator"), ("application_withdrawn", "initiator")]
    assert "counted" not in group


def test_timers_start_again_on_a_second_question(model, engine, sent):
    with freeze_time("2030-03-04 09:00:00"):
        wf = engine.start(model, interest())
        ask_information(engine, wf)
    with freeze_time("2030-03-10 09:00:00"):
        complete(engine, wf, "provide_information", information="Buses only.")
        ask_information(engine, wf, question="How many buses?")
        assert engine.next_timer(wf) == dt.datetime(2030, 3, 24, 9, tzinfo=dt.UTC)
    with freeze_time("2030-03-20 09:00:00"):  # 16 days after the first question, 10 after this one
        engine.fire_timers(wf)
    assert sent == []
    assert ready(engine, wf) == [("provide_information", "Applicant")]


# -- new sector proposal ------------------------------------------------------------------------


def test_new_sector_proposal_skips_group_size_and_lead(model, engine, group, sent):
    wf = engine.start(model, sector_proposal())
    approve_eligibility(engine, wf)

    assert sent == [("sector_proposal_recorded", "initiator")]
    assert ready(engine, wf) == [("set_up_group", "Coordinator")]
    complete(
        engine,
        wf,
        "set_up_group",
        decision="approve",
        sector_group_name="Circular furniture",
        sector_comment=None,
    )

    assert engine.ended_at(wf) == "end_sector_proposal"
    assert sent[-1] == ("sector_group_planned", "initiator")
    assert engine.data(wf)["sector_group_name"] == "Circular furniture"
    trail = engine.trail(wf)
    assert "count_group_members" not in trail and "confirm_member" not in trail
    assert "counted" not in group and group["added"] == []


def test_new_sector_proposal_not_taken_forward(model, engine, sent):
    wf = engine.start(model, sector_proposal())
    approve_eligibility(engine, wf)
    complete(
        engine,
        wf,
        "set_up_group",
        decision="reject",
        sector_group_name=None,
        sector_comment="The circular ICT group covers furniture from next year.",
    )

    assert engine.ended_at(wf) == "end_sector_proposal"
    assert sent == [("sector_proposal_recorded", "initiator"), ("sector_proposal_declined", "initiator")]


# -- the forms ----------------------------------------------------------------------------------


def test_start_form_needs_exactly_one_of_group_or_sector():
    key = "group_onboarding.start"
    assert check(key, interest()) == {}
    assert check(key, sector_proposal()) == {}
    assert "working_group_id" in check(key, interest(working_group_id=None))
    assert "working_group_id" in check(key, interest(working_group_id=None, new_sector_proposal="  "))
    assert "new_sector_proposal" in check(key, interest(new_sector_proposal="Circular furniture"))


def test_start_form_declares_what_the_spec_asks(model):
    form = model.start_form
    assert form.key == "group_onboarding.start"
    assert model.start_lane == "Applicant"
    assert form.get("working_group_id").properties["choices"] == "joinable_groups"  # not the groups it is a member of
    assert not form.get("working_group_id").required
    assert form.get("country").properties["choices"] == "eu_countries"
    assert form.get("contact_email").type == "email"
    assert form.get("motivation").number("minlength") == 50
    assert form.get("motivation").number("maxlength") == 2000
    assert form.get("commitment").properties["checked"] == "true"
    assert [v for v, _ in form.get("organisation_type").options] == [
        "city",
        "region",
        "central_purchasing_body",
        "other_public_authority",
    ]


def test_every_user_task_has_a_keyed_form_instructions_and_a_known_lane(model):
    assert set(model.tasks) == {
        "review_eligibility",
        "provide_information",
        "set_up_group",
        "offer_other_group",
        "accept_offer",
        "confirm_member",
        "sign_participation",
    }
    for task in model.tasks.values():
        assert task.form.key == f"group_onboarding.{task.bpmn_id}"
        assert task.lane in ALLOWED_LANES
        assert len(task.documentation) > 80
    review = model.tasks["review_eligibility"].form
    assert dict(review.decisions) == {
        "approve": "Approve",
        "request_changes": "Request more information",
        "reject": "Reject",
    }
    assert review.get("coordinator_question").properties["required_if"] == "decision=request_changes"
    assert dict(model.tasks["confirm_member"].form.decisions) == {"approve": "Accept", "reject": "Decline"}
    letter = model.tasks["sign_participation"].form.get("signed_letter")
    assert letter.type == "file" and letter.required and letter.properties["accept"] == "pdf"
