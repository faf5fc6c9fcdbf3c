"""Coordinators and administrators follow every request: list, filters, CSV, diagram, admin actions."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from wtforms import DateField, Form, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.engine import load_model
from app.errors import ServiceError
from app.extensions import db
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskState, User
from app.services import monitoring
from app.services.history import instance_history
from app.steps import Conflict

from .admin import admin_required

bp = Blueprint("monitor", __name__, url_prefix="/monitor")

Errors = list[tuple[str | None, str]]
FILTERS = ("process_id", "version", "status", "group", "waiting_role", "waiting_person", "started_from", "started_to")


@bp.app_context_processor
def monitoring_navigation():
    """``may_monitor`` for the header's link and the request page's link here."""
    return {"may_monitor": has_request_context() and monitoring.may_monitor(current_user)}


def monitor_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not monitoring.may_monitor(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _actor() -> User:
    return current_user._get_current_object()


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FilterForm(Form):
    """The list's filters, read from the query string; an unknown choice is simply no match."""

    process_id = SelectField("Process", validate_choice=False)  # not "process": a Form method
    version = SelectField("Version", validate_choice=False)
    status = SelectField("Status", validate_choice=False)
    group = SelectField("Working group", validate_choice=False)
    waiting_role = SelectField("Waiting for a role", validate_choice=False)
    waiting_person = SelectField("Waiting for a person", validate_choice=False)
    # Browsers send a date input as 2026-11-26 whatever they show; so does a typed one.
    started_from = DateField("Started on or after", [Optional()], format="%Y-%m-%d")
    started_to = DateField("Started on or before", [Optional()], format="%Y-%m-%d")

    def fill_choices(self) -> None:
        options = monitoring.filter_choices()
        anyone = {"process_id": "Any process", "version": "Any version", "status": "Any status",
                  "group": "Any group", "waiting_role": "Anyone", "waiting_person": "Anyone"}
        for name, first in anyone.items():
            getattr(self, name).choices = [("", first), *options[name]]

    def validate_started_to(self, field) -> None:
        start = self.started_from.data
        if field.data and isinstance(start, dt.date) and field.data < start:
            raise ValidationError("The ‘on or before’ date must be the same as or after the ‘on or after’ date")

    def filters(self) -> monitoring.InstanceFilter:
        status = self.status.data if self.status.data in {s.value for s in InstanceStatus} else None
        role = self.waiting_role.data if self.waiting_role.data in monitoring.WAITING_ROLES else None
        return monitoring.InstanceFilter(
            process_id=self.process_id.data or None, version_id=_int_or_none(self.version.data),
            status=InstanceStatus(status) if status else None, group_id=_int_or_none(self.group.data),
            waiting_role=role, waiting_person_id=_int_or_none(self.waiting_person.data),
            started_from=self.started_from.data, started_to=self.started_to.data)


def _filter_form() -> FilterForm:
    form = FilterForm(request.args)
    form.fill_choices()
    return form


def _errors(form: Form) -> Errors:
    errors = []
    for field in form:
        if field.errors:
            message = field.errors[0]
            if isinstance(field, DateField) and "valid date" in message:  # WTForms' words
                message = f"Enter ‘{field.label.text.lower()}’ as a date like 2026-11-26"
            errors.append((field.name, message))
    return errors


def _active_args() -> dict[str, str]:
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


@bp.route("/")
@monitor_required
def index():
    return redirect(url_for("monitor.instances"))


@bp.route("/instances")
@monitor_required
def instances():
    form = _filter_form()
    if not form.validate():
        return render_template("monitor/instances.html", form=form, errors=_errors(form), pagination=None,
                               args=_active_args()), 400
    page = max(request.args.get("page", 1, type=int), 1)
    pagination = monitoring.list_instances(_actor(), form.filters(), page)
    return render_template("monitor/instances.html", form=form, errors=[], pagination=pagination,
                           args=_active_args())


