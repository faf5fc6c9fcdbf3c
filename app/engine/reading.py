"""Read a diagram's XML safely, and make what Camunda Modeler writes runnable here.

``parse_xml`` reads a file with entities, DTDs and network access off, refusing any DOCTYPE.
Before SpiffWorkflow sees a diagram, ``prepare_tree`` makes what Camunda Modeler (Camunda 7
mode) writes runnable here: the ``activiti``, ``flowable`` and ``operaton`` namespaces become ``camunda``,
bare ISO 8601 timer values (``PT72H``) become Python strings, JUEL (``${amount > 10000}``, ``juel.py``) in
conditions, timers, completion conditions and multi-instance markers becomes Python, and
``camunda:collection="${members}"`` names the variable ``members`` (``multi.py``). The stored
files keep what was uploaded.
"""

from __future__ import annotations

import re

from lxml import etree
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

from .events import drop_documentation
from .io_mapping import mapping_problems
from .juel import JuelError, is_juel, to_python
from .multi import prepare_collections

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI_NS = "http://activiti.org/bpmn"
OPERATON_NS = "http://operaton.org/schema/1.0/bpmn"  # Operaton, the Camunda 7 fork: the same extensions
FLOWABLE_NS = "http://flowable.org/bpmn"  # Flowable, Activiti's fork: the same (formProperty, assignee, ...)
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
MAX_FILE_BYTES = 5 * 1024 * 1024
# Declarations that would let a file define entities or point at other files: refused before
# libxml2 reads a byte of them (the parser below would not expand them either).
_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


class DiagramError(Exception):
    """A diagram that cannot be used; the message names the file and element.

    ``detail`` is the message alone; ``file``, ``element_id``, ``element_name`` and ``line``
    say where, when known.
    """

    def __init__(self, detail: str, file: str | None = None, element_id: str | None = None,
                 element_name: str | None = None, line: int | None = None):
        self.detail = detail
        self.file = file
        self.element_id = element_id or None
        self.element_name = element_name or None
        self.line = line
        where = file or ""
        if file and line:
            where += f":{line}"
        if element_id:
            where += f" {element_id}" + (f" ({element_name})" if element_name else "")
        super().__init__(f"{where.strip()}: {detail}" if where.strip() else detail)


def xml_parser() -> etree.XMLParser:
    """An lxml parser with entities, DTDs and network access off."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(name: str, text: str | bytes) -> etree._Element:
    """Parse one file safely; refuse any DOCTYPE or entity declaration."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_FILE_BYTES:
        raise DiagramError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", file=name)
    declaration = _DECLARATIONS.search(data)
    if declaration is not None:
        line = data.count(b"\n", 0, declaration.start()) + 1
        raise DiagramError("a DOCTYPE or entity declaration is not allowed: diagrams may not define "
                           "entities or refer to other files", file=name, line=line)
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise DiagramError(f"not well-formed XML: {exc.msg}", file=name, line=exc.lineno or None) from None
    if root.getroottree().docinfo.doctype:
        raise DiagramError("a DOCTYPE is not allowed", file=name)
    return root


# --- Camunda Modeler compatibility ------------------------------------------------------------

_TIMER_TAGS = {f"{{{BPMN_NS}}}{kind}": kind for kind in ("timeDuration", "timeDate", "timeCycle")}
_BARE_ISO = (
    # A duration: P5D, PT72H, P1Y2M; upper case and a digit, so a misspelt P5X is checked as one too.
    re.compile(r"[+-]?P(?=[0-9A-Z.,]*\d)[0-9A-Z.,]+"),
    re.compile(r"\d{4}-\d{2}-\d{2}([T ][0-9:.,]+)?(Z|[+-]\d{2}(:?\d{2})?)?", re.IGNORECASE),  # a date
    re.compile(r"\d{4}-?W\d{2}-?\d(T[0-9:.,]+)?(Z|[+-]\d{2}(:?\d{2})?)?", re.IGNORECASE),  # a week date
    re.compile(r"R\d*/[^\s\"']+", re.IGNORECASE),  # a cycle: R3/PT10H, R/2030-01-01T09:00Z/P1D
)


def bare_iso(text: str) -> bool:
    """Whether a timer value is an ISO 8601 duration, date or cycle written without quotes."""
    return any(pattern.fullmatch(text.strip()) for pattern in _BARE_ISO)


def where_of(node: etree._Element, file: str) -> dict:
    """The element a problem belongs to: the node itself or its nearest ancestor with an id."""
    owner = node
    while owner is not None and (not owner.get("id") or owner.tag.endswith("EventDefinition")):
        owner = owner.getparent()
    owner = owner if owner is not None else node
    name = owner.get("name")
    return {"file": file, "element_id": owner.get("id"), "element_name": " ".join(name.split()) if name else name,
            "line": node.sourceline}


def _rename_camunda_forks(root: etree._Element) -> None:
    """Read the Activiti, Flowable and Operaton namespaces as Camunda's: they name the same extensions."""
    prefixes = (f"{{{ACTIVITI_NS}}}", f"{{{FLOWABLE_NS}}}", f"{{{OPERATON_NS}}}")
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for prefix in prefixes:
            if node.tag.startswith(prefix):
                node.tag = f"{{{CAMUNDA_NS}}}{node.tag[len(prefix):]}"
            for key in [k for k in node.attrib if k.startswith(prefix)]:
                node.set(f"{{{CAMUNDA_NS}}}{key[len(prefix):]}", node.attrib.pop(key))


_CONDITION_TAGS = {f"{{{BPMN_NS}}}conditionExpression", f"{{{BPMN_NS}}}completionCondition"}


def prepare_tree(root: etree._Element, file: str) -> list[DiagramError]:
    """Make a Camunda Modeler diagram runnable here, in place; return what could not be translated.

    A JUEL condition or timer outside the supported subset is left as it was and reported, as is
    a camunda:inputOutput that cannot run (``io_mapping``). Python conditions and quoted timers
    (everything in workflows/) pass unchanged.
    """
    problems: list[DiagramError] = []
    _rename_camunda_forks(root)
    _name_flows(root)
    drop_documentation(root, frozenset(CamundaParser.DATA_STORE_CLASSES))  # none registered here
    problems += [DiagramError(detail, **where_of(node, file)) for node, detail in prepare_collections(root)]
    for node in root.iter(f"{{{BPMN_NS}}}conditionExpression", f"{{{BPMN_NS}}}completionCondition",
                          f"{{{BPMN_NS}}}loopCardinality", *_TIMER_TAGS):
        text = node.text or ""
        if is_juel(text):
            try:
                node.text = to_python(text, condition=node.tag in _CONDITION_TAGS)
            except JuelError as exc:
                problems.append(DiagramError(f"the JUEL expression {text.strip()} cannot run here: {exc}",
                                             **where_of(node, file)))
        elif node.tag in _TIMER_TAGS and bare_iso(text):
            node.text = f'"{text.strip()}"'
    problems += [DiagramError(exc.detail, **where_of(exc.node, file)) for exc in mapping_problems(root)]
    return problems


def _name_flows(root: etree._Element) -> None:
    """Give each sequence flow without an id one (the schema allows it; SpiffWorkflow would
    drop the flow and everything behind it)."""
    taken = {node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id")}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("id"):
            continue
        base = f"flow_{flow.get('sourceRef', '')}_{flow.get('targetRef', '')}"
        name, number = base, 1
        while name in taken:
            number += 1
            name = f"{base}_{number}"
        flow.set("id", name)
        taken.add(name)
