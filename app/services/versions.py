"""Process versions: store files as immutable versions, activate one, parse it once."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from app.engine import DiagramError, FieldSpec, FormSpec, ProcessModel, TaskDef, load_model, parse_files, parse_xml
from app.errors import InvalidData
from app.extensions import db
from app.models import (
    AuditEvent,
    InstanceStatus,
    PendingUpload,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    User,
)
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.services.diagram_checks import Report

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
    db.session.add(AuditEvent(actor_id=actor.id if actor else None, channel=channel,
                              action="version_stored",
                              summary=f"{model.name} version {number} stored",
                              data={"process_id": model.process_id, "version": number, "sha256": sha,
                                    "note": note}))
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
    if rollback:
        summary = f"{definition.name} rolled back to version {version.number} (from version {previous.number})"
    else:
        summary = f"{definition.name} version {version.number} activated"
    if reason:
        summary = f"{summary}: {reason}"
    db.session.add(AuditEvent(actor_id=actor.id if actor else None, channel=channel,
                              action="version_rolled_back" if rollback else "version_activated",
                              summary=summary[:500],
                              data={"process_id": definition.process_id, "version": version.number,
                                    "previous": previous.number if previous else None, "reason": reason}))
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


# --- Administrators: overview, comparison, upload, activation, download ----------------------

RUNNING_STATES = (InstanceStatus.RUNNING, InstanceStatus.ERROR)  # unfinished: still on their version
PENDING_UPLOAD_LIFETIME = dt.timedelta(days=1)
REASON_MAX_LENGTH = 300
NOTE_MAX_LENGTH = 1000


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
    return [VersionRow(v, people.get(v.created_by_id), running.get(v.number, 0))
            for v in sorted(definition.versions, key=lambda v: v.number, reverse=True)]


def version_history(definition: ProcessDefinition, limit: int = 50) -> list[AuditEvent]:
    """Storing, activating and rolling back this process's versions, newest first."""
    events = db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor))
        .where(AuditEvent.action.in_(VERSION_ACTIONS))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    return [e for e in events if (e.data or {}).get("process_id") == definition.process_id][:limit]


# --- Comparing two versions ------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One attribute that differs: what, its value in the active version and in the new one."""

    what: str
    old: str
    new: str


