"""Moving running requests to another version of their process."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.outbox.shown import request_title
from app.services import migration

from .helpers import Errors, actor, admin_required, render_page, submit

bp = Blueprint("migration_admin", __name__, url_prefix="/admin/migrations")


class MoveForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are these requests moving?"),
        [DataRequired(_l("Enter why these requests are moving")),
         Length(max=migration.MAX_REASON,
                message=_l("The reason must be %(max)s characters or fewer", max=migration.MAX_REASON))],
        description=_l("This is recorded in each request's history, for example “Finance now needs the cost "
                       "centre”."),
    )


@bp.route("/")
@admin_required
def index():
    return render_template("admin/migrations/index.html", processes=migration.versions_overview())


@bp.route("/<process_id>/<int:version_number>", methods=["GET", "POST"])
@admin_required
def plan(process_id: str, version_number: int):
    target = migration.version_of(process_id, version_number)
    if target is None:
        abort(404)
    form = MoveForm()
    errors: Errors = []
    if form.is_submitted():
        chosen = [int(value) for value in request.form.getlist("instance") if value.isdigit()]
        result, errors = submit(form, lambda: migration.migrate_instances(actor(), target, chosen, form.reason.data))
        if result is not None:  # saved: submit returns a result only then, and no errors
            _flash_result(result)
            return redirect(url_for(".plan", process_id=process_id, version_number=version_number))
    plans = migration.dry_run(target)
    return render_page("admin/migrations/plan.html", errors, target=target, plans=plans, form=form,
                       movable=[p for p in plans if p.movable], changes=migration.changes_by_version(plans))


def _flash_result(result: migration.MigrationResult) -> None:
    moved, number = len(result.moved), result.target.number
    if moved:
        flash(ngettext("%(num)s request moved to version %(number)s. Each request's history records the move "
                       "and your reason.", "%(num)s requests moved to version %(number)s. Each request's history "
                       "records the move and your reason.", moved, number=number), "success")
    for instance, instance_id, reasons in result.not_moved:
        if instance is not None:
            flash(_("Request %(id)s (%(title)s) was not moved: %(reasons)s", id=instance_id,
                    title=request_title(instance), reasons=" ".join(reasons)), "info")
        else:
            flash(_("Request %(id)s was not moved: %(reasons)s", id=instance_id, reasons=" ".join(reasons)), "info")
    if not moved and not result.not_moved:
        flash(_("No request was chosen, so none was moved."), "info")
