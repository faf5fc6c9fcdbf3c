"""Run every check on an upload, in order, and gather the findings into one Report."""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from app.engine import ProcessModel
from app.engine.camunda_forms import FORM_SUFFIX
from app.engine.parser import parse_files
from app.engine.reading import MAX_FILE_BYTES, DiagramError, parse_xml, prepare_tree
from app.engine.validate import xsd_problems
from app.outbox.uploaded import NOTICE_SUFFIX, text_problems
from forms.translations import CATALOGUE_SUFFIX

from .bpmn import _check_process
from .camunda_forms import check_form_file
from .dmn import _check_dmn_files
from .report import B, Report, _Findings
from .retention import check_retention
from .texts import check_translations
from .titles import check_title
from .unpack import EXTENSIONS, _mb

MAX_ELEMENTS = 10_000  # the largest shipped diagram has under 800


def _decode(name: str, data: bytes, found: _Findings) -> str | None:
    """The file as text: UTF-8 (a BOM dropped), newlines as \\n, as `flask workflows sync` reads it."""
    if len(data) > MAX_FILE_BYTES:
        found.error(name, _("the file is larger than %(mb)s", mb=_mb(MAX_FILE_BYTES)))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        found.error(name, _("the file is not UTF-8 text: save it as UTF-8 (Camunda Modeler does)"), line=line)
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_upload(files: dict[str, bytes]) -> Report:
    """Run every check on uploaded files; store nothing, run nothing. See the package docstring."""
    report = Report()
    found = _Findings(report)
    roots: dict[str, etree._Element] = {}
    bpmn_names = [n for n in files if n.lower().endswith(".bpmn")]
    if len(bpmn_names) != 1:
        found.error("", _("upload exactly one .bpmn file with the .dmn files it uses (%(len)s .bpmn found)",
                          len=len(bpmn_names)))
    for name, data in files.items():
        if not name.lower().endswith(EXTENSIONS):
            found.error(name, _("only .bpmn and .dmn files, Camunda Forms (.form), email texts (.txt) and "
                                "translations (.po) can be uploaded"))
            continue
        text = _decode(name, data, found)
        if text is None:
            continue
        if name.lower().endswith(NOTICE_SUFFIX):
            for line, reason in text_problems(text):
                found.error(name, _("the email text cannot be used: %(reason)s", reason=reason), line=line)
            report.files[name] = text
            continue
        if name.lower().endswith(CATALOGUE_SUFFIX):  # read once the process is known: check_translations
            report.files[name] = text
            continue
        if name.lower().endswith(FORM_SUFFIX):
            check_form_file(name, text, found)
            report.files[name] = text
            continue
        try:
            root = parse_xml(name, text)
        except DiagramError as exc:
            found.error(name, exc.detail, line=exc.line)
            continue
        encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper().replace("_", "-")
        # Plain ASCII reads the same in any encoding a tool may declare (the BPMN MIWG files say ISO-8859-1).
        if encoding not in ("UTF-8", "UTF8", "US-ASCII", "ASCII") and not data.isascii():
            found.error(name, _("the file declares the encoding %(encoding)s: save it as UTF-8",
                                encoding=encoding), line=1)
            continue
        elements = sum(1 for _ in root.iter())
        if elements > MAX_ELEMENTS:  # the checks (and the XSD) take too long on files this big
            found.error(name, _("the file holds %(elements)s XML elements; a diagram or table may hold at most "
                                "%(max_elements)s: split it", elements=elements, max_elements=MAX_ELEMENTS))
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
            found.error(name, _("not valid BPMN 2.0: %(message)s", message=message), node, line=line)
        for problem in prepare_tree(root, name):
            found.error(name, problem.detail, element_id=problem.element_id,
                        element_name=problem.element_name, line=problem.line)
        _check_process(name, root, decisions, found)
    readable = set(report.files) == set(files) and len(bpmn_names) == 1 and bpmn is not None
    if readable and not any(f.level == "error" and not f.element_id for f in report.findings):
        model = _check_spiff_parse(report, found)
        if model is not None and bpmn is not None:
            check_title(bpmn[0], bpmn[1], model, found)
            check_translations(model, found)
            check_retention(bpmn[0], bpmn[1], model, found)
    report.findings.sort(key=lambda f: (f.level != "error", list(files).index(f.file) if f.file in files else -1,
                                        f.line or 0))
    return report


def _is_bpmn(name: str, root: etree._Element, found: _Findings) -> bool:
    if root.tag != f"{B}definitions":
        found.error(name, _("not a BPMN 2.0 diagram: the file starts with <%(localname)s> in %(value)s, not "
                            "<bpmn:definitions>",
                            localname=etree.QName(root).localname,
                            value=etree.QName(root).namespace or _("no namespace")), line=root.sourceline)
        return False
    return True


def _node_at(root: etree._Element, line: int | None) -> etree._Element | None:
    if not line:
        return None
    return next((n for n in root.iter() if isinstance(n.tag, str) and n.sourceline == line), None)


def _check_spiff_parse(report: Report, found: _Findings) -> ProcessModel | None:
    """SpiffWorkflow's own parse, the process it read if it could; a problem already reported
    for the same element is not repeated."""
    try:
        return parse_files(report.files)
    except DiagramError as exc:
        file = exc.file or ""
        if exc.element_id and found.has_error(file, exc.element_id):
            return None
        found.error(file, _("the workflow engine cannot load it: %(detail)s", detail=exc.detail),
                    element_id=exc.element_id, element_name=exc.element_name, line=exc.line)
    except Exception as exc:  # noqa: BLE001 - whatever else the library raises on an odd diagram
        found.error(next(n for n in report.files if n.lower().endswith(".bpmn")),
                    _("the workflow engine cannot load the diagram (%(value)s); the other checks found nothing "
                      "wrong: open it in Camunda Modeler, save it again and upload that file",
                      value=exc or 'no reason given'))
    return None
