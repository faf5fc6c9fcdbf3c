"""Coordinators and administrators follow every request: list, filters, CSV, diagram, admin actions."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Form, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskState, User
from app.outbox.shown import request_title
from app.services import monitoring
from app.services.answers import answered_steps
from app.services.history import instance_history
from app.services.versions import called_processes, load_model
from forms.convert import DATE_PARTS
from forms.translations import translated_model

from .helpers import (
    DayField,
    Errors,
    actor,
    admin_required,
    form_errors,
    id_or_none,
    monitor_required,
    page_number,
    plausible_day,
    render_page,
    submit,
)

bp = Blueprint("monitor", __name__, url_prefix="/monitor")

FILTERS = ("process_id", "version", "status", "group", "waiting_role", "waiting_person", "started_from", "started_to")


@bp.app_context_processor
def monitoring_navigation():
    """``may_monitor`` for the header's link and the request page's link here."""
    return {"may_monitor": has_request_context() and monitoring.may_monitor(current_user)}


class FilterForm(Form):
    """The list's filters, read from the query string; an unknown choice is simply no match."""

    process_id = SelectField(_l("Process"), validate_choice=False)  # not "process": a Form method
    version = SelectField(_l("Version"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    group = SelectField(_l("Working group"), validate_choice=False)
    waiting_role = SelectField(_l("Waiting for a role"), validate_choice=False)
    waiting_person = SelectField(_l("Waiting for a person"), validate_choice=False)
    # GOV.UK date inputs (day, month and year boxes); ?started_from=2026-11-26 is read too.
    started_from = DayField(_l("Started on or after"), [plausible_day])
    started_to = DayField(_l("Started on or before"), [plausible_day])

    def fill_choices(self) -> None:
        options = monitoring.filter_choices()
        anyone = {"process_id": _("Any process"), "version": _("Any version"), "status": _("Any status"),
                  "group": _("Any group"), "waiting_role": _("Anyone"), "waiting_person": _("Anyone")}
        for name, first in anyone.items():
            getattr(self, name).choices = [("", first), *options[name]]

    def validate_started_to(self, field) -> None:
        start = self.started_from.data
        if field.data and isinstance(start, dt.date) and field.data < start:
            raise ValidationError(_("The ‘on or before’ date must be the same as or after the ‘on or after’ date"))

    def filters(self) -> monitoring.InstanceFilter:
        status = self.status.data if self.status.data in {s.value for s in InstanceStatus} else None
        role = self.waiting_role.data if self.waiting_role.data in monitoring.WAITING_ROLES else None
        return monitoring.InstanceFilter(
            process_id=self.process_id.data or None, version_id=id_or_none(self.version.data),
            status=InstanceStatus(status) if status else None, group_id=id_or_none(self.group.data),
            waiting_role=role, waiting_person_id=id_or_none(self.waiting_person.data),
            started_from=self.started_from.data, started_to=self.started_to.data)


def _filter_form() -> FilterForm:
    form = FilterForm(request.args)
    form.fill_choices()
    return form


def _active_args() -> dict[str, str]:
    names = [*FILTERS, *(f"{day}-{part}" for day in ("started_from", "started_to") for part in DATE_PARTS)]
    return {name: request.args[name] for name in names if request.args.get(name)}


@bp.route("/")
@monitor_required
def index():
    return redirect(url_for("monitor.instances"))


@bp.route("/instances")
@monitor_required
def instances():
    form = _filter_form()
    errors = [] if form.validate() else form_errors(form)
    page = page_number()
    pagination = None if errors else monitoring.list_instances(actor(), form.filters(), page)
    return render_page("monitor/instances.html", errors, form=form, pagination=pagination, args=_active_args())


@bp.route("/instances.csv")
@monitor_required
def instances_csv():
    form = _filter_form()
    if not form.validate():
        return Response("; ".join(str(message) for _field, message in form_errors(form)) + "\n", status=400,
                        mimetype="text/plain")
    chunks = monitoring.export_instances_csv(actor(), form.filters())
    app = current_app._get_current_object()  # the app, not its proxy
    language = str(get_locale())  # the reader's, for the rows' words: a status, "nobody in the … lane"

    def body():
        """Written as it is sent, in an app context (and database session) of its own, as the
        request's has ended by then. The heading comes first, before that context: a WSGI
        server may take the first chunk elsewhere than the rest (Werkzeug's test client does),
        and a context must end where it began."""
        yield next(chunks).encode("utf-8")
        with app.app_context(), force_locale(language):
            for chunk in chunks:
                yield chunk.encode("utf-8")

    name = f"requests-{dt.date.today().isoformat()}.csv"
    return Response(body(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/instances/<int:instance_id>")
@monitor_required
def instance(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    model = translated_model(row.version, load_model(row.version, row.called))  # the page's words, as requests.show
    history = instance_history(row, model, current_user)
    return render_template(
        "monitor/instance.html", instance=row, model=model, history=history,
        steps=monitoring.instance_steps(actor(), row), forms=answered_steps(history, model),
        attachments=monitoring.instance_attachments(actor(), row), called=called_processes(row),
        may_administer=monitoring.may_administer(current_user))


@bp.route("/instances/<int:instance_id>/diagram.xml")
@monitor_required
def diagram_xml(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    return Response(monitoring.diagram_xml(actor(), row.version), mimetype="application/xml")


@bp.route("/instances/<int:instance_id>/markers.json")
@monitor_required
def markers(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    return jsonify(monitoring.instance_markers(actor(), row))


# -- administrator actions --------------------------------------------------------------------

class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), [DataRequired(_l("Give the reason: it goes into the request’s history")),
                                          Length(max=monitoring.MAX_REASON, message=_l(
                                              "The reason must be %(max)s characters or fewer",
                                              max=monitoring.MAX_REASON))],
                           description=_l("Say why, in a sentence. Everyone who follows the request can read it."))


class ReassignForm(ReasonForm):
    person = SelectField(_l("Give it to"), [DataRequired(_l("Choose who should do this task"))], validate_choice=False)


@bp.route("/instances/<int:instance_id>/cancel", methods=["GET", "POST"])
@admin_required
def cancel(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    form = ReasonForm()
    errors: Errors = []
    if form.is_submitted():
        _done, errors = submit(form, lambda: monitoring.cancel_instance(actor(), row, form.reason.data), "reason")
        if not errors:
            flash(_("Cancelled: %(title)s. Everyone it waited for, and %(name)s, will be told.",
                    title=request_title(row), name=row.initiator.name), "success")
            return redirect(url_for("monitor.instance", instance_id=instance_id))
    return render_page("monitor/cancel.html", errors, instance=row, form=form)


@bp.route("/instances/<int:instance_id>/retry", methods=["GET", "POST"])
@admin_required
def retry(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    form = ReasonForm()
    errors: Errors = []
    if form.is_submitted():
        worked, errors = submit(form, lambda: monitoring.retry_instance(actor(), row, form.reason.data), "reason")
        if not errors:
            if worked:
                flash(_("It ran: the request is moving again."), "success")
            else:
                flash(_("It failed again. The new error is shown below; nothing else changed."), "info")
            return redirect(url_for("monitor.instance", instance_id=instance_id))
    return render_page("monitor/retry.html", errors, instance=row, form=form)


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@admin_required
def reassign(task_id: int):
    task = db.get_or_404(HumanTask, task_id)
    if task.state != TaskState.READY:
        flash(_("%(task)s is no longer waiting, so it cannot be reassigned.", task=task.name), "info")
        return redirect(url_for("monitor.instance", instance_id=task.instance_id))
    form = ReassignForm()
    form.person.choices = [("", _("Choose a person")), *monitoring.reassign_choices()]
    errors: Errors = []
    if form.is_submitted():
        person = db.session.get(User, id_or_none(form.person.data) or 0)
        if person is None:  # nobody chosen, or nobody by that id: the form refuses it as not chosen
            form.person.data = ""
            form.validate()
            errors = form_errors(form)
        else:
            _done, errors = submit(form, lambda: monitoring.reassign_task(actor(), task, person, form.reason.data),
                               "person")
            if not errors:
                flash(_("%(task)s now waits for %(name)s, who will get an email.", task=task.name, name=person.name),
                      "success")
                return redirect(url_for("monitor.instance", instance_id=task.instance_id))
    return render_page("monitor/reassign.html", errors, task=task, instance=task.instance, form=form)
