"""Uploaded files: stored once by content under the upload folder, described by a row."""

from __future__ import annotations

import datetime as dt
import errno
import os

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from app.errors import ServiceError
from app.extensions import db
from app.models import Attachment, HumanTask, Meeting, OutboxMessage, ProcessInstance, Role, User, UserRole
from app.models.base import utcnow
from app.outbox.queue import external_url, queue_email
from app.outbox.render import render_email
from forms.files import KINDS

from .storage import FOLDER, StorageRefused, storage

STORAGE_NOTICE = "upload_folder_full"  # the outbox rows' template: at most one email an hour
STORAGE_NOTICE_EVERY = dt.timedelta(hours=1)
FULL = {errno.ENOSPC, errno.EDQUOT}


class UploadsNotSaved(ServiceError):
    """The store would not take the files (a full or failing folder, object storage out of
    reach): nothing was saved. ``error`` is the folder's OSError or the object store's error."""

    def __init__(self, error: Exception):
        super().__init__(_("Your answers are kept below, but the files were not saved: attach them again. "
                           "We cannot store files at the moment and have told the administrators. "
                           "If sending fails again, try later."))
        self.error = error
        self.full = isinstance(error, OSError) and error.errno in FULL


def store_uploads(uploads: dict, actor: User, instance: ProcessInstance | None,
                  task: HumanTask | None = None, meeting: Meeting | None = None) -> dict[str, list[int]]:
    """Store each validated upload; return {field id: [attachment ids]} for the task data.

    Each file is stored whole or not at all (storage.py); if the store refuses one (full disk,
    quota, object storage out of reach), UploadsNotSaved is raised: the caller rolls the step back. A meeting's agenda
    files belong to the meeting instead of a request.
    """
    stored: dict[str, list[int]] = {}
    for field_id, files in uploads.items():
        for upload in files:
            if isinstance(upload, Attachment):  # kept from an earlier try of the form: attach it now
                upload.instance_id, upload.task = (instance.id if instance else None), task
                upload.meeting_id = meeting.id if meeting else None
                stored.setdefault(field_id, []).append(upload.id)
                continue
            row = Attachment(instance_id=instance.id if instance else None, task=task,
                             meeting_id=meeting.id if meeting else None, field_id=field_id,
                             filename=upload.filename, content_type=upload.content_type,
                             size=upload.size, sha256=upload.sha256,
                             stored_path=_write(upload), uploaded_by_id=actor.id)
            db.session.add(row)
            db.session.flush()
            stored.setdefault(field_id, []).append(row.id)
    return stored


def _held(actor: User, task: HumanTask | None):
    """Files ``actor`` uploaded with a form that was not sent yet, within their lifetime."""
    cutoff = utcnow() - dt.timedelta(hours=current_app.config["KEPT_UPLOAD_HOURS"])
    return select(Attachment).where(
        Attachment.instance_id.is_(None), Attachment.meeting_id.is_(None),  # a meeting's files are not kept ones
        Attachment.uploaded_by_id == actor.id, Attachment.created_at >= cutoff,
        Attachment.task_id == task.id if task is not None else Attachment.task_id.is_(None))


def bring_back_kept(form, actor: User, task: HumanTask | None = None) -> None:
    """Give each file field of a POSTed form the files uploaded with an earlier try of it.

    Only the person who uploaded a file can bring it back, for the same field of the same
    task (or a start form), within ``KEPT_UPLOAD_HOURS``, and only a file the field still
    accepts; an id that is anything else is ignored. A file ticked "remove" is deleted.
    """
    for field in form.file_fields():
        wanted, removed = form.kept_ids(field)
        ids = [int(i) for i in wanted if i.isdigit() and len(i) < 18][:50]
        if not ids:
            continue
        allowed = {KINDS[kind].content_type for kind in field.kinds if kind in KINDS}
        rows = db.session.scalars(_held(actor, task).where(
            Attachment.id.in_(ids), Attachment.field_id == field.name).order_by(Attachment.id)).all()
        for row in rows:
            if str(row.id) in removed:
                _forget_now_or_later(row)
            elif row.content_type in allowed and row.size <= field.max_size_mb * 1024 * 1024:
                field.kept.append(row)


