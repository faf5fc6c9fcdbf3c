"""Decisions from email links: GET and HEAD show a confirmation page, only a POST decides.

The same links answer meeting invitations (a token naming a meeting instead of a task).

Mail scanners open links before people do; nothing here changes state unless a person
presses the button on the page (a POST carrying the page's CSRF token).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.errors import ServiceError, TaskUnavailable
from app.extensions import db
from app.models import ActionToken, Attachment, Meeting
from app.services.decisions import Refusal, check_token, decide_by_token, find_token
from app.services.history import may_download
from app.services.meetings import ANSWERS, answer_by_token, token_refusal
from app.services.progress import after_step
from app.services.versions import load_model
from forms import build_form
from forms.translations import translated_task

if TYPE_CHECKING:  # for the annotations only: views do not load the engine
    from app.engine import FormSpec

bp = Blueprint("decide", __name__)


def decision_form_spec(spec: FormSpec, decision: str) -> FormSpec:
    """The fields a decision needs beyond itself: required ones and those required for it."""
    def needed(field) -> bool:
        if field.id == "decision":
            return True
        if field.readonly or field.type == "file":
            return False
        condition = field.properties.get("required_if", "")
        if condition.startswith("decision="):
            return decision in condition.removeprefix("decision=").split(",")
        return field.required

    return replace(spec, fields=tuple(f for f in spec.fields if needed(f)))


def _refused(refusal, status: int | None = None):
    return render_template("decide/refused.html", refusal=refusal), status or refusal.status


@bp.route("/decide/<secret>", methods=["GET", "POST"])
def confirm(secret: str):
    token = find_token(secret)
    if token is not None and token.meeting_id is not None:
        return _answer(token)
    refusal = check_token(token)
    if refusal is not None:
        return _refused(refusal)
    if token is None or token.task is None:  # check_token refuses these above, so never here
        abort(404)
    task = token.task
    instance = task.instance
    # The page's words; the form's values (and so what is decided) are the diagram's own.
    definition = translated_task(instance.version, load_model(instance.version, instance.called).tasks[task.bpmn_id])
    label = dict(definition.form.decisions).get(token.decision, token.decision)
    spec = decision_form_spec(definition.form, token.decision)
    post = request.method == "POST"
    formdata = None
    if post:
        formdata = MultiDict(request.form)
        formdata["decision"] = token.decision
    form = build_form(spec, formdata=formdata, instance_data={"decision": token.decision})
    problem = None
    if post and form.validate():
        try:
            done = decide_by_token(token, form.cleaned)
        except TaskUnavailable:
            db.session.rollback()
            return _refused(check_token(find_token(secret)) or check_token(None), 409)
        except ServiceError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            return render_template("decide/done.html", task=task, instance=instance, label=label,
                                   user=token.user, next_lines=after_step(done, token.user))
    model = load_model(instance.version, instance.called)
    files = [row for row in db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)
                                               .order_by(Attachment.id))
             if may_download(token.user, row, instance, model)]  # receipts: not their names either
    other_fields = [f.id for f in spec.fields if f.id != "decision"]
    return render_template("decide/confirm.html", task=task, instance=instance, label=label, form=form,
                           other_fields=other_fields, files=files, token=token, problem=problem,
                           definition=definition), 400 if post else 200


def _answer(token: ActionToken):
    """An invitation's answer link: the confirmation page, and the answer on its POST."""
    refusal = token_refusal(token)
    meeting = db.session.get_one(Meeting, token.meeting_id)
    if refusal is not None:
        title = refusal[0]  # the meetings' words, translated there or not
        mine = title in ("This invitation is no longer yours", _("This invitation is no longer yours"))
        return _refused(Refusal(*refusal), 403 if mine else 410)
    label = dict(ANSWERS).get(token.decision, token.decision)
    problem = None
    if request.method == "POST":
        try:
            answer_by_token(token)
        except ServiceError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            db.session.commit()
            return render_template("decide/answered.html", meeting=meeting, label=label, user=token.user)
    return render_template("decide/answer.html", meeting=meeting, label=label, token=token,
                           problem=problem), 409 if problem else 200
