"""Everything the app holds about a person, as a ZIP of JSON files and their files (GDPR
Articles 15 and 20): the person downloads it from their settings, an administrator for anyone.

The ZIP is written into a ``SpooledTemporaryFile``: small exports stay in memory, a large one
(many receipts) goes to a temporary file, never whole into memory. Stored files are copied in
chunks from the attachment store (the upload folder or the bucket).

What a request shows is what its page shows the person: ``instance_history`` read as them, so
the requests they started come whole (they read their own personal data) and the steps they did
on others' requests come masked where they may not read it. Nothing of another person's requests
is taken otherwise, and no email's decision link (still usable) is copied.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
import zipfile
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from werkzeug.utils import secure_filename

from app.engine import load_model
from app.errors import NotAllowed
from app.extensions import db
from app.models import (
    Attachment,
    AuditEvent,
    FailedSignIn,
    GroupMembership,
    HumanTask,
    InstanceStatus,
    Meeting,
    MeetingInvitee,
    OutboxMessage,
    ProcessInstance,
    Role,
    SecondFactor,
    SignIn,
    TaskState,
    User,
    WorkingGroup,
)
from app.outbox.account_links import ACCOUNT
from app.outbox.answer_links import ANSWER
from app.outbox.queue import DECIDE
from app.outbox.shown import request_title
from app.services.answers import answered_steps
from app.services.history import Entry, instance_history
from app.services.storage import StorageRefused, storage
from app.steps import audit_event, event_line, said, status_word
from app.steps.lanes import local_today

SPOOL_BYTES = 8 * 1024 * 1024  # past this the ZIP being written moves from memory to a temporary file
EXPORTED = "personal_data_exported"


def may_export(actor: User, subject: User) -> bool:
    """A person exports their own data; an administrator anyone's."""
    return actor.id == subject.id or actor.has_role(Role.ADMINISTRATOR)


def export_personal_data(actor: User, subject: User) -> IO[bytes]:
    """The ZIP of everything held about ``subject``, read from its start; the export is recorded
    (who downloaded whose data, when). Raises NotAllowed, and StorageRefused when a stored file
    cannot be read."""
    if not may_export(actor, subject):
        raise NotAllowed(_("You can only download your own data."))
    archive = _Archive()
    try:
        archive.write_json("account.json", _account(subject))
        archive.write_json("requests.json", [_request(row, subject, archive) for row in _started(subject)])
        archive.write_json("tasks.json", _tasks(subject, archive))
        archive.write_json("meetings.json", _meetings(subject))
        archive.write_json("emails.json", _emails(subject))
        archive.add_other_files(subject)
        archive.write_text("README.txt", readme(subject))
    except BaseException:
        archive.spool.close()
        raise
    own = actor.id == subject.id
    db.session.add(audit_event(actor, "web" if own else "admin", EXPORTED,
                               said("own_data_downloaded") if own else
                               said("data_downloaded", user=subject.name, email=subject.email),
                               {"user_id": subject.id}))
    db.session.flush()
    return archive.close()


def export_name(subject: User, today: dt.date) -> str:
    """The ZIP's file name: whose data, and the day."""
    return f"{secure_filename(subject.name).lower() or 'person'}-data-{today.isoformat()}.zip"


class _Archive:
    """The ZIP being written, and the stored files already in it (each once)."""

    def __init__(self) -> None:
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        self.zip = zipfile.ZipFile(self.spool, "w", compression=zipfile.ZIP_DEFLATED)
        self.paths: dict[int, str] = {}  # attachment id -> its path in the ZIP
        self.taken: set[str] = set()

    def write_json(self, name: str, value: Any) -> None:
        with self.zip.open(name, "w") as out:
            out.write(json.dumps(value, ensure_ascii=False, indent=2, default=str).encode("utf-8"))

    def write_text(self, name: str, value: str) -> None:
        self.zip.writestr(name, value.encode("utf-8"))

    def add_file(self, row: Attachment) -> str:
        """Copy a stored file into the ZIP (once, whichever step names it); its path there, or
        what the JSON says of a file the store no longer holds (deleted when it was due)."""
        if row.id in self.paths:
            return self.paths[row.id]
        source = _open(row.stored_path)
        if source is None:
            self.paths[row.id] = _("%(name)s (no longer kept)", name=row.filename)
            return self.paths[row.id]
        folder = (f"files/request-{row.instance_id}" if row.instance_id
                  else f"files/meeting-{row.meeting_id}" if row.meeting_id else "files/other")
        name = secure_filename(row.filename) or "file"
        stem, dot, extension = name.rpartition(".")
        path, number = f"{folder}/{name}", 1
        while path in self.taken:
            number += 1
            path = f"{folder}/{stem or extension}-{number}{dot}{extension if stem else ''}"
        self.taken.add(path)
        with source, self.zip.open(path, "w", force_zip64=True) as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        self.paths[row.id] = path
        return path

    def add_other_files(self, subject: User) -> None:
        """The files the person uploaded that no exported answer names (a meeting's agenda)."""
        for row in db.session.scalars(select(Attachment).where(Attachment.uploaded_by_id == subject.id)
                                      .order_by(Attachment.id)):
            self.add_file(row)

    def close(self) -> IO[bytes]:
        self.zip.close()
        self.spool.seek(0)
        return self.spool


