"""Working groups' pages: members, lead, meetings, requests, and the group's year."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from app.extensions import db
from app.models import WorkingGroup
from app.services import meetings

from .helpers import DayField, Errors, actor, plausible_day, render_page, submit

bp = Blueprint("groups", __name__)


class YearForm(FlaskForm):
    starts_on = DayField(_l("First day"), [plausible_day], what=_l("the first day of the group's year"),
                         description=_l("For example, 15 1 2027"))
    ends_on = DayField(_l("Last day"), [plausible_day], what=_l("the last day of the group's year"),
                       description=_l("Up to 12 months later, for example, 14 1 2028. The coordinators are "
                                      "reminded a month before."))

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data <= self.starts_on.data:
            raise ValidationError(_("The last day must be after the first day"))
        if bool(field.data) != bool(self.starts_on.data):
            raise ValidationError(_("Enter both the first and the last day, or neither"))


@bp.route("/groups")
@login_required
def index():
    return render_template("groups/index.html", groups=meetings.visible_groups(actor()))


@bp.route("/groups/<int:group_id>")
@login_required
def show(group_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    if not meetings.may_see_group(actor(), group):
        abort(403)
    return render_template("groups/show.html", overview=meetings.group_overview(actor(), group),
                           may_plan=meetings.may_plan(actor(), group),
                           may_set_year=meetings.is_coordinator(actor()))


@bp.route("/groups/<int:group_id>/year", methods=["GET", "POST"])
@login_required
def year(group_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    if not meetings.is_coordinator(actor()):
        abort(403)
    form = YearForm(data={"starts_on": group.starts_on, "ends_on": group.ends_on})
    errors: Errors = []
    if form.is_submitted():
        done, errors = submit(form, lambda: meetings.set_group_year(group, form.starts_on.data, form.ends_on.data))
        if done is not None:
            flash(_("Saved the year of %(group)s.", group=group.name), "success")
            return redirect(url_for("groups.show", group_id=group.id))
    return render_page("groups/year.html", errors, form=form, group=group)
