"""The one writer of a request's rows: its instance row, its task rows and their candidates.

Every change to ``process_instance``, ``human_task`` and ``task_candidate`` rows is written
here, as SQLAlchemy Core statements built once (a step is on every completion's path, and the
ORM's unit of work cost more than the engine). The session's objects of the rows written are
expired, so they read what was written when next used.

One optimistic lock guards a request: its row's ``lock_version``. A step locks the row first
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer) if its version is still the one
loaded, and every UPDATE of the row checks the version again and moves it on. A step that
finds the request changed by someone else meanwhile raises Conflict; the caller rolls back.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.engine import ProcessModel, ReadyTask, TaskDef, load_model
from app.engine.assignments import worked_out_name
from app.errors import TaskUnavailable
from app.extensions import db
from app.locale import in_language
from app.logs import current_request_id
from app.models import HumanTask, InstanceStatus, ProcessInstance, TaskCandidate, TaskState, User, WorkingGroup
from app.models.base import utcnow
from app.outbox.lines import said
from app.outbox.queue import queue_notice, queue_task_emails
from app.outbox.records import phrase
from app.outbox.shown import request_title as shown_title
from app.outbox.summary import summary_of
from app.outbox.titles import request_parts, request_title

from .audit import ADD_EVENTS, event_row, record
from .context import Opened, Told, running_step
from .figures import figures_of, keep_copies, task_copies, whole_hours, with_hours_to_end
from .lanes import assignment_label, may_do, task_candidates, task_extras
from .messages import note_messages, waits_label
from .names import uses_name
from .outcome import outcome_label
from .registry import engine

TASK = cast(Table, HumanTask.__table__)
CANDIDATE = cast(Table, TaskCandidate.__table__)
INSTANCE = cast(Table, ProcessInstance.__table__)

# Parameters are bound by name at execution.
LOCK_INSTANCE = select(INSTANCE.c.id).where(
    INSTANCE.c.id == bindparam("instance_id"), INSTANCE.c.lock_version == bindparam("loaded_version")
).with_for_update()
OPEN_TASKS = select(TASK.c.id, TASK.c.spiff_task_id, TASK.c.name, TASK.c.loop_key).where(
    TASK.c.instance_id == bindparam("instance_id"), TASK.c.state == TaskState.READY)
ADD_TASK = TASK.insert().returning(TASK.c.id)
CLOSE_TASK = update(TASK).where(TASK.c.id == bindparam("task_id"), TASK.c.state == TaskState.READY).values(
    state=TaskState.COMPLETED, completed_at=bindparam("now"), completed_by_id=bindparam("actor_id"),
    channel=bindparam("how"), hours_waited=bindparam("hours"))
WITHDRAW_TASKS = update(TASK).where(TASK.c.id.in_(bindparam("ids", expanding=True))).values(
    state=TaskState.CANCELLED, completed_at=bindparam("now"))
ADD_CANDIDATES = CANDIDATE.insert()
UNREADY_CANDIDATES = update(CANDIDATE).where(
    CANDIDATE.c.task_id.in_(bindparam("ids", expanding=True))).values(ready=False)
RETITLE_TASK = update(TASK).where(TASK.c.id == bindparam("task_id")).values(
    name=bindparam("name"), form_key=bindparam("form_key"), is_decision=bindparam("is_decision"))
DROP_CANDIDATES = delete(CANDIDATE).where(
    CANDIDATE.c.task_id == bindparam("task_id"), CANDIDATE.c.user_id.in_(bindparam("user_ids", expanding=True)))
CLOSED = ["state", "completed_at", "completed_by_id", "completed_by", "channel", "hours_waited"]  # CLOSE_TASK's
# What a step writes to the instance row.
STEP_COLUMNS = ("summary", "title", "parts", "state", "next_timer_at", "current_step", "status", "outcome",
                "ended_at")


class Conflict(Exception):
    """Someone else changed the request, or completed or withdrew the task, meanwhile."""


@functools.cache
def _save_statement(columns: tuple[str, ...]):
    """UPDATE of these columns of one instance row, if its version is still the one loaded."""
    return update(INSTANCE).where(
        INSTANCE.c.id == bindparam("instance_id"), INSTANCE.c.lock_version == bindparam("loaded_version")
    ).values({name: bindparam(f"new_{name}") for name in (*columns, "lock_version")})


def create_instance(**values: Any) -> ProcessInstance:
    """A new request's row, written at once (its id is needed for what the start stores)."""
    instance = ProcessInstance(**values)
    db.session.add(instance)
    db.session.flush()
    return instance


