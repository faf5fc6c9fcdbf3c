"""Which language a page or an email is in.

A page: the signed-in person's choice, else the language chosen with the switch on signed-out
pages (kept in the session), else the browser's (Accept-Language), else the default (the
first of LANGUAGES). An email: its recipient's language, else the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from babel import Locale
from flask import current_app, has_request_context, request, session
from flask_babel import force_locale
from flask_login import current_user

SESSION_KEY = "language"  # the switch's choice on signed-out pages


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def language_name(code: str, in_language: str | None = None) -> str:
    """A language by its own name ('Français', 'Deutsch'), for the settings page and the switch;
    or by its name in ``in_language`` ('French' in 'en', for the history's English lines)."""
    name = Locale.parse(code).get_display_name(in_language or code) or code
    return name[:1].upper() + name[1:]


def browser_language() -> str | None:
    """The language this browser asked for: the switch's choice, else Accept-Language's best
    match among LANGUAGES; None when it asked for none of them."""
    if not has_request_context():
        return None
    chosen = session.get(SESSION_KEY)
    if chosen in languages():
        return chosen
    return request.accept_languages.best_match(languages())


def select_locale() -> str:
    """Flask-Babel's locale selector (app/__init__.py): one of LANGUAGES."""
    if not has_request_context():
        return languages()[0]
    chosen = getattr(current_user, "language", None) if current_user and current_user.is_authenticated else None
    if chosen in languages():
        return chosen
    return browser_language() or languages()[0]


def language_of(person: Any) -> str:
    """The language a person's emails are written in: theirs, else the default (also for an
    address with no account, ``person`` None)."""
    chosen = getattr(person, "language", None)
    return chosen if chosen in languages() else languages()[0]


@contextmanager
def in_language(person: Any) -> Iterator[None]:
    """Write what is inside (gettext, dates, numbers, money) in ``person``'s language."""
    with force_locale(language_of(person)):
        yield
