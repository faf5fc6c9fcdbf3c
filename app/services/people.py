"""People, organisations and working groups."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import InvalidData, ServiceError
from app.extensions import db
from app.models import (
    EU_COUNTRIES,
    AuditEvent,
    GroupMembership,
    HumanTask,
    NotifyMode,
    Organisation,
    OrganisationType,
    Role,
    TaskCandidate,
    TaskState,
    User,
    UserRole,
    WorkingGroup,
)
from app.models.base import utcnow
from app.steps import drop_candidates, record


def create_organisation(name: str, kind: OrganisationType, country: str) -> Organisation:
    country = country.upper()
    if country not in EU_COUNTRIES:
        raise ServiceError(f"{country} is not an EU member state code")
    if db.session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise ServiceError(f"An organisation called {name} already exists")
    organisation = Organisation(name=name, type=kind, country=country)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def find_organisation(name: str | None) -> Organisation | None:
    if not name:
        return None
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise ServiceError(f"No organisation is called {name}")
    return organisation


def find_user(email: str | None) -> User | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise ServiceError(f"No user has the e-mail address {email}")
    return user


def create_user(email: str, name: str, password: str, roles: Iterable[Role | str],
                organisation: str | None = None) -> User:
    email = email.strip().lower()
    if db.session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
        raise ServiceError(f"A user with the e-mail address {email} already exists")
    if len(password) < 10:
        raise ServiceError("A password needs at least 10 characters")
    user = User(email=email, name=name.strip(), organisation=find_organisation(organisation))
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def create_group(name: str, sector: str, lead_email: str | None, members: Iterable[str]) -> WorkingGroup:
    if db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == name)) is not None:
        raise ServiceError(f"A working group called {name} already exists")
    group = WorkingGroup(name=name, sector=sector, lead=find_user(lead_email))
    db.session.add(group)
    for member in members:
        organisation = find_organisation(member)
        group.memberships.append(GroupMembership(organisation=organisation))
    db.session.flush()
    return group


# --- Administration -------------------------------------------------------------------------
# The functions below are what administrators do through the web pages. Each takes the acting
# administrator, raises InvalidData naming the form field a refusal belongs to, records an
# AuditEvent on the "admin" channel, and flushes; the caller commits.

# The most organisations a working group may have (PROCESSES.md: groups of 3 to 7 buyers).
# The onboarding diagram (workflows/group_onboarding.bpmn, gateway_group_size) holds its own
# threshold for the waiting list: change both together.
MAX_GROUP_MEMBERS = 7
MIN_PASSWORD_LENGTH = 10  # create_user enforces the same length for the CLI
# Secretariat and Commission staff work for groups; only buying organisations are members.
NON_BUYING_TYPES = frozenset({OrganisationType.SECRETARIAT, OrganisationType.COMMISSION})


def _refuse(field: str | None, message: str) -> InvalidData:
    return InvalidData([(field, message)])


def _record(actor: User, action: str, summary: str, data: dict | None = None) -> None:
    db.session.add(AuditEvent(actor_id=actor.id, channel="admin", action=action,
                              summary=summary[:500], data=data or {}))


def _clean_name(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _refuse(field, f"Enter the {what}")
    if len(value) > 200:
        raise _refuse(field, f"The {what} must be 200 characters or fewer")
    return value


def _check_email_free(email: str, user: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise _refuse("email", "Enter an email address")
    other = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if other is not None and other is not user:
        raise _refuse("email", f"{other.name} already uses the email address {email}")
    return email


def _check_password(password: str, field: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise _refuse(field, f"The password needs at least {MIN_PASSWORD_LENGTH} characters")


def _organisation(organisation_id: int | None, field: str = "organisation") -> Organisation:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise _refuse(field, "Select an organisation from the list")
    return organisation


def _roles(roles: Iterable[Role | str]) -> set[Role]:
    try:
        wanted = {Role(role) for role in roles}
    except ValueError:
        raise _refuse("roles", "Select roles from the list") from None
    if not wanted:
        raise _refuse("roles", "Select at least one role")
    return wanted


def _country(country: str) -> str:
    country = (country or "").strip().upper()
    if country not in EU_COUNTRIES:
        raise _refuse("country", "Select an EU member state from the list")
    return country


def _organisation_type(kind: OrganisationType | str) -> OrganisationType:
    try:
        return OrganisationType(kind)
    except ValueError:
        raise _refuse("type", "Select the type of organisation") from None


def _check_organisation_name_free(name: str, organisation: Organisation | None = None) -> None:
    other = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if other is not None and other is not organisation:
        raise _refuse("name", f"An organisation called {other.name} already exists")


def _check_group_name_free(name: str, group: WorkingGroup | None = None) -> None:
    other = db.session.scalar(select(WorkingGroup).where(func.lower(WorkingGroup.name) == name.lower()))
    if other is not None and other is not group:
        raise _refuse("name", f"A working group called {other.name} already exists")


def _lead(lead_id: int | None) -> User:
    lead = db.session.get(User, lead_id) if lead_id else None
    if lead is None or not lead.active or not lead.has_role(Role.BUYER):
        raise _refuse("lead", "Select the group lead from the list of buyers")
    return lead


def _role_names(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(role.value for role in roles)) or "no role"


def search_users(query: str, page: int, per_page: int):
    """People whose name or email address contains ``query``, by name, one page of them."""
    statement = (select(User).options(selectinload(User.organisation))
                 .order_by(func.lower(User.name), User.id))
    query = (query or "").strip()
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(func.lower(User.name).like(pattern, escape="\\")
                                    | func.lower(User.email).like(pattern, escape="\\"))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def all_organisations() -> list[Organisation]:
    """Every organisation by name, with the groups it belongs to."""
    return list(db.session.scalars(
        select(Organisation).options(selectinload(Organisation.memberships).selectinload(GroupMembership.group))
        .order_by(func.lower(Organisation.name))
    ))


def all_groups() -> list[WorkingGroup]:
    """Every working group by name, with its lead and members."""
    return list(db.session.scalars(
        select(WorkingGroup).options(selectinload(WorkingGroup.lead), selectinload(WorkingGroup.memberships))
        .order_by(func.lower(WorkingGroup.name))
    ))


def possible_leads() -> list[User]:
    """Active buyers, who may lead a working group."""
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == Role.BUYER, User.active.is_(True))
        .order_by(func.lower(User.name))
    ))


def possible_members(group: WorkingGroup) -> list[Organisation]:
    """Buying organisations that are not yet members of ``group``."""
    present = {m.organisation_id for m in group.memberships}
    return [o for o in all_organisations() if o.id not in present and o.type not in NON_BUYING_TYPES]


def recent_admin_events(limit: int = 20) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor)).where(AuditEvent.channel == "admin")
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    ))


def add_user(actor: User, *, name: str, email: str, organisation_id: int | None,
             roles: Iterable[Role | str], password: str) -> User:
    """Add a person who can sign in with ``password``."""
    name = _clean_name(name, "name", "person's name")
    email = _check_email_free(email)
    organisation = _organisation(organisation_id)
    wanted = _roles(roles)
    _check_password(password, "password")
    user = create_user(email, name, password, wanted, organisation.name)
    _record(actor, "user_added", f"{user.name} ({user.email}) added with {_role_names(wanted)}",
            {"user_id": user.id, "email": user.email, "organisation": organisation.name,
             "roles": sorted(wanted)})
    return user


def update_user(actor: User, user: User, *, name: str, email: str, organisation_id: int | None,
                roles: Iterable[Role | str], active: bool,
                new_password: str | None = None) -> tuple[User, list[str]]:
    """Change a person's details, roles and whether they may sign in.

    Returns the person and, when they were deactivated, what became of the tasks waiting for
    them (see release_waiting_tasks).

    An administrator can neither deactivate themselves nor drop their own administrator role,
    so there is always someone left who can undo a mistake. A group's lead stays an active
    buyer until another lead is chosen, so the group lead's tasks always reach someone.
    """
    name = _clean_name(name, "name", "person's name")
    email = _check_email_free(email, user)
    organisation = _organisation(organisation_id)
    wanted = _roles(roles)
    if user.id == actor.id and not active:
        raise _refuse("active", "You cannot deactivate your own account. Ask another administrator.")
    if user.id == actor.id and Role.ADMINISTRATOR not in wanted:
        raise _refuse("roles", "You cannot remove your own administrator role. Ask another administrator.")
    led = [g.name for g in db.session.scalars(select(WorkingGroup).where(WorkingGroup.lead_id == user.id))]
    if led and not active:
        raise _refuse("active", f"{user.name} leads {', '.join(led)}. Choose another lead before "
                      "deactivating this account.")
    if led and Role.BUYER not in wanted:
        raise _refuse("roles", f"{user.name} leads {', '.join(led)} and must stay a buyer. Choose "
                      "another lead first.")
    if new_password:
        _check_password(new_password, "new_password")

    changes = []
    if user.name != name:
        changes.append(f"name {user.name} → {name}")
    if user.email != email:
        changes.append(f"email {user.email} → {email}")
    if user.organisation_id != organisation.id:
        changes.append(f"organisation {user.organisation.name if user.organisation else 'none'} → "
                       f"{organisation.name}")
    if user.roles != wanted:
        changes.append(f"roles {_role_names(user.roles)} → {_role_names(wanted)}")
    deactivated = user.active and not active
    if user.active != active:
        changes.append("reactivated" if active else "deactivated")
    user.name, user.email, user.organisation, user.active = name, email, organisation, active
    user.set_roles(wanted)
    db.session.flush()
    if changes:
        _record(actor, "user_updated", f"{user.name} ({user.email}): {'; '.join(changes)}",
                {"user_id": user.id, "changes": changes})
    if new_password:
        reset_password(actor, user, new_password)
    return user, release_waiting_tasks(actor, user) if deactivated else []


def release_waiting_tasks(actor: User, user: User) -> list[str]:
    """A person who can no longer sign in stops holding tasks: each task waiting for them now
    waits for its other people only, or for nobody. The request's history says which; a task
    left waiting for nobody is listed under Monitoring ("waiting for nobody who can act") until
    an administrator gives it to someone. Reactivating the person does not give tasks back.

    Returns one line per task, for the administrator.
    """
    held = db.session.scalars(
        select(TaskCandidate).join(HumanTask)
        .where(TaskCandidate.user_id == user.id, HumanTask.state == TaskState.READY)
        .options(selectinload(TaskCandidate.task).selectinload(HumanTask.candidates)
                 .selectinload(TaskCandidate.user))
    ).all()
    lines = []
    for candidate in held:
        task = candidate.task
        others = [c.user.name for c in task.candidates if c.user_id != user.id and c.user.active and c.ready]
        drop_candidates(task, [user.id])
        what = f"{task.name} of “{task.instance.title}”"
        line = (f"{what} now waits for {', '.join(others)}" if others else
                f"{what} now waits for nobody: give it to someone from the request's page")
        record(task.instance, actor, "admin", "task_released", f"{user.name} was deactivated. {line}"[:500],
               {"user_id": user.id, "waiting_for": others}, task=task)
        lines.append(line)
    db.session.flush()
    return lines


def reset_password(actor: User, user: User, password: str) -> None:
    """Give ``user`` a new password; the audit entry says so but never holds the password."""
    _check_password(password, "new_password")
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.flush()
    _record(actor, "password_reset", f"Password of {user.name} ({user.email}) reset", {"user_id": user.id})


def add_organisation(actor: User, *, name: str, kind: OrganisationType | str, country: str) -> Organisation:
    """Add an organisation, named uniquely, in an EU member state."""
    name = _clean_name(name, "name", "organisation's name")
    _check_organisation_name_free(name)
    kind = _organisation_type(kind)
    country = _country(country)
    organisation = create_organisation(name, kind, country)
    _record(actor, "organisation_added",
            f"{organisation.name} ({kind.label}, {organisation.country_name}) added",
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
        raise _refuse("type", f"{organisation.name} is a member of a working group, which only buying "
                      "organisations can be. Remove it from its groups first.")
    changes = []
    if organisation.name != name:
        changes.append(f"name {organisation.name} → {name}")
    if organisation.type != kind:
        changes.append(f"type {organisation.type.label} → {kind.label}")
    if organisation.country != country:
        changes.append(f"country {organisation.country_name} → {EU_COUNTRIES[country]}")
    organisation.name, organisation.type, organisation.country = name, kind, country
    db.session.flush()
    if changes:
        _record(actor, "organisation_updated", f"{organisation.name}: {'; '.join(changes)}",
                {"organisation_id": organisation.id, "changes": changes})
    return organisation


def add_group(actor: User, *, name: str, sector: str, lead_id: int | None) -> WorkingGroup:
    """Add a working group with its lead; members are added one by one afterwards."""
    name = _clean_name(name, "name", "group's name")
    _check_group_name_free(name)
    sector = _clean_name(sector, "sector", "sector")
    lead = _lead(lead_id)
    group = create_group(name, sector, lead.email, [])
    _record(actor, "group_added", f"Working group {group.name} ({group.sector}) added, led by {lead.name}",
            {"group_id": group.id, "lead_id": lead.id})
    return group


def update_group(actor: User, group: WorkingGroup, *, name: str, sector: str,
                 lead_id: int | None) -> WorkingGroup:
    """Rename a working group, change its sector or hand its lead to another buyer."""
    name = _clean_name(name, "name", "group's name")
    _check_group_name_free(name, group)
    sector = _clean_name(sector, "sector", "sector")
    lead = _lead(lead_id)
    changes = []
    if group.name != name:
        changes.append(f"name {group.name} → {name}")
    if group.sector != sector:
        changes.append(f"sector {group.sector} → {sector}")
    if group.lead_id != lead.id:
        changes.append(f"lead {group.lead.name if group.lead else 'none'} → {lead.name}")
    group.name, group.sector, group.lead = name, sector, lead
    db.session.flush()
    if changes:
        _record(actor, "group_updated", f"Working group {group.name}: {'; '.join(changes)}",
                {"group_id": group.id, "changes": changes})
    return group


def add_group_member(actor: User, group: WorkingGroup, organisation_id: int | None) -> GroupMembership:
    """Make a buying organisation a member of ``group``, which holds at most MAX_GROUP_MEMBERS."""
    # Lock the group's row (on PostgreSQL) so two administrators cannot both add the 7th member.
    db.session.execute(select(WorkingGroup.id).where(WorkingGroup.id == group.id).with_for_update())
    count = db.session.scalar(
        select(func.count()).select_from(GroupMembership).where(GroupMembership.group_id == group.id))
    if count >= MAX_GROUP_MEMBERS:
        raise _refuse(None, f"{group.name} already has {count} members, the most a working group can "
                      f"have. Remove a member before adding another.")
    organisation = _organisation(organisation_id)
    if organisation.type in NON_BUYING_TYPES:
        raise _refuse("organisation", f"{organisation.name} is not a buying organisation and cannot be "
                      "a member of a working group")
    if any(m.organisation_id == organisation.id for m in group.memberships):
        raise _refuse("organisation", f"{organisation.name} is already a member of {group.name}")
    membership = GroupMembership(organisation=organisation)
    group.memberships.append(membership)
    db.session.flush()
    _record(actor, "group_member_added", f"{organisation.name} added to {group.name}",
            {"group_id": group.id, "organisation_id": organisation.id})
    return membership


def remove_group_member(actor: User, group: WorkingGroup, organisation_id: int) -> None:
    """End an organisation's membership of ``group``."""
    membership = next((m for m in group.memberships if m.organisation_id == organisation_id), None)
    if membership is None:
        raise _refuse(None, "That organisation is not a member of this group (any more)")
    name = membership.organisation.name
    group.memberships.remove(membership)
    db.session.flush()
    _record(actor, "group_member_removed", f"{name} removed from {group.name}",
            {"group_id": group.id, "organisation_id": organisation_id})


def set_notify_mode(actor: User, mode: NotifyMode) -> None:
    """A person chooses an e-mail per task, or one daily digest (decision links work in both)."""
    if actor.notify_mode != mode:
        actor.notify_mode = mode
        if mode == NotifyMode.DIGEST and actor.last_digest_at is None:
            actor.last_digest_at = utcnow()  # the first digest gathers from now on
        choice = "a daily digest" if mode == NotifyMode.DIGEST else "an e-mail per task"
        db.session.add(AuditEvent(actor_id=actor.id, channel="web", action="profile_updated",
                                  summary=f"{actor.name} chose {choice}"))
