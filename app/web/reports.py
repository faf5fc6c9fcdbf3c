"""Reports: the section's page, the filters every report shares, and the flow report.

A report's page reads its filters from the query string (``report_filters``), asks its
service for a report of tables, and draws each table as a chart beside the table; each table
downloads at ``/reports/<report>/<table>.<csv|xlsx>`` with the same filters
(``services.reports.download``). app/web/reports_money.py follows the same pattern.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from flask_login import current_user
from markupsafe import Markup
from wtforms import Form, SelectField
from wtforms.validators import ValidationError

from app.extensions import db
from app.models import ProcessVersion
from app.services import monitoring, reports
from forms.convert import DATE_PARTS
from forms.text import format_figure

from .helpers import DayField, actor, form_errors, id_or_none, plausible_day, render_page, role_required

bp = Blueprint("reports", __name__, url_prefix="/reports")

# The section's reports, in the order its page lists them: (endpoint, title, summary, who may see it).
# Another report adds its line here.
REPORTS = [
    ("reports.flow", _l("Flow"), _l("Where requests get stuck: requests started and finished, time to finish and "
                                    "waiting at each step, tasks overdue now, decisions by email and on the web."),
     reports.may_see_flow),
]
FILTERS = ("process_id", "version", "group", "organisation")
reports_required = role_required(reports.may_see_reports)


@bp.app_context_processor
def reports_navigation():
    """``may_report`` for the header's Reports link."""
    return {"may_report": has_request_context() and reports.may_see_reports(current_user)}


class FilterForm(Form):
    """The filters every report shares, read from the query string; an unknown choice is no match."""

    start = DayField(_l("From"), [plausible_day], what=_l("the date the period starts"))
    end = DayField(lazy_pgettext("the last day of a period", "To"), [plausible_day],
                   what=_l("the date the period ends"))
    process_id = SelectField(_l("Process"), validate_choice=False)
    version = SelectField(_l("Version"), validate_choice=False)
    group = SelectField(_l("Working group"), validate_choice=False)
    organisation = SelectField(_l("Organisation"), validate_choice=False)

    def validate_end(self, field) -> None:
        start = self.start.data
        if isinstance(field.data, dt.date) and isinstance(start, dt.date) and field.data < start:
            raise ValidationError(_("The end of the period must be the same as or after its start"))

    def spec(self) -> reports.FilterSpec:
        first, last = reports.default_period()
        return reports.FilterSpec(
            start=self.start.data or first, end=self.end.data or last, process_id=self.process_id.data or None,
            version_id=id_or_none(self.version.data), group_id=id_or_none(self.group.data),
            organisation_id=id_or_none(self.organisation.data))


def report_filters() -> tuple[FilterForm, list, reports.FilterSpec | None]:
    """The filters of this request's query string: the form to show again, its errors, and the
    spec to run the report with (None while the filters have errors)."""
    form = FilterForm(request.args)
    options = reports.filter_choices()
    anything = {"process_id": _("Any process"), "version": _("Any version"), "group": _("Any group"),
                "organisation": _("Any organisation")}
    for name, first in anything.items():
        getattr(form, name).choices = [("", first), *options[name]]
    first, last = reports.default_period()
    for field, default in ((form.start, first), (form.end, last)):
        if not any(request.args.get(f"{field.name}-{part}") for part in DATE_PARTS) and not request.args.get(
                field.name):
            field.parts = {"day": str(default.day), "month": str(default.month), "year": str(default.year)}
            field.data = default
    if not form.validate():
        return form, form_errors(form), None
    return form, [], form.spec()


def active_args() -> dict[str, str]:
    """The filters as given, for the download links and the "clear" link."""
    names = [*FILTERS, *(f"{day}-{part}" for day in ("start", "end") for part in DATE_PARTS), "start", "end"]
    return {name: request.args[name] for name in names if request.args.get(name)}


