"""Call activities the Camunda 7 way: which stored process they call, and what data goes in and out.

SpiffWorkflow runs a call activity inside the calling workflow (the called process's spec is
one of the workflow's ``subprocess_specs``) and, without a BPMN ``ioSpecification``, copies all
the caller's data in and all the called process's data back. Camunda 7 passes **nothing** but
what ``camunda:in`` and ``camunda:out`` name:

- ``<camunda:in source="a" target="b"/>``: the caller's ``a`` becomes the called process's ``b``
  (``None`` when the caller has no ``a``); ``sourceExpression="${a + 1}"`` instead of ``source``
  evaluates a simple expression on the caller's data;
- ``<camunda:in variables="all"/>``: all the caller's data;
- ``camunda:out`` the same way back, read from the called process's data when it ends; the
  caller keeps its own data and receives only what is mapped out.

``AppCallActivity`` is the library's ``CallActivity`` with ``copy_data`` and ``update_data``
doing that; the parser reads the mappings and the version binding (``calledElement``,
``camunda:calledElementBinding``, ``camunda:calledElementVersion``). Which stored version a
call resolves to is decided outside the engine (``app.services.versions.calls``), and the
resolved specs are combined with the caller's in ``app.engine.calls``.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from SpiffWorkflow.bpmn.serializer.default.task_spec import SubWorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import CallActivity
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser

from .juel import JuelError, is_juel, to_python

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BINDINGS = ("latest", "version", "deployment")


@dataclass(frozen=True)
class Mapping:
    """One ``camunda:in`` or ``camunda:out``: ``all`` variables, or ``target`` from ``source`` or
    from the Python ``expression``."""

    target: str = ""
    source: str = ""
    expression: str = ""
    all: bool = False

    def to_dict(self) -> dict:
        return {"target": self.target, "source": self.source, "expression": self.expression, "all": self.all}


@dataclass(frozen=True)
class CallRef:
    """A call activity of a process file: the process it calls and which version."""

    element_id: str
    name: str
    process_id: str
    binding: str = "latest"  # latest, version or deployment
    version: int | None = None  # for binding "version"


def _mapped(mappings: tuple[Mapping, ...], source_task, script_engine) -> dict:
    """The data ``mappings`` take from ``source_task``, in their order (a later one wins)."""
    data: dict = {}
    for mapping in mappings:
        if mapping.all:
            data.update(deepcopy(source_task.data))
        elif mapping.expression:
            data[mapping.target] = script_engine.evaluate(source_task, mapping.expression)
        else:
            data[mapping.target] = deepcopy(source_task.data.get(mapping.source))
    return data


class AppCallActivity(CallActivity):
    """A call activity that passes data in and out as Camunda 7 does (see the module doc)."""

    def __init__(self, wf_spec, bpmn_id, subworkflow_spec, in_maps=(), out_maps=(), **kwargs):
        super().__init__(wf_spec, bpmn_id, subworkflow_spec, **kwargs)
        self.in_maps = tuple(m if isinstance(m, Mapping) else Mapping(**m) for m in in_maps)
        self.out_maps = tuple(m if isinstance(m, Mapping) else Mapping(**m) for m in out_maps)

    def copy_data(self, my_task, subworkflow):
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
        start.set_data(**_mapped(self.in_maps, my_task, my_task.workflow.script_engine))

    def update_data(self, my_task, subworkflow):
        # The caller keeps the data it had when the call started, plus what is mapped out.
        my_task.data.update(_mapped(self.out_maps, subworkflow.last_task, my_task.workflow.script_engine))


class AppCallActivityParser(CamundaTaskParser):
    """Reads ``calledElement``, the version binding and the ``camunda:in`` / ``camunda:out``
    mappings; refuses an expression as ``calledElement`` (the version is fixed when a request
    starts, so the called process must be known then)."""

    def create_task(self):
        called = (self.node.get("calledElement") or "").strip()
        if not called:
            self.raise_validation_exception("A call activity needs calledElement: the id of the process it calls")
        if "${" in called or "#{" in called:
            self.raise_validation_exception("calledElement must name a process; an expression is not supported")
        return AppCallActivity(self.spec, self.bpmn_id, called, in_maps=self._mappings("in"),
                               out_maps=self._mappings("out"), **self.bpmn_attributes)

    def _mappings(self, kind: str) -> tuple[Mapping, ...]:
        found = []
        for node in self.node.iterfind(f"{{{_BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}{kind}"):
            if node.get("businessKey") is not None:
                continue  # there is no business key here; the upload check warns
            if (node.get("variables") or "").strip() == "all":
                found.append(Mapping(all=True))
                continue
            target = (node.get("target") or "").strip()
            source = (node.get("source") or "").strip()
            expression = (node.get("sourceExpression") or "").strip()
            if not target or not (source or expression):
                self.raise_validation_exception(
                    f'camunda:{kind} needs a target and a source or sourceExpression, or variables="all"')
            if expression:
                try:
                    expression = to_python(expression) if is_juel(expression) else expression
                except JuelError as exc:
                    self.raise_validation_exception(f"camunda:{kind} sourceExpression cannot run here: {exc}")
            found.append(Mapping(target=target, source=source, expression=expression))
        return tuple(found)


def binding_of(node) -> tuple[str, int | None]:
    """A callActivity element's ``camunda:calledElementBinding`` and pinned version number.

    Anything else than a known binding and a whole number reads as "latest"; the upload check
    refuses those before they are stored."""
    binding = (node.get(f"{{{CAMUNDA_NS}}}calledElementBinding") or "latest").strip()
    if binding not in BINDINGS:
        binding = "latest"
    version = (node.get(f"{{{CAMUNDA_NS}}}calledElementVersion") or "").strip()
    if binding == "version" and version.isdigit():
        return binding, int(version)
    return ("latest", None) if binding == "version" else (binding, None)


class AppCallActivityConverter(SubWorkflowConverter):
    """Saves the mappings with the spec (only the full registry saves specs)."""

    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["in_maps"] = [m.to_dict() for m in spec.in_maps]
        dct["out_maps"] = [m.to_dict() for m in spec.out_maps]
        return dct