@dataclass
class FormChanges:
    added: list[FieldSpec] = field(default_factory=list)
    removed: list[FieldSpec] = field(default_factory=list)
    changed: list[tuple[FieldSpec, list[Change]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class TaskChanges:
    """A user task (or the start form) in both versions: its own changes and its form's."""

    bpmn_id: str
    name: str
    changes: list[Change] = field(default_factory=list)
    fields: FormChanges = field(default_factory=FormChanges)

    def __bool__(self) -> bool:
        return bool(self.changes or self.fields)


@dataclass(frozen=True)
class Element:
    """Another diagram element: a script, service or rule task, gateway, event or flow."""

    element_id: str
    kind: str
    name: str


@dataclass
class Comparison:
    """What changes for new requests when ``new`` replaces ``old``."""

    name: Change | None = None
    start: TaskChanges = field(default_factory=lambda: TaskChanges("", "Start form"))
    tasks_added: list[TaskDef] = field(default_factory=list)
    tasks_removed: list[TaskDef] = field(default_factory=list)
    tasks_changed: list[TaskChanges] = field(default_factory=list)
    tables_added: list[str] = field(default_factory=list)
    tables_removed: list[str] = field(default_factory=list)
    tables_changed: list[str] = field(default_factory=list)
    table_changes: dict[str, list[Change]] = field(default_factory=dict)  # file -> rule cells that differ
    elements_added: list[Element] = field(default_factory=list)
    elements_removed: list[Element] = field(default_factory=list)
    elements_changed: list[Element] = field(default_factory=list)
    diagram_changed: bool = False  # the .bpmn text differs at all (layout included)

    @property
    def steps_changed(self) -> bool:
        """Anything a person or a rule would notice, beyond the drawing."""
        return bool(self.name or self.start or self.tasks_added or self.tasks_removed
                    or self.tasks_changed or self.tables_added or self.tables_removed
                    or self.tables_changed or self.elements_added or self.elements_removed
                    or self.elements_changed)


def _constraints_text(constraints: dict[str, str]) -> str:
    words = []
    for name, value in constraints.items():
        words.append(name if value == "true" else f"{name} {value}")
    return ", ".join(words) or "none"


def _options_text(options: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(label if label == value else f"{label} ({value})" for value, label in options) or "none"


def _properties_text(properties: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(properties.items())) or "none"


def _field_changes(old: FieldSpec, new: FieldSpec) -> list[Change]:
    changes = []
    if old.label != new.label:
        changes.append(Change("Label", old.label, new.label))
    if old.type != new.type:
        changes.append(Change("Type", old.type, new.type))
    if old.constraints != new.constraints:
        changes.append(Change("Constraints", _constraints_text(old.constraints),
                              _constraints_text(new.constraints)))
    if old.options != new.options:
        changes.append(Change("Choices", _options_text(old.options), _options_text(new.options)))
    if old.default != new.default:
        changes.append(Change("Default value", old.default or "none", new.default or "none"))
    if old.properties != new.properties:
        changes.append(Change("Properties", _properties_text(old.properties), _properties_text(new.properties)))
    return changes


def _form_changes(old: FormSpec, new: FormSpec) -> FormChanges:
    old_ids = {f.id for f in old.fields}
    new_ids = {f.id for f in new.fields}
    result = FormChanges(added=[f for f in new.fields if f.id not in old_ids],
                         removed=[f for f in old.fields if f.id not in new_ids])
    for new_field in new.fields:
        old_field = old.get(new_field.id)
        if old_field is not None and (changes := _field_changes(old_field, new_field)):
            result.changed.append((new_field, changes))
    return result


def _task_changes(old: TaskDef, new: TaskDef) -> TaskChanges:
    result = TaskChanges(new.bpmn_id, new.name, fields=_form_changes(old.form, new.form))
    if old.name != new.name:
        result.changes.append(Change("Name", old.name, new.name))
    if (old.lane or "") != (new.lane or ""):
        result.changes.append(Change("Lane", old.lane or "none", new.lane or "none"))
    if old.documentation != new.documentation:
        result.changes.append(Change("Documentation", old.documentation, new.documentation))
    if old.form.key != new.form.key:
        result.changes.append(Change("Form key", old.form.key, new.form.key))
    if old.properties != new.properties:
        result.changes.append(Change("Properties", _properties_text(old.properties),
                                     _properties_text(new.properties)))
    return result


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_ELEMENT_KINDS = {
    "startEvent": "Start event", "endEvent": "End event", "boundaryEvent": "Boundary event",
    "intermediateCatchEvent": "Waiting event", "intermediateThrowEvent": "Event",
    "scriptTask": "Script task", "serviceTask": "Service task", "businessRuleTask": "Rule task",
    "sendTask": "Send task", "receiveTask": "Receive task", "manualTask": "Manual task", "task": "Task",
    "exclusiveGateway": "Gateway", "parallelGateway": "Parallel gateway",
    "inclusiveGateway": "Inclusive gateway", "eventBasedGateway": "Event gateway",
    "subProcess": "Subprocess", "callActivity": "Call activity", "sequenceFlow": "Flow",
}
_SKIPPED_CHILDREN = {f"{{{BPMN_NS}}}incoming", f"{{{BPMN_NS}}}outgoing"}


def _localname(node) -> str:
    return node.tag.rsplit("}", 1)[-1]


def _fingerprint(node) -> tuple:
    """The element's meaning: tag, attributes, text and children, but not its nested flow
    elements (compared on their own) nor incoming/outgoing (the flows say that)."""
    children = tuple(
        _fingerprint(child) for child in node
        if isinstance(child.tag, str) and child.tag not in _SKIPPED_CHILDREN
        and _localname(child) not in _ELEMENT_KINDS
    )
    return (node.tag, tuple(sorted(node.attrib.items())), (node.text or "").strip(), children)


def _diagram_elements(model: ProcessModel) -> dict[str, tuple[Element, tuple]]:
    """The flow elements other than user tasks and form-bearing start events."""
    bpmn = next(text for name, text in model.files.items() if not name.endswith(".dmn"))
    root = parse_xml("diagram.bpmn", bpmn)
    process = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == model.process_id), None)
    if process is None:
        return {}
    elements = {}
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        kind = _ELEMENT_KINDS.get(_localname(node))
        if kind is None or node.find(f".//{{{CAMUNDA_NS}}}formData") is not None:
            continue
        name = node.get("name") or ""
        if kind == "Flow" and not name:
            name = f"{node.get('sourceRef')} → {node.get('targetRef')}"
        elements[node.get("id", "")] = (Element(node.get("id", ""), kind, name), _fingerprint(node))
    return elements


def _children(node, *names: str) -> list:
    return [n for n in node if isinstance(n.tag, str) and _localname(n) in names]


def _dmn_cells(name: str, text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """Each rule's cells: (decision id, rule id and column) -> (what, cell text), plus each
    table's hit policy and description, so that a change can be named in words."""
    root = parse_xml(name, text)
    decisions = [n for n in root.iter() if isinstance(n.tag, str) and _localname(n) == "decision"]
    cells: dict[tuple[str, str], tuple[str, str]] = {}
    for decision in decisions:
        decision_id = decision.get("id", "")
        prefix = f"{decision.get('name') or decision_id}, " if len(decisions) > 1 else ""
        for description in _children(decision, "description"):
            cells[(decision_id, "description")] = (f"{prefix}Description", " ".join((description.text or "").split()))
        for table in _children(decision, "decisionTable"):
            cells[(decision_id, "hit policy")] = (f"{prefix}Hit policy", table.get("hitPolicy", "UNIQUE"))
            headers = [c.get("label") or c.get("name") or c.get("id", "") for c in _children(table, "input", "output")]
            for number, rule in enumerate(_children(table, "rule"), start=1):
                rule_key = rule.get("id") or f"rule {number}"
                for position, entry in enumerate(_children(rule, "inputEntry", "outputEntry")):
                    header = headers[position] if position < len(headers) else f"column {position + 1}"
                    cells[(decision_id, f"{rule_key}#{position}")] = (
                        f"{prefix}Rule {number} ({rule_key}): {header}", " ".join("".join(entry.itertext()).split()))
    return cells


def _table_changes(old_text: str, new_text: str) -> list[Change]:
    """The cells of a DMN table that differ, in words; empty when only the layout differs."""
    try:
        old, new = _dmn_cells("old.dmn", old_text), _dmn_cells("new.dmn", new_text)
    except DiagramError:  # the engine read it, so this is unlikely: then say "changed" only
        return []
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        before, after = old.get(key), new.get(key)
        if before is None or after is None or before[1] != after[1]:
            what = (after or before)[0]
            changes.append(Change(what, before[1] if before else "(none)", after[1] if after else "(none)"))
    return changes


def compare_models(old: ProcessModel, new: ProcessModel) -> Comparison:
    """What changes when ``new`` replaces ``old``: user tasks and their forms, the start form,
    the DMN tables and the other diagram elements."""
    result = Comparison()
    if old.name != new.name:
        result.name = Change("Process name", old.name, new.name)
    start = _task_changes(
        TaskDef("", "Start form", old.start_lane, old.start_documentation, old.start_form),
        TaskDef("", "Start form", new.start_lane, new.start_documentation, new.start_form))
    start.changes = [c for c in start.changes if c.what != "Name"]
    result.start = start
    result.tasks_added = [t for key, t in new.tasks.items() if key not in old.tasks]
    result.tasks_removed = [t for key, t in old.tasks.items() if key not in new.tasks]
    for key, task in new.tasks.items():
        if key in old.tasks and (changes := _task_changes(old.tasks[key], task)):
            result.tasks_changed.append(changes)

    old_tables = {n: t for n, t in old.files.items() if n.endswith(".dmn")}
    new_tables = {n: t for n, t in new.files.items() if n.endswith(".dmn")}
    result.tables_added = sorted(set(new_tables) - set(old_tables))
    result.tables_removed = sorted(set(old_tables) - set(new_tables))
    result.tables_changed = sorted(n for n in set(old_tables) & set(new_tables) if old_tables[n] != new_tables[n])
    result.table_changes = {n: _table_changes(old_tables[n], new_tables[n]) for n in result.tables_changed}

    old_elements, new_elements = _diagram_elements(old), _diagram_elements(new)
    result.elements_added = [e for key, (e, _) in new_elements.items() if key not in old_elements]
    result.elements_removed = [e for key, (e, _) in old_elements.items() if key not in new_elements]
    result.elements_changed = [e for key, (e, print_) in new_elements.items()
                               if key in old_elements and old_elements[key][1] != print_]
    old_bpmn = [t for n, t in old.files.items() if not n.endswith(".dmn")]
    new_bpmn = [t for n, t in new.files.items() if not n.endswith(".dmn")]
    result.diagram_changed = old_bpmn != new_bpmn
    return result


# --- Uploading a version -----------------------------------------------------------------------


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


def _check(files: dict[str, bytes]) -> Report:
    from app.services.diagram_checks import check_upload  # it may use this module

    return check_upload(files)


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
    from app.services.diagram_checks import UploadRefused, unpack_upload  # it may use this module

    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidData([("note", f"The note must be {NOTE_MAX_LENGTH} characters or fewer")])
    if not uploads:
        raise InvalidData([("files", "Select a .bpmn file, its .dmn files, or a .zip of them")])
    try:
        files = unpack_upload(uploads)
    except UploadRefused as exc:
        raise InvalidData([("files", str(exc))]) from None
    review = _review(_check(files), note)
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
    review = _review(_check(_as_bytes(pending.files)), pending.note)
    review.pending = pending
    return review


def _as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in files.items()}


def store_pending_upload(actor: User, pending: PendingUpload, activate: bool) -> tuple[ProcessVersion, bool]:
    """Store a kept upload as the next version of its process (the first, for a new process),
    and make it active if asked. Returns the version and whether it is new: identical files
    stored in the meantime change nothing."""
    report = _check(_as_bytes(pending.files))
    if not report.ok:
        raise InvalidData([(None, "These files no longer pass the checks: upload them again to see why")])
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


@dataclass
class ActivationPreview:
    active: ProcessVersion | None
    comparison: Comparison | None  # from the active version to the one to activate
    running: dict[int, int]


def activation_preview(version: ProcessVersion) -> ActivationPreview:
    """What new requests would get if ``version`` replaced the active one."""
    active = version.definition.active_version
    comparison = None
    if active is not None and active.id != version.id:
        comparison = compare_models(load_model(active), load_model(version))
    return ActivationPreview(active, comparison, running_by_version(version.definition))


def switch_version(actor: User, version: ProcessVersion, reason: str) -> None:
    """Make ``version`` the one new requests use at an administrator's request: an activation,
    or a rollback when it is older than the active one. The reason goes into the history."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidData([("reason", "Enter the reason for this change")])
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidData([("reason", f"The reason must be {REASON_MAX_LENGTH} characters or fewer")])
    if version.active:
        raise InvalidData([(None, f"Version {version.number} is already the active version")])
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
