"""The administrator's "Send a message" to a request, and what a request waits for."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired

from app.extensions import db
from app.models import ProcessInstance
from app.services import messages

from .helpers import Errors, actor, admin_required, render_page, submit

bp = Blueprint("messages", __name__, url_prefix="/monitor")


@bp.app_template_global()
def waited_messages(instance: ProcessInstance):
    """For the request page: the messages the request waits for."""
    return messages.waiting_messages(instance)


class MessageForm(FlaskForm):
    message = SelectField(_l("Message"), [DataRequired(_l("Choose the message to send"))], validate_choice=False)
    payload = TextAreaField(_l("Values to send (optional)"),
                            description=_l("One on each line, as name=value, for example decision=approve. "
                                           "They go into the request’s data."))


@bp.route("/instances/<int:instance_id>/message", methods=["GET", "POST"])
@admin_required
def send(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    waits = messages.waiting_messages(row)
    form = MessageForm()
    form.message.choices = [("", _("Choose a message")), *[(w.name, w.name) for w in waits]]
    errors: Errors = []
    if form.is_submitted():
        _sent, errors = submit(form, lambda: messages.send_message(actor(), row, form.message.data or "",
                                                               form.payload.data or ""), "message")
        if not errors:
            flash(_("The message “%(message)s” was sent to this request.", message=form.message.data), "success")
            return redirect(url_for("monitor.instance", instance_id=instance_id))
    return render_page("monitor/send_message.html", errors, instance=row, form=form, waits=waits)
