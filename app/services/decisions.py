"""Emailed decisions: check a link's token, then decide through the same service as the form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import TaskUnavailable
from app.extensions import db
from app.models import ActionToken, HumanTask, TaskState
from app.models.base import utcnow
from app.steps import Step, commit_or_conflict
from forms.translations import diagram_text

from .tasks import complete_task, is_candidate


@dataclass
class Refusal:
    """Why a link cannot decide, in plain words, and the page's HTTP status."""

    title: str
    message: str
    task: HumanTask | None = None
    status: int = 410


def find_token(secret: str) -> ActionToken | None:
    if not secret or len(secret) > 100:
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return db.session.scalar(select(ActionToken).where(ActionToken.token_hash == digest))


def check_token(token: ActionToken | None) -> Refusal | None:
    """None when the link may still decide; else why not. Reads only, changes nothing."""
    if token is None or token.task is None:  # no task: an invitation's answer link (meetings)
        return Refusal(_("This link does not work"),
                       _("The link is not one this service sent, or it was changed or cut short. "
                         "Copy the whole link from the email, or sign in and open the task."), status=404)
    task = token.task
    name = diagram_text(task.instance.version, task.name)  # in the page's language
    if task.state == TaskState.COMPLETED:
        who = task.completed_by.name if task.completed_by else _("Someone else")
        return Refusal(_("This has already been decided"), _("%(who)s completed “%(task)s”", who=who, task=name),
                       task)
    if task.state == TaskState.CANCELLED:
        return Refusal(_("This task was withdrawn"),
                       _("“%(task)s” no longer waits for anyone. Nothing was changed.", task=name), task)
    if token.used_at is not None:
        return Refusal(_("This link has been used"), _("Each decision link works once. Nothing was changed."), task)
    if token.expires_at <= utcnow():
        return Refusal(_("This link has expired"),
                       _("Decision links work for a limited time. Sign in to decide from the task page."), task)
    # The lane is checked again (is_candidate): a link outlives a role or a lead's place lost.
    if not token.user.active or not is_candidate(token.user, task):
        return Refusal(_("This task is no longer yours"),
                       _("This task is no longer waiting for you: “%(task)s” now waits for other people. "
                         "Nothing was changed.", task=name), task, status=403)
    return None


def decide_by_token(token: ActionToken, data: dict[str, Any]) -> Step:
    """Complete the token's task as its recipient, by email; the token is used up. Returns the step."""
    refusal = check_token(token)
    task_id = token.task_id
    if refusal is not None or task_id is None:  # check_token refuses a token without a task
        raise TaskUnavailable(task_id or 0, refusal.message if refusal else _("This link does not work."))
    values = dict(data)
    values["decision"] = token.decision
    done = complete_task(token.user, task_id, values, channel="email")
    token.used_at = utcnow()
    commit_or_conflict(task_id)
    return done
