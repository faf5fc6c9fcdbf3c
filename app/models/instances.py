"""Running requests: process instances, the human tasks they wait on, attachments."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column, object_session, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow
from .people import User, WorkingGroup
from .processes import ProcessVersion


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"


class TaskState(enum.StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def _year_started(context) -> int:
    """The year (UTC) of a new request's started_at, as its row is inserted."""
    started = context.get_current_parameters().get("started_at")
    return (started or utcnow()).year


class ProcessInstance(Model):
    # ix_instance_started: the monitoring list, newest first, and its "started between" filter.
    # The list filtered by process, version, status or group reads the matching requests newest
    # first from an index that leads with that column and ends like ix_instance_started, so a
    # page of a rare value (an old version, the requests that failed) is never found by walking
    # the whole list (docs/SCALING.md).
    __table_args__ = (Index("ix_instance_next_timer", "next_timer_at"),
                      Index("ix_instance_started", "started_at", "id"),
                      Index("ix_instance_process_started", "process_id", "started_at", "id"),
                      Index("ix_instance_version_started", "version_id", "started_at", "id"),
                      Index("ix_instance_status_started", "status", "started_at", "id"),
                      Index("ix_instance_group_started", "working_group_id", "started_at", "id"),
                      # The flow report's counts, read from the index alone and in the order it groups
                      # them by (no sort): the year first, so a period reads only its years' rows
                      # (docs/REPORTS.md, "Speed").
                      Index("ix_instance_flow", "started_year", "version_id", "status", "outcome", "hours_to_end",
                            "started_at", "working_group_id", "initiator_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[InstanceStatus] = mapped_column(
        Enum(InstanceStatus, native_enum=False, length=20), default=InstanceStatus.RUNNING
    )
    initiator_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    working_group_id: Mapped[int | None] = mapped_column(ForeignKey("working_group.id"))
    state: Mapped[str] = mapped_column(Text, deferred=True)  # engine JSON, no definition
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # key fields shown in lists, in English
    # The raw values of the title and the key fields, shown in the reader's language
    # (app/outbox/shown.py); NULL on a request no step has written since they were kept.
    parts: Mapped[dict | None] = mapped_column(JSON)
    current_step: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(100), default="")  # the end event reached
    error: Mapped[str] = mapped_column(Text, default="")
    # The optimistic lock, moved on by every write of the row (app/steps/writer.py).
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The stored versions its call activities run, {process id: version id}, fixed when it started;
    # NULL when its process calls none.
    called_versions: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # For the flow report (ix_instance_flow): the year (UTC) it started (every row has one; the
    # column is nullable as the migration added it in place), and the whole hours from its
    # start to its end, written with ended_at (app/steps/figures.py).
    started_year: Mapped[int] = mapped_column(Integer, nullable=True, default=_year_started)
    hours_to_end: Mapped[int | None] = mapped_column(Integer)
    # The HTTP request (or worker job) whose step last wrote the row, and so set its next timer.
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Personal data (README, "Personal data"): a request on legal hold is never purged; the reason is
    # the administrator's. ``purged_at``: when its personal data was deleted (retention or erasure).
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[ProcessVersion] = relationship()
    initiator: Mapped[User] = relationship()
    working_group: Mapped[WorkingGroup | None] = relationship()
    tasks: Mapped[list[HumanTask]] = relationship(back_populates="instance", order_by="HumanTask.id")

    @property
    def called(self) -> list[ProcessVersion]:
        """The versions in ``called_versions``, for ``load_model(instance.version, instance.called)``.

        Read through the session's identity map, so asking again in a step costs no query."""
        session = object_session(self)
        if not self.called_versions or session is None:
            return []
        return [session.get_one(ProcessVersion, version_id) for version_id in sorted(self.called_versions.values())]


class RequestFigures(Model):
    """A request's figures for the reports (the amounts, days, flags and dates of its data,
    app/steps/figures.py) beside copies of the request's columns the reports filter and group
    by: a narrow row, so a report reads 100 000 of them without touching the requests' wide
    rows and their saved states. Written with the request's row by the step writer; a request
    that ran before it existed has none until `flask backfill` runs (docs/REPORTS.md)."""

    __table_args__ = (Index("ix_request_figures_process_started", "process_id", "started_at"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int] = mapped_column(Integer)
    working_group_id: Mapped[int | None] = mapped_column(Integer)
    initiator_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[InstanceStatus] = mapped_column(Enum(InstanceStatus, native_enum=False, length=20))
    outcome: Mapped[str] = mapped_column(String(100), default="")
    # JSONB on PostgreSQL: the reports read five of its values a row, and JSON text is parsed
    # again for each (the money report at 100 000 requests: 350 ms of the server's time as
    # JSON, 120 ms as JSONB; docs/PERFORMANCE.md).
    figures: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)