def _open(key: str) -> IO[bytes] | None:
    """The stored content, or None when the store no longer holds it; StorageRefused when the
    store cannot be read."""
    store = storage()
    try:
        return store.open(key)
    except (OSError, StorageRefused) as problem:
        if not store.exists(key):
            return None
        raise problem if isinstance(problem, StorageRefused) else StorageRefused(problem) from problem


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account(subject: User) -> dict[str, Any]:
    organisation = subject.organisation
    groups = db.session.scalars(
        select(WorkingGroup).join(GroupMembership).where(GroupMembership.organisation_id == subject.organisation_id)
        .order_by(WorkingGroup.name)).all() if organisation is not None else []
    led = db.session.scalars(select(WorkingGroup.name).where(WorkingGroup.lead_id == subject.id)
                             .order_by(WorkingGroup.name)).all()
    return {
        "name": subject.name,
        "email": subject.email,
        "organisation": None if organisation is None else {
            "name": organisation.name, "type": organisation.type.label, "country": organisation.country_name},
        "roles": sorted(role.value for role in subject.roles),
        "can_sign_in": subject.active,
        "account_created": _moment(subject.created_at),
        "task_emails": subject.notify_mode.value,
        "absence": None if subject.away_from is None else {
            "first_day": _day(subject.away_from), "last_day": _day(subject.away_to),
            "deputy": subject.deputy.name if subject.deputy else None},
        "two_step_sign_in": db.session.scalar(select(SecondFactor.confirmed_at).where(
            SecondFactor.user_id == subject.id)) is not None,
        "working_groups_of_your_organisation": [group.name for group in groups],
        "working_groups_you_lead": list(led),
        "signed_in_now": [
            {"since": _moment(row.created_at), "last_seen": _moment(row.last_seen_at),
             "until": _moment(row.expires_at), "kept_signed_in": row.remember}
            for row in db.session.scalars(select(SignIn).where(SignIn.user_id == subject.id).order_by(SignIn.id))],
        "failed_sign_ins": [
            {"at": _moment(row.attempted_at), "from_address": row.client}
            for row in db.session.scalars(select(FailedSignIn).where(
                func.lower(FailedSignIn.email) == subject.email.lower()).order_by(FailedSignIn.id))],
        "account_history": [
            {"at": _moment(event.created_at), "by": event.actor.name if event.actor else None,
             "what": event_line(event, None)}
            for event in db.session.scalars(select(AuditEvent).where(
                AuditEvent.instance_id.is_(None),
                or_(AuditEvent.data["user_id"].as_integer() == subject.id,
                    (AuditEvent.actor_id == subject.id) & (AuditEvent.channel != "admin")))
                .order_by(AuditEvent.created_at, AuditEvent.id))],
    }


def _started(subject: User) -> list[ProcessInstance]:
    return list(db.session.scalars(select(ProcessInstance).where(ProcessInstance.initiator_id == subject.id)
                                   .order_by(ProcessInstance.started_at, ProcessInstance.id)))


def _answers(entry: Entry, archive: _Archive) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for answer in entry.answers:
        if answer.files:
            found.append({"question": answer.label, "files": [archive.add_file(row) for row in answer.files]})
        else:
            found.append({"question": answer.label, "answer": None if answer.empty else answer.value})
    return found


def _status(instance: ProcessInstance) -> str:
    if instance.status == InstanceStatus.COMPLETED:
        return status_word(instance.outcome, load_model(instance.version, instance.called))
    return instance.status.value.capitalize()


def _request(instance: ProcessInstance, subject: User, archive: _Archive) -> dict[str, Any]:
    """A request the person started, as its page shows it to them: every round of every step."""
    model = load_model(instance.version, instance.called)
    history = instance_history(instance, model, subject)
    return {
        "number": instance.id,
        "process": model.name,
        "title": request_title(instance),
        "status": _status(instance),
        "working_group": instance.working_group.name if instance.working_group else None,
        "started": _moment(instance.started_at),
        "finished": _moment(instance.ended_at),
        "answers": [{"step": step.title, "by": step.entry.event.actor.name if step.entry.event.actor else None,
                     "at": _moment(step.entry.event.created_at), "answers": _answers(step.entry, archive)}
                    for step in answered_steps(history, model)],
        "history": [{"at": _moment(entry.event.created_at),
                     "by": entry.event.actor.name if entry.event.actor else None, "what": entry.line}
                    for entry in history],
    }


