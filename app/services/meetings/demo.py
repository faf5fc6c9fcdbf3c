"""The demo's meetings: each group has two past meetings and one coming, with answers and
attendance, and (for `make run`) Marta's travel claim for the latest meeting she attended."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Meeting, MeetingClaim, ProcessDefinition, User, WorkingGroup
from app.services.instances import start_instance
from forms.files import Upload

from .claims import claimable_meetings
from .planning import MeetingDetails, plan_meeting

# (days from today, title, city, venue) of each group's meetings
PLAN = ((-40, "Kick-off meeting", "Brussels", "EUROCITIES, Square de Meeûs 1"),
        (-12, "Second meeting: market analysis", "Vienna", "Rathaus, Friedrich-Schmidt-Platz 1"),
        (21, "Third meeting: draft tender criteria", "Lisbon", "Paços do Concelho, Praça do Município"))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def add_demo_meetings(planner: User, today: dt.date) -> int:
    """Plan the demo meetings of every group that has none yet; return how many were added.
    Past ones have everyone's answer and attendance: all in person, but the last member
    online (and so not one to claim travel for)."""
    added = 0
    for group in db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.id)):
        if db.session.scalar(select(Meeting.id).where(Meeting.group_id == group.id).limit(1)) is not None:
            continue
        if group.starts_on is None:
            group.starts_on = today - dt.timedelta(days=60)
            group.ends_on = group.starts_on + dt.timedelta(days=364)
        for days, title, city, venue in PLAN:
            day = today + dt.timedelta(days=days)
            meeting = plan_meeting(planner, group, MeetingDetails(
                title=title, start=dt.datetime.combine(day, dt.time(10, 0)),
                end=dt.datetime.combine(day, dt.time(16, 30)), time_zone="Europe/Brussels",
                mode="in_person", city=city, venue=venue,
                agenda="Welcome and introductions\nProgress of the joint statement of demand\nNext steps"),
                notify=False)
            past = days < 0
            for position, invitee in enumerate(meeting.invitees):
                last = position == len(meeting.invitees) - 1 and position > 1
                invitee.answer = Answer.ONLINE if last else Answer.IN_PERSON
                invitee.answered_at = meeting.created_at
                if past:
                    invitee.attended, invitee.recorded_by_id = invitee.answer, planner.id
                    invitee.recorded_at = meeting.ends_at
            if past:
                meeting.attendance_recorded_at = meeting.ends_at
            added += 1
    db.session.flush()
    return added


def file_demo_claim(claimant: User) -> bool:
    """File the claimant's travel claim for the latest meeting they attended, once."""
    meetings = claimable_meetings(claimant)
    definition = db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_id == "travel_reimbursement"))
    if not meetings or definition is None or definition.active_version is None:
        return False
    meeting = meetings[0]
    if db.session.scalar(select(MeetingClaim.id).where(MeetingClaim.meeting_id == meeting.id,
                                                      MeetingClaim.user_id == claimant.id)) is not None:
        return False
    day = meeting.local_day
    receipt = Upload(field_id="receipts", filename="train-ticket.pdf", content_type="application/pdf", data=PDF,
                     size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest())
    start_instance(claimant, definition.active_version, {
        "working_group_id": meeting.group_id, "meeting_id": str(meeting.id), "meeting": None, "meeting_date": None,
        "travel_from": "Gdańsk", "travel_to": meeting.city, "departure_date": day - dt.timedelta(days=1),
        "return_date": day, "travel_mode": "rail", "distance_km": 1100, "rail_hours": None,
        "ticket_cost": Decimal("164.80"), "accommodation_nights": 1, "accommodation_cost": Decimal("128.00"),
        "other_costs": Decimal("9.20"), "total_claimed": Decimal("302.00"), "account_holder": claimant.name,
        "iban": "PL61109010140000071219812874", "declaration": True}, {"receipts": [receipt]})
    return True
