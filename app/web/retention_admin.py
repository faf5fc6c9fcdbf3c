"""Personal data over time, for administrators: what the purge deletes in the next 30 days,
legal holds on a request (placed and lifted with a reason), erasing a person."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.extensions import db
from app.models import ProcessInstance, User
from app.models.base import utcnow
from app.services.people.pseudonyms import is_pseudonym
from app.services.retention import erasure, holds, periods, purge

from .helpers import Errors, actor, admin_required, render_page, submit
from .monitor import ReasonForm

bp = Blueprint("retention_admin", __name__)

PREVIEW_DAYS = 30


@bp.route("/admin/retention")
@admin_required
def preview():
    now = utcnow()
    due = purge.due_requests(now + dt.timedelta(days=PREVIEW_DAYS))
    return render_page("admin/retention.html", [], due=due, days=PREVIEW_DAYS, now=now)


@bp.route("/monitor/instances/<int:instance_id>/hold", methods=["GET", "POST"])
@admin_required
def hold(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    form = ReasonForm()
    held = row.held_at is not None
    errors: Errors = []
    if form.is_submitted():
        change = holds.lift_hold if held else holds.place_hold
        _done, errors = submit(form, lambda: change(actor(), row, form.reason.data), "reason")
        if not errors:
            flash(_("The legal hold is lifted: its personal data is deleted when its retention period ends.")
                  if held else _("The request is on legal hold: its personal data is kept until you lift the hold."),
                  "success")
            return redirect(url_for("monitor.instance", instance_id=instance_id))
    return render_page("monitor/hold.html", errors, instance=row, form=form, held=held)


@bp.app_template_filter("purge_date")
def purge_date(instance: ProcessInstance) -> dt.datetime | None:
    """When the request's personal data is due for deletion (None: not finished, or kept)."""
    return periods.purge_date(instance)


@bp.route("/admin/people/<int:user_id>/erase", methods=["GET", "POST"])
@admin_required
def erase(user_id: int):
    person = db.get_or_404(User, user_id)
    if is_pseudonym(person):
        abort(404)
    plan = erasure.plan_erasure(actor(), person)
    errors: Errors = []
    if request.method == "POST":
        form = FlaskForm()
        _done, errors = submit(form, lambda: erasure.erase_person(actor(), person))
        if not errors:  # the account now carries the pseudonym
            flash(_("The person is erased: they can no longer sign in, and every page names them %(pseudonym)s.",
                    pseudonym=person.name), "success")
            return redirect(url_for("admin.users", q=person.name))
    return render_page("admin/erase.html", errors, person=person, plan=plan)
