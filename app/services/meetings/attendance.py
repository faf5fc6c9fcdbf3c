"""Answers to an invitation (in person, online, not attending), from the meeting page or an
e-mailed link, and the attendance a coordinator records afterwards."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import InvalidData, NotAllowed, ServiceError
from app.extensions import db
from app.models import ActionToken, Answer, Meeting, MeetingInvitee, User
from app.models.base import utcnow

from .access import may_record_attendance


def invitee_of(meeting: Meeting, user: User) -> MeetingInvitee | None:
    return db.session.scalar(select(MeetingInvitee).where(
        MeetingInvitee.meeting_id == meeting.id, MeetingInvitee.user_id == user.id))


def why_not_answer(meeting: Meeting, user: User) -> str | None:
    """Why the person cannot answer now, in plain words; None if they can."""
    if invitee_of(meeting, user) is None:
        return _("You are not invited to this meeting.")
    if meeting.cancelled:
        return _("This meeting was cancelled.")
    if meeting.ends_at <= utcnow():
        return _("This meeting is over: answers are closed.")
    return None


def answer_meeting(actor: User, meeting: Meeting, answer: str, by_email: bool = False) -> MeetingInvitee:
    """Record the actor's answer to the invitation (they may change it until the meeting ends)."""
    if answer not in {a.value for a in Answer}:
        raise InvalidData([("answer", _("Select whether you will attend in person, online, or not"))])
    problem = why_not_answer(meeting, actor)
    if problem is not None:
        raise ServiceError(problem)
    invitee = invitee_of(meeting, actor)
    assert invitee is not None  # why_not_answer checked it
    invitee.answer, invitee.answered_at, invitee.answered_by_email = Answer(answer), utcnow(), by_email
    db.session.flush()
    return invitee


def token_refusal(token: ActionToken) -> tuple[str, str] | None:
    """(title, message) when an answer link can no longer answer; None when it can."""
    meeting = db.session.get_one(Meeting, token.meeting_id)
    if token.used_at is not None:
        return (_("This link has been used"),
                _("Each answer link works once. Nothing was changed. You can change your answer on the meeting page."))
    if meeting.cancelled:
        return (_("This meeting was cancelled"),
                _("“%(meeting)s” was cancelled. Nothing was changed.", meeting=meeting.title))
    if token.expires_at <= utcnow() or meeting.ends_at <= utcnow():
        return (_("This link has expired"),
                _("Answer links work until the meeting ends, for a limited time. Nothing was changed."))
    problem = why_not_answer(meeting, token.user) if token.user.active else _("Your account is not active.")
    if problem is not None:
        return _("This invitation is no longer yours"), _("%(problem)s Nothing was changed.", problem=problem)
    return None


def answer_by_token(token: ActionToken) -> MeetingInvitee:
    """Answer as the link's recipient, with the link's answer; the link is used up."""
    refusal = token_refusal(token)
    if refusal is not None:
        raise ServiceError(refusal[1])
    invitee = answer_meeting(token.user, db.session.get_one(Meeting, token.meeting_id), token.decision,
                             by_email=True)
    token.used_at = utcnow()
    db.session.flush()
    return invitee


def record_attendance(actor: User, meeting: Meeting, attended: dict[int, str]) -> Meeting:
    """Record how each invited person took part (in person, online, or not), after the
    meeting started; ``attended`` maps each invitee's user id to an answer."""
    if not may_record_attendance(actor, meeting):
        raise NotAllowed(_("Only a coordinator or the group's lead can record who came."))
    if meeting.cancelled:
        raise ServiceError(_("This meeting was cancelled: nobody attended it."))
    if meeting.starts_at > utcnow():
        raise ServiceError(_("Record who came once the meeting has started."))
    now = utcnow()
    for invitee in meeting.invitees:
        value = attended.get(invitee.user_id)
        if value not in {a.value for a in Answer}:
            message = _("Select how %(name)s took part", name=invitee.user.name)
            raise InvalidData([(f"attended_{invitee.user_id}", message)])
        if invitee.attended != value:
            invitee.attended, invitee.recorded_by_id, invitee.recorded_at = Answer(value), actor.id, now
    meeting.attendance_recorded_at = now
    db.session.flush()
    return meeting