class HumanTask(Model):
    """A user task that is or was waiting for someone; the inbox reads only these rows."""

    # ix_human_task_state: what READY tasks wait for, for the monitoring filters.
    # ix_human_task_loop: "2 of 5 done", the completed rows of one multi-instance step.
    __table_args__ = (Index("ix_human_task_instance_spiff", "instance_id", "spiff_task_id"),
                      Index("ix_human_task_state", "state", "instance_id"),
                      Index("ix_human_task_loop", "loop_key", "bpmn_id", "state"),
                      # The flow report: the task rows of the requests started in a period, read
                      # from the index alone in the order it groups them by; and the tasks
                      # waiting since before a moment (past their reminder); docs/REPORTS.md.
                      Index("ix_human_task_flow", "request_year", "request_version_id", "bpmn_id", "state",
                            "channel", "hours_waited", "request_started_at", "request_group_id",
                            "request_initiator_id"),
                      Index("ix_human_task_ready_since", "state", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(201))  # <called process id>:<id> in a called process
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(100), default="")
    form_key: Mapped[str] = mapped_column(String(200))
    is_decision: Mapped[bool] = mapped_column(default=False)
    state: Mapped[TaskState] = mapped_column(
        Enum(TaskState, native_enum=False, length=20), default=TaskState.READY
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    channel: Mapped[str] = mapped_column(String(20), default="")
    # An instance of a multi-instance step: the step's engine task id (shared by its
    # instances), Camunda's loopCounter and nrOfInstances, and the instance's item as people
    # read it (also in ``name``: "Endorse: Tallinn City").
    loop_key: Mapped[str | None] = mapped_column(String(36))
    loop_counter: Mapped[int | None] = mapped_column(Integer)
    loop_total: Mapped[int | None] = mapped_column(Integer)
    loop_label: Mapped[str | None] = mapped_column(String(100))
    # For the flow report (ix_human_task_flow), so it neither joins nor sorts: copies of its
    # request's started_year, started_at, version, group and initiator, kept by the step
    # writer (a migration or a move to another group changes them on every row of the
    # request), and the whole hours it waited, written when it is completed.
    request_year: Mapped[int | None] = mapped_column(Integer)
    request_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    request_version_id: Mapped[int | None] = mapped_column(Integer)
    request_group_id: Mapped[int | None] = mapped_column(Integer)
    request_initiator_id: Mapped[int | None] = mapped_column(Integer)
    hours_waited: Mapped[int | None] = mapped_column(Integer)

    if TYPE_CHECKING:
        loop_done: Mapped[int]  # a deferred column_property, defined below the class

    instance: Mapped[ProcessInstance] = relationship(back_populates="tasks")
    completed_by: Mapped[User | None] = relationship()
    candidates: Mapped[list[TaskCandidate]] = relationship(
        back_populates="task", cascade="all, delete-orphan"
    )

    @property
    def is_ready(self) -> bool:
        return self.state == TaskState.READY

    @property
    def progress(self) -> str:
        """"2 of 5 done" for an instance of a multi-instance step, else ""."""
        if self.loop_key is None or self.loop_total is None:
            return ""
        return f"{self.loop_done} of {self.loop_total} done"


class TaskCandidate(Model):
    """A person a READY task waits for. Denormalised so the inbox is one indexed query."""

    __table_args__ = (Index("ix_task_candidate_inbox", "user_id", "ready", "task_created_at"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    ready: Mapped[bool] = mapped_column(default=True)
    task_created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[HumanTask] = relationship(back_populates="candidates")
    user: Mapped[User] = relationship()


class Attachment(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    # A file of a meeting's agenda instead of a request's (app/models/meetings.py).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[HumanTask | None] = relationship()


class AuditEvent(Model):
    """Append-only history: who did what to which instance, when, through which channel."""

    # ix_audit_event_action: the few rows of one kind among millions, e.g. a process's
    # version history on Administration → Processes, the tasks waiting for the administrators.
    __table_args__ = (Index("ix_audit_event_action", "action", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    channel: Mapped[str] = mapped_column(String(20))  # web, email, worker, admin, cli
    action: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
    task: Mapped[HumanTask | None] = relationship()


_SIBLING = aliased(HumanTask)
# How many instances of the same multi-instance step completed this step: deferred, so only the
# queries that show it (the inbox undefers it) pay for the subquery.
HumanTask.loop_done = column_property(
    select(func.count()).where(_SIBLING.loop_key == HumanTask.loop_key, _SIBLING.bpmn_id == HumanTask.bpmn_id,
                               _SIBLING.state == TaskState.COMPLETED).correlate_except(_SIBLING).scalar_subquery(),
    deferred=True)
