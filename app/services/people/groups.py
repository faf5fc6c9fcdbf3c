"""Working groups: create them, the administrator's add and update, and their members."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.engine import ProcessModel, load_model, parse_xml
from app.engine.juel import is_juel, to_python
from app.engine.reading import BPMN_NS
from app.engine.scripting import RestrictedEnvironment
from app.errors import ServiceError
from app.extensions import db
from app.models import (
    GroupMembership,
    Organisation,
    ProcessDefinition,
    ProcessVersion,
    Role,
    User,
    UserRole,
    WorkingGroup,
)
from app.steps import phrase, recheck_lanes, said

from .accounts import find_user
from .admin import _clean_name, _record, _refuse
from .organisations import NON_BUYING_TYPES, _organisation, all_organisations, find_organisation

ONBOARDING_PROCESS = "group_onboarding"
# The flow the onboarding diagram takes to the waiting list when a group is full: its condition
# on group_member_count is the one place the size limit of a working group is written.
GROUP_FULL_FLOW = "flow_group_full"
LARGEST_GROUP = 1000  # how far group_size_limit counts before it calls a condition unreadable
_LIMITS: dict[str, int] = {}  # parsed model key -> its limit


def create_group(name: str, sector: str, lead_email: str | None, members: Iterable[str]) -> WorkingGroup:
    if db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == name)) is not None:
        raise ServiceError(_("A working group called %(name)s already exists", name=name))
    group = WorkingGroup(name=name, sector=sector, lead=find_user(lead_email))
    db.session.add(group)
    for member in members:
        organisation = find_organisation(member)
        group.memberships.append(GroupMembership(organisation=organisation))
    db.session.flush()
    return group


def _check_group_name_free(name: str, group: WorkingGroup | None = None) -> None:
    other = db.session.scalar(select(WorkingGroup).where(func.lower(WorkingGroup.name) == name.lower()))
    if other is not None and other is not group:
        raise _refuse("name", _("A working group called %(name)s already exists", name=other.name))


def _lead(lead_id: int | None) -> User:
    lead = db.session.get(User, lead_id) if lead_id else None
    if lead is None or not lead.active or not lead.has_role(Role.BUYER):
        raise _refuse("lead", _("Select the group lead from the list of buyers"))
    return lead


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


def add_group(actor: User, *, name: str, sector: str, lead_id: int | None) -> WorkingGroup:
    """Add a working group with its lead; members are added one by one afterwards."""
    name = _clean_name(name, "name", "group's name")
    _check_group_name_free(name)
    sector = _clean_name(sector, "sector", "sector")
    lead = _lead(lead_id)
    group = create_group(name, sector, lead.email, [])
    _record(actor, "group_added", said("group_added", group=group.name, sector=group.sector, lead=lead.name),
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
        changes.append(phrase("changed_name", old=group.name, new=name))
    if group.sector != sector:
        changes.append(phrase("changed_sector", old=group.sector, new=sector))
    if group.lead_id != lead.id:
        changes.append(phrase("changed_lead", old=group.lead.name if group.lead else phrase("none"), new=lead.name))
    group.name, group.sector, group.lead = name, sector, lead
    db.session.flush()
    recheck_lanes(actor, group_id=group.id)
    if changes:
        _record(actor, "group_updated", said("group_updated", group=group.name, changes=changes),
                {"group_id": group.id})
    return group


def group_size_limit() -> int:
    """The most organisations a working group may have (PROCESSES.md: groups of 3 to 7 buyers).

    It is the smallest member count at which the active group onboarding diagram puts an
    applicant on the waiting list: the condition of its flow_group_full, evaluated as the
    engine evaluates it. Change the diagram to change the limit.
    """
    version = db.session.scalar(
        select(ProcessVersion).join(ProcessDefinition)
        .where(ProcessDefinition.process_id == ONBOARDING_PROCESS, ProcessVersion.active.is_(True)))
    if version is None:
        raise ServiceError(_("The group onboarding process has no active version, so the size limit of a working "
                             "group is unknown: install it with flask workflows sync"))
    model = load_model(version)
    if model.key not in _LIMITS:
        _LIMITS[model.key] = _first_full_count(_full_condition(model))
    return _LIMITS[model.key]


def _full_condition(model: ProcessModel) -> str:
    """The condition of the onboarding diagram's flow_group_full, as Python."""
    for name, text in model.files.items():
        if not name.endswith(".bpmn"):
            continue
        for flow in parse_xml(name, text).iter(f"{{{BPMN_NS}}}sequenceFlow"):
            condition = flow.find(f"{{{BPMN_NS}}}conditionExpression") if flow.get("id") == GROUP_FULL_FLOW else None
            if condition is not None and (condition.text or "").strip():
                return to_python(condition.text) if is_juel(condition.text) else condition.text
    raise ServiceError(_("The group onboarding diagram has no condition on %(flow)s, so the size limit "
                         "of a working group is unknown", flow=GROUP_FULL_FLOW))


