"""Check uploaded diagrams before anything is stored: every problem, with file, element and line.

``unpack_upload`` turns what an administrator uploaded (a .bpmn with its .dmn files, or one
.zip of them) into files, refusing anything oversized or odd. ``check_upload`` runs every check
and returns a Report; it stores nothing, runs no diagram code and reads nothing a file points
at. The checks, in order:

1. hardened XML: no DOCTYPE or entities, no network, UTF-8, at most 5 MB a file;
2. the BPMN 2.0 schema (SpiffWorkflow's XSD) for .bpmn, the DMN namespace for .dmn;
3. SpiffWorkflow's own parse, after the Camunda Modeler normalisation the engine applies;
4. the app's rules (docs/DIAGRAMS.md): one executable process; forms the app can render;
   lanes and assignments that name people; scripts, conditions, DMN cells and timers that
   compile under the restricted evaluator; decisions, topics and templates that exist;
   elements the app runs; and warnings for missing layout, instructions and default flows.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import func, select

from app.engine.juel import is_juel
from app.engine.parser import (
    BPMN_NS,
    CAMUNDA_NS,
    MAX_FILE_BYTES,
    DiagramError,
    assignment_from_xml,
    form_from_xml,
    parse_files,
    parse_xml,
    prepare_tree,
)
from app.engine.validate import (
    DMN_HIT_POLICIES,
    DMN_NAMESPACES,
    code_problems,
    dmn_input_problems,
    timer_problems,
    xsd_problems,
)
from app.extensions import db
from app.models import User
from app.steps import service_names
from app.steps.lanes import INITIATOR_REFERENCES, LANE_NAMES, lane_kind
from forms import build_form, check_form_spec

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 50
MAX_ZIP_RATIO = 100
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = 100
MAX_MESSAGE_LENGTH = 400
MAX_FINDINGS = 300
MAX_ELEMENTS = 10_000  # the largest shipped diagram has under 800
MAX_CODE_CHARS = 300_000  # scripts, conditions, cells and timers of one upload together
EXTENSIONS = (".bpmn", ".dmn")
DECISIONS = ("approve", "request_changes", "reject")

B = f"{{{BPMN_NS}}}"
C = f"{{{CAMUNDA_NS}}}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


# --- The report ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One problem: an error refuses the upload, a warning is worth reading."""

    level: str  # "error" or "warning"
    file: str
    element_id: str | None
    element_name: str | None
    line: int | None
    message: str

    def as_text(self) -> str:
        """``ERROR travel_reimbursement.bpmn:123 check_claim (Check claim): message``."""
        where = self.file + (f":{self.line}" if self.file and self.line else "")
        if self.element_id:
            where += f" {self.element_id}" + (f" ({self.element_name})" if self.element_name else "")
        where = where.strip()
        return f"{self.level.upper()} {where}: {self.message}" if where else f"{self.level.upper()}: {self.message}"


@dataclass
class Report:
    """What check_upload found. ``files`` holds the text of each file whose XML could be read
    (UTF-8, newlines as \\n): exactly what store_version should store when ``ok``."""

    findings: list[Finding] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    process_id: str | None = None
    process_name: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def as_text(self) -> str:
        """The report as the CLI prints it: one line per finding, errors first."""
        return "\n".join(f.as_text() for f in self.errors + self.warnings)


class UploadRefused(Exception):
    """An upload refused before any check: too large, not a diagram, or a suspicious .zip."""


# --- Unpacking ------------------------------------------------------------------------------------

def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def _check_name(name: str, where: str) -> str:
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 or c in '\\/:*?"<>|' for c in name) \
            or name.startswith("."):
        raise UploadRefused(f"{where} has a name the app cannot use ({name[:60]!r}): use letters, digits, "
                            "- and _ only, with no folders")
    if not name.lower().endswith(EXTENSIONS):
        raise UploadRefused(f"{where} is not a .bpmn or .dmn file: upload a .bpmn file, its .dmn files, "
                            "or one .zip of them")
    return name


