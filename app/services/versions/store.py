"""Process versions: store files as immutable versions, activate one, sync the shipped folder,
and what administrators see of the stored versions."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from app.engine import load_model, parse_files
from app.errors import InvalidData
from app.extensions import db
from app.models import AuditEvent, InstanceStatus, ProcessDefinition, ProcessInstance, ProcessVersion, User
from app.steps import record, said
from forms.translations import diagram_text


def files_sha256(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def store_version(files: dict[str, str], actor: User | None, note: str = "",
                  activate: bool = True, channel: str = "cli") -> tuple[ProcessVersion, bool]:
    """Store files as a new version of their process unless identical content exists.

    Returns the version and whether it was created. Parsing first means nothing that the
    engine refuses is ever stored.
    """
    model = parse_files(files)
    definition = db.session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.process_id == model.process_id)
    )
    if definition is None:
        definition = ProcessDefinition(process_id=model.process_id, name=model.name,
                                       description=model.start_documentation)
        db.session.add(definition)
        db.session.flush()
    sha = files_sha256(files)
    existing = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.definition_id == definition.id,
                                     ProcessVersion.sha256 == sha)
    )
    if existing is not None:
        return existing, False
    number = (db.session.scalar(
        select(func.max(ProcessVersion.number)).where(ProcessVersion.definition_id == definition.id)
    ) or 0) + 1
    version = ProcessVersion(definition=definition, number=number, sha256=sha, files=dict(files),
                             note=note, created_by_id=actor.id if actor else None)
    db.session.add(version)
    db.session.flush()
    record(None, actor, channel, "version_stored", said("version_stored", process=model.name, number=number),
           {"process_id": model.process_id, "version": number, "sha256": sha, "note": note})
    if activate:
        activate_version(actor, version, channel=channel)
    return version, True


VERSION_ACTIONS = ("version_stored", "version_activated", "version_rolled_back")


def activate_version(actor: User | None, version: ProcessVersion, channel: str = "admin",
                     reason: str = "") -> None:
    """Make ``version`` the one new requests use; running requests keep theirs.

    Activating a version older than the active one is a rollback, and the history says so.
    """
    definition = version.definition
    previous = definition.active_version
    for other in definition.versions:
        other.active = other.id == version.id
    definition.name = load_model(version).name
    rollback = previous is not None and version.number < previous.number
    action = "version_rolled_back" if rollback else "version_activated"
    line = said(f"{action}_because" if reason else action, process=definition.name, number=version.number,
                previous=previous.number if previous else None, **({"reason": reason} if reason else {}))
    db.session.flush()  # the versions' active flags, before the history's plain INSERT
    record(None, actor, channel, action, line,
           {"process_id": definition.process_id, "version": version.number,
            "previous": previous.number if previous else None, "reason": reason})


_DECISION_REF = re.compile(r'decisionRef="([^"]+)"')
_FORM_REF = re.compile(r'formRef="([^"]+)"|formKey="camunda-forms:[^"]*?([^:/"]+\.form)"')


def _form_ids(folder: Path) -> dict[str, Path]:
    """The folder's Camunda Forms by the names a diagram may give them: file name and form id."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.form")):
        found[path.name] = path
        with suppress(ValueError, AttributeError):
            found.setdefault(str(json.loads(path.read_text(encoding="utf-8")).get("id")), path)
    return found


def folder_file_sets(folder: Path) -> list[dict[str, str]]:
    """Group a folder's files into versions: each .bpmn with the .dmn files and Camunda Forms
    (.form) it refers to, and its translations (``<file stem>.<language>.po``)."""
    sets = []
    forms = _form_ids(folder)
    for bpmn in sorted(folder.glob("*.bpmn")):
        text = bpmn.read_text(encoding="utf-8")
        files = {bpmn.name: text}
        for ref in sorted(set(_DECISION_REF.findall(text))):
            dmn = folder / f"{ref}.dmn"
            if dmn.exists():
                files[dmn.name] = dmn.read_text(encoding="utf-8")
        for ref in sorted({by_id or by_name for by_id, by_name in _FORM_REF.findall(text)}):
            if ref in forms:
                files[forms[ref].name] = forms[ref].read_text(encoding="utf-8")
        for catalogue in sorted(folder.glob(f"{bpmn.stem}.*.po")):
            files[catalogue.name] = catalogue.read_text(encoding="utf-8")
        sets.append(files)
    return sets


