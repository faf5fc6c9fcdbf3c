"""Names in diagrams: the administrator's mapping of a diagram's user and group names to people.

A diagram from Camunda Modeler names people its own way (``management``, ``demo``). Each such
name is mapped once, whatever its case, to a person, a role or a group role; a task that uses
a name not mapped yet waits for the administrators. Adding, changing or removing a mapping
moves the waiting tasks that use the name at once (``recheck_lanes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.engine.assignments import is_expression
from app.extensions import db
from app.models import GROUP_ROLES, ROLE_MEANINGS, AuditEvent, HumanTask, NameMapping, NameTarget, Role, TaskState, User
from app.steps import phrase, recheck_lanes, said, words
from app.steps.lanes import FOR_ADMINISTRATORS, INITIATOR_REFERENCES, lane_kind
from app.steps.names import mappings_of

from .admin import _clean_name, _record, _refuse


@dataclass(frozen=True)
class Meaning:
    """One thing a name may stand for, as the form offers it: ``value`` is what the form sends."""

    value: str  # person:<id>, role:<role>, group_role:<key>
    label: str


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def name_meanings() -> list[Meaning]:
    """What a name may stand for: each role, each group role, each active person."""
    meanings = [Meaning(f"{prefix}:{key}", _capitalised(gettext(label)))
                for prefix, labels in (("role", ROLE_MEANINGS), ("group_role", GROUP_ROLES))
                for key, label in labels.items()]
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(func.lower(User.name)))
    meanings += [Meaning(f"person:{user.id}", f"{user.name} ({user.email})") for user in people]
    return meanings


def all_name_mappings() -> list[NameMapping]:
    """Every mapping, by name."""
    return list(db.session.scalars(
        select(NameMapping).options(selectinload(NameMapping.user)).order_by(NameMapping.name_key)))


def unmapped_names() -> list[tuple[str, int]]:
    """The names not mapped yet for which tasks wait for the administrators: (name, how many tasks)."""
    rows = db.session.execute(
        select(AuditEvent.task_id, AuditEvent.data).join(HumanTask, HumanTask.id == AuditEvent.task_id)
        .where(AuditEvent.action == FOR_ADMINISTRATORS, HumanTask.state == TaskState.READY))
    waiting: dict[str, tuple[str, set[int]]] = {}
    for task_id, data in rows:
        for name in (data or {}).get("unmapped") or []:
            waiting.setdefault(NameMapping.key_of(name), (name, set()))[1].add(task_id)
    mapped = mappings_of([name for name, _ in waiting.values()])
    return [(name, len(tasks)) for key, (name, tasks) in sorted(waiting.items()) if key not in mapped]


def find_name_mapping(name: str) -> NameMapping | None:
    """The mapping of ``name``, in any case, if there is one."""
    return db.session.scalar(select(NameMapping).where(NameMapping.name_key == NameMapping.key_of(name)))


def _name(name: str, mapping: NameMapping | None = None) -> str:
    name = " ".join(_clean_name(name, "name", "name the diagram uses").split())
    if name in INITIATOR_REFERENCES or is_expression(name):
        raise _refuse("name", gettext("%(name)s is an expression: it is worked out when the task opens, so there is "
                                      "nothing to map. Map the names it gives instead", name=name))
    kind = lane_kind(name)
    if kind is not None:
        means = GROUP_ROLES[kind] if kind in GROUP_ROLES else ROLE_MEANINGS.get(kind, kind)
        raise _refuse("name", gettext("‘%(name)s’ already stands for %(meaning)s: diagrams can use it as it is",
                                      name=name, meaning=gettext(means)))
    other = find_name_mapping(name)
    if other is not None and other is not mapping:
        raise _refuse("name", gettext("‘%(name)s’ is already mapped: change that mapping instead", name=other.name))
    return name


def _meaning(stands_for: str) -> tuple[NameTarget, int | None, str | None]:
    kind, _, value = (stands_for or "").partition(":")
    if kind == "person":
        user = db.session.get(User, int(value)) if value.isdigit() and len(value) < 10 else None
        if user is None or not user.active:
            raise _refuse("stands_for", gettext("Select a person who can sign in from the list"))
        return NameTarget.PERSON, user.id, None
    if kind == "role" and value in {role.value for role in Role}:
        return NameTarget.ROLE, None, value
    if kind == "group_role" and value in GROUP_ROLES:
        return NameTarget.GROUP_ROLE, None, value
    raise _refuse("stands_for", gettext("Select who the name stands for"))


def _moved(actor: User, mapping: NameMapping) -> list[str]:
    return recheck_lanes(actor, name=mapping.name, why=phrase("why_mapped", name=mapping.name,
                                                               meaning=meaning_phrase(mapping)))


def meaning_phrase(mapping: NameMapping) -> dict:
    """Whom a mapping stands for, as the history keeps it (``NameMapping.meaning``, shown in
    the reader's language)."""
    if mapping.target == NameTarget.PERSON:
        if mapping.user is None:
            return phrase("meaning_nobody")
        return phrase("meaning_person" if mapping.user.active else "meaning_person_inactive",
                      user=mapping.user.name, email=mapping.user.email)
    if mapping.target == NameTarget.ROLE and mapping.role in ROLE_MEANINGS:
        return words(ROLE_MEANINGS[mapping.role])
    return words(GROUP_ROLES.get(mapping.role or "", mapping.role or ""))


def add_name_mapping(actor: User, *, name: str, stands_for: str) -> tuple[NameMapping, list[str]]:
    """Map a diagram's name to a person, a role or a group role; the waiting tasks it moved, as lines."""
    name = _name(name)
    target, user_id, role = _meaning(stands_for)
    mapping = NameMapping(name=name, name_key=NameMapping.key_of(name), target=target, user_id=user_id, role=role)
    db.session.add(mapping)
    db.session.flush()
    _record(actor, "name_mapped", said("name_mapped", name=name, meaning=meaning_phrase(mapping)),
            {"name": name, "stands_for": stands_for})
    return mapping, _moved(actor, mapping)


def update_name_mapping(actor: User, mapping: NameMapping, *, name: str,
                        stands_for: str) -> tuple[NameMapping, list[str]]:
    """Change a mapping's name or what it stands for; the waiting tasks it moved, as lines."""
    name = _name(name, mapping)
    target, user_id, role = _meaning(stands_for)
    before, old_name = meaning_phrase(mapping), mapping.name
    mapping.name, mapping.name_key, mapping.target, mapping.user_id, mapping.role = (
        name, NameMapping.key_of(name), target, user_id, role)
    db.session.flush()
    db.session.expire(mapping, ["user"])
    changes = []
    if old_name != name:
        changes.append(phrase("changed_mapped_name", old=old_name, new=name))
    if before != meaning_phrase(mapping):
        changes.append(phrase("changed_meaning", old=before, new=meaning_phrase(mapping)))
    if not changes:
        return mapping, []
    _record(actor, "name_mapping_changed", said("name_mapping_changed", name=name, changes=changes),
            {"name": name, "stands_for": stands_for})
    lines = _moved(actor, mapping)
    if NameMapping.key_of(old_name) != mapping.name_key:
        lines += recheck_lanes(actor, name=old_name, why=phrase("why_unmapped", name=old_name))
    return mapping, lines


def remove_name_mapping(actor: User, mapping: NameMapping) -> list[str]:
    """Remove a mapping: tasks that use the name wait for the administrators again; the moves, as lines."""
    name, meaning = mapping.name, meaning_phrase(mapping)
    db.session.delete(mapping)
    db.session.flush()
    _record(actor, "name_mapping_removed", said("name_mapping_removed", name=name, meaning=meaning), {"name": name})
    return recheck_lanes(actor, name=name, why=phrase("why_unmapped", name=name))
