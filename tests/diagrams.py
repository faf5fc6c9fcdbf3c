"""Walk any uploaded diagram over HTTP, as its people would: upload it through Administration
→ Processes, start a request, complete its tasks. Shared by the tests of each BPMN element."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

from sqlalchemy import select

from app.engine import load_model
from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, ProcessVersion, TaskState
from app.steps import engine
from tests.conftest import loaded, post_form, sign_in

FIXTURES = Path(__file__).parent / "fixtures"


def text(response) -> str:
    """The page as a person reads it: tags dropped, white space collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def upload_process(client, files: dict[str, bytes], activate: bool = True) -> ProcessVersion:
    """Upload ``files`` as the administrator, confirm the review (activating the version unless
    told not to); the stored version. Fails with the validation report when it is refused."""
    sign_in(client, "admin")
    response = post_form(client, "/admin/processes/upload", {"note": ""},
                         {"files": [(io.BytesIO(data), name) for name, data in files.items()]})
    assert response.status_code == 302, text(response)[:3000]
    response = post_form(client, response.headers["Location"], {"activate": "y"} if activate else {})
    assert response.status_code == 302, text(response)[:3000]
    db.session.expire_all()
    return db.session.scalar(select(ProcessVersion).order_by(ProcessVersion.id.desc()))


def upload_report(client, files: dict[str, bytes]) -> str:
    """Upload ``files`` as the administrator and return the validation report's text."""
    sign_in(client, "admin")
    response = post_form(client, "/admin/processes/upload", {"note": ""},
                         {"files": [(io.BytesIO(data), name) for name, data in files.items()]})
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return text(response)


def start_request(client, who: str, process_id: str, data: dict | None = None,
                  files: dict | None = None) -> ProcessInstance:
    """``who`` starts a request of ``process_id`` from its start form; the new request."""
    sign_in(client, who)
    response = post_form(client, f"/start/{process_id}", data or {}, files)
    assert response.status_code == 302, text(response)[:3000]
    db.session.expire_all()
    return db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))


def ready_tasks(instance: ProcessInstance, bpmn_id: str | None = None) -> list[HumanTask]:
    """The request's waiting tasks (of one step, when ``bpmn_id`` is given), oldest first."""
    db.session.expire_all()
    query = select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)
    if bpmn_id is not None:
        query = query.where(HumanTask.bpmn_id == bpmn_id)
    return list(db.session.scalars(query.order_by(HumanTask.id)))


def complete(client, who: str, task: HumanTask, data: dict | None = None, files: dict | None = None) -> None:
    """``who`` opens the task page and sends its form."""
    sign_in(client, who)
    loaded(client.get(f"/tasks/{task.id}"))
    response = post_form(client, f"/tasks/{task.id}", data or {}, files)
    assert response.status_code == 302, text(response)[:3000]


def refreshed(instance: ProcessInstance) -> ProcessInstance:
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def data_of(instance: ProcessInstance) -> dict:
    """The request's data as its saved workflow holds it."""
    instance = refreshed(instance)
    return engine().data(engine().load(load_model(instance.version), instance.state))


def definition(process_id: str) -> ProcessDefinition | None:
    db.session.expire_all()
    return db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id))


def history(instance: ProcessInstance, action: str | None = None) -> list[str]:
    """The request's history lines, oldest first (of one kind, when ``action`` is given)."""
    db.session.expire_all()
    query = select(AuditEvent.summary).where(AuditEvent.instance_id == instance.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def waiting_for(task: HumanTask) -> set[str]:
    """The first names of the people a waiting task waits for ('clara', 'admin', ...)."""
    db.session.expire_all()
    task = db.session.get_one(HumanTask, task.id)
    return {c.user.email.split("@")[0].split(".")[0] for c in task.candidates if c.ready}
