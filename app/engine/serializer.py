"""Save and load workflows: SpiffWorkflow's serializer with the app's task specs and data types.

``reference_registry`` saves a workflow without its process definition (the caller keeps the
version) and leaves out of each task what loading puts back; ``full_registry`` saves specs too.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.spec import BpmnDataSpecificationConverter, TaskSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.task import Task

from .callspec import AppCallActivity, AppCallActivityConverter
from .decide import AppBusinessRuleTask, AppBusinessRuleTaskConverter
from .events import SPEC_CONVERTERS
from .messages import AppMessageEventDefinition, AppMessageEventDefinitionConverter
from .multi import MULTI_INSTANCE, LoopItem
from .parser import AppServiceTask


class AppServiceTaskConverter(TaskSpecConverter):
    def to_dict(self, spec):
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct

    def from_dict(self, dct):
        return self.task_spec_from_dict(dct)


class _TypenamesByMro(dict):
    """Find a registered class for subclasses too (freezegun's FakeDate is a date)."""

    def get(self, cls, default=None):
        for klass in getattr(cls, "__mro__", (cls,)):
            if dict.__contains__(self, klass):
                return self[klass]
        return default


def _register_types(registry) -> None:
    registry.typenames = _TypenamesByMro(registry.typenames)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(dt.date, lambda v: {"value": v.isoformat()},
                      lambda v: dt.date.fromisoformat(v["value"]))


def _app_config() -> dict:
    """The camunda serializer configuration with the app's task specs."""
    config = dict(CAMUNDA_CONFIG)
    config[AppServiceTask] = AppServiceTaskConverter
    config.update(SPEC_CONVERTERS)
    config[AppBusinessRuleTask] = AppBusinessRuleTaskConverter
    config[AppCallActivity] = AppCallActivityConverter
    config[AppMessageEventDefinition] = AppMessageEventDefinitionConverter
    config.update(dict.fromkeys(MULTI_INSTANCE, MultiInstanceTaskConverter))
    config[LoopItem] = BpmnDataSpecificationConverter
    return config


def full_registry():
    """The camunda registry, with our service task and task data types: saves specs too."""
    config = _app_config()
    registry = BpmnWorkflowSerializer.configure(config)
    _register_types(registry)
    return registry


class ReferenceWorkflowConverter(BpmnWorkflowConverter):
    """Save a workflow without its process definition; restore it onto a given spec."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        _expand_tasks(dct)  # what CompactTaskConverter left out; older full rows pass unchanged
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_TASK_DEFAULTS = {"typename": "Task", "triggered": False, "internal_data": {}, "data": {}, "delta": {}}


class CompactTaskConverter(TaskConverter):
    """Save a task without what loading can put back: its id (the key it is saved under),
    fields at their default, and the list of deleted keys that a task not yet reached (no
    data) would otherwise carry for every key of its parent's data."""

    def to_dict(self, task):
        dct = super().to_dict(task)
        if not task.data:
            dct["delta"] = {}  # restores as {}: an empty delta means "take 'data'", which is {}
        elif dct["delta"] and not dct["delta"].get("deletions"):
            # A delta must stay non-empty (an empty one means "no parent data"): keep updates.
            dct["delta"] = {"updates": dct["delta"].get("updates", {})}
        del dct["id"]
        for key, default in _TASK_DEFAULTS.items():
            if key in dct and dct[key] == default:
                del dct[key]
        return dct


def _expand_tasks(workflow_dct: dict) -> None:
    """Put back what CompactTaskConverter left out, for this workflow and its subprocesses."""
    for key, task in workflow_dct.get("tasks", {}).items():
        task.setdefault("id", key)
        for field, default in _TASK_DEFAULTS.items():
            task.setdefault(field, type(default)() if isinstance(default, dict) else default)
    for sub in workflow_dct.get("subprocesses", {}).values():
        _expand_tasks(sub)


class CompactJSON(json.JSONEncoder):
    def __init__(self, *args, **kwargs):
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


def reference_registry():
    config = _app_config()
    config[BpmnWorkflow] = ReferenceWorkflowConverter
    config[Task] = CompactTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    _register_types(registry)
    return registry
