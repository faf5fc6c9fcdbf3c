"""Process versions: store files as immutable versions, activate one, parse it once."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import func, select

from app.engine import ProcessModel, parse_files
from app.extensions import db
from app.models import AuditEvent, ProcessDefinition, ProcessVersion, User

_MODELS: dict[int, ProcessModel] = {}


def files_sha256(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def load_model(version: ProcessVersion) -> ProcessModel:
    """The parsed model of a stored version; parsed once per process and kept."""
    model = _MODELS.get(version.id)
    if model is None:
        model = _MODELS[version.id] = parse_files(version.files)
    return model


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
    db.session.add(AuditEvent(actor_id=actor.id if actor else None, channel=channel,
                              action="version_stored",
                              summary=f"{model.name} version {number} stored",
                              data={"process_id": model.process_id, "version": number, "sha256": sha}))
    if activate:
        activate_version(actor, version, channel=channel)
    return version, True


def activate_version(actor: User | None, version: ProcessVersion, channel: str = "admin") -> None:
    """Make ``version`` the one new requests use; running requests keep theirs."""
    definition = version.definition
    for other in definition.versions:
        other.active = other.id == version.id
    definition.name = load_model(version).name
    db.session.add(AuditEvent(actor_id=actor.id if actor else None, channel=channel,
                              action="version_activated",
                              summary=f"{definition.name} version {version.number} activated",
                              data={"process_id": definition.process_id, "version": version.number}))
    db.session.flush()


_DECISION_REF = re.compile(r'decisionRef="([^"]+)"')


def folder_file_sets(folder: Path) -> list[dict[str, str]]:
    """Group a folder's files into versions: each .bpmn with the .dmn files it refers to."""
    sets = []
    for bpmn in sorted(folder.glob("*.bpmn")):
        text = bpmn.read_text(encoding="utf-8")
        files = {bpmn.name: text}
        for ref in sorted(set(_DECISION_REF.findall(text))):
            dmn = folder / f"{ref}.dmn"
            if dmn.exists():
                files[dmn.name] = dmn.read_text(encoding="utf-8")
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
