"""Upload a version: unpack and check the files, keep them until an administrator confirms,
then store them."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.engine import load_model, parse_files
from app.errors import InvalidData
from app.extensions import db
from app.models import PendingUpload, ProcessDefinition, ProcessVersion, User
from app.models.base import utcnow
from app.services.diagram_checks import Report, UploadRefused, check_upload, unpack_upload

from .calls import check_calls
from .compare import Comparison, compare_models
from .store import activate_version, files_sha256, running_by_version, store_version

PENDING_UPLOAD_LIFETIME = dt.timedelta(days=1)
NOTE_MAX_LENGTH = 1000


@dataclass
class UploadReview:
    """A checked upload: the report and, for a known process, how it differs from the active
    version. ``existing`` is the stored version with the same files; ``pending`` the row that
    keeps files worth storing until the administrator confirms."""

    report: Report
    note: str = ""
    definition: ProcessDefinition | None = None
    active: ProcessVersion | None = None
    comparison: Comparison | None = None
    running: dict[int, int] = field(default_factory=dict)
    next_number: int = 1
    existing: ProcessVersion | None = None
    pending: PendingUpload | None = None


def _review(report: Report, note: str) -> UploadReview:
    review = UploadReview(report=report, note=note)
    if not report.ok:
        return review
    model = parse_files(report.files)
    definition = db.session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.process_id == model.process_id))
    if definition is None:
        return review
    review.definition = definition
    review.running = running_by_version(definition)
    review.next_number = max((v.number for v in definition.versions), default=0) + 1
    sha = files_sha256(report.files)
    review.existing = next((v for v in definition.versions if v.sha256 == sha), None)
    review.active = definition.active_version
    if review.active is not None:
        review.comparison = compare_models(load_model(review.active), model)
    return review


def check_version_upload(actor: User, uploads: list[tuple[str, bytes]], note: str = "") -> UploadReview:
    """Unpack and check uploaded files; keep them as a pending upload if they could be stored.

    Nothing is stored when the report has errors or when the files are a version already.
    """
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidData([("note", _("The note must be %(count)s characters or fewer", count=NOTE_MAX_LENGTH))])
    if not uploads:
        raise InvalidData([("files", _("Select a .bpmn file, its .dmn files, or a .zip of them"))])
    try:
        files = unpack_upload(uploads)
    except UploadRefused as exc:
        raise InvalidData([("files", str(exc))]) from None
    review = _review(check_calls(check_upload(files)), note)
    if review.report.ok and review.existing is None:
        cutoff = utcnow() - PENDING_UPLOAD_LIFETIME
        db.session.execute(delete(PendingUpload).where(PendingUpload.created_at < cutoff))
        review.pending = PendingUpload(id=secrets.token_urlsafe(32), process_id=review.report.process_id,
                                       files=dict(review.report.files), note=note, uploaded_by_id=actor.id)
        db.session.add(review.pending)
        db.session.flush()
    return review


def review_pending_upload(pending: PendingUpload) -> UploadReview:
    """The report and comparison of a kept upload, as they stand now."""
    review = _review(check_calls(check_upload(_as_bytes(pending.files))), pending.note)
    review.pending = pending
    return review


def _as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in files.items()}


def store_pending_upload(actor: User, pending: PendingUpload, activate: bool) -> tuple[ProcessVersion, bool]:
    """Store a kept upload as the next version of its process (the first, for a new process),
    and make it active if asked. Returns the version and whether it is new: identical files
    stored in the meantime change nothing."""
    report = check_calls(check_upload(_as_bytes(pending.files)))
    if not report.ok:
        raise InvalidData([(None, _("These files no longer pass the checks: upload them again to see why"))])
    version, created = store_version(report.files, actor, note=pending.note, activate=False, channel="admin")
    db.session.delete(pending)
    if created and activate:
        activate_version(actor, version, channel="admin",
                         reason=pending.note or "activated when it was uploaded")
    db.session.flush()
    return version, created


def discard_pending_upload(pending: PendingUpload) -> None:
    db.session.delete(pending)
    db.session.flush()