def _tasks(subject: User, archive: _Archive) -> list[dict[str, Any]]:
    """The steps the person did on requests others started: their decisions and answers, as the
    request's page shows them to the person (personal data they may not read stays masked)."""
    instances = db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(
            select(HumanTask.instance_id).where(HumanTask.completed_by_id == subject.id,
                                                HumanTask.state == TaskState.COMPLETED)),
            ProcessInstance.initiator_id != subject.id).order_by(ProcessInstance.id))
    done = []
    for instance in instances:
        model = load_model(instance.version, instance.called)
        for entry in instance_history(instance, model, subject):
            event = entry.event
            if event.action != "task_completed" or event.actor_id != subject.id or event.task is None:
                continue
            done.append({"request": request_title(instance), "process": model.name, "step": event.task.name,
                         "at": _moment(event.created_at), "through": event.channel,
                         "answers": _answers(entry, archive)})
    return done


def _meeting(meeting: Meeting) -> dict[str, Any]:
    return {"meeting": meeting.title, "working_group": meeting.group.name, "starts": _moment(meeting.starts_at),
            "ends": _moment(meeting.ends_at), "time_zone": meeting.time_zone, "place": meeting.place,
            "cancelled": meeting.cancelled}


def _meetings(subject: User) -> dict[str, list[dict[str, Any]]]:
    """The meetings the person was invited to, with their answer and attendance, and those they planned."""
    invited = db.session.scalars(select(MeetingInvitee).join(Meeting).where(MeetingInvitee.user_id == subject.id)
                                 .order_by(Meeting.starts_at, Meeting.id))
    planned = db.session.scalars(select(Meeting).where(Meeting.planned_by_id == subject.id)
                                 .order_by(Meeting.starts_at, Meeting.id))
    return {
        "invited": [_meeting(row.meeting) | {
            "your_answer": row.answer.label if row.answer else None, "answered": _moment(row.answered_at),
            "answered_by_email": row.answered_by_email,
            "attended": row.attended.label if row.attended else None,
            "attendance_recorded": _moment(row.recorded_at),
            "attendance_recorded_by": row.recorded_by.name if row.recorded_by else None,
        } for row in invited],
        "planned": [_meeting(meeting) for meeting in planned],
    }


def _emails(subject: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(OutboxMessage).where(or_(
        OutboxMessage.recipient_id == subject.id, func.lower(OutboxMessage.to_address) == subject.email.lower()))
        .order_by(OutboxMessage.created_at, OutboxMessage.id))
    return [{
        "to": row.to_address, "subject": row.subject, "written": _moment(row.created_at),
        "sent": _moment(row.sent_at), "status": row.status.value,
        "text": _without_links(row.text_body),
        "attached_files": [item.get("filename") for item in row.attachments or []],
    } for row in rows]


def _without_links(text: str) -> str:
    """An email's text with its decision, answer and password links (minted only when it is
    sent, and still usable) named instead: "[link: approve]"."""
    def named(link: re.Match) -> str:
        return "[" + _("link: %(what)s", what=link.group(2).replace("_", " ")) + "]"

    return ACCOUNT.sub("[" + _("link to choose a password") + "]", ANSWER.sub(named, DECIDE.sub(named, text)))


def readme(subject: User) -> str:
    """What each file of the ZIP is, in plain words, in the reader's language."""
    parts = [
        _("Your data from Big Buyers Workflow"),
        _("This archive holds everything Big Buyers Workflow keeps about %(name)s (%(email)s) on %(day)s. "
          "The .json files are text in the JSON format: open them in a text editor, or read them with any "
          "program that reads JSON. Times are in UTC.",
          name=subject.name, email=subject.email, day=local_today().isoformat()),
        _("account.json: your account: name, email address, organisation, roles, your settings and absence, "
          "the working groups of your organisation and those you lead, where you are signed in now, failed "
          "sign-ins with your email address, and the changes made to your account."),
        _("requests.json: the requests you started: their status, every answer given in them (each round "
          "of a step that was done more than once) and their history: who did what, and when."),
        _("tasks.json: the tasks you did on requests other people started: your decisions and answers."),
        _("meetings.json: the meetings you were invited to, your answers and whether you attended, and the "
          "meetings you planned."),
        _("emails.json: the emails we sent you or have still to send you. The links they held are left out: "
          "decision links work only once and only from the email."),
        _("files: the files in your requests and the files you uploaded, one folder per request or meeting. "
          "The answers in the .json files name them by their place in this folder."),
        _("To have data corrected or deleted, contact the data protection officer named in the privacy notice."),
    ]
    return "\n\n".join(parts) + "\n"
