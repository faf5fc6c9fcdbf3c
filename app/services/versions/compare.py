"""Compare two versions of a process: what changes for new requests when one replaces the other."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext

from app.engine import DiagramError, FieldSpec, FormSpec, ProcessModel, TaskDef, load_model, parse_xml
from app.models import ProcessVersion
from app.models.base import N_

from .store import running_by_version


@dataclass(frozen=True)
class Change:
    """One attribute that differs: what, its value in the active version and in the new one."""

    what: str
    old: str
    new: str

    @property
    def translated_what(self) -> str:
        """``what`` in the reader's language: the attributes' names are in the catalogues (N_), a
        DMN cell's place is data and stays as it is."""
        return gettext(self.what)


@dataclass
class FormChanges:
    added: list[FieldSpec] = field(default_factory=list)
    removed: list[FieldSpec] = field(default_factory=list)
    changed: list[tuple[FieldSpec, list[Change]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class TaskChanges:
    """A user task (or the start form) in both versions: its own changes and its form's."""

    bpmn_id: str
    name: str
    changes: list[Change] = field(default_factory=list)
    fields: FormChanges = field(default_factory=FormChanges)

    def __bool__(self) -> bool:
        return bool(self.changes or self.fields)


@dataclass(frozen=True)
class Element:
    """Another diagram element: a script, service or rule task, gateway, event or flow."""

    element_id: str
    kind: str
    name: str


@dataclass
class Comparison:
    """What changes for new requests when ``new`` replaces ``old``."""

    name: Change | None = None
    start: TaskChanges = field(default_factory=lambda: TaskChanges("", "Start form"))
    tasks_added: list[TaskDef] = field(default_factory=list)
    tasks_removed: list[TaskDef] = field(default_factory=list)
    tasks_changed: list[TaskChanges] = field(default_factory=list)
    tables_added: list[str] = field(default_factory=list)
    tables_removed: list[str] = field(default_factory=list)
    tables_changed: list[str] = field(default_factory=list)
    table_changes: dict[str, list[Change]] = field(default_factory=dict)  # file -> rule cells that differ
    elements_added: list[Element] = field(default_factory=list)
    elements_removed: list[Element] = field(default_factory=list)
    elements_changed: list[Element] = field(default_factory=list)
    diagram_changed: bool = False  # the .bpmn text differs at all (layout included)
    notices_changed: list[str] = field(default_factory=list)  # "<file>: added|changed|removed"

    @property
    def steps_changed(self) -> bool:
        """Anything a person or a rule would notice, beyond the drawing."""
        return bool(self.name or self.start or self.tasks_added or self.tasks_removed
                    or self.tasks_changed or self.tables_added or self.tables_removed
                    or self.tables_changed or self.elements_added or self.elements_removed
                    or self.elements_changed or self.notices_changed)


def _constraints_text(constraints: dict[str, str]) -> str:
    words = []
    for name, value in constraints.items():
        words.append(name if value == "true" else f"{name} {value}")
    return ", ".join(words) or "none"


def _options_text(options: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(label if label == value else f"{label} ({value})" for value, label in options) or "none"


def _properties_text(properties: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(properties.items())) or "none"


def _field_changes(old: FieldSpec, new: FieldSpec) -> list[Change]:
    changes = []
    if old.label != new.label:
        changes.append(Change(N_("Label"), old.label, new.label))
    if old.type != new.type:
        changes.append(Change(N_("Type"), old.type, new.type))
    if old.constraints != new.constraints:
        changes.append(Change(N_("Constraints"), _constraints_text(old.constraints),
                              _constraints_text(new.constraints)))
    if old.options != new.options:
        changes.append(Change(N_("Choices"), _options_text(old.options), _options_text(new.options)))
    if old.default != new.default:
        changes.append(Change(N_("Default value"), old.default or "none", new.default or "none"))
    if old.properties != new.properties:
        changes.append(Change(N_("Properties"), _properties_text(old.properties), _properties_text(new.properties)))
    return changes


def _form_changes(old: FormSpec, new: FormSpec) -> FormChanges:
    old_ids = {f.id for f in old.fields}
    new_ids = {f.id for f in new.fields}
    result = FormChanges(added=[f for f in new.fields if f.id not in old_ids],
                         removed=[f for f in old.fields if f.id not in new_ids])
    for new_field in new.fields:
        old_field = old.get(new_field.id)
        if old_field is not None and (changes := _field_changes(old_field, new_field)):
            result.changed.append((new_field, changes))
    return result


def _task_changes(old: TaskDef, new: TaskDef) -> TaskChanges:
    result = TaskChanges(new.bpmn_id, new.name, fields=_form_changes(old.form, new.form))
    if old.name != new.name:
        result.changes.append(Change(N_("Name"), old.name, new.name))
    if (old.lane or "") != (new.lane or ""):
        result.changes.append(Change(N_("Lane"), old.lane or "none", new.lane or "none"))
    if old.documentation != new.documentation:
        result.changes.append(Change(N_("Documentation"), old.documentation, new.documentation))
    if old.form.key != new.form.key:
        result.changes.append(Change(N_("Form key"), old.form.key, new.form.key))
    if old.properties != new.properties:
        result.changes.append(Change(N_("Properties"), _properties_text(old.properties),
                                     _properties_text(new.properties)))
    return result


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_ELEMENT_KINDS = {
    "startEvent": N_("Start event"), "endEvent": N_("End event"), "boundaryEvent": N_("Boundary event"),
    "intermediateCatchEvent": N_("Waiting event"), "intermediateThrowEvent": N_("Event"),
    "scriptTask": N_("Script task"), "serviceTask": N_("Service task"), "businessRuleTask": N_("Rule task"),
    "sendTask": N_("Send task"), "receiveTask": N_("Receive task"), "manualTask": N_("Manual task"), "task": N_("Task"),
    "exclusiveGateway": N_("Gateway"), "parallelGateway": N_("Parallel gateway"),
    "inclusiveGateway": N_("Inclusive gateway"), "eventBasedGateway": N_("Event gateway"),
    "subProcess": N_("Subprocess"), "callActivity": N_("Call activity"), "sequenceFlow": N_("Flow"),
}
_SKIPPED_CHILDREN = {f"{{{BPMN_NS}}}incoming", f"{{{BPMN_NS}}}outgoing"}


def _localname(node) -> str:
    return node.tag.rsplit("}", 1)[-1]


def _fingerprint(node) -> tuple:
    """The element's meaning: tag, attributes, text and children, but not its nested flow
    elements (compared on their own) nor incoming/outgoing (the flows say that)."""
    children = tuple(
        _fingerprint(child) for child in node
        if isinstance(child.tag, str) and child.tag not in _SKIPPED_CHILDREN
        and _localname(child) not in _ELEMENT_KINDS
    )
    return (node.tag, tuple(sorted(node.attrib.items())), (node.text or "").strip(), children)


def _diagram_elements(model: ProcessModel) -> dict[str, tuple[Element, tuple]]:
    """The flow elements other than user tasks and form-bearing start events."""
    bpmn = next(text for name, text in model.files.items() if name.endswith(".bpmn"))
    root = parse_xml("diagram.bpmn", bpmn)
    process = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == model.process_id), None)
    if process is None:
        return {}
    elements = {}
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        kind = _ELEMENT_KINDS.get(_localname(node))
        if kind is None or _declares_form(node):
            continue
        name = node.get("name") or ""
        if kind == "Flow" and not name:
            name = f"{node.get('sourceRef')} → {node.get('targetRef')}"
        elements[node.get("id", "")] = (Element(node.get("id", ""), kind, name), _fingerprint(node))
    return elements


def _declares_form(node) -> bool:
    """Whether a start event declares a form (formData, or formProperty in any of the namespaces
    read as Camunda's): its form is compared field by field instead."""
    return any(isinstance(n.tag, str) and _localname(n) in ("formData", "formProperty") for n in node.iter())


def _children(node, *names: str) -> list:
    return [n for n in node if isinstance(n.tag, str) and _localname(n) in names]


def _dmn_cells(name: str, text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """Each rule's cells: (decision id, rule id and column) -> (what, cell text), plus each
    table's hit policy and description, so that a change can be named in words."""
    root = parse_xml(name, text)
    decisions = [n for n in root.iter() if isinstance(n.tag, str) and _localname(n) == "decision"]
    cells: dict[tuple[str, str], tuple[str, str]] = {}
    for decision in decisions:
        decision_id = decision.get("id", "")
        prefix = f"{decision.get('name') or decision_id}, " if len(decisions) > 1 else ""
        for description in _children(decision, "description"):
            cells[(decision_id, "description")] = (f"{prefix}Description", " ".join((description.text or "").split()))
        for table in _children(decision, "decisionTable"):
            cells[(decision_id, "hit policy")] = (f"{prefix}Hit policy", table.get("hitPolicy", "UNIQUE"))
            headers = [c.get("label") or c.get("name") or c.get("id", "") for c in _children(table, "input", "output")]
            for number, rule in enumerate(_children(table, "rule"), start=1):
                rule_key = rule.get("id") or f"rule {number}"
                for position, entry in enumerate(_children(rule, "inputEntry", "outputEntry")):
                    header = headers[position] if position < len(headers) else f"column {position + 1}"
                    cells[(decision_id, f"{rule_key}#{position}")] = (
                        f"{prefix}Rule {number} ({rule_key}): {header}", " ".join("".join(entry.itertext()).split()))
    return cells


def _table_changes(old_text: str, new_text: str) -> list[Change]:
    """The cells of a DMN table that differ, in words; empty when only the layout differs."""
    try:
        old, new = _dmn_cells("old.dmn", old_text), _dmn_cells("new.dmn", new_text)
    except DiagramError:  # the engine read it, so this is unlikely: then say "changed" only
        return []
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        before, after = old.get(key), new.get(key)
        if before is None or after is None or before[1] != after[1]:
            what = new[key][0] if key in new else old[key][0]
            changes.append(Change(what, before[1] if before else "(none)", after[1] if after else "(none)"))
    return changes


def compare_models(old: ProcessModel, new: ProcessModel) -> Comparison:
    """What changes when ``new`` replaces ``old``: user tasks and their forms, the start form,
    the DMN tables and the other diagram elements."""
    result = Comparison()
    if old.name != new.name:
        result.name = Change(N_("Process name"), old.name, new.name)
    start = _task_changes(
        TaskDef("", "Start form", old.start_lane, old.start_documentation, old.start_form),
        TaskDef("", "Start form", new.start_lane, new.start_documentation, new.start_form))
    start.changes = [c for c in start.changes if c.what != "Name"]
    result.start = start
    result.tasks_added = [t for key, t in new.tasks.items() if key not in old.tasks]
    result.tasks_removed = [t for key, t in old.tasks.items() if key not in new.tasks]
    for key, task in new.tasks.items():
        if key in old.tasks and (changes := _task_changes(old.tasks[key], task)):
            result.tasks_changed.append(changes)

    old_tables = {n: t for n, t in old.files.items() if n.endswith(".dmn")}
    new_tables = {n: t for n, t in new.files.items() if n.endswith(".dmn")}
    result.tables_added = sorted(set(new_tables) - set(old_tables))
    result.tables_removed = sorted(set(old_tables) - set(new_tables))
    result.tables_changed = sorted(n for n in set(old_tables) & set(new_tables) if old_tables[n] != new_tables[n])
    result.table_changes = {n: _table_changes(old_tables[n], new_tables[n]) for n in result.tables_changed}

    old_elements, new_elements = _diagram_elements(old), _diagram_elements(new)
    result.elements_added = [e for key, (e, _) in new_elements.items() if key not in old_elements]
    result.elements_removed = [e for key, (e, _) in old_elements.items() if key not in new_elements]
    result.elements_changed = [e for key, (e, print_) in new_elements.items()
                               if key in old_elements and old_elements[key][1] != print_]
    old_bpmn = [t for n, t in old.files.items() if n.endswith(".bpmn")]
    new_bpmn = [t for n, t in new.files.items() if n.endswith(".bpmn")]
    result.diagram_changed = old_bpmn != new_bpmn
    old_texts = {n: t for n, t in old.files.items() if n.endswith(".txt")}
    new_texts = {n: t for n, t in new.files.items() if n.endswith(".txt")}
    for file in sorted(set(old_texts) | set(new_texts)):
        if old_texts.get(file) != new_texts.get(file):
            how = "added" if file not in old_texts else "removed" if file not in new_texts else "changed"
            result.notices_changed.append(f"{file}: {how}")
    return result


@dataclass
class ActivationPreview:
    active: ProcessVersion | None
    comparison: Comparison | None  # from the active version to the one to activate
    running: dict[int, int]


def activation_preview(version: ProcessVersion) -> ActivationPreview:
    """What new requests would get if ``version`` replaced the active one."""
    active = version.definition.active_version
    comparison = None
    if active is not None and active.id != version.id:
        comparison = compare_models(load_model(active), load_model(version))
    return ActivationPreview(active, comparison, running_by_version(version.definition))
