"""Where attachments' content lives: the upload folder (the default) or S3-compatible object
storage, which every node of a deployment shares. One interface, two implementations.

Content is stored under its key, ``Attachment.stored_path`` (``ab/abcdef…``, the SHA-256), in
both: moving from the folder to a bucket is copying the folder's tree into the bucket's prefix.
A store that refuses to save raises ``StorageRefused`` (an ``OSError`` from the folder, or the
object store's error), which attachments.py turns into the "files not saved" message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol

from flask import Flask, current_app, send_file

FOLDER, S3 = "folder", "s3"
EXTENSION = "attachment_storage"


class StorageRefused(Exception):
    """The store did not save, read or delete a file; ``error`` is what it answered."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


class Storage(Protocol):
    kind: str  # FOLDER or S3: the administrators' email says which to check
    where: str  # the folder, or the bucket and endpoint: for logs and that email

    def exists(self, key: str) -> bool: ...

    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` whole under ``key``, or nothing at all (then raise StorageRefused)."""

    def open(self, key: str) -> IO[bytes]:
        """The stored content, to read (and close)."""

    def delete(self, key: str) -> None:
        """Remove the content; a key already gone is no error."""

    def send(self, key: str, *, mimetype: str, download_name: str, etag: str, size: int) -> Any:
        """A download response streaming the content through the app (as an attachment)."""

    def problem(self) -> str:
        """Why the store cannot take files now ("" when it can): for /readyz, cheap."""


class FolderStorage:
    """Files under UPLOAD_FOLDER, written to a temporary name and renamed into place."""

    kind = FOLDER

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.where = folder

    def path(self, key: str) -> Path:
        return self.folder / key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def save(self, key: str, data: bytes) -> None:
        path = self.path(key)
        temp = path.with_suffix(f".{os.getpid()}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
            os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StorageRefused(exc) from exc

    def open(self, key: str) -> IO[bytes]:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def send(self, key: str, *, mimetype: str, download_name: str, etag: str, size: int) -> Any:
        # send_file on the path: its own ETag, Last-Modified and ranges, as before object storage
        return send_file(self.path(key), mimetype=mimetype, as_attachment=True, download_name=download_name)

    def problem(self) -> str:
        # created as the first save would create it; then a real write, as root passes os.access
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return "upload folder missing and cannot be created"
        try:
            with tempfile.TemporaryFile(dir=self.folder):
                pass
        except OSError:
            return "upload folder not writable"
        return ""


class ObjectStorage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage, a cloud's object store).

    The bucket stays private: downloads stream through the app, which checks who may see them.
    Retries are few and timeouts short, so an outage shows the person a message in seconds.
    """

    kind = S3

    def __init__(self, config: dict):
        import boto3  # only a deployment that stores in a bucket needs it
        from botocore.config import Config

        self.bucket = config["S3_BUCKET"]
        self.prefix = (config.get("S3_PREFIX") or "").strip("/")
        endpoint = config.get("S3_ENDPOINT_URL") or None
        self.where = f"bucket {self.bucket}" + (f"/{self.prefix}" if self.prefix else "") + (
            f" at {endpoint}" if endpoint else "")
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name=config.get("S3_REGION") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(
                s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "auto"},
                # checksums only where S3 requires them: other S3-compatible servers refuse the rest
                request_checksum_calculation="when_required", response_checksum_validation="when_required",
                connect_timeout=float(config.get("S3_TIMEOUT", 5)), read_timeout=float(config.get("S3_TIMEOUT", 5)),
                retries={"max_attempts": 2, "mode": "standard"}))
        from botocore.exceptions import BotoCoreError, ClientError

        self.failures: tuple[type[Exception], ...] = (BotoCoreError, ClientError)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.failures as exc:
            answer = getattr(exc, "response", None) or {}  # a ClientError's; a timeout's is None
            if answer.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageRefused(exc) from exc
        return True

    def save(self, key: str, data: bytes) -> None:
        try:  # one PUT: S3 shows an object whole or not at all
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except self.failures as exc:
            raise StorageRefused(exc) from exc

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.failures as exc:
            raise StorageRefused(exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self.failures as exc:
            raise StorageRefused(exc) from exc

    def send(self, key: str, *, mimetype: str, download_name: str, etag: str, size: int) -> Any:
        # streamed in chunks, never held whole; the content never changes under a key (its hash)
        response = send_file(self.open(key), mimetype=mimetype, as_attachment=True, download_name=download_name,
                             conditional=False)
        response.content_length = size
        response.set_etag(etag)
        return response

    def problem(self) -> str:
        try:  # HEAD bucket: no object read, the same short timeouts and few retries
            self.client.head_bucket(Bucket=self.bucket)
        except self.failures as exc:
            code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
            if code in ("404", "NoSuchBucket", "NotFound"):
                return "object storage has no such bucket"
            if code in ("403", "AccessDenied", "Forbidden"):
                return "object storage refused access to the bucket"
            return "object storage unreachable"
        return ""


def storage(app: Flask | None = None) -> Storage:
    """The app's attachment store, made once per app from ATTACHMENT_STORAGE and its settings."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    made = app.extensions.get(EXTENSION)
    if made is None:
        kind = app.config.get("ATTACHMENT_STORAGE") or FOLDER
        made = ObjectStorage(app.config) if kind == S3 else FolderStorage(app.config["UPLOAD_FOLDER"])
        app.extensions[EXTENSION] = made
    return made
