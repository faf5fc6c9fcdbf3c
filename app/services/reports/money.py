"""Money: travel claimed, eligible and paid; expert budgets; event budgets.

Aggregate SQL over ``request_figures``, the narrow rows the step writer keeps beside each
request (app/steps/figures.py): the requests are chosen by process and start date (indexed),
group, version and who started them, the amounts read from their figures. No workflow is
loaded, and the requests' wide rows are not read. A request cancelled by an administrator
counts nowhere; a request whose figures were never written (it ran before the table existed,
until ``flask backfill`` ran) neither.

What each figure means:
- travel: *claimed* is the total of each claim filed in the period, as last revised;
  *eligible* what the travel rules allow of it; *paid* the eligible amount of the claims
  finance paid (a payment date was recorded and the request finished); *late* and *capped*
  the claims the rules flagged filed late or with accommodation above the nightly cap.
- experts: *approved* the estimated cost (days × estimated rate) of the requests that went
  through every approval the cost needs (they reached the expert's assignment); *payable* the
  days × the assigned expert's daily rate of those whose deliverable was accepted.
- events: *requested* the budget proposed; *approved* that of the events approved (they
  reached the logistics step); *held* the events that reported their attendance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select

from app.extensions import db
from app.models import HumanTask, InstanceStatus, Organisation, RequestFigures, User, WorkingGroup

from .access import may_see_reports
from .filters import FilterSpec, instance_conditions
from .tables import Table

TRAVEL, EXPERT, EVENT, STATEMENT = "travel_reimbursement", "expert_request", "market_engagement", "joint_statement"
EXPERT_APPROVED_AT = "assign_expert"  # an expert request that reached this step was approved
EVENT_APPROVED_AT = "organise_logistics"  # an event that reached this step was approved
EXPERT_PAYABLE = "end_expert_payable"  # the end of an expert request whose expert can be paid
CENT = Decimal("0.01")


def may_see_money(user: User) -> bool:
    """The Commission, finance, the coordinators (every group is theirs) and administrators."""
    return may_see_reports(user)


def months(spec: FilterSpec) -> list[str]:
    """Every month of the period, 'YYYY-MM', in order."""
    found, day = [], spec.start.replace(day=1)
    while day <= spec.end:
        found.append(f"{day:%Y-%m}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return found


def amount(name: str) -> ColumnElement:
    """A figure as a number (NULL where the request has none)."""
    return RequestFigures.figures[name].as_float()


def flagged(name: str) -> ColumnElement:
    """1 where the figure is true, else 0: for counting."""
    return case((RequestFigures.figures[name].as_boolean(), 1), else_=0)


def day_of(name: str) -> ColumnElement:
    """A date figure as its ISO text, which sorts and compares as the dates do."""
    return RequestFigures.figures[name].as_string()


def month_of(column) -> ColumnElement:
    """'YYYY-MM' of a UTC timestamp column, in SQL, on SQLite and PostgreSQL alike."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")  # not the session's zone
    return func.strftime("%Y-%m", column)


def requests_of(process_id: str, spec: FilterSpec, *columns) -> Select:
    """The period's requests of a process that count (filed in it, not cancelled, with figures),
    narrowed by the report's filters."""
    return select(*columns).select_from(RequestFigures).where(
        RequestFigures.process_id == process_id, RequestFigures.status != InstanceStatus.CANCELLED,
        *instance_conditions(spec, rows=RequestFigures))


def reached(step: str) -> ColumnElement:
    """The request has (or had) a task of this step."""
    return exists().where(HumanTask.instance_id == RequestFigures.instance_id, HumanTask.bpmn_id == step)


def cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def share(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` as a percentage with one decimal, None of nothing."""
    return (Decimal(part * 100) / whole).quantize(Decimal("0.1")) if whole else None


# --- travel ------------------------------------------------------------------------------------

@dataclass
class TravelRow:
    label: str
    claims: int = 0
    claimed: Decimal = Decimal("0.00")
    eligible: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    late: int = 0
    capped: int = 0

    @property
    def late_share(self) -> Decimal | None:
        return share(self.late, self.claims)

    @property
    def capped_share(self) -> Decimal | None:
        return share(self.capped, self.claims)


@dataclass
class Travel:
    by_group: list[TravelRow] = field(default_factory=list)
    by_month: list[TravelRow] = field(default_factory=list)
    by_organisation: list[TravelRow] = field(default_factory=list)
    total: TravelRow = field(default_factory=lambda: TravelRow(""))


def _travel_sums():
    paid = and_(RequestFigures.status == InstanceStatus.COMPLETED, day_of("payment_date").is_not(None))
    return (func.count(RequestFigures.instance_id), func.sum(amount("total_claimed")),
            func.sum(amount("eligible_amount")),
            func.sum(case((paid, amount("eligible_amount")), else_=0)),
            func.sum(flagged("flag_late")), func.sum(flagged("flag_accommodation_capped")))


def _travel_row(label: str, sums) -> TravelRow:
    claims, claimed, eligible, paid, late, capped = sums
    return TravelRow(label, claims or 0, cents(claimed), cents(eligible), cents(paid), int(late or 0), int(capped or 0))


def _added(rows: dict[str, TravelRow], label: str, cell: TravelRow) -> None:
    row = rows.setdefault(label, TravelRow(label))
    row.claims, row.late, row.capped = row.claims + cell.claims, row.late + cell.late, row.capped + cell.capped
    row.claimed, row.eligible, row.paid = row.claimed + cell.claimed, row.eligible + cell.eligible, row.paid + cell.paid


TRAVEL_VIEWS = ("group", "month", "organisation")  # what travel money can be added up by


def travel_money(spec: FilterSpec, views: tuple[str, ...] = TRAVEL_VIEWS) -> Travel:
    """Travel claimed, eligible and paid per group, per month filed and per organisation (the
    ``views`` asked for; the total always).

    One pass over the claims: the sums per group, month and organisation at once, added up
    into each view here (a few dozen cells, whatever the number of claims). A page that shows
    fewer views asks for fewer: each view grouped by costs SQLite a sort of the claims, and the
    total alone none."""
    keys = {"group": RequestFigures.working_group_id, "month": month_of(RequestFigures.started_at),
            "organisation": RequestFigures.initiator_id}
    chosen = [keys[view] for view in views]
    found = [(dict(zip(views, row[:len(views)], strict=True)), row[len(views):]) for row in db.session.execute(
        requests_of(TRAVEL, spec, *chosen, *_travel_sums()).group_by(*chosen))]
    groups = dict(db.session.execute(select(WorkingGroup.id, WorkingGroup.name).where(
        WorkingGroup.id.in_({key["group"] for key, _ in found if key["group"] is not None}))).all()
        ) if "group" in views else {}
    # By the organisation of the person who filed (as the filters take it), looked up for the
    # few people found rather than joined to every claim.
    organisations = dict(db.session.execute(select(User.id, Organisation.name).join(
        Organisation, Organisation.id == User.organisation_id).where(
        User.id.in_({key["organisation"] for key, _ in found}))).all()) if "organisation" in views else {}
    by_group: dict[str, TravelRow] = {}
    by_month: dict[str, TravelRow] = {}
    by_organisation: dict[str, TravelRow] = {}
    total: dict[str, TravelRow] = {}
    for key, sums in found:
        cell = _travel_row("", sums)
        if "group" in views:
            _added(by_group, groups.get(key["group"], ""), cell)
        if "month" in views:
            _added(by_month, key["month"], cell)
        if "organisation" in views:
            _added(by_organisation, organisations.get(key["organisation"], ""), cell)
        _added(total, "", cell)
    return Travel(sorted(by_group.values(), key=lambda r: r.label),
                  [by_month.get(name, TravelRow(name)) for name in months(spec)] if "month" in views else [],
                  sorted(by_organisation.values(), key=lambda r: r.label), total.get("", TravelRow("")))


# --- experts and events --------------------------------------------------------------------------

@dataclass
class BudgetRow:
    label: str
    requests: int = 0
    days: int = 0  # experts: days requested
    requested: Decimal = Decimal("0.00")  # events: the budget proposed
    approved_count: int = 0
    approved_days: int = 0
    approved: Decimal = Decimal("0.00")
    paid_count: int = 0  # experts: payable; events: held
    paid: Decimal = Decimal("0.00")


def _by_group(process_id: str, spec: FilterSpec, sums) -> tuple[list[tuple], tuple]:
    query = requests_of(process_id, spec, WorkingGroup.name, *sums).outerjoin(
        WorkingGroup, WorkingGroup.id == RequestFigures.working_group_id).group_by(WorkingGroup.name)
    rows = sorted(((name or "", *row) for name, *row in db.session.execute(query)), key=lambda r: r[0])
    total = tuple(sum(row[index] or 0 for row in rows) for index in range(1, len(sums) + 1))
    return rows, total


def expert_budgets(spec: FilterSpec) -> tuple[list[BudgetRow], BudgetRow]:
    """Expert requests per group: days requested, estimated cost approved, amount payable."""
    approved = reached(EXPERT_APPROVED_AT)
    payable = and_(RequestFigures.status == InstanceStatus.COMPLETED, RequestFigures.outcome == EXPERT_PAYABLE)
    sums = (func.count(RequestFigures.instance_id), func.sum(amount("expert_days")),
            func.sum(case((approved, 1), else_=0)), func.sum(case((approved, amount("expert_days")), else_=0)),
            func.sum(case((approved, amount("estimated_cost")), else_=0)),
            func.sum(case((payable, 1), else_=0)),
            func.sum(case((payable, amount("expert_days") * amount("daily_rate")), else_=0)))

    def row(label, count, days, approved_count, approved_days, approved_cost, paid_count, paid):
        return BudgetRow(label, count or 0, int(days or 0), Decimal("0.00"), int(approved_count or 0),
                         int(approved_days or 0), cents(approved_cost), int(paid_count or 0), cents(paid))

    rows, total = _by_group(EXPERT, spec, sums)
    return [row(*r) for r in rows], row("", *total)


def event_budgets(spec: FilterSpec) -> tuple[list[BudgetRow], BudgetRow]:
    """Market engagement events per group: budget requested, approved, events held."""
    approved = reached(EVENT_APPROVED_AT)
    held = RequestFigures.figures["suppliers_attending"].as_string().is_not(None)
    sums = (func.count(RequestFigures.instance_id), func.sum(amount("budget_total")),
            func.sum(case((approved, 1), else_=0)), func.sum(case((approved, amount("budget_total")), else_=0)),
            func.sum(case((held, 1), else_=0)), func.sum(case((held, amount("budget_total")), else_=0)))

    def row(label, count, requested, approved_count, approved_budget, held_count, held_budget):
        return BudgetRow(label, count or 0, 0, cents(requested), int(approved_count or 0), 0,
                         cents(approved_budget), int(held_count or 0), cents(held_budget))

    rows, total = _by_group(EVENT, spec, sums)
    return [row(*r) for r in rows], row("", *total)


# --- the report's tables -------------------------------------------------------------------------

@dataclass
class MoneyReport:
    travel: Travel
    experts: BudgetRow
    events: BudgetRow
    tables: dict[str, Table]


def month_label(month: str) -> str:
    """'2025-03' as the page's language writes the month ('Mar 2025')."""
    return format_date(dt.date.fromisoformat(f"{month}-01"), "MMM y")


def _travel_table(name: str, title: str, first: str, rows: list[TravelRow]) -> Table:
    return Table(name, title, (first, _("Claims"), _("Claimed (EUR)"), _("Eligible (EUR)"), _("Paid (EUR)"),
                               _("Filed late (%)"), _("Accommodation capped (%)")),
                 [(r.label or _("No group"), r.claims, r.claimed, r.eligible, r.paid, r.late_share, r.capped_share)
                  for r in rows], money=(2, 3, 4), shares=(5, 6))


def money_report(spec: FilterSpec, travel_views: tuple[str, ...] = TRAVEL_VIEWS) -> MoneyReport:
    """Travel, expert and event money for the filters, as totals and tables; the travel tables
    of the ``travel_views`` asked for (a group's page shows the total alone, the summary the
    groups)."""
    travel = travel_money(spec, travel_views)
    experts, expert_total = expert_budgets(spec)
    events, event_total = event_budgets(spec)
    months_rows = [TravelRow(month_label(r.label), r.claims, r.claimed, r.eligible, r.paid, r.late, r.capped)
                   for r in travel.by_month]
    travel_tables = {
        "group": _travel_table("travel-groups", _("Travel claims by working group"), _("Working group"),
                               travel.by_group),
        "month": Table("travel-months", _("Travel claims by the month they were filed"),
                       (_("Month"), _("Claims"), _("Claimed (EUR)"), _("Eligible (EUR)"), _("Paid (EUR)")),
                       [(r.label, r.claims, r.claimed, r.eligible, r.paid) for r in months_rows], money=(2, 3, 4)),
        "organisation": _travel_table("travel-organisations", _("Travel claims by organisation"),
                                      _("Organisation"), travel.by_organisation),
    }
    tables = {table.name: table for table in (
        *(travel_tables[view] for view in TRAVEL_VIEWS if view in travel_views),
        Table("experts", _("Expert budgets by working group"),
              (_("Working group"), _("Requests"), _("Days requested"), _("Requests approved"), _("Days approved"),
               _("Approved cost (EUR)"), _("Deliverables accepted"), _("Payable to experts (EUR)")),
              [(r.label or _("No group"), r.requests, r.days, r.approved_count, r.approved_days, r.approved,
                r.paid_count, r.paid) for r in experts], money=(5, 7)),
        Table("events", _("Market engagement event budgets by working group"),
              (_("Working group"), _("Events proposed"), _("Budget requested (EUR)"), _("Events approved"),
               _("Budget approved (EUR)"), _("Events held"), _("Budget of the events held (EUR)")),
              [(r.label or _("No group"), r.requests, r.requested, r.approved_count, r.approved, r.paid_count,
                r.paid) for r in events], money=(2, 4, 6)),
    )}
    return MoneyReport(travel, expert_total, event_total, tables)
