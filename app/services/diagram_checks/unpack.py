"""Turn what an administrator uploaded into files, refusing anything oversized or odd."""

from __future__ import annotations

import io
import stat
import zipfile

from flask_babel import gettext as _

from app.engine.reading import MAX_FILE_BYTES

from .report import MAX_NAME_LENGTH

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 50
MAX_ZIP_RATIO = 100
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
# .txt: notice texts, .form: Camunda Forms (form-js JSON), .po: translations, that travel with the diagram
EXTENSIONS = (".bpmn", ".dmn", ".txt", ".form", ".po")


class UploadRefused(Exception):
    """An upload refused before any check: too large, not a diagram, or a suspicious .zip."""


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def _check_name(name: str, where: str) -> str:
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 or c in '\\/:*?"<>|' for c in name) \
            or name.startswith("."):
        raise UploadRefused(_("%(where)s has a name the app cannot use (%(file)s): use letters, digits, - and _ "
                              "only, with no folders", where=where, file=repr(name[:60])))
    if not name.lower().endswith(EXTENSIONS):
        raise UploadRefused(_("%(where)s is not a .bpmn, .dmn, .form or .txt file: upload a .bpmn file, its .dmn "
                              "files, Camunda Forms and notice texts, or one .zip of them", where=where))
    return name


def unpack_upload(uploads: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The files of an upload: .bpmn and .dmn files as they are, or the contents of one .zip.

    Raises UploadRefused, with a message for the person uploading, for anything oversized or
    odd: more than 5 MB a file or 20 MB a .zip; a .zip with folders, paths, links, encrypted or
    over-compressed entries, more than 50 entries, more than 20 MB unpacked, or other files.
    """
    uploads = [(name or "", data or b"") for name, data in uploads]
    if not uploads:
        raise UploadRefused(_("Select a .bpmn file, its .dmn files, or one .zip of them"))
    zips = [(n, d) for n, d in uploads if n.lower().endswith(".zip") or d[:4] == b"PK\x03\x04"]
    if zips:
        if len(uploads) > 1:
            raise UploadRefused(_("Upload either one .zip or the .bpmn and .dmn files themselves, not both"))
        return _unzip(*zips[0])
    files: dict[str, bytes] = {}
    for name, data in uploads:
        name = _check_name(name, _("The file %(file)s", file=repr(name[:60])) if name else _("A file"))
        if not data:
            raise UploadRefused(_("%(file)s is empty", file=name))
        if len(data) > MAX_FILE_BYTES:
            raise UploadRefused(_("%(file)s is larger than %(mb)s", file=name, mb=_mb(MAX_FILE_BYTES)))
        if name in files:
            raise UploadRefused(_("%(file)s is uploaded twice", file=name))
        files[name] = data
    return files


def _unzip(name: str, data: bytes) -> dict[str, bytes]:
    if len(data) > MAX_ZIP_BYTES:
        raise UploadRefused(_("%(file)s is larger than %(mb)s", file=name, mb=_mb(MAX_ZIP_BYTES)))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise UploadRefused(_("%(file)s is not a .zip file that can be opened", file=name)) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UploadRefused(_("%(file)s holds %(len)s entries; at most %(max_zip_entries)s are allowed",
                              file=name, len=len(entries), max_zip_entries=MAX_ZIP_ENTRIES))
    if not entries:
        raise UploadRefused(_("%(file)s is empty", file=name))
    declared = 0
    for info in entries:
        entry = info.filename
        label = _("%(entry)s in %(file)s", entry=repr(entry[:60]), file=name)
        if "/" in entry or "\\" in entry or ".." in entry or entry.startswith(("/", "~")) or ":" in entry:
            raise UploadRefused(_("%(label)s has a folder or path: put the .bpmn and .dmn files at the top of the "
                                  ".zip", label=label))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadRefused(_("%(label)s is a link; only plain files are allowed", label=label))
        if info.flag_bits & 0x1:
            raise UploadRefused(_("%(label)s is encrypted", label=label))
        _check_name(entry, label)
        if info.file_size > MAX_FILE_BYTES:
            raise UploadRefused(_("%(label)s is larger than %(mb)s", label=label, mb=_mb(MAX_FILE_BYTES)))
        if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise UploadRefused(_("%(label)s is compressed more than %(max_zip_ratio)s times: refused as a "
                                  "possible zip bomb", label=label, max_zip_ratio=MAX_ZIP_RATIO))
        declared += info.file_size
        if declared > MAX_UNPACKED_BYTES:
            raise UploadRefused(_("%(file)s unpacks to more than %(mb)s",
                                  file=name, mb=_mb(MAX_UNPACKED_BYTES)))
    files: dict[str, bytes] = {}
    total = 0
    for info in entries:
        try:
            with archive.open(info) as member:
                # Never trust the sizes a .zip declares: read at most one byte past the cap.
                content = member.read(MAX_FILE_BYTES + 1)
                if len(content) > MAX_FILE_BYTES or len(content) > MAX_ZIP_RATIO * max(info.compress_size, 1):
                    raise UploadRefused(_("%(filename)s in %(file)s unpacks to more than it declares: refused",
                                          filename=repr(info.filename), file=name))
        except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, RuntimeError, ValueError):
            raise UploadRefused(_("%(filename)s in %(file)s cannot be read",
                                  filename=repr(info.filename), file=name)) from None
        total += len(content)
        if total > MAX_UNPACKED_BYTES:
            raise UploadRefused(_("%(file)s unpacks to more than %(mb)s",
                                  file=name, mb=_mb(MAX_UNPACKED_BYTES)))
        if info.filename in files:
            raise UploadRefused(_("%(filename)s appears twice in %(file)s",
                                  filename=repr(info.filename), file=name))
        if not content:
            raise UploadRefused(_("%(filename)s in %(file)s is empty",
                                  filename=repr(info.filename), file=name))
        files[info.filename] = content
    return files