def lock_instance(instance: ProcessInstance) -> None:
    """Lock the request's row for this transaction, or raise Conflict if it changed meanwhile."""
    found = db.session.connection().execute(
        LOCK_INSTANCE, {"instance_id": instance.id, "loaded_version": instance.lock_version}).first()
    if found is None:
        raise Conflict(f"request {instance.id} was changed by someone else meanwhile")


def save_instance(instance: ProcessInstance, values: dict[str, Any],
                  figures: dict[str, Any] | None = None) -> None:
    """Write ``values`` to the request's row and move its version on, or raise Conflict; its
    figures row follows (with ``figures``, the reported figures of its data now, when given)."""
    values = with_hours_to_end(instance, values)
    columns = tuple(sorted(values))
    params = {f"new_{name}": value for name, value in values.items()}
    saved = db.session.connection().execute(_save_statement(columns), {
        "instance_id": instance.id, "loaded_version": instance.lock_version,
        "new_lock_version": instance.lock_version + 1, **params})
    if saved.rowcount != 1:
        raise Conflict(f"request {instance.id} was changed by someone else meanwhile")
    keep_copies(instance, values, figures)
    db.session.expire(instance, [*columns, "lock_version"])


def close_task(task: HumanTask, actor: User, channel: str, values: dict[str, Any]) -> None:
    """Mark the task completed by ``actor``, unless someone else completed it first."""
    instance = task.instance
    lock_instance(instance)
    db.session.flush()  # what the step's service tasks changed through the ORM
    conn = db.session.connection()
    now = utcnow()
    closed = conn.execute(CLOSE_TASK, {"task_id": task.id, "now": now, "actor_id": actor.id, "how": channel,
                                       "hours": whole_hours(task.created_at, now)})
    if closed.rowcount != 1:
        raise Conflict(f"task {task.id} was completed or withdrawn meanwhile")
    conn.execute(UNREADY_CANDIDATES, {"ids": [task.id]})
    _expire_tasks([task.id], CLOSED)
    current = running_step()
    if current is not None:
        current.kind = "completion"
    line = said("task_completed_by_email" if channel == "email" else "task_completed", task=task.name)
    record(instance, actor, channel, "task_completed", line, values, task=task)


def add_candidates(task: HumanTask, user_ids: list[int], created_at=None) -> list[int]:
    """Let these people do a waiting task too; the ids of those it did not wait for yet."""
    present = {c.user_id for c in task.candidates}
    added = [uid for uid in dict.fromkeys(user_ids) if uid not in present]
    if added:
        db.session.connection().execute(ADD_CANDIDATES, [
            {"task_id": task.id, "user_id": uid, "ready": True, "task_created_at": created_at or task.created_at}
            for uid in added])
        _expire_tasks([task.id], ["candidates"])
    return added


def drop_candidates(task: HumanTask, user_ids: list[int]) -> None:
    """The task no longer waits for these people."""
    if user_ids:
        db.session.connection().execute(DROP_CANDIDATES, {"task_id": task.id, "user_ids": list(user_ids)})
        _expire_tasks([task.id], ["candidates"])


LOCK_ROW = select(INSTANCE.c.id).where(INSTANCE.c.id == bindparam("instance_id")).with_for_update()


