"""Check uploaded files by what they contain, not by what the browser says they are."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import filetype
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from .convert import Invalid

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

DEFAULT_ACCEPT = ("pdf", "jpeg", "png")
DEFAULT_MAX_SIZE_MB = 10
MAX_FILES = 10
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """A kind of file a diagram may accept, as people call it."""

    name: str  # shown to people: "PDF"
    extensions: tuple[str, ...]  # the first is the one a fallback name gets
    content_type: str


KINDS = {
    "pdf": FileKind("PDF", ("pdf",), "application/pdf"),
    "jpeg": FileKind("JPEG", ("jpg", "jpeg"), "image/jpeg"),
    "png": FileKind("PNG", ("png",), "image/png"),
    "gif": FileKind("GIF", ("gif",), "image/gif"),
    "webp": FileKind("WebP", ("webp",), "image/webp"),
    "csv": FileKind("CSV", ("csv",), "text/csv"),
    "xlsx": FileKind("XLSX", ("xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": FileKind(
        "DOCX", ("docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "pptx": FileKind(
        "PPTX", ("pptx",), "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    "odt": FileKind("ODT", ("odt",), "application/vnd.oasis.opendocument.text"),
    "ods": FileKind("ODS", ("ods",), "application/vnd.oasis.opendocument.spreadsheet"),
    "odp": FileKind("ODP", ("odp",), "application/vnd.oasis.opendocument.presentation"),
}
_ALIASES = {"jpg": "jpeg"}
# Office Open XML files are ZIP archives; filetype recognises them only when the telling
# entry comes first, so look at the archive's directory for the part each kind must have.
_OOXML_PARTS = {"xl/workbook.xml": "xlsx", "word/document.xml": "docx", "ppt/presentation.xml": "pptx"}


@dataclass(frozen=True)
class Upload:
    """A file that passed every check, ready for the service to store."""

    field_id: str
    filename: str  # safe to use in a path or a Content-Disposition header
    content_type: str  # from the sniffed content, never from the browser
    data: bytes = field(repr=False)
    size: int
    sha256: str


def accepted_kinds(config: str | None) -> tuple[str, ...]:
    """Return the kinds an ``accept`` property allows, e.g. 'pdf,jpg,png' -> pdf, jpeg, png."""
    if not config or not config.strip():
        return DEFAULT_ACCEPT
    kinds = []
    for word in config.split(","):
        kind = _ALIASES.get(word.strip().lower().lstrip("."), word.strip().lower().lstrip("."))
        if kind and kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def describe_kinds(kinds: tuple[str, ...], article: bool = True) -> str:
    """Return 'a PDF, JPEG or PNG' ('PDF, JPEG or PNG' without the article)."""
    names = [KINDS[k].name for k in kinds]
    listed = names[0] if len(names) == 1 else _("%(options)s or %(last)s", options=", ".join(names[:-1]),
                                                 last=names[-1])
    if not article:
        return listed
    # Spelled-out letters that start with a vowel sound: an F, an M, an S, an X ...
    return _("an %(kinds)s", kinds=listed) if names[0][0] in "AEFHILMNORSX" else _("a %(kinds)s", kinds=listed)


def accept_attribute(kinds: tuple[str, ...]) -> str:
    """Return the HTML ``accept`` attribute value: '.pdf,.jpg,.jpeg,.png'."""
    return ",".join(f".{ext}" for kind in kinds for ext in KINDS[kind].extensions)


def sniff(data: bytes) -> str | None:
    """Return the kind the content shows ('pdf', 'xlsx', 'text' ...) or None."""
    guess = filetype.guess(data)
    kind = guess.extension if guess is not None else None
    if kind in (None, "zip") and data.startswith(b"PK\x03\x04"):
        kind = _ooxml_kind(data) or kind
    if kind is None and _is_text(data):
        kind = "text"
    return _ALIASES.get(kind, kind) if kind else None


def _ooxml_kind(data: bytes) -> str | None:
    try:
        # Reads the central directory only: nothing is decompressed.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next((kind for part, kind in _OOXML_PARTS.items() if part in names), None)


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def client_name(storage: FileStorage) -> str:
    """Return the file's own name as the person chose it, without any folder."""
    return PurePosixPath((storage.filename or "").replace("\\", "/")).name


def check_upload(
    field_id: str, storage: FileStorage, kinds: tuple[str, ...], max_size_mb: float, who: str
) -> Upload:
    """Read one uploaded file and return it as an Upload, or raise Invalid.

    ``who`` names the file in messages: "The selected file", or its name when several
    were chosen.
    """
    max_bytes = int(max_size_mb * MEGABYTE)
    data = _read_at_most(storage, max_bytes)
    if data is None:
        size = f"{max_size_mb:g}"
        raise Invalid(_("%(file)s must be smaller than %(size)s MB", file=who, size=size))
    if not data:
        raise Invalid(_("%(file)s is empty", file=who))
    name = client_name(storage)
    extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
    sniffed = sniff(data)
    kind = "csv" if sniffed == "text" and extension == "csv" else sniffed
    if kind not in kinds or extension not in KINDS[kind].extensions:
        raise Invalid(_("%(file)s must be %(kinds)s", file=who, kinds=describe_kinds(kinds)))
    safe = secure_filename(name)
    if not safe.lower().endswith(f".{extension}") or safe.startswith("."):
        safe = f"upload.{extension}"
    if len(safe) > 255:  # what Attachment.filename holds (PostgreSQL refuses more): cut the stem
        safe = f"{safe[:254 - len(extension)]}.{extension}"
    return Upload(
        field_id=field_id,
        filename=safe,
        content_type=KINDS[kind].content_type,
        data=data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _read_at_most(storage: FileStorage, max_bytes: int) -> bytes | None:
    """Return the file's bytes, or None when it is larger than ``max_bytes``."""
    stream = storage.stream
    try:
        # A spooled upload knows its size: refuse a big one without reading it.
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(0)
    except (AttributeError, OSError, ValueError):
        size = None
    if size is not None and size > max_bytes:
        return None
    data = stream.read(max_bytes + 1)
    return None if len(data) > max_bytes else data