def unpack_upload(uploads: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The files of an upload: .bpmn and .dmn files as they are, or the contents of one .zip.

    Raises UploadRefused, with a message for the person uploading, for anything oversized or
    odd: more than 5 MB a file or 20 MB a .zip; a .zip with folders, paths, links, encrypted or
    over-compressed entries, more than 50 entries, more than 20 MB unpacked, or other files.
    """
    uploads = [(name or "", data or b"") for name, data in uploads]
    if not uploads:
        raise UploadRefused("Select a .bpmn file, its .dmn files, or one .zip of them")
    zips = [(n, d) for n, d in uploads if n.lower().endswith(".zip") or d[:4] == b"PK\x03\x04"]
    if zips:
        if len(uploads) > 1:
            raise UploadRefused("Upload either one .zip or the .bpmn and .dmn files themselves, not both")
        return _unzip(*zips[0])
    files: dict[str, bytes] = {}
    for name, data in uploads:
        name = _check_name(name, f"The file {name[:60]!r}" if name else "A file")
        if not data:
            raise UploadRefused(f"{name} is empty")
        if len(data) > MAX_FILE_BYTES:
            raise UploadRefused(f"{name} is larger than {_mb(MAX_FILE_BYTES)}")
        if name in files:
            raise UploadRefused(f"{name} is uploaded twice")
        files[name] = data
    return files


def _unzip(name: str, data: bytes) -> dict[str, bytes]:
    if len(data) > MAX_ZIP_BYTES:
        raise UploadRefused(f"{name} is larger than {_mb(MAX_ZIP_BYTES)}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise UploadRefused(f"{name} is not a .zip file that can be opened") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UploadRefused(f"{name} holds {len(entries)} entries; at most {MAX_ZIP_ENTRIES} are allowed")
    if not entries:
        raise UploadRefused(f"{name} is empty")
    declared = 0
    for info in entries:
        entry = info.filename
        label = f"{entry[:60]!r} in {name}"
        if "/" in entry or "\\" in entry or ".." in entry or entry.startswith(("/", "~")) or ":" in entry:
            raise UploadRefused(f"{label} has a folder or path: put the .bpmn and .dmn files at the top of the .zip")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadRefused(f"{label} is a link; only plain files are allowed")
        if info.flag_bits & 0x1:
            raise UploadRefused(f"{label} is encrypted")
        _check_name(entry, label)
        if info.file_size > MAX_FILE_BYTES:
            raise UploadRefused(f"{label} is larger than {_mb(MAX_FILE_BYTES)}")
        if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise UploadRefused(f"{label} is compressed more than {MAX_ZIP_RATIO} times: refused as a possible "
                                "zip bomb")
        declared += info.file_size
        if declared > MAX_UNPACKED_BYTES:
            raise UploadRefused(f"{name} unpacks to more than {_mb(MAX_UNPACKED_BYTES)}")
    files: dict[str, bytes] = {}
    total = 0
    for info in entries:
        try:
            with archive.open(info) as member:
                # Never trust the sizes a .zip declares: read at most one byte past the cap.
                content = member.read(MAX_FILE_BYTES + 1)
                if len(content) > MAX_FILE_BYTES or len(content) > MAX_ZIP_RATIO * max(info.compress_size, 1):
                    raise UploadRefused(f"{info.filename!r} in {name} unpacks to more than it declares: refused")
        except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, RuntimeError, ValueError):
            raise UploadRefused(f"{info.filename!r} in {name} cannot be read") from None
        total += len(content)
        if total > MAX_UNPACKED_BYTES:
            raise UploadRefused(f"{name} unpacks to more than {_mb(MAX_UNPACKED_BYTES)}")
        if info.filename in files:
            raise UploadRefused(f"{info.filename!r} appears twice in {name}")
        if not content:
            raise UploadRefused(f"{info.filename!r} in {name} is empty")
        files[info.filename] = content
    return files


# --- Checking -------------------------------------------------------------------------------------

class _Findings:
    """Collects findings; skips exact repeats."""

    def __init__(self, report: Report):
        self.report = report
        self.seen: set[tuple] = set()
        self.overflow: set[str] = set()
        self.code_chars = 0

    def code_budget(self, text: str | None) -> bool:
        """Whether ``text`` still fits the code an upload may ask us to compile."""
        self.code_chars += len(text or "")
        return self.code_chars <= MAX_CODE_CHARS

    def add(self, level: str, file: str, message: str, node: etree._Element | None = None,
            element_id: str | None = None, element_name: str | None = None, line: int | None = None) -> None:
        if node is not None:
            owner = _owner(node)
            element_id = element_id or owner.get("id")
            element_name = element_name or owner.get("name")
            line = line or node.sourceline
        if len(message) > MAX_MESSAGE_LENGTH:  # a compiler may quote a whole script back
            message = message[:MAX_MESSAGE_LENGTH].rstrip() + " …"
        element_name = (element_name or "").strip()[:MAX_NAME_LENGTH] or None
        element_id = (element_id or "")[:MAX_NAME_LENGTH] or None
        finding = Finding(level, file, element_id, element_name, line, message)
        key = (level, file, element_id, message)
        if key in self.seen:
            return
        self.seen.add(key)
        if len(self.report.findings) < MAX_FINDINGS:
            self.report.findings.append(finding)
        elif level not in self.overflow:  # one line per level says more were found
            self.overflow.add(level)
            self.report.findings.append(Finding(level, file, None, None, None, f"more than {MAX_FINDINGS} "
                                                "problems: the rest of this kind are not listed"))

    def error(self, file: str, message: str, node: etree._Element | None = None, **where) -> None:
        self.add("error", file, message, node, **where)

    def warning(self, file: str, message: str, node: etree._Element | None = None, **where) -> None:
        self.add("warning", file, message, node, **where)

    def has_error(self, file: str, element_id: str | None) -> bool:
        return any(f.level == "error" and f.file == file and f.element_id == element_id
                   for f in self.report.findings)


def _owner(node: etree._Element) -> etree._Element:
    """The element a finding is about: the node or its nearest ancestor with an id."""
    owner = node
    while owner is not None and (not owner.get("id") or _local(owner).endswith("EventDefinition")
                                 or _local(owner) in ("conditionExpression", "script")):
        owner = owner.getparent()
    return owner if owner is not None else node


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _decode(name: str, data: bytes, found: _Findings) -> str | None:
    """The file as text: UTF-8 (a BOM dropped), newlines as \\n, as `flask workflows sync` reads it."""
    if len(data) > MAX_FILE_BYTES:
        found.error(name, f"the file is larger than {_mb(MAX_FILE_BYTES)}")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        found.error(name, "the file is not UTF-8 text: save it as UTF-8 (Camunda Modeler does)", line=line)
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_upload(files: dict[str, bytes]) -> Report:
    """Run every check on uploaded files; store nothing, run nothing. See the module docstring."""
    report = Report()
    found = _Findings(report)
    roots: dict[str, etree._Element] = {}
    bpmn_names = [n for n in files if n.lower().endswith(".bpmn")]
    if len(bpmn_names) != 1:
        found.error("", f"upload exactly one .bpmn file with the .dmn files it uses ({len(bpmn_names)} .bpmn found)")
    for name, data in files.items():
        if not name.lower().endswith(EXTENSIONS):
            found.error(name, "only .bpmn and .dmn files can be uploaded")
            continue
        text = _decode(name, data, found)
        if text is None:
            continue
        try:
            root = parse_xml(name, text)
        except DiagramError as exc:
            found.error(name, exc.detail, line=exc.line)
            continue
        encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper().replace("_", "-")
        if encoding not in ("UTF-8", "UTF8", "US-ASCII", "ASCII"):
            found.error(name, f"the file declares the encoding {encoding}: save it as UTF-8", line=1)
            continue
        elements = sum(1 for _ in root.iter())
        if elements > MAX_ELEMENTS:  # the checks (and the XSD) take too long on files this big
            found.error(name, f"the file holds {elements} XML elements; a diagram or table may hold at most "
                        f"{MAX_ELEMENTS}: split it")
            continue
        report.files[name] = text
        roots[name] = root

    dmn_roots = {n: r for n, r in roots.items() if n.lower().endswith(".dmn")}
    decisions = _check_dmn_files(dmn_roots, found)
    bpmn = next(((n, r) for n, r in roots.items() if n.lower().endswith(".bpmn")), None)
    if bpmn is not None and _is_bpmn(*bpmn, found):
        name, root = bpmn
        for line, message in xsd_problems(root):
            node = _node_at(root, line)
            found.error(name, f"not valid BPMN 2.0: {message}", node, line=line)
        for problem in prepare_tree(root, name):
            found.error(name, problem.detail, element_id=problem.element_id,
                        element_name=problem.element_name, line=problem.line)
        _check_process(name, root, decisions, found)
    readable = set(report.files) == set(files) and len(bpmn_names) == 1 and bpmn is not None
    if readable and not any(f.level == "error" and not f.element_id for f in report.findings):
        _check_spiff_parse(report, found)
    report.findings.sort(key=lambda f: (f.level != "error", list(files).index(f.file) if f.file in files else -1,
                                        f.line or 0))
    return report


def _is_bpmn(name: str, root: etree._Element, found: _Findings) -> bool:
    if root.tag != f"{B}definitions":
        found.error(name, f"not a BPMN 2.0 diagram: the file starts with <{etree.QName(root).localname}> in "
                    f"{etree.QName(root).namespace or 'no namespace'}, not <bpmn:definitions>", line=root.sourceline)
        return False
    return True


def _node_at(root: etree._Element, line: int | None) -> etree._Element | None:
    if not line:
        return None
    return next((n for n in root.iter() if isinstance(n.tag, str) and n.sourceline == line), None)


_TOO_MUCH_CODE = f"the upload holds more than {MAX_CODE_CHARS} characters of code in all: it was not compiled"


def _compiled(found: _Findings, text: str, mode: str = "expression") -> list[str]:
    """The problems of a piece of code, within the upload's compile budget."""
    return code_problems(text, mode) if found.code_budget(text) else [_TOO_MUCH_CODE]


def _check_spiff_parse(report: Report, found: _Findings) -> None:
    """SpiffWorkflow's own parse; a problem already reported for the same element is not repeated."""
    try:
        parse_files(report.files)
    except DiagramError as exc:
        file = exc.file or ""
        if exc.element_id and found.has_error(file, exc.element_id):
            return
        found.error(file, f"SpiffWorkflow cannot load it: {exc.detail}", element_id=exc.element_id,
                    element_name=exc.element_name, line=exc.line)
    except Exception as exc:  # noqa: BLE001 - whatever else the library raises on an odd diagram
        found.error(next(n for n in report.files if n.lower().endswith(".bpmn")),
                    f"SpiffWorkflow cannot load it: {type(exc).__name__}: {exc}")


# --- The process ----------------------------------------------------------------------------------

FLOW_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "userTask", "scriptTask", "serviceTask", "sendTask", "businessRuleTask", "task",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "subProcess",
}
UNSUPPORTED = {
    "receiveTask": "a receive task waits for a message, and nothing here sends one: use a user task",
    "manualTask": "a manual task would wait for nobody: use a user task with a form",
    "callActivity": "calling another process is not supported: draw the steps in an embedded subprocess",
    "eventBasedGateway": "an event-based gateway waits for messages or signals, which nothing here sends: "
                         "use a boundary timer on a user task",
    "complexGateway": "complex gateways are not supported: use exclusive, parallel or inclusive gateways",
    "transaction": "transactions are not supported: use an embedded subprocess",
    "adHocSubProcess": "ad-hoc subprocesses are not supported",
    "implicitThrowEvent": "this event is not supported",
}
IGNORED_CHILDREN = {
    "sequenceFlow", "laneSet", "textAnnotation", "association", "group", "dataObject",
    "dataObjectReference", "dataStoreReference", "documentation", "extensionElements", "ioSpecification",
    "property", "incoming", "outgoing", "dataInputAssociation", "dataOutputAssociation", "category",
}
EVENT_DEFINITIONS = {
    "messageEventDefinition": "message events are not supported: nothing here sends a message to a request",
    "signalEventDefinition": "signal events are not supported: nothing here sends signals",
    "conditionalEventDefinition": "conditional events are not supported: use a gateway with conditions",
    "escalationEventDefinition": "escalation events are not supported: use a boundary timer and the escalate "
                                 "service task",
    "compensateEventDefinition": "compensation is not supported",
    "linkEventDefinition": "link events are not supported: draw the flow",
    "cancelEventDefinition": "cancel events are not supported",
}
LOGIC_EXTENSIONS = {
    "executionListener": "execution listeners do not run here: use a script or service task",
    "taskListener": "task listeners do not run here: use a script or service task",
    "inputOutput": "input/output mappings do not run here: use a script task",
    "connector": "connectors do not run here: use a service task with a registered topic",
    "formProperty": "form properties are not read: declare the form with camunda:formData",
    "in": "call activity variables do not apply here",
    "out": "call activity variables do not apply here",
    "field": "delegate fields do not run here: use camunda:properties on a service task",
}
LOGIC_ATTRIBUTES = {
    "class": "Java delegates do not run here",
    "expression": "expressions on tasks do not run here",
    "delegateExpression": "delegate expressions do not run here",
    "resource": "external script resources are not read: put the script in the task",
}
IGNORED_ATTRIBUTES = {
    "formKey", "assignee", "candidateUsers", "candidateGroups", "topic", "type", "decisionRef",
    "asyncBefore", "asyncAfter", "async", "exclusive", "jobPriority", "taskPriority", "historyTimeToLive",
    "versionTag", "isStartableInTasklist", "initiator", "decisionRefBinding", "decisionRefVersion",
    "decisionRefVersionTag", "decisionRefTenantId", "failedJobRetryTimeCycle", "errorCodeVariable",
    "errorMessageVariable", "collection", "elementVariable",
}


