"""The step: what runs a request on, and the one place that writes what a step did.

A step is a start, a completion, a timer or an administrator's action on a request. It runs
the engine (``registry``), inside a ``context`` that service tasks can see, and writes the
request's rows through ``writer`` and its history through ``audit``, in one transaction.
"""

from app.outbox.lines import Line, event_line, names_line, said
from app.outbox.records import phrase, words

from .audit import audit_event, record, told_line
from .context import Opened, Step, Told, current_step, step
from .figures import REPORTED, copied, figures_of, write_figures
from .outcome import outcome_label, status_word
from .registry import engine, service_names
from .writer import (
    Conflict,
    add_candidates,
    close_task,
    commit_or_conflict,
    conflict_means_unavailable,
    create_instance,
    drop_candidates,
    is_conflict,
    lock_instance,
    recheck_lanes,
    save_instance,
    sync_instance,
)

__all__ = [
    "REPORTED", "Conflict", "Line", "audit_event", "phrase", "words",
    "Opened", "Step", "Told", "add_candidates", "close_task", "commit_or_conflict",
    "conflict_means_unavailable", "copied", "create_instance", "current_step", "drop_candidates", "engine",
    "event_line", "figures_of", "is_conflict",
    "lock_instance", "names_line", "outcome_label", "recheck_lanes", "record", "said", "save_instance", "service_names",
    "status_word", "step", "sync_instance", "told_line", "write_figures",
]
