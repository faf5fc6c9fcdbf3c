"""Parse a process version's files: hardened XML, CamundaParser, forms and lanes.

Each distinct set of files is parsed once per process and kept in a small cache, keyed by
the SHA-256 of its contents, so loading an instance never re-reads XML.
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

from .model import FieldSpec, FormSpec, TaskDef

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
MAX_FILE_BYTES = 5 * 1024 * 1024


class DiagramError(Exception):
    """A diagram that cannot be used; the message names the file and element."""


def xml_parser() -> etree.XMLParser:
    """An lxml parser with entities, DTDs and network access off."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(name: str, text: str | bytes) -> etree._Element:
    """Parse one file safely; refuse any DOCTYPE."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_FILE_BYTES:
        raise DiagramError(f"{name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise DiagramError(f"{name}: not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise DiagramError(f"{name}: a DOCTYPE is not allowed")
    return root


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


class AppParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (AppServiceTaskParser, AppServiceTask),
        full_tag("sendTask"): (AppServiceTaskParser, AppServiceTask),
    }


def _properties(node: etree._Element, path: str) -> dict[str, str]:
    props: dict[str, str] = {}
    for prop in node.iterfind(path, NS):
        key = prop.get("id") or prop.get("name")
        if key:
            props[key] = prop.get("value", "")
    return props


def form_from_xml(node: etree._Element) -> FormSpec:
    """Build the FormSpec of a user task or start event from its camunda:formData."""
    key = node.get(f"{{{CAMUNDA_NS}}}formKey") or node.get("id", "")
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
            type=xml_field.get("type") or "string",
            default=xml_field.get("defaultValue"),
            options=options,
            constraints=constraints,
            properties=_properties(xml_field, "camunda:properties/camunda:property"),
        ))
    return FormSpec(key=key, fields=tuple(fields))


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
    try:
        for name, text in files.items():
            root = parse_xml(name, text)
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
            else:
                parser.add_bpmn_xml(root, filename=name)
                bpmn_roots.append((name, root))
        if len(bpmn_roots) != 1:
            raise DiagramError("a process version needs exactly one .bpmn file")
        name, root = bpmn_roots[0]
        processes = [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable") != "false"]
        if len(processes) != 1:
            raise DiagramError(f"{name}: needs exactly one executable process")
        process = processes[0]
        process_id = process.get("id")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError(str(exc)) from None
    except (ValueError, KeyError, etree.XPathEvalError) as exc:
        raise DiagramError(f"{name}: {exc}") from None

    starts = process.findall("bpmn:startEvent", NS)
    start = next((s for s in starts if s.find("bpmn:extensionElements", NS) is not None), None)
    start = start if start is not None else (starts[0] if starts else None)
    start_form = form_from_xml(start) if start is not None else FormSpec(key=f"{process_id}.start")
    start_doc = _documentation(start) if start is not None else ""
    start_spec = spec.task_specs.get(start.get("id")) if start is not None else None
    start_lane = getattr(start_spec, "lane", None)

    tasks: dict[str, TaskDef] = {}
    topics: dict[str, str] = {}
    for task_spec in _all_task_specs(spec, subprocess_specs):
        if isinstance(task_spec, UserTask):
            node = root.find(f".//bpmn:userTask[@id='{task_spec.bpmn_id}']", NS)
            tasks[task_spec.bpmn_id] = TaskDef(
                bpmn_id=task_spec.bpmn_id,
                name=task_spec.bpmn_name or task_spec.bpmn_id,
                lane=task_spec.lane,
                documentation=task_spec.documentation or "",
                form=form_from_xml(node),
                properties=_properties(node, "bpmn:extensionElements/camunda:properties/camunda:property"),
            )
        elif isinstance(task_spec, AppServiceTask):
            topics[task_spec.bpmn_id] = task_spec.topic
    return ProcessModel(
        key=key, process_id=process_id, name=process.get("name") or process_id, spec=spec,
        subprocess_specs=subprocess_specs, start_form=start_form, start_documentation=start_doc,
        start_lane=start_lane,
        tasks=tasks, service_topics=topics, files=dict(files),
    )


def _documentation(node: etree._Element) -> str:
    doc = node.find("bpmn:documentation", NS)
    return (doc.text or "").strip() if doc is not None else ""


def _all_task_specs(spec, subprocess_specs):
    yield from spec.task_specs.values()
    for sub in subprocess_specs.values():
        yield from sub.task_specs.values()
