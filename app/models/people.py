"""People: organisations, users and their roles, working groups and their members."""

from __future__ import annotations

import datetime as dt
import enum

from babel import Locale
from flask_babel import get_locale, gettext
from flask_login import UserMixin
from sqlalchemy import Boolean, Date, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug import security

from app.extensions import Model

from .base import N_, UTCDateTime, utcnow


class OrganisationType(enum.StrEnum):
    CITY = "city"
    REGION = "region"
    CENTRAL_PURCHASING_BODY = "central_purchasing_body"
    OTHER_PUBLIC_AUTHORITY = "other_public_authority"
    SECRETARIAT = "secretariat"
    COMMISSION = "commission"

    @property
    def label(self) -> str:
        """In English, as the administrators' audit trail records it."""
        return {"city": N_("City"), "region": N_("Region"), "central_purchasing_body": N_("Central purchasing body"),
                "other_public_authority": N_("Other public authority"), "secretariat": N_("Secretariat"),
                "commission": N_("Commission")}[self.value]

    @property
    def translated(self) -> str:
        """The label in the reader's language."""
        return gettext(self.label)


class Role(enum.StrEnum):
    """Global roles; the group lead is a role within one working group, not here."""

    BUYER = "buyer"
    COORDINATOR = "coordinator"
    FINANCE = "finance"
    COMMISSION = "commission"
    ADMINISTRATOR = "administrator"

    @property
    def translated(self) -> str:
        """The role's name, capitalised, in the reader's language."""
        return gettext({"buyer": N_("Buyer"), "coordinator": N_("Coordinator"), "finance": N_("Finance"),
                        "commission": N_("Commission"), "administrator": N_("Administrator")}[self.value])


class NotifyMode(enum.StrEnum):
    EACH = "each"
    DIGEST = "digest"


EU_COUNTRIES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
    "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
    "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
    "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia",
    "ES": "Spain", "SE": "Sweden",
}


def eu_countries() -> list[tuple[str, str]]:
    """(code, name) of each member state, by name, named in the reader's language by Babel's
    locale data (whose English names are EU_COUNTRIES')."""
    names = Locale.parse(str(get_locale() or "en")).territories
    return sorted(((code, names.get(code, name)) for code, name in EU_COUNTRIES.items()), key=lambda item: item[1])


class Organisation(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[OrganisationType] = mapped_column(Enum(OrganisationType, native_enum=False, length=40))
    country: Mapped[str] = mapped_column(String(2))

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="organisation")

    @property
    def country_name(self) -> str:
        """In English, as the audit trail records it."""
        return EU_COUNTRIES.get(self.country, self.country)

    @property
    def translated_country(self) -> str:
        """The country's name in the reader's language (Babel's names; in English, the same)."""
        return dict(eu_countries()).get(self.country, self.country)


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_mode: Mapped[NotifyMode] = mapped_column(
        Enum(NotifyMode, native_enum=False, length=20), default=NotifyMode.EACH
    )
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An absence: from and to are days in the display time zone, both included; the deputy
    # is asked too for the tasks that come to this person meanwhile.
    away_from: Mapped[dt.date | None] = mapped_column(Date)
    away_to: Mapped[dt.date | None] = mapped_column(Date)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The language of the person's pages and emails (one of LANGUAGES): chosen on their settings
    # page, or their browser's at their first sign-in; empty until then (pages follow the
    # browser, emails the default language).
    language: Mapped[str | None] = mapped_column(String(10))
    # Personal data (README, "Personal data"): the account that stands for this person in requests
    # whose personal data was purged ("Person 4F2A9C"), made at the first purge; when this
    # person was erased (the row then carries that pseudonym's name). A pseudonym's own row
    # has ``erased_at`` set and no pseudonym.
    pseudonym_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")
    deputy: Mapped[User | None] = relationship(remote_side="User.id", foreign_keys=[deputy_id])
    pseudonym: Mapped[User | None] = relationship(remote_side="User.id", foreign_keys=[pseudonym_id])
    # Loaded where read: with the signed-in person (services.people.signed_in_user) and for
    # lists that show them; not with every person a page names.
    role_rows: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to deactivated accounts
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: Role | str) -> bool:
        return Role(role) in self.roles

    def set_roles(self, roles) -> None:
        wanted = {Role(r) for r in roles}
        self.role_rows = [row for row in self.role_rows if row.role in wanted]
        for role in wanted - self.roles:
            self.role_rows.append(UserRole(role=role))

    def away_on(self, day: dt.date) -> bool:
        """Whether this person is away on ``day`` (a day in the display time zone)."""
        return (self.away_from is not None and self.away_to is not None
                and self.away_from <= day <= self.away_to)

    def set_absence(self, start: dt.date | None, end: dt.date | None, deputy: User | None) -> None:
        """Set the absence (all three given) or clear it (none); the caller checked them."""
        self.away_from, self.away_to = start, end
        self.deputy_id = deputy.id if deputy is not None else None

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = security.generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return security.check_password_hash(self.password_hash, password)

    def use_sign_in(self, key: str, sign_in_id: int, row: object) -> None:
        """Tie this loaded person to one browser's sign-in (app.models.signins.SignIn)."""
        # Not columns: only the key's hash is stored, in the sign-in's row. The row itself is
        # held for the request: the session's identity map keeps only objects something refers
        # to, and noting the browser in use (services.people.touch_session) reads it again.
        self._sign_in: tuple[str, int, object] | None = (key, sign_in_id, row)

    @property
    def sign_in_id(self) -> int | None:
        sign_in = getattr(self, "_sign_in", None)
        return sign_in[1] if sign_in else None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the session and the remember-me cookie: the sign-in's
        random key, so that a cookie is new at every sign-in and dies with its sign-in; never
        the bare id, which would stay valid for ever."""
        sign_in = getattr(self, "_sign_in", None)
        return sign_in[0] if sign_in else None


class UserRole(Model):
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class WorkingGroup(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sector: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The group's year: its first and last day; the coordinators are reminded a month before
    # the end (year_reminder_sent_at says it was done, so the worker does it once).
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    year_reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    lead: Mapped[User | None] = relationship()
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    @property
    def organisations(self) -> list[Organisation]:
        return [m.organisation for m in self.memberships]


class GroupMembership(Model):
    """A buying organisation's membership of a working group."""

    __table_args__ = (UniqueConstraint("group_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_group.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[WorkingGroup] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