def table_download(table: reports.Table | None, format: str) -> Response:
    """A report's table as CSV or Excel, or 404 for a table or format there is none of."""
    if table is None or format not in reports.FORMATS:
        abort(404)
    return reports.download(table, format)


@bp.route("/")
@reports_required
def index():
    shown = [(endpoint, title, summary) for endpoint, title, summary, allowed in REPORTS if allowed(current_user)]
    return render_template("reports/index.html", reports=shown)


@bp.route("/flow")
@role_required(reports.may_see_flow)
def flow():
    form, errors, spec = report_filters()
    report = reports.flow_report(actor(), spec) if spec else None
    return render_page("reports/flow.html", errors, form=form, report=report, spec=spec, args=active_args(),
                       charts=flow_charts(report) if report else {}, markers=_waits(report) if report else {})


def drawn(kind: str, title: str, description: str, data: dict[str, dict[str, float | None]], *,
          money: bool = False) -> Markup | None:
    """The chart, or None when it would draw nothing (every figure zero): the table says so.
    ``money``: its figures are amounts in EUR."""
    if not any(value for values in data.values() for value in values.values()):
        return None
    return reports.chart(kind, title, description, data, money=money)


def flow_charts(report: reports.FlowReport) -> dict[str, Markup | None]:
    """The flow report's charts, each drawn from the table shown beside it."""
    processes, steps = report.processes, report.steps
    counted = {label: processes.column(label) for label in processes.columns[1:4]}
    timed = {label: processes.column(label) for label in processes.columns[6:8]}
    slowest = sorted((row for row in steps.rows if row[4] is not None), key=lambda row: -row[4])[:10]
    waits = {steps.columns[4]: {f"{row[1]} ({row[0]})": row[4] for row in slowest}}
    lanes = {report.overdue_lanes.columns[1]: report.overdue_lanes.column(report.overdue_lanes.columns[1])}
    decided = {label: report.channels.column(label) for label in report.channels.columns[1:3]}
    return {
        "processes": drawn("hbar", _("Requests by process"), _(
            "Requests started, finished and rejected in the period, by process. The table below gives the figures."),
            counted),
        "finish": drawn("hbar", _("Days to finish, by process"), _(
            "The median and 90th percentile days from start to finish of the requests that finished, by process."),
            timed),
        "steps": drawn("hbar", _("The steps that wait longest"), _(
            "The median days a step waited for someone, for the %(count)s steps that wait longest; "
            "the table below lists every step.", count=len(slowest)), waits),
        "lanes": drawn("hbar", _("Tasks overdue now, by lane"), _(
            "How many tasks wait past their reminder, by the lane of their step."), lanes),
        "decisions": drawn("stacked", _("Decisions from email and on the web"), _(
            "Decisions made from an email's link and on the web, by process."), decided),
    }


def _waits(report: reports.FlowReport) -> dict:
    """What the bottleneck diagram draws: each step's median days waiting, as a label on it."""
    labels = {bpmn_id: ngettext("%(days)s day", "%(days)s days", median, days=format_figure(median))
              for bpmn_id, median in report.waits.items() if median is not None}
    return {"current": sorted(labels), "labels": labels}


@bp.route("/flow/<name>.<format>")
@role_required(reports.may_see_flow)
def flow_download(name: str, format: str):
    _form, errors, spec = report_filters()
    if spec is None:
        return Response("; ".join(message for _name, message in errors) + "\n", status=400, mimetype="text/plain")
    return table_download(reports.flow_report(actor(), spec).tables.get(name), format)


@bp.route("/flow/diagram/<int:version_id>.xml")
@role_required(reports.may_see_flow)
def flow_diagram(version_id: int):
    """The diagram of a version, for the bottleneck view (drawn by app/static/diagram.js)."""
    return Response(monitoring.diagram_xml(actor(), db.get_or_404(ProcessVersion, version_id)),
                    mimetype="application/xml")
