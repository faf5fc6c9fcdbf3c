"""Errors services raise for the caller to turn into a clear page."""


class ServiceError(Exception):
    """A request the rules refuse; the message is fit to show to the person."""


class NotAllowed(ServiceError):
    """The actor may not do this."""


class TaskUnavailable(ServiceError):
    """The task is no longer waiting (completed, cancelled) or was changed by someone else."""

    def __init__(self, task_id: int, message: str = "This task is no longer waiting for you."):
        super().__init__(message)
        self.task_id = task_id


class InvalidData(ServiceError):
    """Submitted data that the form's rules refuse."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors
