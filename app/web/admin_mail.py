"""Administrators read every email: the local mailbox, what waits, what failed and why."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.config import PRODUCTION
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.base import utcnow
from app.outbox.account_links import ACCOUNT
from app.outbox.compose import written_message
from app.outbox.queue import DECIDE
from app.outbox.render import Rendered
from app.steps import audit_event, said

from .helpers import actor, admin_required, page_number

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/mail")
HIDDEN_LINK = _l("[a one-use decision link, made when the email is sent]")
HIDDEN_ACCOUNT_LINK = _l("[a one-use link to choose a password, made when the email is sent]")


@bp.route("/")
@admin_required
def outbox():
    status = request.args.get("status", "")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in {s.value for s in OutboxStatus}:
        query = query.where(OutboxMessage.status == status)
    pagination = db.paginate(query, page=page_number(), per_page=25,
                             error_out=False)
    counts = dict(db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return render_template("admin/mail_list.html", pagination=pagination, status=status, counts=counts)


def _message(row: OutboxMessage) -> Rendered:
    """What the email says (said, if sent): a task email still queued is written for the page
    as the worker would write it now, and not kept.

    The local mailbox's copy, with its working decision links, only in development: production
    has no local mailbox (it needs MAIL_SERVER to start), and a message a development run left
    there is shown as sent over SMTP is, its links hidden, lest an administrator decide as anyone."""
    if row.transport == "mailbox" and current_app.config["APP_ENV"] != PRODUCTION:
        return Rendered(row.subject, row.delivered_text, row.delivered_html)
    written = written_message(row)
    hidden, hidden_account = str(HIDDEN_LINK), str(HIDDEN_ACCOUNT_LINK)
    text = ACCOUNT.sub(lambda _link: hidden_account, DECIDE.sub(lambda _link: hidden, written.text))
    return Rendered(written.subject, text, ACCOUNT.sub("#", DECIDE.sub("#", written.html)))


@bp.route("/<int:message_id>")
@admin_required
def show(message_id: int):
    row = db.get_or_404(OutboxMessage, message_id)
    return render_template("admin/mail_show.html", row=row, message=_message(row))


@bp.route("/<int:message_id>/html")
@admin_required
def html(message_id: int):
    """The HTML part on its own, for the sandboxed frame of the message page."""
    row = db.get_or_404(OutboxMessage, message_id)
    body = re.sub(r"<head>", '<head><base target="_blank">', _message(row).html, count=1)
    response = make_response(body)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/<int:message_id>/files/<int:number>")
@admin_required
def attachment(message_id: int, number: int):
    """A file sent with the message (a meeting's calendar invitation), as the recipient got it."""
    row = db.get_or_404(OutboxMessage, message_id)
    files = row.attachments or []
    if not 0 <= number < len(files):
        abort(404)
    sent = files[number]
    response = make_response(sent["content"])
    response.headers["Content-Type"] = sent["content_type"] + "; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{sent["filename"]}"'
    return response


@bp.route("/<int:message_id>/retry", methods=["POST"])
@admin_required
def retry(message_id: int):
    row = db.get_or_404(OutboxMessage, message_id)
    if row.status == OutboxStatus.FAILED:
        row.status, row.next_attempt_at, row.attempts = OutboxStatus.PENDING, utcnow(), 0
        db.session.add(audit_event(actor(), "admin", "email_retried",
                                   said("email_retried", address=row.to_address, subject=row.subject)))
        db.session.commit()
        flash(_("The email to %(address)s will be sent again.", address=row.to_address), "success")
    return redirect(url_for("admin_mail.show", message_id=row.id))