def recheck_lanes(actor: User, user_ids: list[int] | None = None, group_id: int | None = None,
                  name: str | None = None, why: dict[str, Any] | None = None) -> list[str]:
    """Waiting tasks wait for exactly the people their lanes name now; the changes, as lines in
    the current language (for the administrator who made the change).

    Called when roles or a group's lead change: ``user_ids`` re-checks those people on every
    waiting task; ``group_id`` re-checks the people of the waiting tasks of that group's
    requests and the group's lead now. Called when an administrator maps a diagram's ``name``
    (or changes or removes its mapping): the waiting tasks that use the name re-check their
    people and whom their names stand for now (the administrators, for a name not mapped).

    A person the task's lanes now name is added and emailed the task as for a new one (an
    inactive person is left to deactivation, ``release_waiting_tasks``); a person they no
    longer name is dropped, so the task leaves their inbox and their decision links stop
    working. A task an administrator gave to someone stays with that person (the lanes it was
    escalated to are still re-checked); separation of duties holds throughout (``may_do``).
    Each request's history says who was added or dropped, and why (``why``: a phrase of
    records.py; roles or a lead changed when not given).
    """
    if user_ids is not None and not user_ids:
        return []
    query = (select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(HumanTask.state == TaskState.READY).order_by(HumanTask.id))
    if group_id is not None:
        query = query.where(ProcessInstance.working_group_id == group_id)
    tasks = list(db.session.scalars(query))
    if not tasks:
        return []
    extras = task_extras([t.id for t in tasks])
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    lines: list[str] = []
    for task in tasks:
        instance = task.instance
        model = load_model(instance.version, instance.called)
        definition = model.tasks.get(task.bpmn_id)
        if definition is None:
            continue
        current = {c.user_id for c in task.candidates}
        extra = extras.get(task.id)
        if name is not None:
            if not uses_name(definition, extra.worked_out if extra else [], name):
                continue
            checked = current | set(task_candidates(definition, instance, model.start_lane, extras=extra))
            known = db.session.scalars(select(User).where(User.id.in_(checked)))
            named = {user.id for user in known if may_do(definition, instance, user, model.start_lane, extra)}
        elif user_ids is not None:
            named = {uid for uid, user in people.items() if may_do(definition, instance, user, model.start_lane, extra)}
            checked = set(people)
        else:  # a group's lead changed: its people as they are, and its lead now
            lead = instance.working_group.lead_id if instance.working_group else None
            checked = current | ({lead} if lead else set())
            known = db.session.scalars(select(User).where(User.id.in_(checked)))
            named = {user.id for user in known if may_do(definition, instance, user, model.start_lane, extra)}
        added = sorted(named - current)  # may_do names active people only
        dropped = sorted(checked & current - named)
        if not added and not dropped:
            continue
        db.session.connection().execute(LOCK_ROW, {"instance_id": instance.id})
        db.session.refresh(task, ["state"])
        if task.state != TaskState.READY:
            continue
        drop_candidates(task, dropped)
        add_candidates(task, added, created_at=utcnow())
        names = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(added + dropped)))}
        moved = {k: v for k, v in (("added", ", ".join(names[uid] for uid in added)),
                                   ("dropped", ", ".join(names[uid] for uid in dropped))) if v}
        kind = "both" if added and dropped else "added" if added else "dropped"
        record(instance, actor, "admin", "lanes_rechecked",
               said(f"lanes_rechecked_{kind}", why=why or phrase("why_roles"), task=task.name, **moved),
               {"added": added, "dropped": dropped}, task=task)
        queue_task_emails(instance.id, task.id, added)
        lines.append(said(f"task_moved_{kind}", task=task.name, title=shown_title(instance), **moved)
                     .shown(version=instance.version))
    db.session.flush()
    return lines


