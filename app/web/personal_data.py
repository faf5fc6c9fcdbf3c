"""A person's data: the download of everything held about them (their own, or anyone's for an
administrator), and the administrators' record of processing.

The download is a POST with the CSRF token, not a link: it is recorded (who downloaded whose
data), it reads every stored file of the person, and a GET could be started by another site
(an image tag) or by a browser's prefetching, once per page view. The page before it (a GET)
says what the ZIP holds and carries the button. The record of processing changes nothing, so
it and its CSV are plain GETs, as the monitoring CSV is.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, send_file
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm

from app.errors import NotAllowed
from app.extensions import db
from app.models import User
from app.services.personal_export import export_name, export_personal_data
from app.services.processing_record import processing_csv, processing_record
from app.services.storage import StorageRefused
from app.steps.lanes import local_today

from .helpers import actor, admin_required

bp = Blueprint("personal_data", __name__)


@bp.route("/profile/data", methods=["GET", "POST"])
@login_required
def own():
    return _download(actor())


@bp.route("/admin/people/<int:user_id>/data", methods=["GET", "POST"])
@admin_required
def person(user_id: int):
    return _download(db.get_or_404(User, user_id))


def _download(subject: User):
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template("personal_data/download.html", subject=subject, own=subject.id == actor().id,
                               form=form)
    try:
        archive = export_personal_data(actor(), subject)
    except NotAllowed:
        abort(403)
    except StorageRefused as problem:
        db.session.rollback()
        current_app.logger.error("a stored file could not be read for a data download: %s", problem)
        return render_template("errors/message.html", title=_("The file cannot be downloaded at the moment"),
                               message=_("Try again in a few minutes.")), 503
    db.session.commit()
    response = send_file(archive, mimetype="application/zip", as_attachment=True,
                         download_name=export_name(subject, local_today()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/processing")
@admin_required
def record():
    return render_template("personal_data/record.html", activities=processing_record(current_app.config))


@bp.route("/admin/processing.csv")
@admin_required
def record_csv():
    name = f"record-of-processing-{local_today().isoformat()}.csv"
    return Response(processing_csv(current_app.config).encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