def _check_process(name: str, root: etree._Element, decisions: dict[str, str], found: _Findings) -> None:
    processes = [p for p in root.iterfind(f"{B}process") if p.get("isExecutable") != "false"]
    if len(processes) != 1:
        found.error(name, f"a diagram needs exactly one executable process ({len(processes)} found): mark the "
                    "others as not executable", line=root.sourceline)
        return
    process = processes[0]
    report = found.report
    report.process_id = process.get("id")
    report.process_name = (process.get("name") or "").strip() or report.process_id
    if report.process_id and len(report.process_id) > 100:
        found.error(name, "the process id is longer than 100 characters", process)
    if len(report.process_name or "") > 200:
        found.error(name, "the process name is longer than 200 characters", process)
    for attribute in ("candidateStarterGroups", "candidateStarterUsers"):
        if process.get(f"{C}{attribute}"):
            found.warning(name, f"camunda:{attribute} is ignored: people with the buyer role start requests",
                          process)

    lanes = _lanes(process)
    user_tasks = {n.get("id") for n in process.iter(f"{B}userTask")}
    ids = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    _check_elements(name, process, ids, found)
    _check_extensions(name, process, found)
    _check_start(name, process, lanes, found)
    emails = _known_emails(process)
    for node in process.iter(f"{B}userTask"):
        _check_user_task(name, node, lanes, emails, found)
    for node in process.iter(f"{B}scriptTask"):
        _check_script(name, node, found)
    for node in process.iter(f"{B}serviceTask", f"{B}sendTask"):
        _check_service(name, node, user_tasks, found)
    for node in process.iter(f"{B}businessRuleTask"):
        _check_rule_task(name, node, decisions, found)
    _check_flows(name, process, ids, found)
    for node in process.iter(f"{B}timerEventDefinition"):
        _check_timer(name, node, found)
    for node in process.iter(f"{B}boundaryEvent"):
        attached = node.get("attachedToRef")
        if not attached or attached not in ids:
            found.error(name, f"the boundary event is attached to {attached!r}, which is not in the process", node)
    used = {d for d in (n.get(f"{C}decisionRef") for n in process.iter(f"{B}businessRuleTask")) if d}
    for decision, file in decisions.items():
        if decision not in used:
            found.warning(file, f"the decision {decision} is not used by any business rule task of the process")
    _check_layout(name, root, process, found)


