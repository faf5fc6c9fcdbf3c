"""Money and initiative reports: each figure computed from a known set of requests, on both
databases. The expected sums are worked out here from each request's own data (its saved
workflow, loaded through the engine), the report's from the figures the step writer kept,
with aggregate SQL: the two must agree, and a few are checked by hand against the claim."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from freezegun import freeze_time
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import (
    Answer,
    InstanceStatus,
    Meeting,
    MeetingStatus,
    Organisation,
    ProcessInstance,
    RequestFigures,
    WorkingGroup,
)
from app.services.instances import fire_due_timers
from app.services.monitoring import cancel_instance
from app.services.reports import FilterSpec
from app.services.reports.backfill import fill_figures
from app.services.reports.initiative import initiative
from app.services.reports.money import event_budgets, expert_budgets, travel_money
from tests.conftest import person
from tests.diagrams import complete, data_of, ready_tasks, refreshed, start_request, upload_process
from tests.integration.test_expert_request_http import EXPERT, SUMMARY, expert_request
from tests.integration.test_market_engagement_http import logistics, proposal, report
from tests.integration.test_travel_http import PDF, claim, receipts

ROOT = Path(__file__).resolve().parents[2]
YEAR = FilterSpec(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
TODAY = dt.date.today()


def group(name: str) -> int:
    return db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name.startswith(name)))


def filed_on(instance: ProcessInstance, day: dt.date) -> None:
    """Move the request's filing to ``day`` (noon UTC), so the months are known: its row and
    the copy beside its figures."""
    moment = dt.datetime.combine(day, dt.time(12), dt.UTC)
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id).values(started_at=moment))
    db.session.execute(update(RequestFigures).where(RequestFigures.instance_id == instance.id).values(
        started_at=moment))
    db.session.commit()


def kept_figures(instance: ProcessInstance) -> dict | None:
    db.session.expire_all()
    row = db.session.get(RequestFigures, instance.id)
    return None if row is None else row.figures


def file_claim(client, who: str, group_name: str, **changes) -> ProcessInstance:
    data = claim(working_group_id=str(group(group_name)), **changes)
    return start_request(client, who, "travel_reimbursement", data, receipts())


def pay(client, instance: ProcessInstance, reference: str) -> None:
    complete(client, "clara", ready_tasks(instance, "check_claim")[0], {"decision": "approve"})
    complete(client, "felix", ready_tasks(instance, "approve_payment")[0], {
        "decision": "approve", "payment_date": TODAY.isoformat(), "payment_reference": reference})


def known_claims(client) -> dict[str, ProcessInstance]:
    """Five claims of three organisations in two groups, one on an old version of the process.

    a: Marta, revised once (the check repeated), then paid; b: Pierre, an air ticket too
    short for air and a hotel above the cap, rejected; c: Ana, filed late, waiting;
    d: Marta, paid, on the first version; e: Pierre, on the second version, waiting."""
    claims = {"a": file_claim(client, "marta", "Circular")}
    complete(client, "clara", ready_tasks(claims["a"], "check_claim")[0],
             {"decision": "request_changes", "coordinator_comment": "The hotel was above the cap."})
    fix = claim(accommodation_cost="280.00")
    fix.pop("working_group_id")
    complete(client, "marta", ready_tasks(claims["a"], "revise_claim")[0], fix,
             {"additional_receipts": [(io.BytesIO(PDF), "hotel.pdf")]})
    pay(client, claims["a"], "BB-1")
    claims["b"] = file_claim(client, "pierre", "Zero", travel_mode="air", distance_km="300", ticket_cost="250.00",
                             accommodation_nights="1", accommodation_cost="200.00", other_costs="0",
                             account_holder="Pierre Martin")
    complete(client, "tom", ready_tasks(claims["b"], "check_claim")[0],
             {"decision": "reject", "coordinator_comment": "Not a group meeting."})
    met = TODAY - dt.timedelta(days=90)
    claims["c"] = file_claim(client, "ana", "Circular", meeting_date=met.isoformat(),
                             departure_date=(met - dt.timedelta(days=1)).isoformat(),
                             return_date=(met + dt.timedelta(days=1)).isoformat())
    claims["d"] = file_claim(client, "marta", "Circular", meeting="Circular ICT, 4th meeting, Brussels")
    pay(client, claims["d"], "BB-2")
    source = (ROOT / "workflows" / "travel_reimbursement.bpmn").read_bytes()
    revised = source.replace(b"Claim back the cost", b"Claim the cost", 1)
    upload_process(client, {"travel_reimbursement.bpmn": revised,
                            "travel_eligibility.dmn": (ROOT / "workflows" / "travel_eligibility.dmn").read_bytes()})
    claims["e"] = file_claim(client, "pierre", "Zero", meeting="Zero-emission sites, 2nd meeting, Lyon")
    for key, day in zip("abcde", (dt.date(2025, 3, 4), dt.date(2025, 3, 28), dt.date(2025, 5, 2),
                                  dt.date(2025, 7, 1), dt.date(2025, 7, 31)), strict=True):
        filed_on(claims[key], day)
    return claims


def expected(instances: list[ProcessInstance]) -> tuple:
    """(claims, claimed, eligible, paid, late, capped) of these requests, from their own data."""
    rows = [(refreshed(i), data_of(i)) for i in instances]
    paid = [d for i, d in rows if i.status == InstanceStatus.COMPLETED and d.get("payment_date")]
    return (len(rows), sum(Decimal(str(d["total_claimed"])) for _, d in rows),
            sum(Decimal(str(d["eligible_amount"])) for _, d in rows),
            sum((Decimal(str(d["eligible_amount"])) for d in paid), Decimal("0")),
            sum(bool(d["flag_late"]) for _, d in rows), sum(bool(d["flag_accommodation_capped"]) for _, d in rows))


def as_tuple(row) -> tuple:
    return row.claims, row.claimed, row.eligible, row.paid, row.late, row.capped


def test_travel_claimed_eligible_and_paid_add_up_per_group_month_and_organisation(client):
    claims = known_claims(client)
    a, b, c, d, e = (claims[k] for k in "abcde")
    assert refreshed(d).version_id != refreshed(e).version_id  # d stays on the first version
    money = travel_money(YEAR)

    assert as_tuple(money.total) == expected([a, b, c, d, e])
    # By hand: a's total as revised (180.40 + 280.00 + 12.60), paid in full; b's air ticket left out.
    assert data_of(a)["total_claimed"] == Decimal("473.00") and data_of(a)["eligible_amount"] == Decimal("473.00")
    assert (money.total.claims, money.total.late, money.total.capped) == (5, 1, 4)  # a was revised below the cap
    assert money.total.paid == Decimal("473.00") + Decimal(str(data_of(d)["eligible_amount"]))
    assert money.total.late_share == Decimal("20.0") and money.total.capped_share == Decimal("80.0")

    by_group = {row.label: as_tuple(row) for row in money.by_group}
    assert by_group == {"Circular ICT": expected([a, c, d]), "Zero-emission construction sites": expected([b, e])}
    by_month = {row.label: as_tuple(row) for row in money.by_month}
    assert list(by_month) == [f"2025-{m:02}" for m in range(1, 13)]  # every month, with or without claims
    assert by_month["2025-03"] == expected([a, b]) and by_month["2025-05"] == expected([c])
    assert by_month["2025-07"] == expected([d, e]) and by_month["2025-01"] == (0, 0, 0, 0, 0, 0)
    by_organisation = {row.label: as_tuple(row) for row in money.by_organisation}
    gdansk, lyon, lisbon = (db.session.get_one(Organisation, person(p).organisation_id).name
                            for p in ("marta", "pierre", "ana"))
    assert by_organisation == {gdansk: expected([a, d]), lyon: expected([b, e]), lisbon: expected([c])}
    # A page that asks for fewer views (the summary: the groups; a group's page: the total alone)
    # gets the same figures for them, and none for the views it did not ask for.
    groups_only = travel_money(YEAR, ("group",))
    assert [as_tuple(row) for row in groups_only.by_group] == [as_tuple(row) for row in money.by_group]
    assert groups_only.by_month == [] and groups_only.by_organisation == []
    assert as_tuple(groups_only.total) == as_tuple(travel_money(YEAR, ()).total) == expected([a, b, c, d, e])
    zero_total = travel_money(FilterSpec(YEAR.start, YEAR.end, group_id=group("Zero")), ()).total
    assert as_tuple(zero_total) == expected([b, e])

    # Narrowed: to one group, one organisation, the old version, a period without claims.
    zero = travel_money(FilterSpec(YEAR.start, YEAR.end, group_id=group("Zero")))
    assert as_tuple(zero.total) == expected([b, e])
    assert as_tuple(travel_money(FilterSpec(YEAR.start, YEAR.end, organisation_id=person("marta").organisation_id))
                    .total) == expected([a, d])
    old = travel_money(FilterSpec(YEAR.start, YEAR.end, version_id=refreshed(d).version_id))
    assert as_tuple(old.total) == expected([a, b, c, d])
    assert travel_money(FilterSpec(dt.date(2024, 1, 1), dt.date(2024, 12, 31))).total.claims == 0
    # A claim an administrator cancelled counts nowhere.
    cancel_instance(person("admin"), refreshed(c), "Filed twice by mistake.")
    db.session.commit()
    assert as_tuple(travel_money(YEAR).total) == expected([a, b, d, e])


def test_requests_filed_before_the_figures_existed_are_filled_in(client):
    claims = known_claims(client)
    kept = {key: kept_figures(i) for key, i in claims.items()}
    assert kept["a"]["total_claimed"] == 473.0 and kept["a"]["payment_date"] == TODAY.isoformat()
    assert "iban" not in kept["a"] and "account_holder" not in kept["a"]
    before = as_tuple(travel_money(YEAR).total)
    db.session.execute(delete(RequestFigures))
    db.session.commit()
    assert travel_money(YEAR).total.claims == 0  # left out until filled in
    assert fill_figures(limit=3) == 3
    db.session.commit()
    result = client.application.test_cli_runner().invoke(args=["backfill"])  # the rest, as run after the upgrade
    assert result.exit_code == 0 and "figures written for" in result.output, result.output
    assert {key: kept_figures(i) for key, i in claims.items()} == kept
    assert as_tuple(travel_money(YEAR).total) == before


def approve_expert(client, days: int, rate: str) -> ProcessInstance:
    instance = start_request(client, "marta", "expert_request", expert_request(days))
    complete(client, "clara", ready_tasks(instance, "assess_request")[0],
             {"decision": "approve", "estimated_daily_rate": rate})
    return instance


def hold_event(client) -> ProcessInstance:
    """Ana's event of 5 000 EUR, approved, organised, held and reported (23 suppliers, 9 buyers)."""
    instance = start_request(client, "ana", "market_engagement", proposal())
    complete(client, "clara", ready_tasks(instance, "review_event")[0], {"decision": "approve"})
    complete(client, "tom", ready_tasks(instance, "organise_logistics")[0], logistics())
    due = refreshed(instance).next_timer_at
    with freeze_time(due + dt.timedelta(hours=8)):
        assert fire_due_timers(due + dt.timedelta(hours=8)) == 1
    complete(client, "ana", ready_tasks(instance, "report_event")[0], report(),
             {"attendance_list": [(io.BytesIO(PDF), "attendance.pdf")]})
    return instance


