"""The workflow engine adapter: the only package that imports SpiffWorkflow."""

from .ahead import end_name, has_tasks_after_timers, reminder_delays
from .cache import load_model
from .limits import DEFAULT_CPU_SECONDS, DEFAULT_MEMORY_MB, script_limits
from .messages import Message, Wait
from .migrate import MigrationError, MigrationPlan, migrate, plan_migration
from .model import DECISIONS, FIELD_TYPES, FieldSpec, FormSpec, ReadyTask, TaskDef
from .parser import ProcessModel, parse_files
from .reading import DiagramError, parse_xml
from .runtime import Engine, EngineError, TaskNotReady
from .scripting import ScriptError, compile_expression, compile_script

__all__ = [
    "DECISIONS", "FIELD_TYPES", "DiagramError", "Engine", "EngineError", "FieldSpec", "FormSpec",
    "ProcessModel", "ReadyTask", "ScriptError", "TaskDef", "TaskNotReady", "compile_expression",
    "compile_script", "load_model", "parse_files", "parse_xml", "MigrationError", "MigrationPlan", "migrate",
    "plan_migration", "script_limits", "DEFAULT_CPU_SECONDS", "DEFAULT_MEMORY_MB",
    "Message", "Wait", "end_name", "has_tasks_after_timers", "reminder_delays",
]
