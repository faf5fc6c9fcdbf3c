"""What the app makes of real diagrams: docs/COMPATIBILITY.md, written from tests/fixtures/corpus/.

Each public third-party diagram of the corpus (with the .dmn files of its folder whose decisions
it names) goes through the upload check (``check_upload``, what Administration → Processes and
``flask workflows check`` run) and through stock SpiffWorkflow's ``CamundaParser``, for
comparison. Run it to update the page after a change to the checks or the engine:

    .venv/bin/python -m tests.corpus

It builds a throwaway SQLite database as the test fixtures do (migrations, the shipped
processes, the demo people), since the check looks people up. tests/integration/test_corpus.py
keeps the page true.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

from app.services.diagram_checks import Report, check_upload
from app.services.versions.calls import check_calls

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
PAGE = ROOT / "docs" / "COMPATIBILITY.md"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA_LIKE = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn", "http://flowable.org/bpmn",
                "http://operaton.org/schema/1.0/bpmn")
MAX_CELL = 220
HEADER = "| file | uses | here | stock SpiffWorkflow |"


@dataclass(frozen=True)
class Source:
    repository: str
    commit: str
    path: str
    licence: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repository}/blob/{self.commit}/{self.path}"


@dataclass(frozen=True)
class Diagram:
    """One .bpmn file of the corpus with the .dmn and .form files it uses, as an upload would send them."""

    name: str  # e.g. camunda-bpm-platform/invoice.v2.bpmn
    files: dict[str, bytes]  # upload name (ending .bpmn / .dmn / .form) -> bytes
    other_names: tuple[str, ...]  # the corpus names of its .dmn and .form files


def sources() -> dict[str, Source]:
    """The table of tests/fixtures/corpus/SOURCES.md: each file's repository, commit, path, licence."""
    rows = {}
    for line in (CORPUS / "SOURCES.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and "/" in cells[0] and re.fullmatch(r"[0-9a-f]{40}", cells[2]):
            rows[cells[0]] = Source(*cells[1:])
    return rows


def upload_name(path: Path) -> str:
    """The name an upload would carry: ``x.bpmn20.xml`` -> ``x.bpmn``, ``x.dmn11.xml`` -> ``x.dmn``."""
    name = path.name
    for long, short in ((".bpmn20.xml", ".bpmn"), (".dmn11.xml", ".dmn")):
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


def _is_bpmn(path: Path) -> bool:
    return path.name.endswith((".bpmn", ".bpmn20.xml"))


def _is_dmn(path: Path) -> bool:
    return path.name.endswith((".dmn", ".dmn11.xml"))


def _decision_ids(data: bytes) -> set[str]:
    root = etree.fromstring(data)
    return {d.get("id") for d in root.iter() if isinstance(d.tag, str) and etree.QName(d).localname == "decision"}


def _decision_refs(data: bytes) -> set[str]:
    root = etree.fromstring(data)
    return {value for node in root.iter() if isinstance(node.tag, str)
            for key, value in node.attrib.items() if etree.QName(key).localname == "decisionRef"}


def _form_refs(data: bytes) -> set[str]:
    """The Camunda Forms a diagram names: ``.form`` file names (formKey) and form ids (formRef)."""
    root = etree.fromstring(data)
    refs = set()
    for node in root.iter():
        for key, value in node.attrib.items() if isinstance(node.tag, str) else ():
            if etree.QName(key).localname == "formRef":
                refs.add(value)
            elif etree.QName(key).localname == "formKey" and value.startswith("camunda-forms:"):
                refs.add(value.rsplit(":", 1)[-1].rsplit("/", 1)[-1])
    return refs


def _form_names(path: Path) -> set[str]:
    """What a diagram may call a .form file: its name, and its id."""
    try:
        form_id = json.loads(path.read_text()).get("id")
    except (ValueError, AttributeError):
        form_id = None
    return {path.name} | ({form_id} if isinstance(form_id, str) else set())


def diagrams() -> list[Diagram]:
    """Every .bpmn of the corpus, with the .dmn files of its folder whose decisions it names and
    the Camunda Forms (.form) it names."""
    found = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        dmns = {p: _decision_ids(p.read_bytes()) for p in sorted(folder.iterdir()) if _is_dmn(p)}
        forms = {p: _form_names(p) for p in sorted(folder.glob("*.form"))}
        for path in sorted(p for p in folder.iterdir() if _is_bpmn(p)):
            data = path.read_bytes()
            refs = _decision_refs(data)
            used = [p for p, ids in dmns.items() if ids & refs]
            form_refs = _form_refs(data)
            used += [p for p, names in forms.items() if names & form_refs]
            files = {upload_name(path): data} | {upload_name(p): p.read_bytes() for p in used}
            found.append(Diagram(f"{folder.name}/{path.name}", files, tuple(f"{folder.name}/{p.name}" for p in used)))
    return found


# What a diagram uses, in the words of issue 10: elements worth naming, in this order.
_TASKS = ("userTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "manualTask", "businessRuleTask",
          "callActivity", "task")
_GATEWAYS = {"exclusiveGateway": "exclusive", "parallelGateway": "parallel", "inclusiveGateway": "inclusive",
             "eventBasedGateway": "event-based", "complexGateway": "complex"}
_EVENTS = ("message", "signal", "escalation", "error", "timer", "conditional", "compensate", "link", "cancel",
           "terminate")
_DOCUMENTATION = {"dataObject": "data objects", "dataStoreReference": "data stores",
                  "textAnnotation": "text annotations", "group": "groups"}


def _words(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()


def _count(number: int, noun: str) -> str:
    if number == 1:
        return f"1 {noun}"
    return f"{number} {noun[:-1]}ies" if noun.endswith("ty") else f"{number} {noun}s"


def uses(diagram: Diagram) -> str:
    """A short list of what the diagram uses: tasks, gateways, events, forms, Camunda extensions, DMN."""
    bpmn = next(data for name, data in diagram.files.items() if name.endswith(".bpmn"))
    root = etree.fromstring(bpmn)
    nodes = [n for n in root.iter() if isinstance(n.tag, str)]
    local = Counter(etree.QName(n).localname for n in nodes if n.tag.startswith(BPMN))
    ext = {(etree.QName(n).localname) for n in nodes if etree.QName(n).namespace in CAMUNDA_LIKE}
    attrs = {etree.QName(k).localname: v for n in nodes for k, v in n.attrib.items()
             if etree.QName(k).namespace in CAMUNDA_LIKE}
    parts = [_count(local[t], _words(t)) for t in _TASKS if local[t]]
    formats = sorted({(n.get("scriptFormat") or "").lower() for n in root.iter(f"{BPMN}scriptTask")} - {""})
    if formats:
        parts.append("scripts in " + "/".join(formats))
    if local["subProcess"]:
        events = sum(1 for n in root.iter(f"{BPMN}subProcess") if n.get("triggeredByEvent") == "true")
        if local["subProcess"] - events:
            parts.append("subprocess")
        if events:
            parts.append("event subprocess")
    if local["transaction"]:
        parts.append("transaction")
    gateways = [label for tag, label in _GATEWAYS.items() if local[tag]]
    if gateways:
        parts.append("/".join(gateways) + " gateway" + "s" * (len(gateways) > 1))
    for loop in root.iter(f"{BPMN}multiInstanceLoopCharacteristics"):
        kind = "sequential" if loop.get("isSequential") == "true" else "parallel"
        collection = any(etree.QName(k).localname == "collection" for k in loop.attrib)
        how = ("collection" if collection or loop.find(f"{BPMN}loopDataInputRef") is not None
               else "cardinality" if loop.find(f"{BPMN}loopCardinality") is not None else "")
        cond = ", completionCondition" if loop.find(f"{BPMN}completionCondition") is not None else ""
        parts.append(f"{kind} multi-instance{' over a ' + how if how else ''}{cond}")
    if local["standardLoopCharacteristics"]:
        parts.append("standard loop")
    events = [e for e in _EVENTS if local[f"{e}EventDefinition"]]
    if events:
        parts.append(", ".join(events) + " events")
    if local["boundaryEvent"]:
        parts.append("boundary events")
    parts += [label for tag, label in _DOCUMENTATION.items() if local[tag]]
    if local["lane"]:
        parts.append("lanes")
    if local["collaboration"] or local["participant"] > 1:
        parts.append(_count(local["participant"], "pool"))
    parts += _extensions(ext, attrs)
    for name, data in diagram.files.items():
        if name.endswith(".dmn"):
            parts.append(_dmn_uses(data))
    return "; ".join(dict.fromkeys(p for p in parts if p))



def _extensions(ext: set[str], attrs: dict[str, str]) -> list[str]:
    parts = []
    if "formData" in ext:
        parts.append("generated forms (formData)")
    if "formProperty" in ext:
        parts.append("form properties")
    key = attrs.get("formKey", "")
    if key.startswith(("embedded:", "app:")) or key.endswith((".html", ".htm")):
        parts.append("embedded HTML forms")
    if "formRef" in attrs or key.startswith("camunda-forms:"):
        parts.append("Camunda Forms")
    people = [a for a in ("assignee", "candidateUsers", "candidateGroups") if a in attrs]
    if people:
        parts.append("/".join(people))
    if "potentialOwner" in ext or "humanPerformer" in ext:
        parts.append("potentialOwner")
    for attribute, label in (("class", "Java delegates"), ("delegateExpression", "delegate expressions"),
                             ("expression", "expressions on tasks"), ("topic", "external tasks")):
        if attribute in attrs:
            parts.append(label)
    for element, label in (("connector", "connectors"), ("inputOutput", "input/output mappings"),
                           ("in", "call activity in/out"), ("executionListener", "execution listeners"),
                           ("taskListener", "task listeners")):
        if element in ext:
            parts.append(label)
    return parts


_FEEL = re.compile(r"^\s*(not\s*\(|[\[\]\(].*\.\.|\"[^\"]*\"\s*,|[<>]=?\s*[\w\"-]|-\s*$)")


def _dmn_uses(data: bytes) -> str:
    root = etree.fromstring(data)
    nodes = [n for n in root.iter() if isinstance(n.tag, str)]
    tables = [n for n in nodes if etree.QName(n).localname == "decisionTable"]
    policies = sorted({(t.get("hitPolicy") or "UNIQUE") + (f" {t.get('aggregation')}" if t.get("aggregation")
                                                          else "") for t in tables})
    decisions = sum(1 for n in nodes if etree.QName(n).localname == "decision")
    parts = [f"DMN: {_count(decisions, 'decision')} ({', '.join(policies)})"]
    if any(etree.QName(n).localname == "requiredDecision" for n in nodes):
        parts.append("decision requirements (DRD)")
    cells = [t.text or "" for n in nodes if etree.QName(n).localname == "inputEntry"
             for t in n if isinstance(t.tag, str) and etree.QName(t).localname == "text"]
    if any(_FEEL.match(cell) for cell in cells):
        parts.append("FEEL unary tests")
    return "; ".join(parts)


_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _one_line(text: str, limit: int = MAX_CELL) -> str:
    text = " ".join(_ADDRESS.sub("", str(text)).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def here(report: Report) -> str:
    """accepted / accepted with warnings / refused, with the first errors in one short line."""
    if report.ok:
        count = len(report.warnings)
        return f"accepted with {count} warning{'s' * (count != 1)}" if count else "accepted"
    first = report.errors[0]
    where = f"{first.element_id}: " if first.element_id else ""
    more = len(report.errors) - 1
    return _one_line(f"refused: {where}{first.message}" + (f" (+{more} more)" if more else ""))


def stock(diagram: Diagram) -> str:
    """What stock SpiffWorkflow's CamundaParser makes of it: "reads it" or the exception in one line."""
    parser = CamundaParser()
    try:
        for name, data in diagram.files.items():
            if name.endswith(".form"):
                continue  # a Camunda Form: the library does not read forms
            if name.endswith(".dmn"):
                parser.add_dmn_xml(etree.fromstring(data), filename=name)
            else:
                parser.add_bpmn_xml(etree.fromstring(data), filename=name)
        ids = parser.get_process_ids()
        if not ids:
            return "reads it; no executable process"
        for process_id in ids:
            parser.get_spec(process_id)
    except Exception as exc:  # noqa: BLE001 - whatever the library raises is the answer
        return _one_line(f"refused: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return "reads it" if len(ids) == 1 else f"reads it ({len(ids)} executable processes)"


@dataclass(frozen=True)
class Row:
    diagram: Diagram
    uses: str
    here: str
    stock: str

    def as_markdown(self, known: dict[str, Source]) -> str:
        def link(name: str, text: str) -> str:
            return f"[{text}]({known[name].url})" if name in known else text

        files = [link(self.diagram.name, self.diagram.name)]
        files += [link(name, name.split("/", 1)[1]) for name in self.diagram.other_names]
        return f"| {' + '.join(files)} | {self.uses} | {self.here} | {self.stock} |"


def rows() -> list[Row]:
    """The table, computed now (needs an app context: the check looks people and topics up)."""
    return [Row(d, uses(d), here(check_calls(check_upload(dict(d.files)))), stock(d)) for d in diagrams()]


def render(table: list[Row]) -> str:
    """docs/COMPATIBILITY.md as it should read for ``table``."""
    known = sources()
    accepted = sum(1 for r in table if r.here.startswith("accepted"))
    read = sum(1 for r in table if r.stock.startswith("reads it"))
    lines = [
        "# Compatibility with real diagrams",
        "",
        f"What the app makes of {len(table)} public third-party BPMN diagrams (Camunda and Operaton examples and",
        "engine tests, Flowable, SpiffWorkflow's own test diagrams, the BPMN MIWG reference suite), kept",
        "unchanged in `tests/fixtures/corpus/` with their sources and licences (`SOURCES.md` there). Each is",
        "checked as an upload would be (Administration → Processes, `flask workflows check`) with the `.dmn`",
        "files whose decisions it names, beside what stock SpiffWorkflow 3.2's `CamundaParser` does with it",
        "(reads it, or the exception it raises).",
        "",
        "This page is generated: `.venv/bin/python -m tests.corpus` writes it, and",
        "`tests/integration/test_corpus.py` fails when it no longer matches what the app does.",
        "",
        "## Totals",
        "",
        "| | diagrams |",
        "| --- | --- |",
        f"| accepted here (with or without warnings) | {accepted} of {len(table)} |",
        f"| refused here | {len(table) - accepted} of {len(table)} |",
        f"| read by stock SpiffWorkflow | {read} of {len(table)} |",
        "",
        "## Each diagram",
        "",
        HEADER,
        "| --- | --- | --- | --- |",
    ]
    lines += [r.as_markdown(known) for r in table]
    return "\n".join(lines) + "\n"


def changed_rows(expected: str, actual: str) -> str:
    """The table rows that differ between two versions of the page, as a short diff."""
    old = [line for line in actual.splitlines() if line.startswith("| ")]
    new = [line for line in expected.splitlines() if line.startswith("| ")]
    gone = [f"- {line}" for line in old if line not in new]
    added = [f"+ {line}" for line in new if line not in old]
    return "\n".join(gone + added) or "(only the text around the tables differs)"


def main() -> None:
    from app import create_app
    from app.extensions import db
    from tests.conftest import _seed, app_config

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(app_config(Path(folder), f"sqlite:///{folder}/corpus.sqlite3"))
        with app.app_context():
            _seed()
            page = render(rows())
            db.session.remove()
            db.engine.dispose()
    PAGE.write_text(page)
    print(f"wrote {PAGE.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
