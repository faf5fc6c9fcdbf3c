"""Links that answer a meeting invitation, minted when the e-mail is sent, as decision links are.

An invitation is queued with ``%%ANSWER:<meeting id>:<answer>%%`` markers. The worker replaces
each with a fresh one-use link to the same confirmation page as a decision
(``/decide/<secret>``) and keeps only the secret's SHA-256, in an action token naming the
meeting instead of a task. A meeting that is cancelled, over, or no longer has the recipient
among its invitees gets a link to its page instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import cast

from flask import current_app
from sqlalchemy import Table, select

from app.extensions import db
from app.models import ActionToken, Meeting, MeetingInvitee, MeetingStatus, OutboxMessage

from .queue import external_url

ANSWER = re.compile(r"%%ANSWER:(\d+):([a-z_]+)%%")
ADD_TOKENS = cast(Table, ActionToken.__table__).insert()


def answer_marker(meeting: Meeting, answer: str) -> str:
    return f"%%ANSWER:{meeting.id}:{answer}%%"


def meeting_path(meeting_id: int) -> str:
    return f"/meetings/{meeting_id}"


def mint_answer_links(row: OutboxMessage, text: str, html: str, now: dt.datetime) -> tuple[str, str]:
    minted: dict[str, str] = {}
    tokens: list[dict] = []
    expires = now + dt.timedelta(days=current_app.config["ACTION_TOKEN_DAYS"])

    def link(match: re.Match) -> str:
        marker = match.group(0)
        if marker not in minted:
            meeting_id = int(match.group(1))
            meeting = db.session.get(Meeting, meeting_id)
            invited = row.recipient_id is not None and db.session.scalar(select(MeetingInvitee.id).where(
                MeetingInvitee.meeting_id == meeting_id, MeetingInvitee.user_id == row.recipient_id)) is not None
            if meeting is None or not invited or meeting.status != MeetingStatus.PLANNED or meeting.ends_at <= now:
                minted[marker] = external_url(meeting_path(meeting_id))
            else:
                secret = secrets.token_urlsafe(32)
                tokens.append({"token_hash": hashlib.sha256(secret.encode()).hexdigest(), "task_id": None,
                               "meeting_id": meeting_id, "user_id": row.recipient_id,
                               "decision": match.group(2), "created_at": now,
                               "expires_at": min(expires, meeting.ends_at), "used_at": None})
                minted[marker] = external_url(f"/decide/{secret}")
        return minted[marker]

    text, html = ANSWER.sub(link, text), ANSWER.sub(link, html)
    if tokens:  # in the message's transaction: a message that is not sent leaves no token
        db.session.connection().execute(ADD_TOKENS, tokens)
    return text, html
