"""People's accounts: create and find them, the administrator's add, update and password
reset, releasing a deactivated person's tasks, and a person's own email choice.

A change of password or roles, and deactivation, end the person's sign-ins (end_sessions).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import ServiceError
from app.extensions import db
from app.models import HumanTask, NotifyMode, Role, TaskCandidate, TaskState, User, WorkingGroup
from app.models.base import utcnow
from app.outbox.shown import request_title
from app.steps import audit_event, drop_candidates, phrase, recheck_lanes, record, said

from .admin import _clean_name, _record, _refuse
from .organisations import _organisation, find_organisation
from .signins import end_sessions

MIN_PASSWORD_LENGTH = 10  # create_user enforces the same length for the CLI


def find_user(email: str | None) -> User | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise ServiceError(_("No user has the email address %(email)s", email=email))
    return user


def create_user(email: str, name: str, password: str, roles: Iterable[Role | str],
                organisation: str | None = None) -> User:
    email = email.strip().lower()
    if db.session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
        raise ServiceError(_("A user with the email address %(email)s already exists", email=email))
    if len(password) < 10:
        raise ServiceError(_("A password needs at least 10 characters"))
    user = User(email=email, name=name.strip(), organisation=find_organisation(organisation))
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def _check_email_free(email: str, user: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise _refuse("email", _("Enter an email address"))
    other = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if other is not None and other is not user:
        raise _refuse("email", _("%(name)s already uses the email address %(email)s", name=other.name, email=email))
    return email


def _check_password(password: str, field: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise _refuse(field, _("The password needs at least %(count)s characters", count=MIN_PASSWORD_LENGTH))


def _roles(roles: Iterable[Role | str]) -> set[Role]:
    try:
        wanted = {Role(role) for role in roles}
    except ValueError:
        raise _refuse("roles", _("Select roles from the list")) from None
    if not wanted:
        raise _refuse("roles", _("Select at least one role"))
    return wanted


def search_users(query: str, page: int, per_page: int):
    """People whose name or email address contains ``query``, by name, one page of them (not the
    pseudonyms that stand for people in purged requests, pseudonyms.py: an erased person is listed)."""
    statement = (select(User).options(selectinload(User.organisation), selectinload(User.role_rows))
                 .where(User.erased_at.is_(None) | User.pseudonym_id.is_not(None))
                 .order_by(func.lower(User.name), User.id))
    query = (query or "").strip()
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(func.lower(User.name).like(pattern, escape="\\")
                                    | func.lower(User.email).like(pattern, escape="\\"))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def update_user(actor: User, user: User, *, name: str, email: str, organisation_id: int | None,
                roles: Iterable[Role | str], active: bool) -> tuple[User, list[str]]:
    """Change a person's details, roles and whether they may sign in.

    Returns the person and, when they were deactivated, what became of the tasks waiting for
    them (see release_waiting_tasks).

    An administrator can neither deactivate themselves nor drop their own administrator role,
    so there is always someone left who can undo a mistake. A group's lead stays an active
    buyer until another lead is chosen, so the group lead's tasks always reach someone. An
    erased person's account (retention/erasure.py) stays as it is: it stands for them.
    """
    if user.erased_at is not None:
        raise _refuse(None, _("%(name)s was erased at their request: the account cannot be changed.",
                              name=user.name))
    name = _clean_name(name, "name", "person's name")
    email = _check_email_free(email, user)
    organisation = _organisation(organisation_id)
    wanted = _roles(roles)
    if user.id == actor.id and not active:
        raise _refuse("active", _("You cannot deactivate your own account. Ask another administrator."))
    if user.id == actor.id and Role.ADMINISTRATOR not in wanted:
        raise _refuse("roles", _("You cannot remove your own administrator role. Ask another administrator."))
    led = [g.name for g in db.session.scalars(select(WorkingGroup).where(WorkingGroup.lead_id == user.id))]
    if led and not active:
        raise _refuse("active", _("%(name)s leads %(groups)s. Choose another lead before deactivating this "
                                  "account.", name=user.name, groups=", ".join(led)))
    if led and Role.BUYER not in wanted:
        raise _refuse("roles", _("%(name)s leads %(groups)s and must stay a buyer. Choose another lead first.",
                                 name=user.name, groups=", ".join(led)))

    changes = []
    if user.name != name:
        changes.append(phrase("changed_name", old=user.name, new=name))
    if user.email != email:
        changes.append(phrase("changed_email", old=user.email, new=email))
    if user.organisation_id != organisation.id:
        changes.append(phrase("changed_organisation", old=user.organisation.name if user.organisation else
                              phrase("none"), new=organisation.name))
    roles_changed = user.roles != wanted
    if roles_changed:
        changes.append(phrase("changed_roles", old_roles=sorted(user.roles), roles=sorted(wanted)))
    deactivated = user.active and not active
    if user.active != active:
        changes.append(phrase("reactivated" if active else "deactivated"))
    if deactivated or user.roles != wanted:  # what they may do changed: they sign in again
        end_sessions(user)
    user.name, user.email, user.organisation, user.active = name, email, organisation, active
    user.set_roles(wanted)
    db.session.flush()
    recheck_lanes(actor, [user.id] if user.active and roles_changed else [])
    if changes:
        _record(actor, "user_updated", said("user_updated", user=user.name, email=user.email, changes=changes),
                {"user_id": user.id})
    return user, release_waiting_tasks(actor, user) if deactivated else []


def release_waiting_tasks(actor: User, user: User) -> list[str]:
    """A person who can no longer sign in stops holding tasks: each task waiting for them now
    waits for its other people only, or for nobody. The request's history says which; a task
    left waiting for nobody is listed under Monitoring ("waiting for nobody who can act") until
    an administrator gives it to someone. Reactivating the person does not give tasks back.

    Returns one line per task, for the administrator.
    """
    held = db.session.scalars(
        select(TaskCandidate).join(HumanTask)
        .where(TaskCandidate.user_id == user.id, HumanTask.state == TaskState.READY)
        .options(selectinload(TaskCandidate.task).selectinload(HumanTask.candidates)
                 .selectinload(TaskCandidate.user))
    ).all()
    lines = []
    for candidate in held:
        task = candidate.task
        others = [c.user.name for c in task.candidates if c.user_id != user.id and c.user.active and c.ready]
        drop_candidates(task, [user.id])
        kept = (said("task_released", user=user.name, task=task.name, title=task.instance.title,
                     others=", ".join(others)) if others else
                said("task_released_nobody", user=user.name, task=task.name, title=task.instance.title))
        record(task.instance, actor, "admin", "task_released", kept,
               {"user_id": user.id, "waiting_for": others}, task=task)
        shown = said("task_moved_others" if others else "task_moved_nobody", task=task.name,
                     title=request_title(task.instance), others=", ".join(others))
        lines.append(shown.shown(version=task.instance.version))
    db.session.flush()
    return lines


def set_notify_mode(actor: User, mode: NotifyMode) -> None:
    """A person chooses an email per task, or one daily digest (decision links work in both)."""
    if actor.notify_mode != mode:
        actor.notify_mode = mode
        if mode == NotifyMode.DIGEST and actor.last_digest_at is None:
            actor.last_digest_at = utcnow()  # the first digest gathers from now on
        db.session.add(audit_event(actor, "web", "profile_updated",
                                   said("chose_digest" if mode == NotifyMode.DIGEST else "chose_each_task")))


def set_language(actor: User, language: str) -> None:
    """A person chooses the language of their pages and emails (one of LANGUAGES)."""
    if language not in current_app.config["LANGUAGES"]:
        raise ServiceError(_("Select a language"))
    if actor.language != language:
        actor.language = language
        db.session.add(audit_event(actor, "web", "profile_updated", said("chose_language", language=language)))
