"""The one-page summary of a period for the Commission: the initiative's and the money's key
figures, by working group and in all, from the initiative and money reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from .filters import FilterSpec
from .initiative import InitiativeReport, initiative_report
from .money import MoneyReport, money_report, share
from .tables import Table


@dataclass
class Summary:
    initiative: InitiativeReport
    money: MoneyReport
    groups: Table  # what each group did
    spent: Table  # what was spent for each group, in EUR


def period_summary(spec: FilterSpec) -> Summary:
    figures, money = initiative_report(spec), money_report(spec, travel_views=("group",))
    everyone = _("All working groups")
    rows = [*figures.figures.groups, figures.figures.total]
    groups = Table("summary-groups", _("What the working groups did"), (
        _("Working group"), _("Member organisations"), _("Meetings held"), _("Attendance (%)"),
        _("Events held"), _("Expert days approved"), _("Joint statements published")),
        [(r.name or everyone, r.members, r.meetings, share(r.attended, r.invited), r.events, r.expert_days,
          r.statements) for r in rows], shares=(3,))
    travel = {r.label: r for r in money.travel.by_group}
    experts = {r[0]: r for r in money.tables["experts"].rows}
    events = {r[0]: r for r in money.tables["events"].rows}
    zero = Decimal("0.00")

    def spent_row(name: str, claimed, paid, approved, payable, budget) -> tuple:
        return (name, claimed, paid, approved, payable, budget)

    spent_rows = [spent_row(g.name, travel[g.name].claimed if g.name in travel else zero,
                            travel[g.name].paid if g.name in travel else zero,
                            experts[g.name][5] if g.name in experts else zero,
                            experts[g.name][7] if g.name in experts else zero,
                            events[g.name][4] if g.name in events else zero) for g in figures.figures.groups]
    spent_rows.append(spent_row(everyone, money.travel.total.claimed, money.travel.total.paid,
                                money.experts.approved, money.experts.paid, money.events.approved))
    spent = Table("summary-money", _("What was spent, in EUR"), (
        _("Working group"), _("Travel claimed"), _("Travel paid"), _("Experts approved"), _("Payable to experts"),
        _("Event budgets approved")), spent_rows, money=(1, 2, 3, 4, 5))
    return Summary(figures, money, groups, spent)
