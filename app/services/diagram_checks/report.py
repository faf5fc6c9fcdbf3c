"""The findings of an upload's checks, and what every check uses to record and compile."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import inspect

from app.engine.reading import BPMN_NS, CAMUNDA_NS
from app.engine.validate import code_problems
from app.extensions import db
from app.models import User

MAX_NAME_LENGTH = 100
MAX_MESSAGE_LENGTH = 1000  # room for the valid choices; a compiler may quote more
MAX_FINDINGS = 300
MAX_CODE_CHARS = 300_000  # scripts, conditions, cells and timers of one upload together

B = f"{{{BPMN_NS}}}"
C = f"{{{CAMUNDA_NS}}}"


@dataclass(frozen=True)
class Finding:
    """One problem: an error refuses the upload, a warning is worth reading."""

    level: str  # "error", "warning", or "note" (worth knowing: a name and what it stands for)
    file: str
    element_id: str | None
    element_name: str | None
    line: int | None
    message: str
    map_name: str | None = None  # a name in the diagram an administrator can map to people

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

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "note"]

    def as_text(self) -> str:
        """The report as the CLI prints it: one line per finding, errors first, notes last."""
        return "\n".join(f.as_text() for f in self.errors + self.warnings + self.notes)


class _Findings:
    """Collects findings; skips exact repeats."""

    def __init__(self, report: Report):
        self.report = report
        self.seen: set[tuple] = set()
        self.overflow: set[str] = set()
        self.code_chars = 0
        self.tables: bool | None = None  # whether the database has its tables: asked once, when needed

    def code_budget(self, text: str | None) -> bool:
        """Whether ``text`` still fits the code an upload may ask us to compile."""
        self.code_chars += len(text or "")
        return self.code_chars <= MAX_CODE_CHARS

    def add(self, level: str, file: str, message: str, node: etree._Element | None = None,
            element_id: str | None = None, element_name: str | None = None, line: int | None = None,
            map_name: str | None = None) -> None:
        if node is not None:
            owner = _owner(node)
            element_id = element_id or owner.get("id")
            element_name = element_name or owner.get("name")
            line = line or node.sourceline
        message = _folded(str(message))  # one finding, one line (a library may answer over several); a lazy text
        if len(message) > MAX_MESSAGE_LENGTH:  # a compiler may quote a whole script back
            message = message[:MAX_MESSAGE_LENGTH].rstrip() + " …"
        element_name = _folded(element_name or "")[:MAX_NAME_LENGTH] or None  # "Prepare\nBank\nTransfer"
        element_id = (element_id or "")[:MAX_NAME_LENGTH] or None
        finding = Finding(level, file, element_id, element_name, line, message, map_name)
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

    def database_ready(self, file: str, skipped: str) -> bool:
        """Whether the database has its tables, to look people and names up. `flask workflows check`
        also runs on a fresh clone whose database was never migrated: then the lookups are skipped,
        and one warning says what was not checked (``skipped``)."""
        if self.tables is None:
            self.tables = inspect(db.session.connection()).has_table(User.__tablename__)
            if not self.tables:  # said once
                self.warning(file, f"people were not looked up: the database has no tables yet (run `flask db "
                             f"upgrade`), so {skipped}")
        return self.tables
    def note(self, file: str, message: str, node: etree._Element | None = None, **where) -> None:
        self.add("note", file, message, node, **where)

    def has_error(self, file: str, element_id: str | None) -> bool:
        return any(f.level == "error" and f.file == file and f.element_id == element_id
                   for f in self.report.findings)


def _folded(text: str) -> str:
    """Line breaks and runs of white space as one space: names drawn on several lines read on one."""
    return " ".join(text.split())


def _owner(node: etree._Element) -> etree._Element:
    """The element a finding is about: the node or its nearest ancestor with an id."""
    owner = node
    while owner is not None and (not owner.get("id") or _local(owner).endswith("EventDefinition")
                                 or _local(owner) in ("conditionExpression", "script")):
        owner = owner.getparent()
    return owner if owner is not None else node


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


_TOO_MUCH_CODE = f"the upload holds more than {MAX_CODE_CHARS} characters of code in all: it was not compiled"


def _compiled(found: _Findings, text: str, mode: str = "expression") -> list[str]:
    """The problems of a piece of code, within the upload's compile budget."""
    return code_problems(text, mode) if found.code_budget(text) else [_TOO_MUCH_CODE]

