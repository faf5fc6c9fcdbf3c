"""Plain descriptions of processes, tasks and forms, free of SpiffWorkflow types.

Everything outside ``app.engine`` sees processes through these classes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = frozenset(
    {"string", "long", "boolean", "date", "enum", "decimal", "text", "email", "iban", "file",
     "checklist", "content", "time", "datetime"}  # checklist: several options ticked; content: text shown, not asked
)
DECISIONS = ("approve", "request_changes", "reject")


@dataclass(frozen=True)
class FieldSpec:
    """One form field as the diagram declares it."""

    id: str
    label: str
    type: str
    default: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for enums
    constraints: dict[str, str] = field(default_factory=dict)  # required, minlength, ...
    properties: dict[str, str] = field(default_factory=dict)  # hint, choices, accept, ...

    @property
    def required(self) -> bool:
        return self.constraints.get("required", "false").lower() == "true"

    @property
    def readonly(self) -> bool:
        return self.constraints.get("readonly", "false").lower() == "true"

    def number(self, name: str) -> float | None:
        """Return a numeric constraint (minlength, max, ...) or None."""
        value = self.constraints.get(name)
        return None if value in (None, "") else float(value)


@dataclass(frozen=True)
class FormSpec:
    """The form of a user task or start event."""

    key: str
    fields: tuple[FieldSpec, ...] = ()

    def get(self, field_id: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def has_files(self) -> bool:
        """Whether the form uploads files, and so must be sent as multipart/form-data."""
        return any(f.type == "file" for f in self.fields)

    @property
    def decisions(self) -> tuple[tuple[str, str], ...]:
        """The (value, label) options of the ``decision`` field, if this is a decision step."""
        decision = self.get("decision")
        return decision.options if decision is not None and decision.type == "enum" else ()


@dataclass(frozen=True)
class TaskDef:
    """A user task of a process version."""

    bpmn_id: str
    name: str
    lane: str | None
    documentation: str
    form: FormSpec
    properties: dict[str, str] = field(default_factory=dict)  # camunda:properties of the task
    # Camunda's alternative to lanes: an e-mail address, a user name or an expression
    # ("${initiator}", "${reviewer}"), those or more, and group names that resolve as lane
    # names do (through Administration → Names in diagrams too). Any of them replaces the lane.
    assignee: str | None = None
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()

    @property
    def has_assignment(self) -> bool:
        return bool(self.assignee or self.candidate_users or self.candidate_groups)


@dataclass(frozen=True)
class LoopInstance:
    """Which instance of a multi-instance step a waiting task is (or is inside of)."""

    key: str  # the multi-instance task's id: the same for all its instances
    counter: int  # Camunda's loopCounter, from 0
    total: int  # nrOfInstances
    item: Any = None  # the element variable's value, if the step has one

    @property
    def label(self) -> str:
        """The item as people read it: a text, or the ``name`` or ``label`` of a mapping."""
        item = self.item
        if isinstance(item, dict):
            item = item.get("name") or item.get("label")
        return " ".join(item.split())[:100] if isinstance(item, str) else ""


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person in a running instance."""

    id: str  # SpiffWorkflow task UUID, as text
    definition: TaskDef
    loop: LoopInstance | None = None  # set for an instance of a multi-instance step
    # The task's own data (a multi-instance task's element variable is in each instance's):
    # what ``${...}`` in its assignment is worked out on.
    data: dict = field(default_factory=dict, compare=False)

    @property
    def bpmn_id(self) -> str:
        return self.definition.bpmn_id
