"""A history line in the reader's language.

A history row (``audit_event``) keeps what happened as a kind of line and its parameters, in
``data["$line"]`` (``{"key": "task_completed", "args": {"task": "Check claim"}}``), beside the
English sentence in ``summary``. A page shows ``event_line(event, version)``: the kind's
sentence translated at display time, with

- ``person``: the name of the event's actor, read from the actor's row when shown (so a person
  named by a pseudonym after a purge or an erasure is shown by it, with no history row rewritten);
- ``task``, ``process``, ``outcome``, ``message``: texts of the diagram, as drawn in English, shown
  through the version's catalogue (``diagram_text``; a message another process threw keeps its
  words where this one's catalogue has none);
- ``at``, ``step``, ``host``, ``first``, ``signal``: names of the diagram's elements in the
  engine's lines (app/engine/happenings.py), through the catalogue too;
- ``people``: a list of names, joined with the reader's "and";
- ``role``, ``org_type``, ``old_org_type``: an English word marked for the catalogues, translated;
- ``roles``, ``old_roles``: a list of roles ("buyer"), by their names;
- ``period``: ``[count, unit]`` of a length of time ("7 years", "15 minutes");
- ``language``: a language's code, named in the reader's language;
- ``country``, ``old_country``: a member state's code, named in the reader's language;
- ``until``: an ISO day ("14 March");
- a phrase (``{"key": …, "args": …}`` of ``PHRASES``, records.py, or the engine's), or a list of
  phrases and texts ("name Ana → Ana Costa; deactivated"): put together the same way;
- anything else (a reason someone typed, a request's title, an error) as it was written.

Rows written before lines were kept (no ``$line``), or of a kind no longer known, show their
``summary`` as stored. The key ``$line`` cannot be a form field's id (field ids are names
scripts read), so it never clashes with the answers a completion's row keeps beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from babel import Locale
from flask_babel import gettext

from app.engine.happenings import HAPPENINGS
from app.engine.happenings import PHRASES as EVENT_PHRASES
from app.locale import in_language, language_name
from app.models import EU_COUNTRIES, Role
from app.models.base import N_
from forms.text import format_date, period_text
from forms.translations import current_language, diagram_text

from .records import JOINED, PHRASES, RECORDS, WORDS

if TYPE_CHECKING:
    from app.models import AuditEvent, User
    from forms.translations import StoredVersion

KEY = "$line"
DIAGRAM_ARGS = ("task", "process", "outcome", "message", "at", "step", "host", "first", "signal")
WORD_ARGS = ("role", "org_type", "old_org_type")
ROLE_ARGS = ("roles", "old_roles")
COUNTRY_ARGS = ("country", "old_country")
LOCALISED = frozenset({"period", "until"})  # written with the locale's words even in English
# One sentence per kind of line, in English as the summary stores it; placeholders by name, so
# a translation may put them in its own order.
LINES = {
    "started": N_("%(person)s started %(process)s"),
    "task_completed": N_("%(person)s completed %(task)s"),
    "task_completed_by_email": N_("%(person)s completed %(task)s by email"),
    "task_ready": N_("%(task)s is waiting"),
    "task_withdrawn": N_("%(task)s withdrawn"),
    "task_withdrawn_enough": N_("%(task)s withdrawn: enough of the others were done"),
    "task_withdrawn_new_version": N_("%(task)s withdrawn: the new version gives it to other people"),
    "completed": N_("The request finished: %(outcome)s"),
    "notice_one": N_("%(people)s was emailed “%(subject)s”"),
    "notice_many": N_("%(people)s were emailed “%(subject)s”"),
    "notice_nobody": N_("Nobody was emailed about %(template)s: nobody active holds that part in the request"),
    "escalated": N_("%(task)s now also waits for %(people)s"),
    "escalated_role": N_("%(task)s now also waits for %(people)s (%(role)s)"),
    "escalated_nobody": N_("%(task)s: nobody more could be asked"),
    "cancelled": N_("%(person)s cancelled this request. Reason: %(reason)s"),
    "retried": N_("%(person)s ran the failed step again and it worked. Reason: %(reason)s"),
    "retry_failed": N_("%(person)s ran the failed step again; it failed again: %(error)s. Reason: %(reason)s"),
    "timer_failed": N_("A timer step failed: %(error)s"),
    "reassigned": N_("%(person)s gave %(task)s to %(assignee)s. Reason: %(reason)s"),
    "legal_hold": N_("%(person)s put this request on legal hold. Reason: %(reason)s"),
    "legal_hold_lifted": N_("%(person)s lifted the legal hold on this request. Reason: %(reason)s"),
    "migrated": N_("Moved from version %(old)s to version %(new)s by %(person)s: %(reason)s"),
    "purged_by_retention": N_("Personal data deleted: the retention period of %(period)s has ended: %(answers)s "
                              "answers emptied, %(files)s files deleted, the people in it named by pseudonyms"),
    "purged_by_erasure": N_("Personal data deleted: %(pseudonym)s asked for erasure: %(answers)s answers emptied, "
                            "%(files)s files deleted, the people in it named by pseudonyms"),
    "member_joined": N_("%(organisation)s joined %(group)s"),
    "message_received": N_("Received the message “%(message)s” from “%(title)s”"),
    "message_received_for": N_("Received the message “%(message)s” for %(group)s from “%(title)s”"),
    "started_by_message": N_("Started by the message “%(message)s” from “%(title)s”"),
    "started_by_message_for": N_("Started by the message “%(message)s” for %(group)s from “%(title)s”"),
    "message_sent_by": N_("%(person)s sent the message “%(message)s”"),
    "message_sent_by_for": N_("%(person)s sent the message “%(message)s” for %(group)s"),
    "task_released": N_("%(user)s was deactivated. %(task)s of “%(title)s” now waits for %(others)s"),
    "task_released_nobody": N_("%(user)s was deactivated. %(task)s of “%(title)s” now waits for nobody: give it to "
                               "someone from the request's page"),
    "version_stored": N_("%(process)s version %(number)s stored"),
    "version_activated": N_("%(process)s version %(number)s activated"),
    "version_activated_because": N_("%(process)s version %(number)s activated: %(reason)s"),
    "version_rolled_back": N_("%(process)s rolled back to version %(number)s (from version %(previous)s)"),
    "version_rolled_back_because": N_("%(process)s rolled back to version %(number)s (from version %(previous)s): "
                                      "%(reason)s"),
    "member_already": N_("%(organisation)s was already a member of %(group)s: nothing changed"),
    **HAPPENINGS,
    **RECORDS,
}
ALL_PHRASES = {**EVENT_PHRASES, **PHRASES}


@dataclass(frozen=True)
class Line:
    """A kind of history line and its parameters, as ``said`` makes it."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)

    def english(self, actor: User | None) -> str:
        """The sentence in English, for ``summary``: what the command line, the logs and a search
        read. Plain ``%``: the English text is the message itself (no catalogue on a step's path)."""
        if not LOCALISED.intersection(self.args):
            return LINES[self.key] % _filled(self.args, actor.name if actor else "", None, translate=False)
        with in_language(None):  # the default language's days and periods, whoever acts
            return LINES[self.key] % _filled(self.args, actor.name if actor else "", None, translate=False)

    def stored(self) -> dict[str, Any]:
        return {"key": self.key, "args": self.args}

    def shown(self, actor: User | None = None, version: StoredVersion | None = None) -> str:
        """The sentence in the current language (for a page or a flash, not for the history)."""
        return gettext(LINES[self.key], **_filled(self.args, actor.name if actor else "", version, translate=True))


