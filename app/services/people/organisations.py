"""Organisations: create and find them, and the administrator's add and update."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import ServiceError
from app.extensions import db
from app.models import EU_COUNTRIES, GroupMembership, Organisation, OrganisationType, User
from app.steps import phrase, said

from .admin import _clean_name, _record, _refuse

# Secretariat and Commission staff work for groups; only buying organisations are members.
NON_BUYING_TYPES = frozenset({OrganisationType.SECRETARIAT, OrganisationType.COMMISSION})


def create_organisation(name: str, kind: OrganisationType, country: str) -> Organisation:
    country = country.upper()
    if country not in EU_COUNTRIES:
        raise ServiceError(_("%(country)s is not an EU member state code", country=country))
    if db.session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise ServiceError(_("An organisation called %(name)s already exists", name=name))
    organisation = Organisation(name=name, type=kind, country=country)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def find_organisation(name: str | None) -> Organisation | None:
    if not name:
        return None
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise ServiceError(_("No organisation is called %(name)s", name=name))
    return organisation


def _organisation(organisation_id: int | None, field: str = "organisation") -> Organisation:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise _refuse(field, _("Select an organisation from the list"))
    return organisation


def _country(country: str) -> str:
    country = (country or "").strip().upper()
    if country not in EU_COUNTRIES:
        raise _refuse("country", _("Select an EU member state from the list"))
    return country


def _organisation_type(kind: OrganisationType | str) -> OrganisationType:
    try:
        return OrganisationType(kind)
    except ValueError:
        raise _refuse("type", _("Select the type of organisation")) from None


def _check_organisation_name_free(name: str, organisation: Organisation | None = None) -> None:
    other = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if other is not None and other is not organisation:
        raise _refuse("name", _("An organisation called %(name)s already exists", name=other.name))


def all_organisations() -> list[Organisation]:
    """Every organisation by name, with the groups it belongs to."""
    return list(db.session.scalars(
        select(Organisation).options(selectinload(Organisation.memberships).selectinload(GroupMembership.group))
        .order_by(func.lower(Organisation.name))
    ))


def add_organisation(actor: User, *, name: str, kind: OrganisationType | str, country: str) -> Organisation:
    """Add an organisation, named uniquely, in an EU member state."""
    name = _clean_name(name, "name", "organisation's name")
    _check_organisation_name_free(name)
    kind = _organisation_type(kind)
    country = _country(country)
    organisation = create_organisation(name, kind, country)
    _record(actor, "organisation_added",
            said("organisation_added", organisation=organisation.name, org_type=kind.label,
                 country=organisation.country),
            {"organisation_id": organisation.id, "type": kind.value, "country": country})
    return organisation


def update_organisation(actor: User, organisation: Organisation, *, name: str,
                        kind: OrganisationType | str, country: str) -> Organisation:
    """Rename an organisation or correct its type or country."""
    name = _clean_name(name, "name", "organisation's name")
    _check_organisation_name_free(name, organisation)
    kind = _organisation_type(kind)
    country = _country(country)
    if kind in NON_BUYING_TYPES and organisation.memberships:
        raise _refuse("type", _("%(organisation)s is a member of a working group, which only buying organisations "
                                "can be. Remove it from its groups first.", organisation=organisation.name))
    changes = []
    if organisation.name != name:
        changes.append(phrase("changed_name", old=organisation.name, new=name))
    if organisation.type != kind:
        changes.append(phrase("changed_type", old_org_type=organisation.type.label, org_type=kind.label))
    if organisation.country != country:
        changes.append(phrase("changed_country", old_country=organisation.country, country=country))
    organisation.name, organisation.type, organisation.country = name, kind, country
    db.session.flush()
    if changes:
        _record(actor, "organisation_updated", said("organisation_updated", organisation=organisation.name,
                                                    changes=changes), {"organisation_id": organisation.id})
    return organisation