def _first_full_count(condition: str) -> int:
    environment = RestrictedEnvironment()
    try:
        for count in range(LARGEST_GROUP + 1):
            if environment.evaluate(condition, {"group_member_count": count}):
                return count
    except Exception as exc:  # noqa: BLE001 - the diagram's code may fail in any way
        raise ServiceError(_("The condition of %(flow)s in the group onboarding diagram cannot be evaluated on "
                             "the member count alone (%(error)s), so the size limit of a working group is unknown",
                             flow=GROUP_FULL_FLOW, error=exc)) from None
    raise ServiceError(_("The condition of %(flow)s in the group onboarding diagram holds for no group of up "
                         "to %(count)s members, so the size limit of a working group is unknown",
                         flow=GROUP_FULL_FLOW, count=LARGEST_GROUP))


def join_group(group: WorkingGroup, organisation: Organisation) -> GroupMembership:
    """Make a buying organisation a member of ``group``: the one way a membership is added, by an
    administrator (add_group_member) or by the onboarding diagram's add_group_member task.

    Refuses a group that holds group_size_limit() organisations already, an organisation that
    does not buy, and a member twice.
    """
    # Lock the group's row (on PostgreSQL) so two administrators cannot both add the 7th member.
    db.session.execute(select(WorkingGroup.id).where(WorkingGroup.id == group.id).with_for_update())
    count = db.session.execute(
        select(func.count()).select_from(GroupMembership).where(GroupMembership.group_id == group.id)).scalar_one()
    if count >= group_size_limit():
        raise _refuse(None, _("%(group)s already has %(count)s members, the most a working group can have. Remove "
                              "a member before adding another.", group=group.name, count=count))
    if organisation.type in NON_BUYING_TYPES:
        raise _refuse("organisation", _("%(organisation)s is not a buying organisation and cannot be a member of "
                                        "a working group", organisation=organisation.name))
    if any(m.organisation_id == organisation.id for m in group.memberships):
        raise _refuse("organisation", _("%(organisation)s is already a member of %(group)s",
                                        organisation=organisation.name, group=group.name))
    membership = GroupMembership(organisation=organisation)
    group.memberships.append(membership)
    db.session.flush()
    return membership


def add_group_member(actor: User, group: WorkingGroup, organisation_id: int | None) -> GroupMembership:
    """Make a buying organisation a member of ``group``, which holds at most group_size_limit()."""
    organisation = _organisation(organisation_id)
    membership = join_group(group, organisation)
    _record(actor, "group_member_added", said("group_member_added", organisation=organisation.name, group=group.name),
            {"group_id": group.id, "organisation_id": organisation.id})
    return membership


def remove_group_member(actor: User, group: WorkingGroup, organisation_id: int) -> None:
    """End an organisation's membership of ``group``."""
    membership = next((m for m in group.memberships if m.organisation_id == organisation_id), None)
    if membership is None:
        raise _refuse(None, _("That organisation is not a member of this group (any more)"))
    name = membership.organisation.name
    group.memberships.remove(membership)
    db.session.flush()
    _record(actor, "group_member_removed", said("group_member_removed", organisation=name, group=group.name),
            {"group_id": group.id, "organisation_id": organisation_id})
