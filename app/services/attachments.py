"""Uploaded files: stored once by content under the upload folder, described by a row."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path

from flask import current_app
from sqlalchemy import select, text

from app.errors import ServiceError
from app.extensions import db
from app.models import Attachment, HumanTask, Meeting, OutboxMessage, ProcessInstance, Role, User, UserRole
from app.models.base import utcnow
from app.outbox.queue import external_url, queue_email
from app.outbox.render import render_email

STORAGE_NOTICE = "upload_folder_full"  # the outbox rows' template: at most one e-mail an hour
STORAGE_NOTICE_EVERY = dt.timedelta(hours=1)
FULL = {errno.ENOSPC, errno.EDQUOT}


class UploadsNotSaved(ServiceError):
    """The upload folder would not take the files (full, or failing): nothing was saved."""

    def __init__(self, error: OSError):
        super().__init__("Your answers are kept below, but the files were not saved: attach them again. "
                         "We cannot store files at the moment and have told the administrators. "
                         "If sending fails again, try later.")
        self.error = error
        self.full = error.errno in FULL


def store_uploads(uploads: dict, actor: User, instance: ProcessInstance | None,
                  task: HumanTask | None = None, meeting: Meeting | None = None) -> dict[str, list[int]]:
    """Store each validated upload; return {field id: [attachment ids]} for the task data.

    Each file is written to a temporary name and renamed into place, so a file is there
    whole or not at all; if the folder refuses one (full disk, quota), the temporary file is
    removed and UploadsNotSaved raised: the caller rolls the step back. A meeting's agenda
    files belong to the meeting instead of a request.
    """
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    stored: dict[str, list[int]] = {}
    for field_id, files in uploads.items():
        for upload in files:
            path = folder / upload.sha256[:2] / upload.sha256
            if not path.exists():
                _write(path, upload.data)
            row = Attachment(instance_id=instance.id if instance else None, task=task,
                             meeting_id=meeting.id if meeting else None, field_id=field_id,
                             filename=upload.filename, content_type=upload.content_type,
                             size=upload.size, sha256=upload.sha256,
                             stored_path=str(path.relative_to(folder)), uploaded_by_id=actor.id)
            db.session.add(row)
            db.session.flush()
            stored.setdefault(field_id, []).append(row.id)
    return stored


def _write(path: Path, data: bytes) -> None:
    temp = path.with_suffix(f".{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(data)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise UploadsNotSaved(exc) from exc


def report_uploads_not_saved(problem: UploadsNotSaved) -> bool:
    """Log the failure, and e-mail the administrators unless they were told in the last hour.

    Call it after rolling the failed step back; the caller commits. Returns whether an e-mail
    was queued. The hour is counted from the outbox, so every web process shares it.
    """
    folder = current_app.config["UPLOAD_FOLDER"]
    reason = os.strerror(problem.error.errno) if problem.error.errno else str(problem.error)
    current_app.logger.error("upload folder %s refused a file: %s", folder, reason)
    if db.session.get_bind().dialect.name == "postgresql":  # one process at a time decides
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": STORAGE_NOTICE})
    recent = db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.template == STORAGE_NOTICE, OutboxMessage.created_at > utcnow() - STORAGE_NOTICE_EVERY,
    ).limit(1))
    if recent is not None:
        return False
    administrators = db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == Role.ADMINISTRATOR, User.active.is_(True))
        .order_by(User.id)).all()
    for person in administrators:
        rendered = render_email("email/admin/upload_folder_full.txt", {
            "recipient": person, "folder": folder, "reason": reason, "full": problem.full,
            "service_url": external_url("/")})
        queue_email(person, "notice", rendered, template=STORAGE_NOTICE)
    return bool(administrators)


def attachment_path(attachment: Attachment) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / attachment.stored_path
