"""Personal data over time, for administrators: what the purge deletes in the next 30 days,
and legal holds on a request (placed and lifted with a reason)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _

from app.extensions import db
from app.models import ProcessInstance
from app.models.base import utcnow
from app.services import retention

from .helpers import Errors, actor, admin_required, render_page, submit
from .monitor import ReasonForm

bp = Blueprint("personal_data", __name__)

PREVIEW_DAYS = 30


@bp.route("/admin/retention")
@admin_required
def preview():
    now = utcnow()
    due = retention.due_requests(now + dt.timedelta(days=PREVIEW_DAYS))
    return render_page("admin/retention.html", [], due=due, days=PREVIEW_DAYS, now=now)


@bp.route("/monitor/instances/<int:instance_id>/hold", methods=["GET", "POST"])
@admin_required
def hold(instance_id: int):
    row = db.get_or_404(ProcessInstance, instance_id)
    form = ReasonForm()
    held = row.held_at is not None
    errors: Errors = []
    if form.is_submitted():
        change = retention.lift_hold if held else retention.place_hold
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
    return retention.purge_date(instance)
