"""Travel claims follow meetings: the meetings a person may claim for, and the service task
``meeting_attended`` that ties a claim to its meeting (or flags a meeting the app does not
know) and refuses a second claim for the same meeting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app.errors import InvalidData
from app.extensions import db
from app.models import (
    Answer,
    InstanceStatus,
    Meeting,
    MeetingClaim,
    MeetingInvitee,
    MeetingMode,
    MeetingStatus,
    ProcessInstance,
    User,
)
from app.models.base import utcnow
from app.outbox.summary import OTHER_MEETING, meeting_label
from app.steps import current_step
from forms.text import format_date

CLAIM_DAYS = 60  # a claim names a meeting of the last 60 days (PROCESSES.md, section 4)
OTHER = OTHER_MEETING[0]
UNKNOWN_MEETING = ("Not a meeting the app knows: check that it took place and that the claimant attended "
                   "it in person.")


def attended_in_person(invitee: MeetingInvitee) -> bool:
    """Recorded as there in person; before attendance is recorded, answered so."""
    if invitee.meeting.attendance_recorded_at is not None or invitee.attended is not None:
        return invitee.attended == Answer.IN_PERSON
    return invitee.answer == Answer.IN_PERSON


def claimable_meetings(user: User, now: dt.datetime | None = None) -> list[Meeting]:
    """The in-person meetings of the last 60 days that the person attended in person, latest first."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(MeetingInvitee).join(Meeting).options(contains_eager(MeetingInvitee.meeting)).where(
            MeetingInvitee.user_id == user.id, Meeting.status == MeetingStatus.PLANNED,
            Meeting.mode == MeetingMode.IN_PERSON, Meeting.starts_at <= now,
            Meeting.starts_at >= now - dt.timedelta(days=CLAIM_DAYS))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))
    return [row.meeting for row in rows if attended_in_person(row)]


def meeting_choices(user: User) -> list[tuple[str, str]]:
    """The options of a claim's meeting field: the person's meetings, then "not listed"."""
    return [(str(m.id), meeting_label(m)) for m in claimable_meetings(user)] + [(OTHER, str(OTHER_MEETING[1]))]


def attendance_record(meeting: Meeting, user: User) -> str:
    """What the coordinator checking a claim needs to know of the meeting and the claimant."""
    invitee = db.session.scalar(select(MeetingInvitee).where(
        MeetingInvitee.meeting_id == meeting.id, MeetingInvitee.user_id == user.id))
    said = f"{meeting_label(meeting)}, in person."
    if invitee is None:
        return f"{said} {user.name} was not invited."
    answer = f"{user.name} answered: {invitee.answer.label.lower()}." if invitee.answer else \
        f"{user.name} did not answer the invitation."
    if invitee.attended is not None:
        who = invitee.recorded_by.name if invitee.recorded_by else "the secretariat"
        came = f"Attendance recorded by {who}: {invitee.attended.label.lower()}."
    else:
        came = "Attendance not recorded yet."
    return f"{said} {answer} {came}"


def meeting_attended(data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """Tie the claim to the meeting chosen on its start form (``meeting_id``): set
    ``meeting`` and ``meeting_date`` from it, ``meeting_known`` and ``meeting_record`` (the
    attendance record, for the coordinator). "Not listed" keeps what was typed, flagged.
    Refused: a meeting the claimant did not attend in person, one of another group than the
    claim's, one outside the travel dates, one they already claimed."""
    chosen = data.get("meeting_id")
    if chosen in (None, "", OTHER):
        return {"meeting_known": False, "meeting_record": UNKNOWN_MEETING}
    step = current_step()
    instance = step.instance
    claimant: User = instance.initiator
    meeting = db.session.get(Meeting, int(chosen)) if str(chosen).isdigit() else None
    if meeting is None or meeting not in claimable_meetings(claimant):
        raise InvalidData([("meeting_id", _("Select a meeting you attended in person in the last %(days)s days, "
                                            "or ‘A meeting not listed here’", days=CLAIM_DAYS))])
    group_id = data.get("working_group_id")
    if group_id not in (None, "") and int(group_id) != meeting.group_id:
        raise InvalidData([("working_group_id", _("Select %(group)s: the group whose meeting “%(meeting)s” you "
                                                  "chose", group=meeting.group.name, meeting=meeting.title))])
    day = meeting.local_day
    departure, back = data.get("departure_date"), data.get("return_date")
    if isinstance(departure, dt.date) and isinstance(back, dt.date) and not departure <= day <= back:
        raise InvalidData([("departure_date", _("The meeting (%(day)s) must fall between your departure and "
                                                "return", day=format_date(day)))])
    _refuse_second_claim(meeting, claimant, instance)
    db.session.add(MeetingClaim(meeting_id=meeting.id, user_id=claimant.id, instance_id=instance.id))
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same claim sent twice at once: one of them is refused
        raise InvalidData([("meeting_id", _already(meeting, None))]) from None
    return {"meeting": meeting.title, "meeting_date": day, "meeting_known": True,
            "meeting_record": attendance_record(meeting, claimant)}


def _refuse_second_claim(meeting: Meeting, claimant: User, instance: ProcessInstance) -> None:
    earlier = db.session.scalar(select(MeetingClaim).where(
        MeetingClaim.meeting_id == meeting.id, MeetingClaim.user_id == claimant.id))
    if earlier is None or earlier.instance_id == instance.id:
        return
    request = db.session.get_one(ProcessInstance, earlier.instance_id)
    if request.status == InstanceStatus.CANCELLED:  # a withdrawn claim does not count
        db.session.delete(earlier)
        db.session.flush()
        return
    raise InvalidData([("meeting_id", _already(meeting, request))])


def _already(meeting: Meeting, request: ProcessInstance | None) -> str:
    if request is not None:
        return _("You have already claimed travel for “%(meeting)s” (%(day)s), sent on %(sent)s. Each meeting can "
                 "be claimed once: to change that claim, ask the coordinator for changes", meeting=meeting.title,
                 day=format_date(meeting.local_day), sent=format_date(request.started_at.date()))
    return _("You have already claimed travel for “%(meeting)s” (%(day)s). Each meeting can be claimed once: to "
             "change that claim, ask the coordinator for changes", meeting=meeting.title,
             day=format_date(meeting.local_day))
