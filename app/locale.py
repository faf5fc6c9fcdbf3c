"""Which language a page is in: the person's choice, else the browser's, else the default."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user


def select_locale() -> str:
    """Flask-Babel's locale selector (app/__init__.py): one of LANGUAGES."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    chosen = getattr(current_user, "language", None) if current_user and current_user.is_authenticated else None
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or languages[0]
