"""Process versions: store files as immutable versions, activate one, parse it once.

``store`` stores, activates and syncs versions and lists them for administrators; ``compare``
says what changes when one version replaces another; ``uploads`` checks an administrator's
upload and keeps it until it is confirmed.
"""

from app.engine import load_model

from .calls import CalledProcess, called_processes
from .compare import (
    ActivationPreview,
    Change,
    Comparison,
    Element,
    FormChanges,
    TaskChanges,
    activation_preview,
    compare_models,
)
from .store import (
    REASON_MAX_LENGTH,
    RUNNING_STATES,
    VERSION_ACTIONS,
    ProcessSummary,
    VersionRow,
    activate_version,
    active_versions,
    files_sha256,
    folder_file_sets,
    process_names,
    process_overview,
    running_by_version,
    store_version,
    switch_version,
    sync_workflows,
    version_download,
    version_history,
    version_rows,
)
from .uploads import (
    NOTE_MAX_LENGTH,
    PENDING_UPLOAD_LIFETIME,
    UploadReview,
    check_version_upload,
    discard_pending_upload,
    review_pending_upload,
    store_pending_upload,
)

__all__ = [
    "NOTE_MAX_LENGTH", "PENDING_UPLOAD_LIFETIME", "REASON_MAX_LENGTH", "RUNNING_STATES", "VERSION_ACTIONS",
    "CalledProcess", "called_processes",
    "ActivationPreview", "Change", "Comparison", "Element", "FormChanges", "ProcessSummary", "TaskChanges",
    "UploadReview", "VersionRow", "activate_version", "activation_preview", "active_versions",
    "check_version_upload", "compare_models", "discard_pending_upload", "files_sha256", "folder_file_sets",
    "load_model", "process_names", "process_overview", "review_pending_upload", "running_by_version",
    "store_pending_upload", "store_version", "switch_version", "sync_workflows", "version_download",
    "version_history", "version_rows",
]
