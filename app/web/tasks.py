"""The inbox and the task page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import NotAllowed, ServiceError, TaskUnavailable
from app.extensions import db
from app.models import HumanTask
from app.outbox.shown import request_title
from app.services.answers import answered_steps, repeated_fields, reviewing, show_first
from app.services.attachments import UploadsNotSaved, bring_back_kept, uploads_with_kept
from app.services.choices import choices_for
from app.services.history import hide_personal, instance_history, personal_fields, sees_personal
from app.services.instances import can_view
from app.services.progress import after_step, handed_on
from app.services.tasks import complete_task, is_candidate, load_task, task_form_data
from app.services.tasks import inbox as inbox_rows
from app.services.versions import load_model
from app.steps import commit_or_conflict
from app.steps.lanes import waiting_why
from forms import build_form
from forms.translations import diagram_text, translated_model

from .helpers import keep_files, page_number, uploads_not_saved

bp = Blueprint("tasks", __name__)


@bp.route("/")
@login_required
def home():
    return redirect(url_for("tasks.inbox"))


@bp.route("/inbox")
@login_required
def inbox():
    page = page_number()
    per_page = current_app.config["INBOX_PAGE_SIZE"]
    rows, total = inbox_rows(current_user, page, per_page)
    g.waiting_count = total  # the header shows it too: count once
    pages = max((total + per_page - 1) // per_page, 1)
    return render_template("tasks/inbox.html", rows=rows, total=total, page=page, pages=pages)


def _unavailable(task: HumanTask, status: int = 409):
    db.session.rollback()
    task = db.session.get_one(HumanTask, task.id)  # tasks are never deleted
    return render_template("tasks/unavailable.html", task=task), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def show(task_id: int):
    task = load_task(task_id)
    if task is None:
        abort(404)
    instance = task.instance
    candidate = is_candidate(current_user, task)
    if not (candidate or can_view(current_user, instance)):
        abort(403)
    if not task.is_ready:
        return _unavailable(task, 200 if request.method == "GET" else 409)
    if not candidate:
        return render_template("tasks/not_yours.html", task=task), 403
    model = load_model(instance.version, instance.called)
    shown = translated_model(instance.version, model)  # the page's words; the engine runs ``model``
    definition = shown.tasks[task.bpmn_id]
    data, wf = task_form_data(task, model)
    post = request.method == "POST"
    needs_choices = any(f.properties.get("choices") for f in definition.form.fields)  # else no initiator to load
    form = build_form(definition.form, formdata=request.form if post else None,
                      files=request.files if post else None, instance_data=data,
                      choices=choices_for(instance.initiator, definition.form) if needs_choices else None)
    if post and request.form.get("_conditions"):  # app.js: which fields to hide as it stands
        return {"hidden": form.hidden_names()}
    if post:
        bring_back_kept(form, current_user, task)
    problem = None
    status = 400 if post else 200
    if post and form.validate():
        try:
            finished = complete_task(current_user, task.id, form.cleaned, uploads_with_kept(form), wf=wf)
            # Read before the commit expires what the step loaded: what comes next, under the title.
            done = "\n".join([_("Done: %(task)s. %(title)s.", task=diagram_text(instance.version, task.name),
                                 title=request_title(instance)),
                              *after_step(finished, current_user)])
            commit_or_conflict(task.id)
        except TaskUnavailable:
            return _unavailable(task)
        except NotAllowed:
            db.session.rollback()
            return render_template("tasks/not_yours.html", task=task), 403
        except UploadsNotSaved as exc:
            problem, status = uploads_not_saved(exc)
            form.uploads = {}  # the folder refused them: the page asks for them again
        except ServiceError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            flash(done, "success")
            return redirect(url_for("tasks.inbox"))
    keep_files(form, task)
    if not sees_personal(current_user, instance):  # a task given to someone outside the claim's lanes
        hide_personal(form, definition.form, personal_fields(model, instance))
    history = instance_history(instance, shown, current_user)
    first, rest = reviewing(answered_steps(history, shown), show_first(definition))
    for field_id in repeated_fields(definition.form, first):  # shown once: first, above the form
        del form[field_id]
    return render_template("tasks/task.html", task=task, instance=instance, definition=definition,
                           form=form, history=history, first=first, answers=rest, problem=problem,
                           why=waiting_why(task), handed_on=handed_on(task, current_user)), status
