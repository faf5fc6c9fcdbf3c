"""Names in diagrams: what a user or group name a diagram uses (``management``, ``demo``) means here.

Camunda Modeler diagrams name people by their own user and group names. An administrator maps
each such name once, case-insensitively, to a person, a role or a group role; lanes and
assignments then resolve through the mapping (``app.steps.lanes``).
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import gettext
from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import N_, UTCDateTime, utcnow
from .people import User


class NameTarget(enum.StrEnum):
    PERSON = "person"
    ROLE = "role"
    GROUP_ROLE = "group_role"


# The roles a person holds within one request rather than everywhere: key -> how it reads.
GROUP_ROLES = {
    "group_lead": N_("the lead of the request's working group"),
    "group_members": N_("the buyers of the member organisations of the request's working group"),
    "initiator": N_("the person who started the request"),
}
# What a name mapped to a role stands for, as pages say it (``NameMapping.translated_meaning``).
ROLE_MEANINGS = {
    "buyer": N_("everyone with the buyer role"), "coordinator": N_("everyone with the coordinator role"),
    "finance": N_("everyone with the finance role"), "commission": N_("everyone with the commission role"),
    "administrator": N_("everyone with the administrator role"),
}


class NameMapping(Model):
    """One name a diagram may use for people, and whom it stands for."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # as the administrator wrote it
    name_key: Mapped[str] = mapped_column(String(200), unique=True)  # stripped, lower case
    target: Mapped[NameTarget] = mapped_column(Enum(NameTarget, native_enum=False, length=20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(40))  # a Role's value, or a GROUP_ROLES key
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship()

    @staticmethod
    def key_of(name: str) -> str:
        return " ".join((name or "").split()).lower()

    @property
    def kind(self) -> str:
        """What lanes resolve: ``user:<id>``, a role's value, or a group role's key."""
        if self.target == NameTarget.PERSON:
            return f"user:{self.user_id}"
        return self.role or ""

    @property
    def meaning(self) -> str:
        """How the mapping reads: 'Clara Schmidt', 'everyone with the coordinator role'."""
        if self.target == NameTarget.PERSON:
            if self.user is None:
                return "a person who no longer exists"
            return f"{self.user.name} ({self.user.email})" + ("" if self.user.active else ", who cannot sign in")
        if self.target == NameTarget.ROLE:
            return f"everyone with the {self.role} role"
        return GROUP_ROLES.get(self.role or "", self.role or "")

    @property
    def translated_meaning(self) -> str:
        """``meaning`` in the reader's language, for pages (the audit trail keeps it English)."""
        if self.target == NameTarget.PERSON:
            if self.user is None:
                return gettext("a person who no longer exists")
            if self.user.active:
                return f"{self.user.name} ({self.user.email})"
            return gettext("%(name)s (%(email)s), who cannot sign in", name=self.user.name, email=self.user.email)
        if self.target == NameTarget.ROLE:
            return gettext(ROLE_MEANINGS[self.role]) if self.role in ROLE_MEANINGS else self.meaning
        return gettext(GROUP_ROLES[self.role]) if self.role in GROUP_ROLES else self.role or ""
