"""A meeting as an iCalendar invitation (RFC 5545, iTIP RFC 5546), written by ``icalendar``.

Outlook, Thunderbird and Google Calendar match an update to the event they hold by its UID,
and take it when its SEQUENCE is higher; METHOD:CANCEL with STATUS:CANCELLED removes it.
The times carry the meeting's own time zone (TZID, with its VTIMEZONE), so a calendar shows
them right wherever the reader is.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar
from flask_babel import gettext as _

from app.models import Meeting, User

PRODUCT = "-//Big Buyers Initiative//Big Buyers Workflow//EN"
REQUEST, CANCEL = "REQUEST", "CANCEL"


def invitation(meeting: Meeting, method: str, attendee: User, organiser: str, meeting_url: str,
               now: dt.datetime) -> bytes:
    """The .ics file for one invited person: the meeting, or its cancellation."""
    zone = ZoneInfo(meeting.time_zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", f"{meeting.group.name}: {meeting.title}")
    event.add("description", _description(meeting, meeting_url))
    event.add("location", meeting.online_link if meeting.mode == "online" else meeting.place)
    event.add("url", meeting_url)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    name, address = parseaddr(organiser)
    event.add("organizer", f"mailto:{address}", parameters={"cn": name or address})
    # RSVP=FALSE: answers are given with the e-mail's links or on the meeting page, not by
    # calendar replies to the service's no-reply address.
    event.add("attendee", f"mailto:{attendee.email}",
              parameters={"cn": attendee.name, "role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION",
                          "rsvp": "FALSE"})
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _description(meeting: Meeting, meeting_url: str) -> str:
    parts = []
    if meeting.mode == "online" and meeting.online_link:
        parts.append(_("Join online: %(link)s", link=meeting.online_link))
    if meeting.agenda.strip():
        parts.append(_("Agenda:\n%(agenda)s", agenda=meeting.agenda.strip()))
    parts.append(_("Meeting page, agenda files and your answer: %(url)s", url=meeting_url))
    return "\n\n".join(parts)