def uploads_with_kept(form) -> dict[str, list]:
    """Return {field id: kept attachments + new uploads} for store_uploads, once the form
    validated. A field that takes one file takes the new one, if any, in place of the kept."""
    uploads: dict[str, list] = {}
    for field in form.file_fields():
        new = form.uploads.get(field.name, [])
        kept = list(field.kept) if field.multiple or not new else []
        if kept or new:
            uploads[field.name] = kept + new
    return uploads


def keep_uploads(form, actor: User, task: HumanTask | None = None) -> None:
    """Store the good files of a form that was not sent (another field had an error), so the
    page shows them as uploaded and the next try sends them: nothing is silently dropped.

    The caller commits. If the store refuses a file, the form shows the files it kept.
    """
    try:
        for field in form.file_fields():
            new = form.uploads.get(field.name, [])
            if new and not field.multiple:
                for old in field.kept:
                    _forget_now_or_later(old)
                field.kept = []
            for upload in new:
                row = Attachment(instance_id=None, field_id=field.name, filename=upload.filename,
                                 content_type=upload.content_type, size=upload.size, sha256=upload.sha256,
                                 stored_path=_write(upload), uploaded_by_id=actor.id,
                                 task_id=task.id if task is not None else None)
                db.session.add(row)
                db.session.flush()
                field.kept.append(row)
    except UploadsNotSaved as problem:
        current_app.logger.error("a kept upload was not saved: %s", problem.error)
    form.uploads = {}


def forget_old_kept_uploads(now: dt.datetime | None = None) -> int:
    """Delete the files of forms never sent (abandoned) once ``KEPT_UPLOAD_HOURS`` have passed.

    The first file the store would not delete ends the round: it and the rest stay, rows and
    content, for the next one (a store out of reach would otherwise cost a timeout per file)."""
    cutoff = (now or utcnow()) - dt.timedelta(hours=current_app.config["KEPT_UPLOAD_HOURS"])
    rows = db.session.scalars(select(Attachment).where(  # neither a request's nor a meeting's files
        Attachment.instance_id.is_(None), Attachment.meeting_id.is_(None), Attachment.created_at < cutoff,
    ).limit(500)).all()
    forgotten = 0
    for row in rows:
        if not _forget_now_or_later(row):
            break
        forgotten += 1
    db.session.commit()
    return forgotten


def _forget_now_or_later(row: Attachment) -> bool:
    """Delete a kept file's row, and its stored content unless another row shares it.

    The content goes first: if the store refuses, the row stays (no longer offered with the
    form) and the purge of abandoned uploads tries again later. Returns whether it went."""
    shared = db.session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.sha256 == row.sha256, Attachment.id != row.id))
    if not shared:
        try:
            storage().delete(row.stored_path)
        except StorageRefused as problem:
            current_app.logger.error("%s did not delete a file: %s", _store_named(), problem)
            return False
    db.session.delete(row)
    db.session.flush()
    return True


def _write(upload) -> str:
    """Store an upload's content under its key (the SHA-256) unless it is there; return the key."""
    key = f"{upload.sha256[:2]}/{upload.sha256}"
    store = storage()
    try:
        if not store.exists(key):
            store.save(key, upload.data)
    except StorageRefused as problem:
        raise UploadsNotSaved(problem.error) from problem
    return key


def _store_named() -> str:
    store = storage()
    return f"{'upload folder' if store.kind == FOLDER else 'object storage'} {store.where}"


def report_uploads_not_saved(problem: UploadsNotSaved) -> bool:
    """Log the failure, and email the administrators unless they were told in the last hour.

    Call it after rolling the failed step back; the caller commits. Returns whether an email
    was queued. The hour is counted from the outbox, so every web process shares it.
    """
    error = problem.error
    reason = os.strerror(error.errno) if isinstance(error, OSError) and error.errno else str(error)
    current_app.logger.error("%s refused a file: %s", _store_named(), reason)
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
            "recipient": person, "folder": storage().where, "reason": reason, "full": problem.full,
            "object_storage": storage().kind != FOLDER,
            "service_url": external_url("/")}, to=person)
        queue_email(person, "notice", rendered, template=STORAGE_NOTICE)
    return bool(administrators)


def send_attachment(attachment: Attachment):
    """The download of a stored file, streamed through the app (the caller checked access).

    Raises StorageRefused when the store cannot be read (object storage out of reach)."""
    return storage().send(attachment.stored_path, mimetype=attachment.content_type,
                          download_name=attachment.filename, etag=attachment.sha256, size=attachment.size)
