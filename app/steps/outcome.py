"""How the end a request reached reads: the name drawn on its end event, and the status word
made of it ("Claim paid" -> "Paid")."""

from __future__ import annotations

from app.engine import ProcessModel, end_name

ARTICLES = ("a", "an", "the")


def outcome_label(outcome: str, model: ProcessModel | None = None) -> str:
    """The end event's name ('Claim paid'); for an end drawn without a name (or no model), its id
    in words ('end_claim_paid' -> 'Claim paid')."""
    name = end_name(model, outcome) if model is not None and outcome else ""
    words = " ".join((name or outcome.removeprefix("end_").replace("_", " ")).split())
    return words[:1].upper() + words[1:] if words else "Done"


def status_word(outcome: str, model: ProcessModel | None = None) -> str:
    """A finished request's status: its end's name without the thing it is about.

    'Claim paid' -> 'Paid', 'Application withdrawn' -> 'Withdrawn', 'Budget not signed off' ->
    'Not signed off', 'Organisation is a member' -> 'Member'; a one-word name stays as it is.
    """
    words = outcome_label(outcome, model).split()
    lowered = [word.lower() for word in words]
    if "is" in lowered[1:]:
        words = words[lowered.index("is") + 1:] or words
        if len(words) > 1 and words[0].lower() in ARTICLES:
            words = words[1:]
    elif len(words) > 1:
        words = words[1:]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