def test_expert_and_event_budgets_and_the_initiative(client):
    payable = approve_expert(client, 10, "400")  # 4 000 EUR: the coordinator's approval suffices
    complete(client, "tom", ready_tasks(payable, "assign_expert")[0], EXPERT)  # at 500.00 a day
    complete(client, "tom", ready_tasks(payable, "record_deliverable")[0], {"deliverable_summary": SUMMARY},
             {"deliverable_file": [(io.BytesIO(PDF), "model.pdf")]})
    complete(client, "marta", ready_tasks(payable, "accept_deliverable")[0], {"decision": "approve"})
    waiting = approve_expert(client, 20, "700")  # 14 000 EUR: waits for finance, not approved yet
    rejected = start_request(client, "marta", "expert_request", expert_request(5))
    complete(client, "tom", ready_tasks(rejected, "assess_request")[0],
             {"decision": "reject", "coordinator_comment": "No budget left."})
    held = hold_event(client)
    proposed = start_request(client, "ana", "market_engagement", proposal(budget_venue="9000.00"))
    this_year = FilterSpec(TODAY.replace(month=1, day=1), TODAY.replace(month=12, day=31))

    rows, total = expert_budgets(this_year)
    assert refreshed(payable).status == InstanceStatus.COMPLETED and ready_tasks(waiting, "finance_approval")
    assert (total.requests, total.days, total.approved_count, total.approved_days) == (3, 35, 1, 10)
    assert (total.approved, total.paid_count, total.paid) == (Decimal("4000.00"), 1, Decimal("5000.00"))
    assert [(r.label, r.requests) for r in rows] == [("Circular ICT", 3)]

    rows, total = event_budgets(this_year)
    held_budget, proposed_budget = (Decimal(str(data_of(i)["budget_total"])) for i in (held, proposed))
    assert held_budget == Decimal("5000.00")  # 2 500 + 1 800 + 700
    assert (total.requests, total.requested) == (2, held_budget + proposed_budget)
    assert (total.approved_count, total.approved, total.paid_count, total.paid) == (1, held_budget, 1, held_budget)

    # The initiative in the year the event took place (it may be next year, 45 days on).
    event_day = dt.date.fromisoformat(str(data_of(held)["event_date"]))
    period = FilterSpec(event_day.replace(month=1, day=1), event_day.replace(month=12, day=31))
    figures = initiative(period)
    circular = next(g for g in figures.groups if g.name == "Circular ICT")
    assert (circular.events, circular.suppliers, circular.buyers) == (1, 23, 9)
    assert (figures.total.events, figures.total.suppliers, figures.total.buyers) == (1, 23, 9)
    if event_day.year == TODAY.year:
        assert (circular.expert_requests, circular.expert_days) == (1, 10)

    # Meetings and members from the rows themselves, this year (the demo's past meetings).
    figures = initiative(this_year)
    now = dt.datetime.now(dt.UTC)
    for row in figures.groups:
        meetings = [m for m in db.session.scalars(select(Meeting).where(Meeting.group_id == row.group_id))
                    if m.status == MeetingStatus.PLANNED and m.starts_at < now and m.starts_at.year == TODAY.year]
        recorded = [i for m in meetings if m.attendance_recorded_at for i in m.invitees]
        assert row.meetings == len(meetings) and row.invited == len(recorded)
        assert row.in_person == sum(i.attended == Answer.IN_PERSON for i in recorded)
        assert row.online == sum(i.attended == Answer.ONLINE for i in recorded)
        members = db.session.get_one(WorkingGroup, row.group_id).memberships
        assert row.members == len(members) == row.members_by_month[TODAY.month - 1]
        assert row.members_by_month[-1] == len(members)
    assert figures.total.meetings == sum(r.meetings for r in figures.groups) > 0
    assert figures.total.in_person > 0 and figures.total.members == 10  # 7 + 3, the demo's groups
