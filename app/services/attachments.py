"""Uploaded files: stored once by content under the upload folder, described by a row."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from app.extensions import db
from app.models import Attachment, HumanTask, ProcessInstance, User


def store_uploads(uploads: dict, actor: User, instance: ProcessInstance,
                  task: HumanTask | None = None) -> dict[str, list[int]]:
    """Store each validated upload; return {field id: [attachment ids]} for the task data."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    stored: dict[str, list[int]] = {}
    for field_id, files in uploads.items():
        for upload in files:
            path = folder / upload.sha256[:2] / upload.sha256
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                temp = path.with_suffix(f".{os.getpid()}.part")
                temp.write_bytes(upload.data)
                os.replace(temp, path)
            row = Attachment(instance_id=instance.id, task=task, field_id=field_id,
                             filename=upload.filename, content_type=upload.content_type,
                             size=upload.size, sha256=upload.sha256,
                             stored_path=str(path.relative_to(folder)), uploaded_by_id=actor.id)
            db.session.add(row)
            db.session.flush()
            stored.setdefault(field_id, []).append(row.id)
    return stored


def attachment_path(attachment: Attachment) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / attachment.stored_path