def sync_workflows(folder: Path, actor: User | None = None) -> list[tuple[ProcessVersion, bool]]:
    """Store each process in ``folder``: a changed file set becomes a new, active version."""
    return [store_version(files, actor, note=f"synced from {folder.name}/", channel="cli")
            for files in folder_file_sets(folder)]


def active_versions() -> list[ProcessVersion]:
    return list(db.session.scalars(
        select(ProcessVersion).join(ProcessDefinition)
        .where(ProcessVersion.active.is_(True)).order_by(ProcessDefinition.name)
    ))


def process_names() -> dict[str, str]:
    """Each process's name by its id, in the page's language as its active version's diagram
    words it (as stored, for a process with no active version)."""
    rows = db.session.execute(select(ProcessDefinition.process_id, ProcessDefinition.name, ProcessVersion).outerjoin(
        ProcessVersion, and_(ProcessVersion.definition_id == ProcessDefinition.id, ProcessVersion.active.is_(True))))
    return {process_id: diagram_text(version, name) for process_id, name, version in rows}  # one statement


RUNNING_STATES = (InstanceStatus.RUNNING, InstanceStatus.ERROR)  # unfinished: still on their version
REASON_MAX_LENGTH = 300


def running_by_version(definition: ProcessDefinition) -> dict[int, int]:
    """How many unfinished requests each version of ``definition`` carries, by version number."""
    rows = db.session.execute(
        select(ProcessVersion.number, func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
        .where(ProcessVersion.definition_id == definition.id, ProcessInstance.status.in_(RUNNING_STATES))
        .group_by(ProcessVersion.number)
    )
    return {number: count for number, count in rows}


@dataclass
class ProcessSummary:
    definition: ProcessDefinition
    active: ProcessVersion | None
    versions: list[ProcessVersion]
    running: dict[int, int]  # version number -> unfinished requests

    @property
    def running_total(self) -> int:
        return sum(self.running.values())


def process_overview() -> list[ProcessSummary]:
    """Every process with its versions and where its unfinished requests run."""
    definitions = db.session.scalars(
        select(ProcessDefinition).options(selectinload(ProcessDefinition.versions))
        .order_by(ProcessDefinition.name)
    )
    counts: dict[int, int] = dict(db.session.execute(
        select(ProcessInstance.version_id, func.count(ProcessInstance.id))
        .where(ProcessInstance.status.in_(RUNNING_STATES)).group_by(ProcessInstance.version_id)
    ).all())
    return [ProcessSummary(definition=d, active=d.active_version, versions=list(d.versions),
                           running={v.number: counts[v.id] for v in d.versions if counts.get(v.id)})
            for d in definitions]


@dataclass
class VersionRow:
    version: ProcessVersion
    uploaded_by: User | None
    running: int


def version_rows(definition: ProcessDefinition) -> list[VersionRow]:
    """The versions of ``definition``, newest first, with their uploader and unfinished requests."""
    running = running_by_version(definition)
    ids = {v.created_by_id for v in definition.versions if v.created_by_id}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [VersionRow(v, people.get(v.created_by_id) if v.created_by_id else None, running.get(v.number, 0))
            for v in sorted(definition.versions, key=lambda v: v.number, reverse=True)]


def version_history(definition: ProcessDefinition, limit: int = 50) -> list[AuditEvent]:
    """Storing, activating and rolling back this process's versions, newest first."""
    events = db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor))
        .where(AuditEvent.action.in_(VERSION_ACTIONS))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    return [e for e in events if (e.data or {}).get("process_id") == definition.process_id][:limit]


def switch_version(actor: User, version: ProcessVersion, reason: str) -> None:
    """Make ``version`` the one new requests use at an administrator's request: an activation,
    or a rollback when it is older than the active one. The reason goes into the history."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidData([("reason", _("Enter the reason for this change"))])
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidData([("reason", _("The reason must be %(max)s characters or fewer", max=REASON_MAX_LENGTH))])
    if version.active:
        raise InvalidData([(None, _("Version %(number)s is already the active version", number=version.number))])
    activate_version(actor, version, channel="admin", reason=reason)


def version_download(version: ProcessVersion) -> tuple[str, bytes, str]:
    """The version's files to download: the .bpmn when alone, else a .zip of them all.

    Returns the file name, its bytes and its media type."""
    files = version.files
    if len(files) == 1:
        name, text = next(iter(files.items()))
        return name, text.encode("utf-8"), "application/xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            # A fixed time: the same version always downloads as the same bytes.
            info = zipfile.ZipInfo(name, date_time=version.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].encode("utf-8"))
    return f"{version.definition.process_id}-version-{version.number}.zip", buffer.getvalue(), "application/zip"
