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
- ``people``: a list of names, joined with the reader's "and";
- ``role``: a part's English word ("coordinator"), translated;
- ``period``: ``[count, unit]`` of a retention period ("7 years");
- anything else (a reason someone typed, a request's title, an error) as it was written.

Rows written before lines were kept (no ``$line``), or of a kind no longer known, show their
``summary`` as stored. The key ``$line`` cannot be a form field's id (field ids are names
scripts read), so it never clashes with the answers a completion's row keeps beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask_babel import gettext

from app.models.base import N_
from forms.text import period_text
from forms.translations import diagram_text

if TYPE_CHECKING:
    from app.models import AuditEvent, User
    from forms.translations import StoredVersion

KEY = "$line"
DIAGRAM_ARGS = ("task", "process", "outcome", "message")
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
}


@dataclass(frozen=True)
class Line:
    """A kind of history line and its parameters, as ``said`` makes it."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)

    def english(self, actor: User | None) -> str:
        """The sentence in English, for ``summary``: what the command line, the logs and a search
        read. Plain ``%``: the English text is the message itself (no catalogue on a step's path)."""
        return LINES[self.key] % _filled(self.args, actor.name if actor else "", None, translate=False)

    def stored(self) -> dict[str, Any]:
        return {"key": self.key, "args": self.args}


def said(key: str, **args: Any) -> Line:
    """The line ``key`` of ``LINES`` with its parameters (``person`` is the actor: never given)."""
    if key not in LINES:
        raise KeyError(key)
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
        if name in DIAGRAM_ARGS and isinstance(value, str):
            value = diagram_text(version, value) if translate else value
        elif name == "people" and isinstance(value, list):
            value = names_line([str(v) for v in value], gettext("and") if translate else "and")
        elif name == "role" and isinstance(value, str):
            value = gettext(value) if translate else value
        elif name == "period" and isinstance(value, list) and len(value) == 2:
            value = period_text(int(value[0]), str(value[1]))
        elif value is None:
            value = "—"  # emptied by a purge (a parameter named like a personal field)
        filled[name] = value
    return filled


def names_line(names: list[str], last: str = "and") -> str:
    """'Clara Schmidt', 'Clara Schmidt and Tom Peeters', 'A, B and C'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}" if names else ""