def said(key: str, **args: Any) -> Line:
    """The line ``key`` of ``LINES`` with its parameters (``person`` is the actor: never given)."""
    if key not in LINES:
        raise KeyError(key)
    for value in args.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "key" in item and item["key"] not in ALL_PHRASES and item["key"] != WORDS:
                raise KeyError(item["key"])
    return Line(key, args)


def event_line(event: AuditEvent, version: StoredVersion | None) -> str:
    """The event's line in the reader's language (``version``: the request's, for its diagram's
    texts); its stored ``summary`` for a row written without a line. The actor is read from
    ``event.actor``: load it with the events (``selectinload``), not once a row."""
    kept = event.data.get(KEY) if isinstance(event.data, dict) else None
    if not isinstance(kept, dict) or kept.get("key") not in LINES or not isinstance(kept.get("args"), dict):
        return event.summary
    message = LINES[kept["key"]]
    if "%(person)s" in message and event.actor is None:
        return event.summary
    args = _filled(kept["args"], event.actor.name if event.actor else "", version, translate=True)
    try:
        return gettext(message, **args)
    except (KeyError, TypeError, ValueError):  # a parameter missing from a row: what it stored
        return event.summary


def _filled(args: dict[str, Any], person: str, version: StoredVersion | None, translate: bool) -> dict[str, Any]:
    filled = {"person": person}
    for name, value in args.items():
        filled[name] = _value(name, value, person, version, translate)
    return filled


def _value(name: str, value: Any, person: str, version: StoredVersion | None, translate: bool) -> Any:
    if _is_phrase(value):
        return _phrase(value, person, version, translate)
    if isinstance(value, list) and name in JOINED:
        return JOINED[name].join(
            _phrase(item, person, version, translate) if _is_phrase(item) else str(item) for item in value)
    if name in DIAGRAM_ARGS and isinstance(value, str):
        return diagram_text(version, value) if translate else value
    if name == "people" and isinstance(value, list):
        return names_line([str(v) for v in value], gettext("and") if translate else "and")
    if name in WORD_ARGS and isinstance(value, str):
        return gettext(value) if translate and value else value
    if name in ROLE_ARGS and isinstance(value, list):
        if not value:
            return gettext("no role") if translate else "no role"
        return ", ".join(sorted(Role(v).translated if translate else v for v in value))
    if name == "period" and isinstance(value, list) and len(value) == 2:
        return period_text(int(value[0]), str(value[1]))
    if name in COUNTRY_ARGS and isinstance(value, str):  # a member state's code, named as Babel names it
        return Locale.parse(current_language()).territories.get(value, value) if translate else \
            EU_COUNTRIES.get(value, value)
    if name == "language" and isinstance(value, str):
        return language_name(value, current_language() if translate else "en")
    if name == "until" and isinstance(value, str):
        day = dt.date.fromisoformat(value)
        return format_date(day, this_year=dt.date.today().year)
    if value is None:
        return "—"  # emptied by a purge (a parameter named like a personal field)
    return value


def _is_phrase(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"key", "args"} and isinstance(value["args"], dict) and (
        value["key"] in ALL_PHRASES or value["key"] == WORDS)


def _phrase(value: dict[str, Any], person: str, version: StoredVersion | None, translate: bool) -> str:
    if value["key"] == WORDS:
        text = str(value["args"].get("text", ""))
        return gettext(text) if translate and text else text
    args = _filled(value["args"], person, version, translate)
    text = ALL_PHRASES[value["key"]]
    return gettext(text, **args) if translate else text % args


def names_line(names: list[str], last: str = "and") -> str:
    """'Clara Schmidt', 'Clara Schmidt and Tom Peeters', 'A, B and C'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}" if names else ""
