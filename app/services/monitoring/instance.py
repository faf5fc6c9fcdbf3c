"""One request's page: its diagram and markers, its steps as text, the data of every form sent
and its attachments. Only this page loads a workflow, to say which steps are done."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.engine import load_model, parse_xml
from app.errors import ServiceError
from app.extensions import db
from app.models import (
    Attachment,
    AuditEvent,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    TaskState,
    User,
)
from app.services.history import may_download
from app.steps import engine, event_line
from app.steps.lanes import lane_label, waiting_why
from forms.text import format_moment
from forms.translations import SOURCE_LANGUAGE, current_language, diagram_text

from .access import _require_monitor
from .queries import _zone


@dataclass
class Step:
    bpmn_id: str
    name: str
    detail: str = ""  # who did it and when, or who it waits for
    task_id: int | None = None  # of a waiting task


@dataclass
class Steps:
    done: list[Step]
    current: list[Step]
    failed: list[Step]
    left: list[Step]  # user tasks not reached yet; some happen only on some paths


AUTOMATIC = frozenset({"serviceTask", "scriptTask", "businessRuleTask", "sendTask"})


def diagram_xml(actor: User, version: ProcessVersion) -> str:
    """The .bpmn of a version (a request's own), as it was stored."""
    _require_monitor(actor)
    files = version.files
    name = next((n for n in sorted(files) if n.endswith(".bpmn")), None)
    if name is None:
        raise ServiceError(_("This version has no diagram."))
    return files[name]


def _element_names(instance: ProcessInstance) -> dict[str, tuple[str, str]]:
    """bpmn id -> (name, element kind) of every named element of the instance's version, and of
    the versions it calls as ``<process id>:<id>`` -> ("<name> (<called process>)", kind); each
    name in the page's language, through its own version's catalogue."""
    found: dict[str, tuple[str, str]] = {}
    for version, prefix, suffix in [(instance.version, "", ""), *(
            (v, f"{v.definition.process_id}:", f" ({diagram_text(v, v.definition.name)})") for v in instance.called)]:
        files = version.files
        for file_name in sorted(n for n in files if n.endswith(".bpmn")):
            for element in parse_xml(file_name, files[file_name]).iter():
                if not isinstance(element.tag, str):
                    continue
                bpmn_id, name = element.get("id"), element.get("name")
                if bpmn_id and name:
                    found[prefix + bpmn_id] = (diagram_text(version, " ".join(name.split())) + suffix,
                                               element.tag.rsplit("}", 1)[-1])
    return found


def _failed_ids(instance: ProcessInstance) -> list[str]:
    if instance.status != InstanceStatus.ERROR:
        return []
    data = db.session.scalar(
        select(AuditEvent.data).where(AuditEvent.instance_id == instance.id, AuditEvent.action == "error")
        .order_by(AuditEvent.id.desc()).limit(1))
    bpmn_id = (data or {}).get("bpmn_id")
    return [bpmn_id] if bpmn_id else []


def _trail(instance: ProcessInstance) -> list[str]:
    """The bpmn ids the instance completed, in order; loads its workflow."""
    model = load_model(instance.version, instance.called)
    return engine().trail(engine().load(model, instance.state))


def instance_markers(actor: User, instance: ProcessInstance) -> dict[str, list[str]]:
    """Which elements to mark on the diagram: completed, current (READY) and failed ids."""
    _require_monitor(actor)
    model = load_model(instance.version, instance.called)
    current = [t.bpmn_id for t in instance.tasks if t.state == TaskState.READY]
    return {"completed": [i for i in dict.fromkeys(_trail(instance)) if ":" not in i],  # the diagram's own
            "current": _on_diagram(model, current),
            "failed": _on_diagram(model, _failed_ids(instance))}


def _on_diagram(model, ids: list[str]) -> list[str]:
    """The elements of the request's own diagram for ``ids``: a called process's step
    (``<process id>:<id>``) shows as the call activity through which that process runs."""
    shown: list[str] = []
    for bpmn_id in ids:
        shown.extend(_calls_to(model, bpmn_id.split(":", 1)[0]) if ":" in bpmn_id else [bpmn_id])
    return list(dict.fromkeys(shown))


def _calls_to(model, process_id: str) -> list[str]:
    """The call activities of ``model``'s own diagram through which ``process_id`` runs, directly or not."""
    def reaches(called_id: str, seen: frozenset[str]) -> bool:
        called = model.called.get(called_id)
        return called_id == process_id or (called is not None and called_id not in seen and any(
            reaches(ref.process_id, seen | {called_id}) for ref in called.calls))
    return [ref.element_id for ref in model.calls if reaches(ref.process_id, frozenset())]


def _called_names(model, instance: ProcessInstance) -> dict[str, str]:
    """Each call activity (as ``trail`` names it) -> the name of the process it calls, in the page's language."""
    versions = {v.definition.process_id: v for v in instance.called}
    found = {}
    for owner in (model, *model.called.values()):
        for ref in owner.calls:
            key = ref.element_id if owner is model else f"{owner.process_id}:{ref.element_id}"
            called = model.called.get(ref.process_id)
            found[key] = diagram_text(versions.get(ref.process_id), called.name) if called is not None \
                else ref.process_id
    return found


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return format_moment(moment, _zone())


def instance_steps(actor: User, instance: ProcessInstance) -> Steps:
    """The steps as text, for people who do not see the diagram: done, current, failed, left."""
    _require_monitor(actor)
    model = load_model(instance.version, instance.called)
    trail = _trail(instance)
    names = _element_names(instance)
    calls = _called_names(model, instance)
    completed_rows: dict[str, list[HumanTask]] = defaultdict(list)
    loops_done: Counter[tuple[str | None, str]] = Counter()  # multi-instance steps: rows completed
    for row in instance.tasks:
        if row.state == TaskState.COMPLETED:
            completed_rows[row.bpmn_id].append(row)
            loops_done[row.loop_key, row.bpmn_id] += 1
    done: list[Step] = []
    for bpmn_id in trail:
        name, kind = names.get(bpmn_id, ("", ""))
        if not name or kind.endswith("Gateway"):
            continue
        detail = ""
        if completed_rows.get(bpmn_id):
            row = completed_rows[bpmn_id].pop(0)
            name = diagram_text(instance.version, row.name) if row.loop_key else name  # "Endorse: Tallinn City"
            who = row.completed_by.name if row.completed_by else _("someone")
            detail = (_("%(who)s, %(when)s (by email)", who=who, when=_when(row.completed_at)) if row.channel == "email"
                      else f"{who}, {_when(row.completed_at)}")
        elif kind == "startEvent" and not done and ":" not in bpmn_id:  # the request's, not a subprocess's
            detail = f"{instance.initiator.name}, {_when(instance.started_at)}"
        elif kind == "callActivity" and bpmn_id in calls:
            detail = _("called %(process)s", process=calls[bpmn_id])
        elif kind in AUTOMATIC:
            detail = _("automatic")
        done.append(Step(bpmn_id, name, detail))
    current = []
    for row in instance.tasks:
        if row.state != TaskState.READY:
            continue
        people = [c.user.name for c in row.candidates if c.ready]
        who = ", ".join(people) if people else _("nobody yet (%(lane)s)", lane=lane_label(row.lane, instance))
        why = waiting_why(row)
        since = _when(row.created_at)
        detail = _("waiting for %(who)s since %(when)s (%(done)s of %(total)s done)", who=who, when=since,
                   done=loops_done[row.loop_key, row.bpmn_id], total=row.loop_total) if row.loop_key \
            else _("waiting for %(who)s since %(when)s", who=who, when=since)
        current.append(Step(row.bpmn_id, diagram_text(instance.version, row.name),
                            detail + (f". {why.rstrip('.')}" if why else ""), row.id))
    failed = [Step(bpmn_id, names.get(bpmn_id, (bpmn_id, ""))[0], error_text(instance))
              for bpmn_id in _failed_ids(instance)]
    reached = set(trail) | {s.bpmn_id for s in current}
    left = [Step(t.bpmn_id, diagram_text(instance.version, t.name), lane_label(t.lane, instance) if t.lane else "")
            for t in model.tasks.values()
            if t.bpmn_id not in reached] if instance.status in (InstanceStatus.RUNNING, InstanceStatus.ERROR) else []
    return Steps(done, current, failed, left)


def instance_attachments(actor: User, instance: ProcessInstance) -> list[Attachment]:
    """The request's files ``actor`` may download: the Commission, say, not the receipts."""
    _require_monitor(actor)
    model = load_model(instance.version, instance.called)
    return [row for row in db.session.scalars(
        select(Attachment).where(Attachment.instance_id == instance.id).order_by(Attachment.id))
        if may_download(actor, row, instance, model)]


def reassign_choices() -> list[tuple[str, str]]:
    return [(str(uid), name) for uid, name in db.session.execute(
        select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))]


def error_text(instance: ProcessInstance) -> str:
    """Why a request in error stopped: in the reader's language when the history's row written
    with the error says the same in English (an error nobody catches, a message that could not
    be handled); else the error as stored (a script's or the engine library's own words)."""
    if not instance.error or current_language() == SOURCE_LANGUAGE:
        return instance.error or ""
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                       AuditEvent.action == "error")
                              .order_by(AuditEvent.id.desc()).limit(1))
    if event is not None and event.summary == instance.error[:500]:
        return event_line(event, instance.version)
    return instance.error
