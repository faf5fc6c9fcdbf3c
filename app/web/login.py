"""Flask-Login: who is signed in, and where to send someone who is not.

The session and the remember-me cookie carry the key of one sign-in (app.models.signins),
checked on every request: a sign-in ended or expired signs the browser out, copies of its
cookies included.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from app.extensions import db, login_manager
from app.locale import browser_language
from app.models import User
from app.services import people


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Sign in to continue.")
    login_manager.localize_callback = str  # the lazy message in the page's language, as the session stores text
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    app.before_request(keep_session_alive)


def load_user(key: str) -> User | None:
    return people.signed_in_user(key)


def keep_session_alive() -> None:
    """Note, before the view changes anything, that this browser is in use."""
    if request.endpoint != "static" and current_user.is_authenticated and people.touch_session(current_user):
        db.session.commit()


def sign_in(user: User, remember: bool) -> None:
    """Sign ``user`` in on this browser, in a new session: nothing from before sign-in carries
    over, its CSRF token included."""
    language = browser_language()  # before clear(): the switch's choice is in the session
    session.clear()
    people.start_session(user, remember=remember, language=language)
    db.session.commit()
    login_user(user, remember=remember, duration=people.remember_duration())


def forget_browser() -> None:
    """Forget this browser's session and remember-me cookie (end its sign-in first)."""
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion in the session