@bp.route("/instances.csv")
@monitor_required
def instances_csv():
    form = _filter_form()
    if not form.validate():
        return Response("; ".join(message for _, message in _errors(form)) + "\n", status=400,
                        mimetype="text/plain")
    text = monitoring.export_instances_csv(_actor(), form.filters())
    name = f"requests-{dt.date.today().isoformat()}.csv"
    return Response(text.encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/instances/<int:instance_id>")
@monitor_required
def instance(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    model = load_model(row.version)
    history = instance_history(row, model)
    return render_template(
        "monitor/instance.html", instance=row, model=model, history=history,
        steps=monitoring.instance_steps(_actor(), row), forms=monitoring.latest_form_data(history, model),
        attachments=monitoring.instance_attachments(_actor(), row),
        may_administer=monitoring.may_administer(current_user))


@bp.route("/instances/<int:instance_id>/diagram.xml")
@monitor_required
def diagram_xml(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    return Response(monitoring.diagram_xml(_actor(), row), mimetype="application/xml")


@bp.route("/instances/<int:instance_id>/markers.json")
@monitor_required
def markers(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    return jsonify(monitoring.instance_markers(_actor(), row))


# -- administrator actions --------------------------------------------------------------------

class ReasonForm(Form):
    reason = TextAreaField("Reason", [DataRequired("Give the reason: it goes into the request’s history"),
                                      Length(max=monitoring.MAX_REASON, message=(
                                          f"The reason must be {monitoring.MAX_REASON} characters or fewer"))],
                           description="Say why, in a sentence. Everyone who follows the request can read it.")


class ReassignForm(ReasonForm):
    person = SelectField("Give it to", [DataRequired("Choose who should do this task")], validate_choice=False)


def _act(form: Form, change, field: str = "reason") -> tuple[object, Errors]:
    """Validate, call the one service, commit; else the errors with nothing changed.

    A refusal from the service is shown at ``field``.
    """
    if not form.validate():
        return None, _errors(form)
    try:
        result = change()
    except ServiceError as exc:
        db.session.rollback()
        return None, [(field, str(exc))]
    except Conflict:
        db.session.rollback()
        return None, [(field, "Someone changed this request at the same moment: look at it again, then retry.")]
    db.session.commit()
    return result, []


@bp.route("/instances/<int:instance_id>/cancel", methods=["GET", "POST"])
@admin_required
def cancel(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    form = ReasonForm(request.form if request.method == "POST" else None)
    errors: Errors = []
    if request.method == "POST":
        _, errors = _act(form, lambda: monitoring.cancel_instance(_actor(), row, form.reason.data))
        if not errors:
            flash(f"Cancelled: {row.title}. Everyone it waited for, and {row.initiator.name}, will be told.",
                  "success")
            return redirect(url_for("monitor.instance", instance_id=instance_id))
    return render_template("monitor/cancel.html", instance=row, form=form, errors=errors), 400 if errors else 200


@bp.route("/instances/<int:instance_id>/retry", methods=["GET", "POST"])
@admin_required
def retry(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    form = ReasonForm(request.form if request.method == "POST" else None)
    errors: Errors = []
    if request.method == "POST":
        worked, errors = _act(form, lambda: monitoring.retry_instance(_actor(), row, form.reason.data))
        if not errors:
            if worked:
                flash("It ran: the request is moving again.", "success")
            else:
                flash("It failed again. The new error is shown below; nothing else changed.", "info")
            return redirect(url_for("monitor.instance", instance_id=instance_id))
    return render_template("monitor/retry.html", instance=row, form=form, errors=errors), 400 if errors else 200


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@admin_required
def reassign(task_id: int):
    task = db.get_or_404(HumanTask, task_id)
    if task.state != TaskState.READY:
        flash(f"{task.name} is no longer waiting, so it cannot be reassigned.", "info")
        return redirect(url_for("monitor.instance", instance_id=task.instance_id))
    form = ReassignForm(request.form if request.method == "POST" else None)
    form.person.choices = [("", "Choose a person"), *monitoring.reassign_choices()]
    errors: Errors = []
    if request.method == "POST":
        person = db.session.get(User, _int_or_none(form.person.data) or 0)
        if form.person.data and person is None:
            form.person.data = ""
        _, errors = _act(form, lambda: monitoring.reassign_task(_actor(), task, person, form.reason.data), "person")
        if not errors:
            flash(f"{task.name} now waits for {person.name}, who will get an e-mail.", "success")
            return redirect(url_for("monitor.instance", instance_id=task.instance_id))
    return render_template("monitor/reassign.html", task=task, instance=task.instance, form=form,
                           errors=errors), 400 if errors else 200
