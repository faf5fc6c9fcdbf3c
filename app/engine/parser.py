"""Parse a process version's files: hardened XML, CamundaParser, forms and lanes.

Each distinct set of files is parsed once per process and kept in a small cache, keyed by
the SHA-256 of its contents, so loading an instance never re-reads XML. Files are read and
made runnable by ``reading`` first; every task parser reads multi-instance markers the Camunda
way (``multi.py``). After parsing, each ``camunda:inputOutput`` is hooked onto its task spec
(``io_mapping.attach_mappings``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .assignments import performers_from_xml, split_names
from .callspec import AppCallActivity, AppCallActivityParser, CallRef, binding_of
from .camunda_forms import FormJsError, camunda_form_name, find_form, form_spec
from .decide import AppBusinessRuleTask, AppBusinessRuleTaskParser, DecisionParserMixin
from .events import PARSER_CLASSES as EVENT_PARSER_CLASSES
from .form_properties import fields_from_properties, read_constraints, read_type
from .io_mapping import attach_mappings
from .messages import message_parsers, reading_messages
from .model import FieldSpec, FormSpec, TaskDef
from .multi import with_multi_instance
from .reading import BPMN_NS, CAMUNDA_NS, NS, DiagramError, parse_xml, prepare_tree, where_of

# The elements of a process that become steps: each must be in the parsed model.
FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task",
    "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask", "receiveTask",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "subProcess", "adHocSubProcess", "callActivity", "transaction",
})


def _check_nothing_dropped(process: etree._Element, parsed: set[str], file: str) -> None:
    """Refuse a diagram of which the engine left out a step, rather than run it without."""
    for node in process.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        if etree.QName(node).localname in FLOW_NODES and node.get("id") not in parsed:
            what = node.get("name") or node.get("id") or etree.QName(node).localname
            raise DiagramError(f"“{' '.join(what.split())}” would never run: the engine could not read it or "
                               "the way to it; check its sequence flows", **where_of(node, file))


class AppServiceTask(ServiceTask):
    """A service task that calls a function the application registered under its topic."""

    def __init__(self, wf_spec, bpmn_id, topic, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _execute(self, task):
        params = getattr(self, "extensions", {}) or {}
        result = task.workflow.script_engine.call_service(
            task, operation_name=self.topic, operation_params=params
        )
        if result:
            task.data.update(result)
        return True


class AppServiceTaskParser(CamundaTaskParser):
    def create_task(self):
        topic = self.node.get(f"{{{CAMUNDA_NS}}}topic")
        if not topic:
            self.raise_validation_exception("A service task needs a camunda:topic naming a service")
        return AppServiceTask(self.spec, self.bpmn_id, topic=topic, **self.bpmn_attributes)


class AppParser(DecisionParserMixin, CamundaParser):
    # Every task parser reads multi-instance markers the Camunda way (app/engine/multi.py).
    OVERRIDE_PARSER_CLASSES = with_multi_instance({
        **CamundaParser.PARSER_CLASSES,
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (AppServiceTaskParser, AppServiceTask),
        **message_parsers(AppServiceTaskParser),
        full_tag("businessRuleTask"): (AppBusinessRuleTaskParser, AppBusinessRuleTask),
        full_tag("callActivity"): (AppCallActivityParser, AppCallActivity),
        **EVENT_PARSER_CLASSES,  # events, manual tasks, tasks without a type (events.py)
        **{tag: (reading_messages(parser), spec) for tag, (parser, spec) in EVENT_PARSER_CLASSES.items()
           if tag in (full_tag("startEvent"), full_tag("endEvent"))},  # their messages (messages.py)
    })


def _properties(node: etree._Element, path: str) -> dict[str, str]:
    props: dict[str, str] = {}
    for prop in node.iterfind(path, NS):
        key = prop.get("id") or prop.get("name")
        if key:
            props[key] = prop.get("value", "")
    return props


def form_from_xml(node: etree._Element, default_key: str | None = None,
                  files: dict[str, str] | None = None) -> FormSpec:
    """Build the FormSpec of a user task or start event from its camunda:formData, from the
    Camunda Form (a ``.form`` file among ``files``) it names (``camunda_forms.py``), or from its
    formProperty elements (``form_properties``).

    Without camunda:formKey (Camunda Modeler 5 drops it for generated task forms) the key is
    ``default_key``: ``<process id>.<task id>``, or ``<process id>.start``. Raises DiagramError
    for a Camunda Form that is missing, FormJsError for one the app cannot show.
    """
    key = node.get(f"{{{CAMUNDA_NS}}}formKey") or default_key or node.get("id", "")
    camunda_form = camunda_form_name(node)
    if camunda_form is not None:
        _, schema = find_form(camunda_form, files or {})
        return form_spec(schema, default_key or key)
    fields = []
    for xml_field in node.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        constraints = {
            c.get("name"): c.get("config") if c.get("config") is not None else "true"
            for c in xml_field.iterfind("camunda:validation/camunda:constraint", NS)
        }
        options = tuple(
            (v.get("id"), v.get("name") or v.get("id"))
            for v in xml_field.iterfind("camunda:value", NS)
        )
        fields.append(FieldSpec(
            id=xml_field.get("id", ""),
            label=xml_field.get("label") or xml_field.get("id", ""),
            type=read_type(xml_field.get("type")),
            default=xml_field.get("defaultValue"),
            options=options,
            constraints=read_constraints(constraints),
            properties=_properties(xml_field, "camunda:properties/camunda:property"),
        ))
    return FormSpec(key=key, fields=tuple(fields or fields_from_properties(node)))


@dataclass
class ProcessModel:
    """One parsed process version: the spec to run and what the app shows of it."""

    key: str  # sha256 of the files
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict
    start_form: FormSpec
    start_documentation: str
    start_lane: str | None
    tasks: dict[str, TaskDef] = field(default_factory=dict)
    service_topics: dict[str, str] = field(default_factory=dict)  # bpmn id -> topic
    files: dict[str, str] = field(default_factory=dict)
    calls: tuple[CallRef, ...] = ()  # the call activities drawn in this file
    startable: bool = True  # camunda:isStartableInTasklist="false": only other processes call it
    # With the processes it calls (app.engine.calls): each spec's process, and the called models.
    owners: dict[str, str] = field(default_factory=dict)  # spec name -> process id
    called: dict[str, ProcessModel] = field(default_factory=dict)  # process id -> its model

    def task_key(self, spec_name: str, bpmn_id: str) -> str:
        """How ``tasks`` (and task rows) name an element: its id, or for an element of a called
        process ``<process id>:<id>`` (ids are unique only within one file)."""
        owner = self.owners.get(spec_name, self.process_id)
        return bpmn_id if owner == self.process_id else f"{owner}:{bpmn_id}"
    initiator_variable: str | None = None  # camunda:initiator: holds the starter's email address
    properties: dict[str, str] = field(default_factory=dict)  # the process's camunda:properties (title)


def files_key(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


_CACHE: OrderedDict[str, ProcessModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def parse_files(files: dict[str, str], validator=None) -> ProcessModel:
    """Parse a process version (one .bpmn and its .dmn files), cached by content."""
    key = files_key(files)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    model = _parse(files, key, validator)
    with _CACHE_LOCK:
        _CACHE[key] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model


def _parse(files: dict[str, str], key: str, validator) -> ProcessModel:
    parser = AppParser(validator=validator)
    bpmn_roots = []
    roots: dict[str, etree._Element] = {}
    name = ""
    try:
        for name, text in files.items():
            if not name.endswith((".bpmn", ".dmn")):
                continue  # notice texts and Camunda Forms: forms are read with their task below
            root = roots[name] = parse_xml(name, text)
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
            else:
                problems = prepare_tree(root, name)
                if problems:
                    raise problems[0]
                parser.add_bpmn_xml(root, filename=name)
                bpmn_roots.append((name, root))
        if len(bpmn_roots) != 1:
            raise DiagramError("a process version needs exactly one .bpmn file")
        name, root = bpmn_roots[0]
        processes = [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable") != "false"]
        if len(processes) != 1:
            raise DiagramError("needs exactly one executable process", file=name)
        process = processes[0]
        process_id = process.get("id")
        spec = parser.get_spec(process_id)
        # A called process lives in another stored version: it is added when a request starts.
        subprocess_specs = {key: sub for key, sub in parser.get_subprocess_specs(
            process_id, require_call_activity_specs=False).items() if sub is not None}
    except ValidationException as exc:
        raise _located(exc, exc.file_name or name, roots) from None
    except (ValueError, KeyError, etree.XPathEvalError) as exc:
        raise DiagramError(_plain(exc), file=name or None) from None
    _check_nothing_dropped(process, {s.bpmn_id for s in _all_task_specs(spec, subprocess_specs)}, name)
    attach_mappings(root, _all_task_specs(spec, subprocess_specs))

    starts = process.findall("bpmn:startEvent", NS)
    start = next((s for s in starts if s.find("bpmn:extensionElements", NS) is not None), None)
    start = start if start is not None else (starts[0] if starts else None)
    start_form = FormSpec(key=f"{process_id}.start")
    if start is not None:
        try:
            start_form = form_from_xml(start, f"{process_id}.start", files)
        except (DiagramError, FormJsError) as exc:
            raise DiagramError(str(exc), file=name, element_id=start.get("id"), line=start.sourceline) from None
    start_doc = _documentation(start) if start is not None else ""
    start_spec = spec.task_specs.get(start.get("id")) if start is not None else None
    start_lane = getattr(start_spec, "lane", None)
    starter = (start.get(f"{{{CAMUNDA_NS}}}initiator") or "").strip() or None if start is not None else None

    tasks: dict[str, TaskDef] = {}
    topics: dict[str, str] = {}
    calls: list[CallRef] = []
    user_tasks: dict[str, etree._Element] = {}
    for node in root.iter(f"{{{BPMN_NS}}}userTask"):
        user_tasks.setdefault(node.get("id"), node)
    call_nodes = {node.get("id"): node for node in root.iter(f"{{{BPMN_NS}}}callActivity")}
    for task_spec in _all_task_specs(spec, subprocess_specs):
        if isinstance(task_spec, UserTask):
            node = user_tasks[task_spec.bpmn_id]
            try:
                form = form_from_xml(node, f"{process_id}.{task_spec.bpmn_id}", files)
            except (DiagramError, FormJsError) as exc:
                raise DiagramError(str(exc), file=name, element_id=task_spec.bpmn_id,
                                   element_name=task_spec.bpmn_name, line=node.sourceline) from None
            tasks[task_spec.bpmn_id] = TaskDef(
                bpmn_id=task_spec.bpmn_id,
                name=task_spec.bpmn_name or task_spec.bpmn_id,
                lane=task_spec.lane,
                documentation=task_spec.documentation or "",
                form=form,
                properties=_properties(node, "bpmn:extensionElements/camunda:properties/camunda:property"),
                **assignment_from_xml(node, starter),
            )
        elif isinstance(task_spec, AppServiceTask):
            topics[task_spec.bpmn_id] = task_spec.topic
        elif isinstance(task_spec, AppCallActivity):
            binding, number = binding_of(call_nodes[task_spec.bpmn_id])
            calls.append(CallRef(task_spec.bpmn_id, task_spec.bpmn_name or task_spec.bpmn_id, task_spec.spec,
                                 binding, number))
    return ProcessModel(
        key=key, process_id=process_id, name=process.get("name") or process_id, spec=spec,
        subprocess_specs=subprocess_specs, start_form=start_form, start_documentation=start_doc,
        start_lane=start_lane,
        tasks=tasks, service_topics=topics, files=dict(files), calls=tuple(calls),
        startable=process.get(f"{{{CAMUNDA_NS}}}isStartableInTasklist", "true").strip() != "false",
        initiator_variable=starter,
        properties=_properties(process, "bpmn:extensionElements/camunda:properties/camunda:property"),
    )


def assignment_from_xml(node: etree._Element, starter: str | None = None) -> dict:
    """A user task's camunda:assignee, camunda:candidateUsers and camunda:candidateGroups, and
    its BPMN humanPerformer (an assignee) and potentialOwner (users and groups), as Camunda 7 reads them.
    ``${starter}`` (the start event's camunda:initiator variable) reads as ``${initiator}``."""
    performer, users, groups = performers_from_xml(node)
    names = {"assignee": [(node.get(f"{{{CAMUNDA_NS}}}assignee") or "").strip() or performer or ""],
             "candidate_users": split_names(node.get(f"{{{CAMUNDA_NS}}}candidateUsers")) + users,
             "candidate_groups": split_names(node.get(f"{{{CAMUNDA_NS}}}candidateGroups")) + groups}
    own = {f"${{{starter}}}", f"#{{{starter}}}"} if starter else set()
    found = {key: tuple(dict.fromkeys("${initiator}" if n in own else n for n in values if n))
             for key, values in names.items()}
    return {**found, "assignee": found["assignee"][0] if found["assignee"] else None}


def _plain(exc: Exception) -> str:
    """An exception's message without KeyError's quotes."""
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def _located(exc: ValidationException, file: str, roots: dict[str, etree._Element]) -> DiagramError:
    """A SpiffWorkflow validation error as a DiagramError with the element's line."""
    line = exc.line_number if isinstance(exc.line_number, int) else None
    root = roots.get(file)
    if exc.id and root is not None:
        node = next((n for n in root.iter() if isinstance(n.tag, str) and n.get("id") == exc.id), None)
        if node is not None:
            line = node.sourceline
    detail = exc.args[0] if exc.args else str(exc)
    return DiagramError(str(detail), file=file or None, element_id=exc.id or None,
                        element_name=exc.name or None, line=line)


def _documentation(node: etree._Element) -> str:
    doc = node.find("bpmn:documentation", NS)
    return (doc.text or "").strip() if doc is not None else ""


def _all_task_specs(spec, subprocess_specs):
    yield from spec.task_specs.values()
    for sub in subprocess_specs.values():
        yield from sub.task_specs.values()
