"""Check a call activity as drawn: what it calls, which version, what data goes in and out.

Whether the called process and version exist, and whether calls go round in a circle, depends
on what is stored: ``app.services.versions.calls`` checks that.
"""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from app.engine.juel import JuelError, is_juel, to_python

from .report import B, C, _compiled, _Findings, _local

BINDINGS = ("latest", "version", "deployment")


def is_call_mapping(node: etree._Element) -> bool:
    """Whether a camunda:in or camunda:out sits where Camunda reads it: on a call activity."""
    parent = node.getparent()
    owner = parent.getparent() if parent is not None else None
    return (_local(node) in ("in", "out") and parent is not None and _local(parent) == "extensionElements"
            and owner is not None and owner.tag == f"{B}callActivity")


def check_call_activity(name: str, node: etree._Element, found: _Findings) -> None:
    called = (node.get("calledElement") or "").strip()
    if not called:
        found.error(name, _("a call activity needs calledElement: the id of the stored process it calls"), node)
    elif "${" in called or "#{" in called:
        found.error(name, _("calledElement is an expression, which is not supported: name the process it calls "
                            "(its process id)"), node)
    binding = (node.get(f"{C}calledElementBinding") or "latest").strip()
    version = (node.get(f"{C}calledElementVersion") or "").strip()
    if binding == "versionTag":
        found.error(name, _("camunda:calledElementBinding versionTag is not supported: use latest, or version with "
                            "camunda:calledElementVersion"), node)
    elif binding not in BINDINGS:
        found.error(name, _("camunda:calledElementBinding %(binding)s is not known: use latest, or version with "
                            "camunda:calledElementVersion", binding=binding), node)
    elif binding == "version" and not version.isdigit():
        found.error(name, _("with camunda:calledElementBinding version, camunda:calledElementVersion must be a "
                            "version number such as 2, not %(version)s", version=version) if version else
                    _("with camunda:calledElementBinding version, camunda:calledElementVersion must be a version "
                      "number such as 2"), node)
    elif binding == "deployment":
        found.warning(name, _("camunda:calledElementBinding deployment calls the called process's active version: "
                              "an upload holds one process"), node)
    if version and binding != "version":
        found.warning(name, _("camunda:calledElementVersion is ignored without camunda:calledElementBinding "
                              "version"), node)
    for attribute in ("variableMappingClass", "variableMappingDelegateExpression"):
        if node.get(f"{C}{attribute}"):
            found.error(name, _("camunda:%(attribute)s does not run here: map data with camunda:in and camunda:out",
                                attribute=attribute),
                        node)
    for mapping in node.iterfind(f"{B}extensionElements/{C}in"):
        _check_mapping(name, mapping, found)
    for mapping in node.iterfind(f"{B}extensionElements/{C}out"):
        _check_mapping(name, mapping, found)


def _check_mapping(name: str, node: etree._Element, found: _Findings) -> None:
    kind = f"camunda:{_local(node)}"
    if node.get("businessKey") is not None:
        found.warning(name, _("%(kind)s businessKey is ignored: requests have no business key", kind=kind), node)
        return
    if (node.get("local") or "").strip() == "true":
        found.warning(name, _("%(kind)s local is ignored: the request's data has one level", kind=kind), node)
    if (node.get("variables") or "").strip() == "all":
        return
    target = (node.get("target") or "").strip()
    source = (node.get("source") or "").strip()
    expression = (node.get("sourceExpression") or "").strip()
    if not target or not (source or expression):
        found.error(name, _("%(kind)s needs a target and a source (or sourceExpression), or variables=\"all\"",
                            kind=kind), node)
        return
    if not expression:
        return
    try:
        python = to_python(expression) if is_juel(expression) else expression
    except JuelError as exc:
        found.error(name, _("%(kind)s sourceExpression %(expression)s cannot run here: %(exc)s",
                            kind=kind, expression=expression, exc=exc), node)
        return
    for problem in _compiled(found, python):
        found.error(name, _("%(kind)s sourceExpression cannot run: %(problem)s", kind=kind, problem=problem), node)