def _flow_nodes(process: etree._Element) -> Iterator[etree._Element]:
    for node in process.iter():
        if isinstance(node.tag, str) and node.tag.startswith(B) and _local(node) in FLOW_NODES:
            yield node


def _check_elements(name: str, container: etree._Element, ids: dict[str, etree._Element], found: _Findings,
                    nested: bool = False) -> None:
    """Name every element the app does not run; descend into embedded subprocesses."""
    for node in container:
        if not isinstance(node.tag, str):
            continue
        local = _local(node)
        if not node.tag.startswith(B):
            continue
        if local in UNSUPPORTED:
            found.error(name, UNSUPPORTED[local], node)
            continue
        if local in IGNORED_CHILDREN or local == "laneSet":
            continue
        if local not in FLOW_NODES:
            found.error(name, f"bpmn:{local} is not supported here", node)
            continue
        for loop in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            if node.find(f"{B}{loop}") is not None:
                found.error(name, "loops and multi-instance steps are not supported: draw the steps with a "
                            "gateway that loops back", node)
        definitions = [d for d in node if isinstance(d.tag, str) and _local(d).endswith("EventDefinition")]
        for definition in definitions:
            kind = _local(definition)
            if kind in EVENT_DEFINITIONS:
                found.error(name, EVENT_DEFINITIONS[kind], node)
            elif kind == "timerEventDefinition" and local == "startEvent":
                found.error(name, "a timer start event would start requests on its own: requests start from "
                            "their start form", node)
            elif kind == "errorEventDefinition" and not (nested and local == "endEvent" or local == "boundaryEvent"):
                found.error(name, "error events work only as an error end event inside a subprocess, caught by "
                            "an error boundary event on it", node)
            elif kind == "errorEventDefinition" and local == "boundaryEvent":
                target = ids.get(node.get("attachedToRef"))
                if target is not None and _local(target) != "subProcess":
                    found.error(name, "an error boundary event catches only errors thrown inside a subprocess",
                                node)
            elif kind == "terminateEventDefinition" and local != "endEvent":
                found.error(name, "terminate works only on an end event", node)
        if len(definitions) > 1:
            found.error(name, "an event with several definitions is not supported", node)
        if local == "intermediateCatchEvent" and not definitions:
            found.error(name, "an intermediate catch event needs a timer", node)
        if local == "subProcess":
            if node.get("triggeredByEvent") == "true":
                found.error(name, "event subprocesses are not supported: use boundary events", node)
            else:
                _check_elements(name, node, ids, found, nested=True)


