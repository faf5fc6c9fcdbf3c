"""Moving running requests to another version of their process."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form, TextAreaField
from wtforms.validators import DataRequired, Length

from app.errors import InvalidData
from app.extensions import db
from app.services import migration

from .admin import admin_required

bp = Blueprint("migration_admin", __name__, url_prefix="/admin/migrations")


class MoveForm(Form):
    reason = TextAreaField(
        "Why are these requests moving?",
        [DataRequired("Enter why these requests are moving"),
         Length(max=migration.MAX_REASON,
                message=f"The reason must be {migration.MAX_REASON} characters or fewer")],
        description="This is recorded in each request's history, for example “Finance now needs the cost centre”.",
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
    form = MoveForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str | None, str]] = []
    if request.method == "POST":
        chosen = [int(value) for value in request.form.getlist("instance") if value.isdigit()]
        if form.validate():
            try:
                result = migration.migrate_instances(current_user._get_current_object(), target, chosen,
                                                     form.reason.data)
            except InvalidData as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                db.session.commit()
                _flash_result(result)
                return redirect(url_for(".plan", process_id=process_id, version_number=version_number))
        else:
            errors = [(field.name, field.errors[0]) for field in form if field.errors]
    plans = migration.dry_run(target)
    page = render_template("admin/migrations/plan.html", target=target, plans=plans, form=form, errors=errors,
                           movable=[p for p in plans if p.movable],
                           changes=migration.changes_by_version(plans))
    return page, 400 if errors else 200


def _flash_result(result: migration.MigrationResult) -> None:
    moved, number = len(result.moved), result.target.number
    if moved:
        flash(f"{moved} {'request' if moved == 1 else 'requests'} moved to version {number}. "
              "Each request's history records the move and your reason.", "success")
    for instance, instance_id, reasons in result.not_moved:
        name = f"Request {instance_id}" + (f" ({instance.title})" if instance is not None else "")
        flash(f"{name} was not moved: {' '.join(reasons)}", "info")
    if not moved and not result.not_moved:
        flash("No request was chosen, so none was moved.", "info")