def sync_instance(instance: ProcessInstance, model: ProcessModel, wf, actor: User | None, channel: str,
                  changes: dict[str, Any] | None = None) -> None:
    """After the engine ran: task rows, candidates, state, status and timers match the workflow.

    ``changes`` are further values of the instance row written with the step (a new status,
    a new version); a step that sets the status itself is not taken for the request's end.
    Task emails for the new tasks are queued; a request that ends tells whoever started it.
    """
    eng = engine()
    db.session.flush()  # what the step's service tasks changed through the ORM (a new member, say)
    conn = db.session.connection()
    now = utcnow()
    data = eng.data(wf)
    stopped = eng.stopped(wf)  # an error nobody catches: no task waits any more
    ready = [] if stopped else eng.ready_tasks(wf)
    ready_ids = {t.id for t in ready}
    # What the engine ran that people should read of (a signal sent, an error caught), first.
    events = [event_row(instance.id, None, actor, channel, "event", said(line.key, **line.args),
                        {"bpmn_id": line.bpmn_id}) for line in eng.happenings(wf)]
    opened = {spiff_id: (row_id, name, loop_key) for row_id, spiff_id, name, loop_key
              in conn.execute(OPEN_TASKS, {"instance_id": instance.id})}
    gone = [row for spiff_id, row in opened.items() if spiff_id not in ready_ids]
    # An instance of a multi-instance step whose completion condition held: the others were enough.
    ended = {key for key in {key for _, _, key in gone if key} if eng.loop_finished(wf, key)}
    events += _withdraw(instance, [(row_id, name) for row_id, name, key in gone if key not in ended],
                        actor, channel, now)
    events += _withdraw(instance, [(row_id, name) for row_id, name, key in gone if key in ended],
                        actor, channel, now, "task_withdrawn_enough")
    moved_to = _follow_group(instance, data)  # before the new tasks' lanes are resolved
    created = [_open_task(instance, task, now, model.start_lane) for task in ready if task.id not in opened]
    events += [event_row(instance.id, row_id, actor, channel, "task_ready", said("task_ready", task=name))
               for row_id, name, _ in created]

    status = (changes or {}).get("status", instance.status)
    waits = note_messages(instance.id, wf, running=status == InstanceStatus.RUNNING and not eng.is_completed(wf))
    with in_language(None):  # stored once and read by everyone: dates and amounts in the default language
        summary = summary_of(model, data)
        title = request_title(model, data, summary)
    values: dict[str, Any] = {
        "summary": summary, "title": title,  # in English; the parts for other languages
        "parts": request_parts(model, data),
        "state": eng.dump(wf), "next_timer_at": eng.next_timer(wf),
        # A multi-instance step's name once; a request waiting only for messages names them.
        "current_step": (", ".join(dict.fromkeys(t.definition.name for t in ready)) or waits_label(waits))[:200],
        "status": instance.status, "outcome": instance.outcome, "ended_at": instance.ended_at,
        "request_id": current_request_id(),  # the worker fires the next timer under it
    }
    if moved_to is not None:
        values["working_group_id"] = moved_to
    values.update(changes or {})
    if stopped is not None and "status" not in (changes or {}):  # an administrator's cancel still cancels
        if instance.status != InstanceStatus.ERROR:
            events.append(event_row(instance.id, None, actor, channel, "error",
                                    said(stopped.line.key, **stopped.line.args) if stopped.line else str(stopped),
                                    {"bpmn_id": stopped.bpmn_id}))
        values.update(status=InstanceStatus.ERROR, error=str(stopped)[:2000], next_timer_at=None)
    finished = eng.is_completed(wf) and values["status"] == InstanceStatus.RUNNING and "status" not in (changes or {})
    if finished:
        values.update(status=InstanceStatus.COMPLETED, outcome=eng.ended_at(wf) or "", ended_at=now,
                      next_timer_at=None)
        events.append(event_row(instance.id, None, actor, channel, "completed",
                                said("completed", outcome=outcome_label(values["outcome"], model))))
    save_instance(instance, values, figures_of(data))
    if "tasks" in instance.__dict__:
        db.session.expire(instance, ["tasks"])
    if events:
        conn.execute(ADD_EVENTS, events)
    for row_id, _, people in created:
        queue_task_emails(instance.id, row_id, people)
    current = running_step()
    if finished and current is not None and instance.initiator_id not in current.told:
        # Whoever started a request hears when it ends, if the diagram's last step did not
        # tell them itself (the expert request's last notice goes to finance).
        sent = queue_notice(instance, "request_finished", [instance.initiator_id], data)
        current.notices.append(Told(tuple(person.id for person, _ in sent), sent[0][1] if sent else ""))


def _follow_group(instance: ProcessInstance, data: dict[str, Any]) -> int | None:
    """A request's working group is the ``working_group_id`` of its data: a step that changes it
    (an applicant who accepts another group) moves the request, so the group lead lane names
    the new group's lead. Returns the new group's id, or None when it stays."""
    wanted = data.get("working_group_id")
    if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted == instance.working_group_id:
        return None
    group = db.session.get(WorkingGroup, wanted)
    if group is None:
        return None
    set_committed_value(instance, "working_group_id", wanted)
    set_committed_value(instance, "working_group", group)
    return wanted


def withdraw_task(task: HumanTask, actor: User | None, channel: str, why: str = "task_withdrawn") -> None:
    """The task no longer waits for anyone; the history says so, and why (the line's key)."""
    events = _withdraw(task.instance, [(task.id, task.name)], actor, channel, utcnow(), why)
    db.session.connection().execute(ADD_EVENTS, events)


def retitle_task(task: HumanTask, definition: TaskDef, data: dict | None = None) -> None:
    """A waiting task keeps its row but takes its name and form from a new definition (its
    ``${...}`` worked out on the task's ``data``)."""
    db.session.connection().execute(RETITLE_TASK, {
        "task_id": task.id, "name": task_name(definition, task.loop_label or "", data),
        "form_key": definition.form.key,
        "is_decision": bool(definition.form.decisions)})
    _expire_tasks([task.id], ["name", "form_key", "is_decision"])