def _check_extensions(name: str, process: etree._Element, found: _Findings) -> None:
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(C) and _local(node) in LOGIC_EXTENSIONS:
            found.error(name, f"camunda:{_local(node)}: {LOGIC_EXTENSIONS[_local(node)]}", node)
        if not node.tag.startswith(B) or _local(node) not in FLOW_NODES | {"process", "sequenceFlow"}:
            continue
        for key in node.attrib:
            if not key.startswith(C):
                continue
            attribute = key[len(C):]
            if attribute in LOGIC_ATTRIBUTES:
                found.error(name, f"camunda:{attribute}: {LOGIC_ATTRIBUTES[attribute]}", node)
            elif attribute == "resultVariable":
                found.warning(name, "camunda:resultVariable is ignored: a script's variables, and a decision's "
                              "outputs by their names, go into the request's data", node)
            elif attribute == "mapDecisionResult":
                found.warning(name, "camunda:mapDecisionResult is ignored: a decision's outputs go into the "
                              "request's data by their names", node)
            elif attribute not in IGNORED_ATTRIBUTES | {"candidateStarterGroups", "candidateStarterUsers"}:
                found.warning(name, f"camunda:{attribute} is ignored here", node)


def _lanes(process: etree._Element) -> dict[str, etree._Element]:
    """Each flow node's (innermost) lane."""
    lanes: dict[str, etree._Element] = {}
    for lane in process.iter(f"{B}lane"):
        for ref in lane.iterfind(f"{B}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane
    return lanes


def _lane_help() -> str:
    return "use one of " + ", ".join(LANE_NAMES)


def _check_form(name: str, node: etree._Element, what: str, found: _Findings) -> None:
    process_id = found.report.process_id
    key = f"{process_id}.start" if what == "start event" else f"{process_id}.{node.get('id')}"
    if not node.get(f"{C}formKey"):
        found.warning(name, f"the {what} has no camunda:formKey, so its form key is taken to be {key} "
                      "(form rules in forms/rules/ are registered under it)", node)
    form = form_from_xml(node, key)
    for problem in check_form_spec(form):
        found.error(name, f"its form cannot be shown: {problem}", node)
    if not check_form_spec(form):
        try:
            build_form(form, instance_data={})
        except Exception as exc:  # noqa: BLE001 - any failure means people could not see the form
            found.error(name, f"its form cannot be shown: {exc}", node)
    external = node.get(f"{C}formRef") or (node.get(f"{C}formKey") or "").partition(":")[1]
    if not form.fields and external:
        found.error(name, f"the {what}'s form is in a Camunda Form or HTML file, which the app does not read: "
                    "declare its fields with camunda:formData (Generated Task Forms in Camunda Modeler)", node)
    elif not form.fields:
        found.warning(name, f"the {what} has no form fields: people see only a button", node)
    decision = form.get("decision")
    if decision is not None and decision.type == "enum":
        unknown = [value for value, _ in decision.options if value not in DECISIONS]
        if unknown:
            found.error(name, f"the decision field's values must be taken from {', '.join(DECISIONS)} "
                        f"(not {', '.join(unknown)}): the e-mail links and history rely on them", node)


def _check_start(name: str, process: etree._Element, lanes: dict, found: _Findings) -> None:
    starts = process.findall(f"{B}startEvent")
    if len(starts) != 1:
        found.error(name, f"the process needs exactly one start event ({len(starts)} found)", process)
        return
    start = starts[0]
    _check_form(name, start, "start event", found)
    if not _documentation(start):
        found.warning(name, "the start event has no documentation: people see no description before they "
                      "start", start)
    lane = lanes.get(start.get("id"))
    if lane is not None and lane_kind(lane.get("name")) is None:
        found.warning(name, f"the start event's lane {lane.get('name')!r} names nobody the app knows; "
                      "anyone with the buyer role may start it", start)


def _documentation(node: etree._Element) -> str:
    doc = node.find(f"{B}documentation")
    return (doc.text or "").strip() if doc is not None else ""


def _known_emails(process: etree._Element) -> dict[str, bool]:
    """Each e-mail address the user tasks name: whether its user is active."""
    emails = set()
    for node in process.iter(f"{B}userTask"):
        assignment = assignment_from_xml(node)
        for user in (assignment["assignee"], *assignment["candidate_users"]):
            if user and "@" in user and user not in INITIATOR_REFERENCES:
                emails.add(user.strip().lower())
    if not emails:
        return {}
    rows = db.session.execute(select(func.lower(User.email), User.active)
                              .where(func.lower(User.email).in_(emails)))
    return dict(rows.all())


def _check_user_task(name: str, node: etree._Element, lanes: dict, emails: dict[str, bool],
                     found: _Findings) -> None:
    # What a waiting task's row keeps (human_task): longer would be refused by PostgreSQL at run time.
    for what, value, limit in (("id", node.get("id") or "", 100), ("name", (node.get("name") or "").strip(), 200),
                               ("form key", node.get(f"{C}formKey") or "", 200)):
        if len(value) > limit:
            found.error(name, f"the user task's {what} is {len(value)} characters long; at most {limit} are "
                        "allowed: shorten it", node)
    _check_form(name, node, "user task", found)
    if not _documentation(node):
        found.warning(name, "the user task has no documentation: people see no instructions", node)
    assignment = assignment_from_xml(node)
    users = [u for u in (assignment["assignee"], *assignment["candidate_users"]) if u]
    for user in users:
        if user in INITIATOR_REFERENCES:
            continue
        if user.startswith(("${", "#{")):
            found.error(name, f"{user}: an assignment may be an e-mail address or ${{initiator}}, no other "
                        "expression", node)
        elif user.strip().lower() not in emails:
            found.error(name, f"{user} is not the e-mail address of anyone who can sign in", node)
        elif not emails[user.strip().lower()]:
            found.warning(name, f"{user} is deactivated: the task will not reach them", node)
    for group in assignment["candidate_groups"]:
        if group.startswith(("${", "#{")):
            found.error(name, f"{group}: candidate groups are names such as coordinator, not expressions", node)
        elif lane_kind(group) is None:
            found.error(name, f"the candidate group {group!r} names nobody: {_lane_help()}", node)
    if not (users or assignment["candidate_groups"]):
        lane = lanes.get(node.get("id"))
        if lane is None:
            found.error(name, "the user task is in no lane and names no camunda:candidateGroups or assignee: "
                        "nobody could do it", node)
        elif lane_kind(lane.get("name")) is None:
            found.error(name, f"its lane {lane.get('name')!r} names nobody: {_lane_help()}, or give the task "
                        "camunda:candidateGroups", node)
    props = {p.get("id") or p.get("name"): p.get("value") or ""
             for p in node.iterfind(f"{B}extensionElements/{C}properties/{C}property")}
    for extra in filter(None, (s.strip() for s in props.get("also", "").split(","))):
        if lane_kind(extra) is None:
            found.error(name, f"also = {extra!r} names nobody: {_lane_help()}", node)


def _check_script(name: str, node: etree._Element, found: _Findings) -> None:
    language = (node.get("scriptFormat") or "python").strip().lower()
    if language not in ("python", "python3", "py"):
        found.error(name, f"the script is {node.get('scriptFormat')}: only Python scripts run here", node)
        return
    script = node.find(f"{B}script")
    text = script.text if script is not None else None
    if not (text or "").strip():
        if not node.get(f"{C}resource"):
            found.error(name, "the script task has no script", node)
        return
    for problem in _compiled(found, text, "script"):
        found.error(name, f"the script cannot run: {problem}", script)


def _property_map(node: etree._Element) -> dict[str, str]:
    return {p.get("id") or p.get("name"): p.get("value") or ""
            for p in node.iterfind(f"{B}extensionElements/{C}properties/{C}property")}


def _check_service(name: str, node: etree._Element, user_tasks: set, found: _Findings) -> None:
    kind = node.get(f"{C}type")
    topic = node.get(f"{C}topic")
    services = service_names()
    if kind and kind != "external":
        found.error(name, f"camunda:type={kind!r} does not run here: use camunda:type=\"external\" with a "
                    "camunda:topic", node)
    if not topic:
        found.error(name, "the task needs camunda:type=\"external\" and a camunda:topic naming one of: "
                    + ", ".join(sorted(services)), node)
        return
    if topic not in services:
        found.error(name, f"the topic {topic!r} is not a service of the app; the services are: "
                    + ", ".join(sorted(services)), node)
        return
    props = _property_map(node)
    if topic in ("notify", "escalate") and props.get("to") and lane_kind(props["to"]) is None:
        found.error(name, f"to = {props['to']!r} names nobody: {_lane_help()}", node)
    if topic == "escalate":
        if props.get("task") not in user_tasks:
            found.error(name, f"task = {props.get('task')!r} is not a user task of this process", node)
        if not props.get("to"):
            found.error(name, "escalate needs a property to naming a lane or role", node)
    if topic == "notify":
        _check_template(name, node, props.get("template", "notice"), found)


def _check_template(name: str, node: etree._Element, template: str, found: _Findings) -> None:
    from flask import current_app
    from jinja2 import TemplateNotFound

    if not re.fullmatch(r"[A-Za-z0-9_-]+", template):
        found.error(name, f"template = {template!r}: a template name has letters, digits, - and _ only", node)
        return
    try:
        current_app.jinja_env.get_template(f"email/notices/{template}.txt")
    except TemplateNotFound:
        found.warning(name, f"there is no notice template {template!r} (templates/email/notices/"
                      f"{template}.txt): the general notice is sent instead", node)


def _check_rule_task(name: str, node: etree._Element, decisions: dict[str, str], found: _Findings) -> None:
    ref = node.get(f"{C}decisionRef")
    if not ref:
        found.error(name, "the business rule task needs camunda:decisionRef naming a decision of an uploaded "
                    ".dmn file", node)
    elif ref not in decisions:
        known = ", ".join(sorted(decisions)) or "none"
        found.error(name, f"the decision {ref!r} is in none of the uploaded .dmn files (decisions found: {known}): "
                    "upload its .dmn file with the diagram", node)


def _check_flows(name: str, process: etree._Element, ids: dict[str, etree._Element], found: _Findings) -> None:
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in process.iter(f"{B}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                found.error(name, f"the flow's {end} {flow.get(end)!r} is not in the process", flow)
        condition = flow.find(f"{B}conditionExpression")
        if condition is None:
            continue
        language = (condition.get("language") or "").strip().lower()
        if language and language not in ("python", "juel", "python3"):
            found.error(name, f"the condition is {condition.get('language')}: write it in Python or as a "
                        "simple ${...} expression", condition)
            continue
        if condition.get(f"{C}resource"):
            found.error(name, "external condition resources are not read: write the condition in the flow",
                        condition)
            continue
        if is_juel(condition.text):  # not translated: prepare_tree reported why
            continue
        for problem in _compiled(found, condition.text or ""):
            found.error(name, f"the condition cannot run: {problem}", condition)
    for gateway in process.iter(f"{B}exclusiveGateway", f"{B}inclusiveGateway"):
        flows = outgoing.get(gateway.get("id"), [])
        if len(flows) < 2:
            continue
        default = gateway.get("default")
        if default and default not in {f.get("id") for f in flows}:
            found.error(name, f"the default flow {default!r} does not leave this gateway", gateway)
        for flow in flows:
            if flow.get("id") != default and flow.find(f"{B}conditionExpression") is None:
                found.error(name, "a flow out of a gateway with several ways out needs a condition, unless it "
                            "is the gateway's default flow", flow)
        if not default:
            found.warning(name, "the gateway has no default flow: when no condition holds, the request stops "
                          "with an error", gateway)


def _check_timer(name: str, node: etree._Element, found: _Findings) -> None:
    values = [child for child in node if isinstance(child.tag, str)
              and _local(child) in ("timeDuration", "timeDate", "timeCycle")]
    if len(values) != 1:
        found.error(name, "a timer needs exactly one of timeDuration, timeDate or timeCycle", node)
        return
    value = values[0]
    if is_juel(value.text):  # not translated: prepare_tree reported why
        return
    if not found.code_budget(value.text):
        found.error(name, f"the timer cannot run: {_TOO_MUCH_CODE}", value)
        return
    errors, warnings = timer_problems(_local(value), value.text)
    for problem in errors:
        found.error(name, f"the timer cannot run: {problem}", value)
    for problem in warnings:
        found.warning(name, f"the timer: {problem}", value)


def _check_layout(name: str, root: etree._Element, process: etree._Element, found: _Findings) -> None:
    drawn = {n.get("bpmnElement") for n in root.iter(f"{BPMNDI}BPMNShape", f"{BPMNDI}BPMNEdge")}
    if not drawn - {None}:
        found.warning(name, "the diagram has no layout (BPMN DI): it cannot be shown as a picture",
                      line=root.sourceline)
        return
    for node in _flow_nodes(process):
        if node.get("id") not in drawn:
            found.warning(name, "the element has no shape in the diagram layout (BPMNShape)", node)
    for flow in process.iter(f"{B}sequenceFlow"):
        if flow.get("id") not in drawn:
            found.warning(name, "the flow has no line in the diagram layout (BPMNEdge)", flow)


# --- DMN ----------------------------------------------------------------------------------------

def _check_dmn_files(roots: dict[str, etree._Element], found: _Findings) -> dict[str, str]:
    """Check each .dmn file; return its decision ids and the file each comes from."""
    decisions: dict[str, str] = {}
    for name, root in roots.items():
        namespace = etree.QName(root).namespace
        if etree.QName(root).localname != "definitions" or namespace not in DMN_NAMESPACES:
            found.error(name, f"not a DMN file: it starts with <{etree.QName(root).localname}> in "
                        f"{namespace or 'no namespace'}; DMN 1.1 to 1.3 (Camunda Modeler) are read",
                        line=root.sourceline)
            continue
        d = f"{{{namespace}}}"
        found_decisions = root.findall(f"{d}decision")
        if len(found_decisions) != 1:
            found.error(name, f"a .dmn file must hold exactly one decision ({len(found_decisions)} found): "
                        "put each decision in its own file", line=root.sourceline)
            continue
        decision = found_decisions[0]
        decision_id = decision.get("id") or ""
        if decision_id in decisions:
            found.error(name, f"the decision {decision_id} is also in {decisions[decision_id]}", decision)
            continue
        decisions[decision_id] = name
        tables = decision.findall(f"{d}decisionTable")
        if len(tables) != 1:
            found.error(name, "the decision must be one decision table (literal expressions and "
                        "requirements graphs are not supported)", decision)
            continue
        _check_table(name, tables[0], d, found)
    return decisions


def _check_table(name: str, table: etree._Element, d: str, found: _Findings) -> None:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in DMN_HIT_POLICIES:
        found.error(name, f"the hit policy {policy} is not supported: use UNIQUE, FIRST, ANY or COLLECT", table)
    if table.get("aggregation"):
        found.error(name, f"COLLECT with {table.get('aggregation')} is not supported: use COLLECT without an "
                    "aggregation and add up the list in a script task", table)
    inputs = []
    for column in table.findall(f"{d}input"):
        expression = column.find(f"{d}inputExpression")
        text_node = expression.find(f"{d}text") if expression is not None else None
        text = (text_node.text or "").strip() if text_node is not None else ""
        _check_language(name, expression, found)
        if not text:
            found.error(name, "the input column has no input expression", column)
        else:
            for problem in _compiled(found, text):
                found.error(name, f"the input expression cannot run: {problem}", column)
        inputs.append(text)
    outputs = table.findall(f"{d}output")
    for column in outputs:
        if not (column.get("name") or "").strip():
            found.error(name, "the output column has no name: its value would have no variable to go into",
                        column)
    for rule in table.findall(f"{d}rule"):
        entries = rule.findall(f"{d}inputEntry")
        results = rule.findall(f"{d}outputEntry")
        if len(entries) != len(inputs) or len(results) != len(outputs):
            found.error(name, "the rule does not have one cell per column", rule)
            continue
        for entry, expression in zip(entries, inputs, strict=True):
            _check_language(name, entry, found)
            cell = entry.find(f"{d}text")
            if expression:
                text = cell.text if cell is not None else None
                problems = dmn_input_problems(expression, text) if found.code_budget(text) else [_TOO_MUCH_CODE]
                for problem in problems:
                    found.error(name, f"the input cell cannot run: {problem}", entry)
        for entry in results:
            _check_language(name, entry, found)
            cell = entry.find(f"{d}text")
            text = (cell.text or "").strip() if cell is not None else ""
            if text:
                for problem in _compiled(found, text):
                    found.error(name, f"the output cell cannot run: {problem}", entry)


def _check_language(name: str, node: etree._Element | None, found: _Findings) -> None:
    language = (node.get("expressionLanguage") or "").strip().lower() if node is not None else ""
    if language and language not in ("python", "feel", "juel"):
        found.error(name, f"the expression language {language} is not supported: cells are Python", node)
