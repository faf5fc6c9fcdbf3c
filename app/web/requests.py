"""Starting requests, my requests, a request's page, and its attachments."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.errors import InvalidData, NotAllowed, ServiceError
from app.extensions import db
from app.models import Attachment, ProcessDefinition, ProcessInstance
from app.outbox.shown import request_title
from app.services.attachments import UploadsNotSaved, bring_back_kept, uploads_with_kept
from app.services.choices import choices_for
from app.services.history import instance_history, may_download
from app.services.instances import can_view, may_start, my_requests, start_instance, starts_by_message
from app.services.progress import after_step, what_next
from app.services.versions import active_versions, called_processes, load_model
from forms import build_form
from forms.translations import translated_model

from .helpers import download, keep_files, page_number, uploads_not_saved

bp = Blueprint("requests", __name__)


@bp.route("/start")
@login_required
def start_list():
    processes = []
    for version in active_versions():
        model = load_model(version)
        if may_start(current_user, model):
            processes.append((version.definition, translated_model(version, model)))
    return render_template("requests/start_list.html", processes=processes)


@bp.route("/start/<process_id>", methods=["GET", "POST"])
@login_required
def start(process_id: str):
    definition = db.first_or_404(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id))
    version = definition.active_version
    if version is None:
        abort(404)
    model = translated_model(version, load_model(version))  # what the page shows; start_instance runs the version
    if not may_start(current_user, model):
        return render_template("errors/message.html", title=_("You cannot start “%(process)s”", process=model.name),
                               message=_why_not(model)), 403
    post = request.method == "POST"
    form = build_form(model.start_form, formdata=request.form if post else None,
                      files=request.files if post else None, instance_data={},
                      choices=choices_for(current_user, model.start_form))
    if post and request.form.get("_conditions"):  # app.js: which fields to hide as it stands
        return {"hidden": form.hidden_names()}
    if post:
        bring_back_kept(form, current_user)
    problem = None
    status = 400 if post else 200
    if post and form.validate():
        try:
            started = start_instance(current_user, version, form.cleaned, uploads_with_kept(form))
            instance = started.instance
            # before the commit
            sent = _("Sent: %(title)s. You can follow it under My requests.", title=request_title(instance))
            db.session.commit()
        except NotAllowed as exc:
            db.session.rollback()
            return render_template("errors/message.html", title=_("You cannot start this"),
                                   message=str(exc)), 403
        except UploadsNotSaved as exc:
            problem, status = uploads_not_saved(exc)
            form.uploads = {}  # the folder refused them: the page asks for them again
        except InvalidData as exc:  # a service task refused an answer (a meeting claimed twice)
            db.session.rollback()
            for name, message in exc.errors:
                target = form._fields.get(name or "")
                (target.errors if target is not None else form.form_errors).append(message)
        except ServiceError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            flash("\n".join([sent, *after_step(started, current_user)]), "success")  # what comes next, under it
            return redirect(url_for("requests.show", instance_id=instance.id))
    keep_files(form)
    return render_template("requests/start_form.html", model=model, form=form, problem=problem), status


def _why_not(model) -> str:
    if not model.startable:
        return _("This process runs only as a step of other requests.")
    if starts_by_message(model):
        return _("This process starts when another request sends it a message.")
    if model.start_lane and model.start_lane.lower() == "group lead":
        return _("Only the lead of a working group can start this. Ask your group's lead or the secretariat.")
    return _("Only buyers of member organisations can start requests. Ask the secretariat if you need access.")


@bp.route("/requests")
@login_required
def mine():
    page = page_number()
    pagination = my_requests(current_user, page, current_app.config["INBOX_PAGE_SIZE"])
    next_steps = {instance.id: what_next(instance, current_user) for instance in pagination.items}
    return render_template("requests/mine.html", pagination=pagination, next_steps=next_steps)


@bp.route("/requests/<int:instance_id>")
@login_required
def show(instance_id: int):
    instance = db.get_or_404(ProcessInstance, instance_id)
    if not can_view(current_user, instance):
        abort(403)
    model = translated_model(instance.version, load_model(instance.version, instance.called))
    return render_template("requests/show.html", instance=instance, model=model,
                           next_steps=what_next(instance, current_user),
                           history=instance_history(instance, model, current_user),
                           called=called_processes(instance))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    row = db.get_or_404(Attachment, attachment_id)
    instance = db.session.get(ProcessInstance, row.instance_id) if row.instance_id else None
    if instance is None or not can_view(current_user, instance):
        abort(403)
    if not may_download(current_user, row, instance, load_model(instance.version, instance.called)):
        abort(403)  # receipts and other personal files: only for those who see bank details
    return download(row)
