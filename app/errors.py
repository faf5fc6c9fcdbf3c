"""Errors services raise for the caller to turn into a clear page."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _


class ServiceError(Exception):
    """A request the rules refuse; the message is fit to show to the person."""


class NotAllowed(ServiceError):
    """The actor may not do this."""


class TaskUnavailable(ServiceError):
    """The task is no longer waiting (completed, cancelled) or was changed by someone else."""

    def __init__(self, task_id: int, message: str | None = None):
        super().__init__(message or _("This task is no longer waiting for you."))
        self.task_id = task_id


class InvalidData(ServiceError):
    """Submitted data that the form's rules refuse."""

    def __init__(self, errors: Sequence[tuple[str | None, str]]):
        """``errors`` are (form field name, message) pairs; no field name: the whole page."""
        super().__init__("; ".join(message for _, message in errors))
        self.errors: list[tuple[str | None, str]] = list(errors)
