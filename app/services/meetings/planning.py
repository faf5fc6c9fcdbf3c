"""Planning a meeting, changing it, cancelling it: each sends the invited people a calendar
invitation (the same UID, a higher SEQUENCE at each change; METHOD:CANCEL to cancel)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import InvalidData, NotAllowed, ServiceError
from app.extensions import db
from app.models import Meeting, MeetingInvitee, MeetingMode, MeetingStatus, User, WorkingGroup
from app.models.base import utcnow
from app.outbox.answer_links import answer_marker, meeting_path
from app.outbox.queue import external_url, queue_email
from app.outbox.render import render_email
from app.services.attachments import store_uploads

from .access import group_buyers, may_plan
from .ics import CANCEL, REQUEST, invitation

# Lazy: each page and email shows them in its reader's language.
ANSWERS = (("in_person", _l("I will attend in person")), ("online", _l("I will attend online")),
           ("not_attending", _l("I will not attend")))
ANSWERS_AFTER = (("in_person", _l("Attended in person")), ("online", _l("Attended online")),
                 ("not_attending", _l("Did not attend")))


@dataclass
class MeetingDetails:
    """What the planning form gives: times are the wall clock in ``time_zone``."""

    title: str
    start: dt.datetime | None
    end: dt.datetime | None
    time_zone: str
    mode: str
    city: str = ""
    venue: str = ""
    online_link: str = ""
    agenda: str = ""


def check_details(details: MeetingDetails) -> tuple[dt.datetime, dt.datetime]:
    """The start and end in UTC; InvalidData naming each field that is wrong."""
    errors: list[tuple[str | None, str]] = []
    if not details.title.strip():
        errors.append(("title", _("Enter the meeting's title")))
    try:
        zone = ZoneInfo(details.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
        errors.append(("time_zone", _("Select the time zone the times are in")))
    if details.start is None:
        errors.append(("start_date", _("Enter the day and time the meeting starts")))
    if details.end is None:
        errors.append(("end_date", _("Enter the day and time the meeting ends")))
    elif details.start is not None and details.end <= details.start:
        errors.append(("end_date", _("The meeting must end after it starts")))
    if details.mode == MeetingMode.IN_PERSON:
        if not details.city.strip():
            errors.append(("city", _("Enter the city where the meeting takes place")))
        if not details.venue.strip():
            errors.append(("venue", _("Enter the venue: the building and address")))
    elif details.mode == MeetingMode.ONLINE:
        link = urlsplit(details.online_link.strip())
        if link.scheme != "https" or not link.hostname:
            errors.append(("online_link", _("Enter the video-conference link, starting with https://")))
    else:
        errors.append(("mode", _("Select whether the meeting is in person or online")))
    if errors or zone is None or details.start is None or details.end is None:
        raise InvalidData(errors)
    start = details.start.replace(tzinfo=zone).astimezone(dt.UTC)
    end = details.end.replace(tzinfo=zone).astimezone(dt.UTC)
    return start, end


def _apply(meeting: Meeting, details: MeetingDetails, start: dt.datetime, end: dt.datetime) -> None:
    meeting.title = " ".join(details.title.split())[:200]
    meeting.starts_at, meeting.ends_at, meeting.time_zone = start, end, details.time_zone
    meeting.mode = MeetingMode(details.mode)
    online = meeting.mode == MeetingMode.ONLINE
    meeting.city = "" if online else details.city.strip()[:120]
    meeting.venue = "" if online else details.venue.strip()[:300]
    meeting.online_link = details.online_link.strip()[:500] if online else ""
    meeting.agenda = details.agenda.strip()


def plan_meeting(actor: User, group: WorkingGroup, details: MeetingDetails, uploads: dict | None = None,
                 notify: bool = True) -> Meeting:
    """Plan a meeting of ``group`` and invite its members (by e-mail, with an invitation)."""
    if not may_plan(actor, group):
        raise NotAllowed(_("Only a coordinator or the group's lead can plan its meetings."))
    start, end = check_details(details)
    if start <= utcnow() and notify:
        raise InvalidData([("start_date", _("The meeting must start in the future"))])
    meeting = Meeting(group=group, planned_by_id=actor.id, uid=f"{uuid.uuid4()}@{_host()}", sequence=0)
    _apply(meeting, details, start, end)
    db.session.add(meeting)
    db.session.flush()
    store_uploads(uploads or {}, actor, None, meeting=meeting)
    for person in group_buyers(group):
        meeting.invitees.append(MeetingInvitee(user=person))
    db.session.flush()
    if notify:
        send_invitations(meeting, [i.user for i in meeting.invitees], "planned")
    return meeting


def change_meeting(actor: User, meeting: Meeting, details: MeetingDetails, uploads: dict | None = None) -> Meeting:
    """Change a coming meeting; everyone invited gets the updated invitation. Members who
    joined the group since are invited now."""
    _check_changeable(actor, meeting)
    start, end = check_details(details)
    _apply(meeting, details, start, end)
    meeting.sequence += 1
    meeting.updated_at = utcnow()
    store_uploads(uploads or {}, actor, None, meeting=meeting)
    invited = {i.user_id for i in meeting.invitees}
    for person in group_buyers(meeting.group):
        if person.id not in invited:
            meeting.invitees.append(MeetingInvitee(user=person))
    db.session.flush()
    send_invitations(meeting, [i.user for i in meeting.invitees], "changed")
    return meeting


def cancel_meeting(actor: User, meeting: Meeting) -> Meeting:
    """Cancel a coming meeting: its invitation is withdrawn from everyone's calendar."""
    _check_changeable(actor, meeting)
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.updated_at = utcnow()
    db.session.flush()
    send_invitations(meeting, [i.user for i in meeting.invitees], "cancelled")
    return meeting


