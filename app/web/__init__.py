"""Thin views: load and authorise, validate, call one service, commit, redirect."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context, render_template
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select

from app.extensions import db, login_manager
from app.models import TaskCandidate, User
from app.steps import outcome_label
from forms.text import format_date, format_money


def register_web(app: Flask) -> None:
    from . import admin, admin_mail, auth, decide, migration_admin, monitor, processes_admin, profile, requests, tasks

    for module in (auth, tasks, requests, decide, profile, admin, admin_mail, processes_admin, monitor,
                   migration_admin):
        blueprint = module.bp
        app.register_blueprint(blueprint)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    zone = ZoneInfo(app.config.get("DISPLAY_TIMEZONE", "Europe/Brussels"))

    @app.template_filter("when")
    def when(moment: dt.datetime | None) -> str:
        """'26 Nov 2026, 14:05' in the display time zone."""
        if moment is None:
            return "—"
        local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(zone)
        return f"{local.day} {local:%b %Y, %H:%M}"

    @app.template_filter("money")
    def money(value) -> str:
        return format_money(Decimal(str(value))) if value not in (None, "") else "—"

    @app.template_filter("day")
    def day(value) -> str:
        if value in (None, ""):
            return "—"
        return format_date(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))

    @app.template_global()
    def page_window(page: int, pages: int) -> list[int | None]:
        """Page numbers to show: the first, the last and two either side; None for a gap."""
        shown = sorted({1, pages, *range(max(page - 2, 1), min(page + 2, pages) + 1)})
        window: list[int | None] = []
        for number in shown:
            if window and number - window[-1] > 1:
                window.append(None)
            window.append(number)
        return window

    @app.template_filter("outcome")
    def outcome(value: str) -> str:
        return outcome_label(value) if value else ""

    @app.context_processor
    def navigation():
        waiting = g.get("waiting_count", 0) if has_request_context() else 0
        if has_request_context() and current_user.is_authenticated and "waiting_count" not in g:
            waiting = db.session.scalar(
                select(func.count()).select_from(TaskCandidate)
                .where(TaskCandidate.user_id == current_user.id, TaskCandidate.ready.is_(True))
            )
        return {"waiting_count": waiting}

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("errors/message.html", title="You cannot see this page",
                               message="This page is for other people. If you think you should see "
                               "it, ask the secretariat."), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/message.html", title="Page not found",
                               message="If you typed the web address, check it is correct. If you "
                               "followed a link, the item may have been removed."), 404

    @app.errorhandler(413)
    def too_large(error):
        return render_template("errors/message.html", title="The files are too large",
                               message="Together the files you sent are larger than this service "
                               "accepts. Go back and send smaller files; nothing was saved."), 413

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        return response
