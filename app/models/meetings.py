"""Meetings of a working group: who is invited, what they answered, who came, and the travel
claims that name a meeting."""

from __future__ import annotations

import datetime as dt
import enum
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import N_, UTCDateTime, utcnow
from .people import User, WorkingGroup


class MeetingMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class Answer(enum.StrEnum):
    """An invited person's answer, and (afterwards) how they actually took part."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    NOT_ATTENDING = "not_attending"

    @property
    def label(self) -> str:
        """In English, as stored in a claim's attendance record."""
        return {"in_person": N_("In person"), "online": N_("Online"), "not_attending": N_("Not attending")}[self.value]

    @property
    def translated(self) -> str:
        """The label in the reader's language, for pages and emails."""
        return gettext(self.label)


class Meeting(Model):
    """One meeting of a working group. ``starts_at`` and ``ends_at`` are UTC; ``time_zone`` (an
    IANA name) is the zone it was planned in, in which pages and invitations show it.
    ``uid`` and ``sequence`` are its calendar identity: every change sends the same UID with a
    higher SEQUENCE, so calendars update the event instead of adding another."""

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_group.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    time_zone: Mapped[str] = mapped_column(String(64))
    mode: Mapped[MeetingMode] = mapped_column(Enum(MeetingMode, native_enum=False, length=20))
    city: Mapped[str] = mapped_column(String(120), default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_link: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MeetingStatus] = mapped_column(
        Enum(MeetingStatus, native_enum=False, length=20), default=MeetingStatus.PLANNED)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    planned_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attendance_recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[WorkingGroup] = relationship()
    planned_by: Mapped[User] = relationship()
    invitees: Mapped[list[MeetingInvitee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingInvitee.id")

    @property
    def cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @property
    def local_day(self) -> dt.date:
        """The meeting's (first) day where it takes place."""
        return self.starts_at.astimezone(ZoneInfo(self.time_zone)).date()

    @property
    def place(self) -> str:
        if self.mode == MeetingMode.ONLINE:
            return "Online"
        return ", ".join(part for part in (self.venue, self.city) if part)


class MeetingInvitee(Model):
    """A person invited to a meeting: their answer, and whether they came (recorded after)."""

    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    answer: Mapped[Answer | None] = mapped_column(Enum(Answer, native_enum=False, length=20))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by_email: Mapped[bool] = mapped_column(default=False)
    attended: Mapped[Answer | None] = mapped_column(Enum(Answer, native_enum=False, length=20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="invitees")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class MeetingClaim(Model):
    """A travel claim (a request) for a meeting: one per person and meeting."""

    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
