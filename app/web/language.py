"""The page's language: ``<html lang>``, and the switch on signed-out pages.

A signed-in person chooses on their settings page. Someone signed out follows their browser,
or picks a language with the links at the top of the page (``?lang=fr``), kept in the session
until they sign in; their first sign-in writes it down as their choice (app/web/login.py).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

from app.locale import SESSION_KEY, language_name, languages


def init_app(app: Flask) -> None:
    app.before_request(take_switch)
    app.context_processor(page_language)


def take_switch() -> None:
    """Keep the language chosen with the switch (``?lang=xx``) for the rest of the visit."""
    chosen = request.args.get("lang")
    if chosen in languages() and request.endpoint != "static":
        session[SESSION_KEY] = chosen


def page_language() -> dict:
    """``page_language`` for ``<html lang>``; ``language_links`` for the switch when signed out:
    (code, own name, address or None for the page's own language)."""
    code = str(get_locale() or languages()[0])
    links: list[tuple[str, str, str | None]] = []
    rule = request.url_rule if has_request_context() else None
    if rule is not None and "GET" in (rule.methods or ()) and not current_user.is_authenticated:
        args = {**(request.view_args or {}), **request.args.to_dict()}
        links = [(other, language_name(other),
                  None if other == code else url_for(rule.endpoint, **{**args, "lang": other}))
                 for other in languages()]
    return {"page_language": code, "language_links": links}
