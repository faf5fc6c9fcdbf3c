"""A person's own settings: how they hear about tasks, their language, and an absence with a deputy."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import ServiceError
from app.extensions import db
from app.locale import language_name, languages
from app.models import NotifyMode, User
from app.services.people import set_language, set_notify_mode
from app.steps.lanes import local_today
from forms.convert import DATE_PARTS, DateInvalid, parse_date_parts

from .helpers import date_parts, day_spec

# The absence's days, as GOV.UK date inputs: (name, label, what the messages call it).
DAYS = (("away_from", _l("First day away"), _l("the first day of your absence")),
        ("away_to", _l("Last day away"), _l("the last day of your absence")))

bp = Blueprint("profile", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def edit():
    error = language_error = None
    errors: list[tuple[str, str]] = []
    values = {"away_from": date_parts(current_user.away_from), "away_to": date_parts(current_user.away_to),
              "deputy": str(current_user.deputy_id or "")}
    marked: dict[str, tuple[str, ...]] = {}
    if request.method == "POST" and request.form.get("form") == "absence":
        if "clear" in request.form:
            current_user.set_absence(None, None, None)
            db.session.commit()
            flash(_("Your absence is cleared."), "success")
            return redirect(url_for("profile.edit"))
        values = {name: _posted_parts(name) for name, _label, _what in DAYS} | {
            "deputy": request.form.get("deputy", "").strip()}
        errors, marked, start, end, deputy = _check_absence(values)
        if not errors:
            current_user.set_absence(start, end, deputy)
            db.session.commit()
            flash(_("Your absence is saved."), "success")
            return redirect(url_for("profile.edit"))
    elif request.method == "POST" and request.form.get("form") == "language":
        try:
            set_language(current_user, request.form.get("language", ""))
        except ServiceError:
            language_error = _("Select a language")
        else:
            db.session.commit()
            refresh()  # the message below, and the page after it, in the language just chosen
            flash(_("Your language is saved."), "success")
            return redirect(url_for("profile.edit"))
    elif request.method == "POST":
        choice = request.form.get("notify_mode", "")
        if choice in {m.value for m in NotifyMode}:
            set_notify_mode(current_user, NotifyMode(choice))
            db.session.commit()
            flash(_("Your email setting is saved."), "success")
            return redirect(url_for("profile.edit"))
        error = _("Select how you want to hear about tasks")
    people = db.session.scalars(select(User).options(selectinload(User.role_rows))
                                .where(User.active.is_(True), User.id != current_user.id).order_by(User.name)).all()
    away_now = current_user.away_to is not None and current_user.away_to >= local_today()
    return render_template("profile.html", error=error, errors=errors, values=values, people=people,
                           away_now=away_now, days=DAYS, marked=marked, language_error=language_error,
                           language_choices=[(code, language_name(code)) for code in languages()],
                           ), 400 if error or errors or language_error else 200


def _posted_parts(name: str) -> dict[str, str]:
    """The day, month and year boxes as sent; a client sending one ISO date is read too."""
    if any(f"{name}-{part}" in request.form for part in DATE_PARTS):
        return {part: request.form.get(f"{name}-{part}", "").strip() for part in DATE_PARTS}
    whole = request.form.get(name, "").strip()
    try:
        return date_parts(dt.date.fromisoformat(whole)) if whole else date_parts(None)
    except ValueError:
        return {"day": whole, "month": "", "year": ""}


def _check_absence(values: dict) -> tuple[list[tuple[str, str]], dict[str, tuple[str, ...]], dt.date | None,
                                          dt.date | None, User | None]:
    """The form's errors as (field, message), the date boxes each is about, and the first
    day, last day and deputy."""
    errors: list[tuple[str, str]] = []
    marked: dict[str, tuple[str, ...]] = {}
    days: dict[str, dt.date | None] = {}
    for name, label, what in DAYS:
        spec = day_spec(name, str(label), str(what))
        try:
            days[name] = parse_date_parts(spec, **values[name])
        except DateInvalid as problem:
            days[name] = None
            errors.append((name, problem.message))
            marked[name] = problem.parts
            continue
        if days[name] is None:
            errors.append((name, _("Enter %(what)s", what=what)))
    start, end = days["away_from"], days["away_to"]
    if start and end and end < start:
        errors.append(("away_to", _("The last day must be the same as or after the first day")))
    elif end and end < local_today():
        errors.append(("away_to", _("The last day must be today or later")))
    deputy = db.session.get(User, int(values["deputy"])) if values["deputy"].isdigit() else None
    if deputy is None:
        errors.append(("deputy", _("Select who deputises for you")))
    elif deputy.id == current_user.id:
        errors.append(("deputy", _("Select someone other than yourself")))
    elif not deputy.active:
        errors.append(("deputy", _("Select someone whose account is active")))
    return errors, marked, start, end, deputy
