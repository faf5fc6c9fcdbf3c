"""Which stored versions a process's call activities run, and the upload checks that need the database.

A call activity names the process it calls (``calledElement``) and which version
(``camunda:calledElementBinding``): ``latest``, the default, is the called process's active
version; ``version`` with ``camunda:calledElementVersion="3"`` is its stored version 3;
``deployment`` is read as ``latest`` (an upload holds one process). The versions are resolved
when a request starts, for every call, nested ones included, and kept on the request
(``ProcessInstance.called_versions``): a later upload never changes what a running request calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from app.engine import DiagramError, ProcessModel, load_model, parse_files, parse_xml
from app.engine.calls import combine
from app.engine.callspec import CallRef
from app.extensions import db
from app.models import ProcessDefinition, ProcessInstance, ProcessVersion
from app.services.diagram_checks import Finding, Report
from app.steps import engine
from forms.translations import diagram_text

MAX_CALL_DEPTH = 5  # a process calling one calling one…: five levels down at most

NOT_STARTED = "not started yet"
# A called process's state (the engine's word) as the request page says it.
CALL_STATES = {NOT_STARTED: _l("not started yet"), "waiting": _l("waiting"), "finished": _l("finished"),
               "cancelled": _l("cancelled")}


@dataclass
class CallProblem(Exception):
    """A call that cannot be resolved; ``upload_warning``: only a warning when uploading (the
    called process has no active version yet, but may have one before a request gets there)."""

    ref: CallRef
    message: str
    upload_warning: bool = False

    def __str__(self) -> str:
        return self.message


def _stored_processes() -> str:
    ids = list(db.session.scalars(select(ProcessDefinition.process_id).order_by(ProcessDefinition.process_id)))
    return ", ".join(ids) if ids else "none yet"


def called_version(ref: CallRef) -> ProcessVersion:
    """The stored version ``ref`` calls now, or CallProblem."""
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == ref.process_id))
    if definition is None:
        raise CallProblem(ref, f"“{ref.name}” calls {ref.process_id}, which is not a stored process: upload that "
                          f"process first (stored processes: {_stored_processes()})")
    if ref.binding == "version":
        version = next((v for v in definition.versions if v.number == ref.version), None)
        if version is None:
            numbers = ", ".join(str(v.number) for v in definition.versions) or "none"
            raise CallProblem(ref, f"“{ref.name}” calls version {ref.version} of “{definition.name}”, which does "
                              f"not exist (stored versions: {numbers})")
        return version
    active = definition.active_version
    if active is None:
        raise CallProblem(ref, f"“{definition.name}”, which “{ref.name}” calls, has no active version: activate "
                          "one before a request reaches this step", upload_warning=True)
    return active


def resolve_calls(model: ProcessModel, problems: list[CallProblem] | None = None) -> dict[str, ProcessVersion]:
    """The version each process ``model`` calls (directly or not) runs: {process id: version}.

    Raises the first CallProblem, or, given a ``problems`` list, gathers them there and goes on.
    """
    resolved: dict[str, ProcessVersion] = {}
    queue: list[tuple[ProcessModel, tuple[str, ...]]] = [(model, (model.process_id,))]
    while queue:
        current, path = queue.pop(0)
        for ref in current.calls:
            try:
                version = _resolve_one(ref, path, resolved)
            except CallProblem as problem:
                if problems is None:
                    raise
                problems.append(problem)
                continue
            resolved[ref.process_id] = version
            queue.append((load_model(version), (*path, ref.process_id)))
    return resolved


def _resolve_one(ref: CallRef, path: tuple[str, ...], resolved: dict[str, ProcessVersion]) -> ProcessVersion:
    if ref.process_id in path:
        chain = " → ".join((*path[path.index(ref.process_id):], ref.process_id))
        raise CallProblem(ref, f"“{ref.name}” would call a process that is already running it ({chain}): "
                          "a process may not call itself, directly or through others")
    if len(path) > MAX_CALL_DEPTH:
        raise CallProblem(ref, f"“{ref.name}” calls processes more than {MAX_CALL_DEPTH} levels deep "
                          f"({' → '.join((*path, ref.process_id))})")
    version = called_version(ref)
    known = resolved.get(ref.process_id)
    if known is not None and known.id != version.id:
        raise CallProblem(ref, f"{ref.process_id} would run in two versions ({known.number} and {version.number}) "
                          "in one request: call the same version everywhere")
    return version


def check_calls(report: Report) -> Report:
    """Add to an upload's report what only the stored processes tell: a called process or version
    that does not exist, a process calling itself, ids clashing with a called process's."""
    if not report.ok:
        return report
    try:
        model = parse_files(report.files)
    except DiagramError:
        return report  # check_upload has said why
    if not model.calls:
        return report
    name = next(n for n in report.files if n.lower().endswith(".bpmn"))
    if not inspect(db.session.connection()).has_table(ProcessDefinition.__tablename__):  # a fresh clone's check
        report.findings.append(Finding("warning", name, None, None, None, "the processes it calls were not looked "
                                       "up: the database has no tables yet (run `flask db upgrade`)"))
        return report
    root = parse_xml(name, report.files[name])
    lines = {node.get("id"): node.sourceline for node in root.iter() if isinstance(node.tag, str)}
    problems: list[CallProblem] = []
    resolved = resolve_calls(model, problems)
    for problem in problems:
        level = "warning" if problem.upload_warning else "error"
        report.findings.append(Finding(level, name, problem.ref.element_id, problem.ref.name,
                                       lines.get(problem.ref.element_id), problem.message))
    if not problems:
        try:
            load_model_with(model, resolved)
        except DiagramError as exc:
            report.findings.append(Finding("error", name, None, None, None, exc.detail))
    return report


def load_model_with(model: ProcessModel, resolved: dict[str, ProcessVersion]) -> ProcessModel:
    """``model`` combined with the versions it calls (raises DiagramError if they do not fit)."""
    return combine(model, [load_model(v) for v in sorted(resolved.values(), key=lambda v: v.id)])


@dataclass
class CalledProcess:
    """A process a request calls, for its pages: name, stored version, and how far it is."""

    process_id: str
    name: str
    number: int
    status: str  # "not started yet", "waiting", "finished" or "cancelled", in the page's language


def called_processes(instance: ProcessInstance) -> list[CalledProcess]:
    """The processes ``instance`` calls (the versions fixed when it started) and their state."""
    if not instance.called_versions:
        return []
    model = load_model(instance.version, instance.called)
    states = engine().calls(engine().load(model, instance.state)) if instance.state else {}
    return [CalledProcess(v.definition.process_id, diagram_text(v, v.definition.name), v.number,
                          str(CALL_STATES[states.get(v.definition.process_id, NOT_STARTED)]))
            for v in instance.called]
