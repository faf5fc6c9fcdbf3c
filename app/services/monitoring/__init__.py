"""Following every request: the filtered list and its CSV, an instance's steps and diagram
markers, and the administrator's cancel, retry and reassign.

The list and the CSV are plain SQL over instance, task and candidate rows: they never load
a workflow, so they cost the same at ten requests or ten thousand. Only one instance's page
loads its workflow, to say which steps are done.

``access`` says who may follow and change requests, ``queries`` lists them, ``instance``
shows one, ``actions`` holds the administrator's changes.
"""

from app.services.reasons import MAX_REASON

from .access import may_administer, may_monitor
from .actions import cancel_instance, reassign_task, retry_instance
from .instance import (
    AUTOMATIC,
    Step,
    Steps,
    diagram_xml,
    error_text,
    instance_attachments,
    instance_markers,
    instance_steps,
    reassign_choices,
)
from .queries import (
    CSV_COLUMNS,
    PER_PAGE,
    STATUS_LABELS,
    WAITING_ROLES,
    InstanceFilter,
    MonitorRow,
    RowPagination,
    export_instances_csv,
    filter_choices,
    instance_conditions,
    list_instances,
)

__all__ = [
    "AUTOMATIC", "CSV_COLUMNS", "MAX_REASON", "PER_PAGE", "STATUS_LABELS", "WAITING_ROLES",
    "InstanceFilter", "MonitorRow", "RowPagination", "Step", "Steps", "cancel_instance", "diagram_xml",
    "error_text", "export_instances_csv", "filter_choices", "instance_attachments", "instance_conditions",
    "instance_markers", "instance_steps", "list_instances", "may_administer", "may_monitor", "reassign_choices",
    "reassign_task", "retry_instance",
]
