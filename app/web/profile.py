"""A person's own settings: how they hear about tasks."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.models import NotifyMode
from app.services.people import set_notify_mode

bp = Blueprint("profile", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def edit():
    error = None
    if request.method == "POST":
        choice = request.form.get("notify_mode", "")
        if choice in {m.value for m in NotifyMode}:
            set_notify_mode(current_user, NotifyMode(choice))
            db.session.commit()
            flash("Your e-mail setting is saved.", "success")
            return redirect(url_for("profile.edit"))
        error = "Select how you want to hear about tasks"
    return render_template("profile.html", error=error), 400 if error else 200
