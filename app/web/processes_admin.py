"""Administrators upload, compare, activate and download process versions."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.errors import InvalidData
from app.extensions import db
from app.models import PendingUpload, ProcessDefinition, ProcessVersion
from app.services import versions
from app.steps import is_conflict

from .helpers import Errors, admin_required, render_page

bp = Blueprint("processes_admin", __name__, url_prefix="/admin/processes")

ACCEPTED = ".bpmn,.dmn,.form,.txt,.po,.zip"


def _definition(process_id: str) -> ProcessDefinition:
    return db.first_or_404(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id))


def _version(process_id: str, number: int) -> ProcessVersion:
    definition = _definition(process_id)
    return next((v for v in definition.versions if v.number == number), None) or abort(404)


def _pending(upload_id: str) -> PendingUpload:
    """A kept upload, for the administrator who made it only."""
    pending = db.session.get(PendingUpload, upload_id)
    if pending is None or pending.uploaded_by_id != current_user.id:
        abort(404)
    return pending


@bp.route("/")
@admin_required
def index():
    return render_template("admin/processes/index.html", processes=versions.process_overview())


@bp.route("/<process_id>")
@admin_required
def show(process_id: str):
    definition = _definition(process_id)
    return render_template("admin/processes/show.html", definition=definition,
                           rows=versions.version_rows(definition),
                           history=versions.version_history(definition))


@bp.route("/<process_id>/versions/<int:number>/download")
@admin_required
def download(process_id: str, number: int):
    name, data, mimetype = versions.version_download(_version(process_id, number))
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


@bp.route("/<process_id>/versions/<int:number>/activate", methods=["GET", "POST"])
@admin_required
def activate(process_id: str, number: int):
    version = _version(process_id, number)
    errors: Errors = []
    reason = request.form.get("reason", "")
    if request.method == "POST":
        try:
            versions.switch_version(current_user, version, reason)
        except InvalidData as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("Version %(number)s of %(process)s is now active: new requests use it. Requests already "
                    "running finish on the version they started with.", number=version.number,
                    process=version.definition.name), "success")
            return redirect(url_for(".show", process_id=process_id))
    preview = versions.activation_preview(version)
    return render_page("admin/processes/activate.html", errors, version=version, preview=preview, reason=reason,
                       reason_max=versions.REASON_MAX_LENGTH)


@bp.route("/upload", methods=["GET", "POST"])
@admin_required
def upload():
    if request.method == "GET":
        return render_template("admin/processes/upload.html", errors=[], note="", review=None,
                               accepted=ACCEPTED)
    note = request.form.get("note", "")
    uploads = [(f.filename, f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        review = versions.check_version_upload(current_user, uploads, note)
    except InvalidData as exc:
        db.session.rollback()
        return render_template("admin/processes/upload.html", errors=exc.errors, note=note, review=None,
                               accepted=ACCEPTED), 400
    if review.pending is not None:
        db.session.commit()
        return redirect(url_for(".review", upload_id=review.pending.id))
    db.session.rollback()  # nothing to keep: errors, or a version already stored
    if review.existing is not None:
        return render_template("admin/processes/already_stored.html", review=review)
    return render_template("admin/processes/upload.html", errors=[], note=note, review=review,
                           accepted=ACCEPTED), 400


@bp.route("/upload/<upload_id>", methods=["GET", "POST"])
@admin_required
def review(upload_id: str):
    pending = _pending(upload_id)
    errors: Errors = []
    status = 200
    if request.method == "POST":
        activate_now = request.form.get("activate") == "y"
        try:
            version, created = versions.store_pending_upload(current_user, pending, activate_now)
            db.session.commit()
        except InvalidData as exc:
            db.session.rollback()
            errors, status = exc.errors, 400
        except (IntegrityError, OperationalError) as exc:  # the same version number, taken meanwhile
            db.session.rollback()
            if isinstance(exc, OperationalError) and not is_conflict(exc):
                raise
            errors, status = [(None, _("Another administrator stored a version of this process at the same "
                                       "moment, so nothing was stored. The comparison below is now against the "
                                       "versions as they are: check it, then store again."))], 409
        else:
            if not created:
                flash(_("These files are version %(number)s of %(process)s already. Nothing was stored.",
                        number=version.number, process=version.definition.name), "info")
            elif activate_now:
                flash(_("Stored version %(number)s of %(process)s and made it active: new requests use it. "
                        "Requests already running finish on the version they started with.",
                        number=version.number, process=version.definition.name), "success")
            else:
                flash(_("Stored version %(number)s of %(process)s. It is not active: activate it below when new "
                        "requests should use it.", number=version.number, process=version.definition.name),
                      "success")
            return redirect(url_for(".show", process_id=version.definition.process_id))
    return render_template("admin/processes/review.html", review=versions.review_pending_upload(pending),
                           errors=errors), status


@bp.route("/upload/<upload_id>/discard", methods=["POST"])
@admin_required
def discard(upload_id: str):
    versions.discard_pending_upload(_pending(upload_id))
    db.session.commit()
    flash(_("The uploaded files were discarded. Nothing was stored."), "info")
    return redirect(url_for(".index"))
