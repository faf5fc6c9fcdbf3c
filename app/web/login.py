"""Flask-Login: who is signed in, and where to send someone who is not."""

from __future__ import annotations

from flask import Flask

from app.extensions import db, login_manager
from app.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None