def _check_changeable(actor: User, meeting: Meeting) -> None:
    if not may_plan(actor, meeting.group):
        raise NotAllowed(_("Only a coordinator or the group's lead can change its meetings."))
    if meeting.cancelled:
        raise ServiceError(_("This meeting was cancelled: plan a new one instead."))
    if meeting.ends_at <= utcnow():
        raise ServiceError(_("This meeting is over: it can no longer be changed."))


def _host() -> str:
    return urlsplit(current_app.config["EXTERNAL_BASE_URL"]).hostname or "localhost"


def _organiser() -> str:
    organiser = current_app.config["MAIL_DEFAULT_SENDER"]
    return organiser if isinstance(organiser, str) else f"{organiser[0]} <{organiser[1]}>"


def calendar_for(meeting: Meeting, person: User) -> bytes:
    """The meeting's calendar file as the person would get it now (cancelled: a cancellation)."""
    return invitation(meeting, CANCEL if meeting.cancelled else REQUEST, person, _organiser(),
                      external_url(meeting_path(meeting.id)), utcnow())


def send_invitations(meeting: Meeting, people: list[User], what: str) -> None:
    """Queue one e-mail per person with their .ics (REQUEST, or CANCEL when cancelled) and,
    for a coming meeting, one answer link per answer (minted when the e-mail is sent)."""
    method = CANCEL if what == "cancelled" else REQUEST
    organiser = _organiser()
    url = external_url(meeting_path(meeting.id))
    now = utcnow()
    zone = ZoneInfo(meeting.time_zone)
    for person in people:
        if not person.active:
            continue
        actions = [] if what == "cancelled" else [(label, answer_marker(meeting, value)) for value, label in ANSWERS]
        rendered = render_email("email/meeting_invitation.txt", {
            "meeting": meeting, "recipient": person, "what": what, "meeting_url": url,
            "starts": meeting.starts_at.astimezone(zone), "ends": meeting.ends_at.astimezone(zone)}, actions, to=person)
        ics = invitation(meeting, method, person, organiser, url, now).decode()
        queue_email(person, "notice", rendered, template=f"meeting_{what}", attachments=[{
            "filename": "cancellation.ics" if method == CANCEL else "invitation.ics",
            "content_type": f"text/calendar; method={method}", "content": ics}])