def _withdraw(instance: ProcessInstance, rows: list[tuple[int, str]], actor: User | None, channel: str,
              now: dt.datetime, why: str = "task_withdrawn") -> list[dict[str, Any]]:
    """Withdraw these (id, name) task rows; their history rows (``why``: the line's key, a
    ``task_withdrawn…`` of ``LINES``), to be written by the caller."""
    if not rows:
        return []
    ids = [row_id for row_id, _ in rows]
    conn = db.session.connection()
    conn.execute(WITHDRAW_TASKS, {"ids": ids, "now": now})
    conn.execute(UNREADY_CANDIDATES, {"ids": ids})
    _expire_tasks(ids, ["state", "completed_at"])
    return [event_row(instance.id, row_id, actor, channel, "task_withdrawn", said(why, task=name))
            for row_id, name in rows]


def _open_task(instance: ProcessInstance, task: ReadyTask, now, start_lane: str | None) -> tuple[int, str, list[int]]:
    """A row for a task that now waits, and its candidates: (row id, name, people)."""
    conn = db.session.connection()
    definition = task.definition
    loop = task.loop
    label = loop.label if loop else ""
    name = task_name(definition, label, task.data)
    row_id = conn.execute(ADD_TASK, {
        "instance_id": instance.id, "spiff_task_id": task.id, "bpmn_id": definition.bpmn_id,
        "name": name, "lane": assignment_label(definition),
        "form_key": definition.form.key, "is_decision": bool(definition.form.decisions),
        "state": TaskState.READY, "created_at": now, "channel": "",
        "loop_key": loop.key if loop else None, "loop_counter": loop.counter if loop else None,
        "loop_total": loop.total if loop else None, "loop_label": label or None,
        **task_copies(instance)}).scalar_one()
    people = task_candidates(definition, instance, start_lane, task_id=row_id, data=task.data)
    if people:
        conn.execute(ADD_CANDIDATES, [{"task_id": row_id, "user_id": uid, "ready": True,
                                       "task_created_at": now} for uid in people])
    current = running_step()
    if current is not None and current.instance is instance:
        current.opened.append(Opened(name, assignment_label(definition), tuple(people)))
    return row_id, name, people


def task_name(definition: TaskDef, loop_label: str = "", data: dict | None = None) -> str:
    """A task row's name: the step's, with its ``${...}`` worked out on the task's data when
    given, and the item of its instance of a multi-instance step ("Endorse: Tallinn City")."""
    name = worked_out_name(definition.name, data) if data is not None else definition.name
    return f"{name}: {loop_label}"[:200] if loop_label else name[:200]


def _expire_tasks(ids: list[int], attributes: list[str]) -> None:
    """Expire what was written of the session's objects of these task rows: ``attributes``,
    and the candidates' ``ready`` (a change of task state changes it)."""
    for row_id in ids:
        task = db.session.identity_map.get(identity_key(HumanTask, row_id))
        if task is None:
            continue
        if "candidates" not in attributes:
            for candidate in task.__dict__.get("candidates", ()):
                db.session.expire(candidate, ["ready"])
        db.session.expire(task, attributes)


def is_lock_error(exc: OperationalError) -> bool:
    """A concurrent writer got in the way: SQLite's busy or locked database, PostgreSQL's
    serialization failure or deadlock (whose victim's transaction is rolled back)."""
    text = str(exc.orig).lower() if exc.orig else str(exc).lower()
    return any(word in text for word in ("locked", "busy", "could not serialize", "deadlock detected"))


def is_conflict(exc: Exception) -> bool:
    """Whether ``exc`` says a concurrent change got in the way (and a retry may work)."""
    return isinstance(exc, Conflict) or (isinstance(exc, OperationalError) and is_lock_error(exc))


@contextmanager
def conflict_means_unavailable(task_id: int) -> Iterator[None]:
    """A concurrent change to the same request, seen inside, is TaskUnavailable."""
    try:
        yield
    except (Conflict, OperationalError) as exc:
        if not is_conflict(exc):
            raise
        raise TaskUnavailable(task_id) from exc


def commit_or_conflict(task_id: int) -> None:
    """Commit; a concurrent change to the same request rolls back and becomes TaskUnavailable."""
    try:
        db.session.commit()
    except OperationalError as exc:
        db.session.rollback()
        if not is_conflict(exc):
            raise
        raise TaskUnavailable(task_id) from exc
