"""The history's lines that are no step of a request's diagram: the administrators' records of
people, organisations, groups, names and sign-ins, messages between requests, a task's people
re-checked; and the phrases a line may hold (what changed, whom a name stands for).

Texts in English, as the summary stores them; ``lines.py`` shows them in the reader's language.
"""

from __future__ import annotations

from typing import Any

from app.models.base import N_

RECORDS = {
    # People and their accounts
    "user_added": N_("%(user)s (%(email)s) added with %(roles)s, invited in %(language)s"),
    "user_added_cli": N_("%(user)s (%(email)s) added with %(roles)s"),
    "user_updated": N_("%(user)s (%(email)s): %(changes)s"),
    "invitation_sent": N_("Invitation emailed to %(user)s (%(email)s)"),
    "password_link_sent": N_("New password link emailed to %(user)s (%(email)s)"),
    "password_reset_requested": N_("%(person)s asked for a link to choose a new password"),
    "password_chosen_invitation": N_("%(person)s chose a password from an invitation"),
    "password_chosen_reset": N_("%(person)s chose a password from a forgotten-password link"),
    "chose_digest": N_("%(person)s chose a daily digest"),
    "chose_each_task": N_("%(person)s chose an email per task"),
    "chose_language": N_("%(person)s chose %(language)s for pages and emails"),
    "two_step_set_up": N_("%(person)s set up two-step sign-in"),
    "recovery_code_used": N_("%(person)s signed in with a recovery code (%(left)s left)"),
    "two_step_reset": N_("Two-step sign-in of %(user)s (%(email)s) reset"),
    "signed_out_everywhere": N_("%(person)s signed out everywhere"),
    "sign_in_failed": N_("Failed sign-in as %(user)s (%(email)s) from %(client)s"),
    "sign_in_failed_unknown": N_("Failed sign-in as an address that has no account from %(client)s"),
    "sign_in_locked": N_("Sign-in locked for %(period)s for %(user)s (%(email)s): %(limit)s failed attempts"),
    "sign_in_locked_unknown": N_("Sign-in locked for %(period)s for an address that has no account: %(limit)s "
                                 "failed attempts"),
    "sign_in_locked_client": N_("Sign-in locked for %(period)s for the client address %(client)s: %(limit)s "
                                "failed attempts"),
    "own_data_downloaded": N_("%(person)s downloaded their own data"),
    "data_downloaded": N_("%(person)s downloaded the data of %(user)s (%(email)s)"),
    "user_erased": N_("%(person)s erased %(pseudonym)s at their request: %(erased)s requests' personal data "
                      "deleted, %(kept)s kept, %(tasks)s waiting tasks given back to their lanes"),
    "email_retried": N_("Email to %(address)s queued again: %(subject)s"),
    # Organisations, groups and the names diagrams use
    "organisation_added": N_("%(organisation)s (%(org_type)s, %(country)s) added"),
    "organisation_updated": N_("%(organisation)s: %(changes)s"),
    "group_added": N_("Working group %(group)s (%(sector)s) added, led by %(lead)s"),
    "group_updated": N_("Working group %(group)s: %(changes)s"),
    "group_member_added": N_("%(organisation)s added to %(group)s"),
    "group_member_removed": N_("%(organisation)s removed from %(group)s"),
    "name_mapped": N_("‘%(name)s’ in diagrams stands for %(meaning)s"),
    "name_mapping_changed": N_("‘%(name)s’ in diagrams: %(changes)s"),
    "name_mapping_removed": N_("‘%(name)s’ in diagrams no longer stands for %(meaning)s"),
    # A request's history
    "lanes_rechecked_added": N_("%(why)s: %(task)s now also waits for %(added)s"),
    "lanes_rechecked_dropped": N_("%(why)s: %(task)s no longer waits for %(dropped)s"),
    "lanes_rechecked_both": N_("%(why)s: %(task)s now also waits for %(added)s and no longer waits for "
                               "%(dropped)s"),
    # What the administrator who made the change reads (not the history)
    "task_moved_added": N_("%(task)s of “%(title)s” now also waits for %(added)s"),
    "task_moved_dropped": N_("%(task)s of “%(title)s” no longer waits for %(dropped)s"),
    "task_moved_both": N_("%(task)s of “%(title)s” now also waits for %(added)s and no longer waits for "
                          "%(dropped)s"),
    "task_moved_others": N_("%(task)s of “%(title)s” now waits for %(others)s"),
    "task_moved_nobody": N_("%(task)s of “%(title)s” now waits for nobody: give it to someone from the "
                            "request's page"),
    "waits_unmapped": N_("Nobody is named for this step yet: an administrator can map %(names)s under "
                         "%(page)s. Until then it waits for the administrators."),
    "waits_failures": N_("Nobody is named for this step: %(problems)s. It waits for the administrators."),
    "waits_no_lane": N_("Nobody is named for this step: the diagram gives it no lane or assignment. It waits for "
                        "the administrators; an administrator can reassign it."),
    "deputy_added": N_("%(deputy)s asked too: deputising for %(absent)s, who is away until %(until)s"),
    "worked_out": N_("%(task)s: %(expression)s names %(names)s"),
    "worked_out_failed": N_("%(task)s: %(failure)s"),
    "organisation_renamed": N_("%(user)s named “%(typed)s”, but another organisation already has that name: "
                               "their organisation is added as “%(organisation)s”; an administrator can rename it"),
    "message_sent": N_("The message %(label)s was sent to %(reached)s"),
    "message_sent_nowhere": N_("The message %(label)s was sent; no request was waiting for it"),
    "message_chain_stopped": N_("A chain of more than %(limit)s messages was stopped here: the message %(label)s "
                                "was not sent. Check the diagrams for messages that go round in a loop."),
    "message_not_handled": N_("The message %(label)s from “%(title)s” could not be handled: %(error)s"),
    "message_not_started": N_("The message %(label)s could not start “%(process)s”: %(error)s"),
}
# What a line's parameter may be besides a plain value: a phrase, put together in the reader's
# language too. A list of them reads as one text (``changes``: "name … → …; deactivated").
PHRASES = {
    "changed_name": N_("name %(old)s → %(new)s"),
    "changed_email": N_("email %(old)s → %(new)s"),
    "changed_organisation": N_("organisation %(old)s → %(new)s"),
    "changed_roles": N_("roles %(old_roles)s → %(roles)s"),
    "changed_sector": N_("sector %(old)s → %(new)s"),
    "changed_lead": N_("lead %(old)s → %(new)s"),
    "changed_type": N_("type %(old_org_type)s → %(org_type)s"),
    "changed_country": N_("country %(old_country)s → %(country)s"),
    "changed_mapped_name": N_("name ‘%(old)s’ → ‘%(new)s’"),
    "changed_meaning": N_("stands for %(old)s → %(new)s"),
    "reactivated": N_("reactivated"),
    "deactivated": N_("deactivated"),
    "none": N_("none"),
    "meaning_person": N_("%(user)s (%(email)s)"),
    "meaning_person_inactive": N_("%(user)s (%(email)s), who cannot sign in"),
    "meaning_nobody": N_("a person who no longer exists"),
    "why_roles": N_("Roles or a group's lead changed"),
    "why_mapped": N_("‘%(name)s’ now stands for %(meaning)s"),
    "why_unmapped": N_("‘%(name)s’ is no longer mapped"),
    "message_label": N_("“%(message)s”"),
    "message_label_for": N_("“%(message)s” for %(group)s"),
    "new_request_named": N_("a new request “%(title)s”"),
    "quoted_name": N_("‘%(name)s’"),
}
# The parameters that are lists of phrases and texts, and how their items are joined.
JOINED = {"changes": "; ", "reached": ", ", "names": ", "}
WORDS = "words"  # a phrase of one text marked for the catalogues elsewhere (``words("…")``)


def phrase(key: str, **args: Any) -> dict[str, Any]:
    """The phrase ``key`` of ``PHRASES`` (or the engine's) with its parameters, as a line keeps it."""
    return {"key": key, "args": args}


def words(text: str) -> dict[str, Any]:
    """A text marked with ``N_`` elsewhere (a role's meaning), translated when shown."""
    return phrase(WORDS, text=text)
