"""Money, the initiative, a group's figures and the printable summary: reports on the pattern
of app/web/reports.py (its filters, downloads and the section's list of reports, to which this
module adds its lines).

Who sees what: the secretariat and the Commission see every report (money included); a
group's page is for its members too, and shows them no money.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup

from app.extensions import db
from app.models import WorkingGroup
from app.services import reports
from app.services.reports import initiative as initiative_service
from app.services.reports import money as money_service
from app.services.reports import summary as summary_service

from .filters import figure
from .helpers import actor, render_page, role_required
from .reports import REPORTS, active_args, drawn, report_filters, table_download

bp = Blueprint("reports_money", __name__, url_prefix="/reports")

REPORTS.extend([
    ("reports_money.money", _l("Money"), _l("Travel claimed, eligible and paid by group, month and organisation; "
                                           "expert and event budgets; claims filed late or capped."),
     money_service.may_see_money),
    ("reports_money.initiative", _l("The initiative"), _l("Each working group's members, meetings and attendance, "
                                                         "events, expert days and joint statements."),
     reports.may_see_reports),
    ("reports_money.summary", _l("Summary for the Commission"), _l("The key figures of a period on one printable "
                                                                  "page."), reports.may_see_reports),
])


def _download(tables_of, name: str, format: str, filters=report_filters) -> Response:
    """One of the tables ``tables_of(spec)`` gives, as CSV or Excel, with the page's filters."""
    _form, errors, spec = filters()
    if spec is None:
        return Response("; ".join(message for _name, message in errors) + "\n", status=400, mimetype="text/plain")
    return table_download(tables_of(spec).get(name), format)


def series(table: reports.Table, labels, skip: str | None = None) -> dict[str, dict[str, float | None]]:
    """The chart's series: these columns of ``table``, by row (without the row named ``skip``)."""
    return {label: {row: None if value is None else float(value) for row, value in table.column(label).items()
                    if row != skip} for label in labels}


def highest(table: reports.Table, label: str, skip: str | None = None) -> str:
    """Words for a chart's description: the row with the most of ``label``."""
    values = {row: value for row, value in table.column(label).items() if row != skip and value}
    if not values:
        return _("All are zero.")
    top = max(values, key=lambda row: values[row])
    return _("The most: %(row)s, %(value)s.", row=top,
             value=figure(values[top], table.kind(table.columns.index(label))))


# --- money -------------------------------------------------------------------------------------------

def money_charts(report: money_service.MoneyReport) -> dict[str, Markup | None]:
    tables = report.tables
    months, groups = tables["travel-months"], tables["travel-groups"]
    amounts = months.columns[2:5]
    experts, events = tables["experts"], tables["events"]
    return {
        "months": drawn("line", _("Travel money by the month claims were filed"), _(
            "Claimed, eligible and paid amounts in EUR, month by month.") + " " + highest(months, amounts[0]),
            series(months, amounts), money=True),
        "groups": drawn("hbar", _("Travel money by working group"), _(
            "Claimed, eligible and paid amounts in EUR, by working group.") + " " + highest(groups, amounts[0]),
            series(groups, groups.columns[2:5]), money=True),
        "experts": drawn("hbar", _("Expert budgets by working group"), _(
            "The approved cost and the amount payable to experts in EUR, by working group.") + " "
            + highest(experts, experts.columns[5]), series(experts, (experts.columns[5], experts.columns[7])),
            money=True),
        "events": drawn("hbar", _("Event budgets by working group"), _(
            "The budget requested and approved for market engagement events in EUR, by working group.") + " "
            + highest(events, events.columns[2]), series(events, (events.columns[2], events.columns[4])),
            money=True),
    }


@bp.route("/money")
@role_required(money_service.may_see_money)
def money():
    form, errors, spec = report_filters()
    report = money_service.money_report(spec) if spec else None
    return render_page("reports/money.html", errors, form=form, report=report, args=active_args(),
                       charts=money_charts(report) if report else {})


@bp.route("/money/<name>.<format>")
@role_required(money_service.may_see_money)
def money_download(name: str, format: str):
    return _download(lambda spec: money_service.money_report(spec).tables, name, format)


# --- the initiative, and a group's page ----------------------------------------------------------------

def initiative_charts(report: initiative_service.InitiativeReport) -> dict[str, Markup | None]:
    tables, total = report.tables, _("All working groups")
    meetings, work, members = tables["members-meetings"], tables["work"], tables["members-by-month"]
    return {
        "members": drawn("line", _("Member organisations over time"), _(
            "How many organisations each working group had at the end of each month."),
            {group: {str(row[0]): row[index] for row in members.rows}
             for index, group in enumerate(members.columns[1:], start=1)}),
        "meetings": drawn("hbar", _("Who came to the meetings"), _(
            "People who came to the meetings in person and online, by working group.") + " "
            + highest(meetings, meetings.columns[5], total), series(meetings, meetings.columns[5:7], total)),
        "events": drawn("hbar", _("Who came to the market engagement events"), _(
            "Suppliers and buyers attending the events held, by working group.") + " "
            + highest(work, work.columns[2], total), series(work, work.columns[2:4], total)),
    }


@bp.route("/initiative")
@role_required(reports.may_see_reports)
def initiative():
    form, errors, spec = report_filters()
    report = initiative_service.initiative_report(spec) if spec else None
    return render_page("reports/initiative.html", errors, form=form, report=report, args=active_args(),
                       charts=initiative_charts(report) if report else {}, group=None,
                       download="reports_money.initiative_download", download_args={})


@bp.route("/initiative/<name>.<format>")
@role_required(reports.may_see_reports)
def initiative_download(name: str, format: str):
    return _download(lambda spec: initiative_service.initiative_report(spec).tables, name, format)


def _group_spec(group: WorkingGroup):
    """The period's filters for one group's page: every other filter is the group."""
    form, errors, spec = report_filters()
    if spec is not None:
        spec = reports.FilterSpec(spec.start, spec.end, group_id=group.id)
    return form, errors, spec


@bp.route("/groups/<int:group_id>")
@login_required
def group(group_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    if not initiative_service.may_see_group_report(actor(), group):
        abort(403)
    form, errors, spec = _group_spec(group)
    report = initiative_service.initiative_report(spec) if spec else None
    money_report = (money_service.money_report(spec, travel_views=()) if spec and money_service.may_see_money(actor())
                    else None)  # the page shows the travel total alone
    return render_page("reports/initiative.html", errors, form=form, report=report, args=active_args(),
                       charts=initiative_charts(report) if report else {}, group=group, money=money_report,
                       download="reports_money.group_download", download_args={"group_id": group.id})


@bp.route("/groups/<int:group_id>/<name>.<format>")
@login_required
def group_download(group_id: int, name: str, format: str):
    group = db.get_or_404(WorkingGroup, group_id)
    if not initiative_service.may_see_group_report(actor(), group):
        abort(403)
    return _download(lambda spec: initiative_service.initiative_report(spec).tables, name, format,
                     lambda: _group_spec(group))


# --- the printable summary ---------------------------------------------------------------------------

@bp.route("/summary")
@role_required(reports.may_see_reports)
def summary():
    form, errors, spec = report_filters()
    return render_page("reports/summary.html", errors, form=form, spec=spec, args=active_args(),
                       summary=summary_service.period_summary(spec) if spec else None, today=dt.date.today())



@bp.route("/summary/<name>.<format>")
@role_required(reports.may_see_reports)
def summary_download(name: str, format: str):
    def tables(spec):
        found = summary_service.period_summary(spec)
        return {table.name: table for table in (found.groups, found.spent)}

    return _download(tables, name, format)
