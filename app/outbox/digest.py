"""The daily digest: one email with the new tasks of those who chose it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.locale import in_language
from app.models import HumanTask, NotifyMode, TaskCandidate, User
from app.models.base import utcnow

from .compose import decision_options, task_context
from .queue import decide_marker, external_url, queue_email
from .render import render_email


def queue_digests(now: dt.datetime | None = None) -> int:
    """Once a day, after DIGEST_HOUR, gather each digest reader's new tasks into one email."""

    now = now or utcnow()
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    local = now.astimezone(zone)
    moment = local.replace(hour=current_app.config["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if local < moment:
        moment -= dt.timedelta(days=1)
    moment = moment.astimezone(dt.UTC)
    query = select(User).where(User.notify_mode == NotifyMode.DIGEST, User.active.is_(True),
                               or_(User.last_digest_at.is_(None), User.last_digest_at < moment))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    queued = 0
    for person in db.session.scalars(query).all():
        since = person.last_digest_at or (moment - dt.timedelta(days=1))

        tasks = db.session.scalars(
            select(HumanTask).join(TaskCandidate)
            .where(TaskCandidate.user_id == person.id, TaskCandidate.ready.is_(True),
                   TaskCandidate.task_created_at > since)
            .order_by(TaskCandidate.task_created_at)
        ).all()
        if tasks:
            items = []
            with in_language(person):  # each task's sentence, as the template around them
                for task in tasks:
                    context = task_context(task, person)
                    context["decisions"] = [(label, decide_marker(task, value))
                                            for value, label in decision_options(task)]
                    items.append(context)
            rendered = render_email("email/digest.txt", {"recipient": person, "items": items,
                                                         "inbox_url": external_url("/inbox")}, to=person)
            queue_email(person, "digest", rendered, template="digest")
            queued += 1
        person.last_digest_at = now
    db.session.commit()
    return queued


