"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from app.extensions import db
from app.models import User

from .helpers import Errors, form_errors, render_page
from .two_step import needs_second_step, start_second_step

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField("Email address", [DataRequired("Enter your email address")])
    password = PasswordField("Password", [DataRequired("Enter your password")])
    remember = BooleanField("Keep me signed in on this device")


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("tasks.inbox")


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tasks.inbox"))
    form = SignInForm()
    errors: Errors = []
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if user is not None and user.active and user.check_password(form.password.data):
            if needs_second_step(user):
                return start_second_step(user, form.remember.data, safe_next(request.args.get("next")))
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        errors = [("email", "Enter a correct email address and password")]
    elif form.is_submitted():
        errors = form_errors(form)
    return render_page("auth/login.html", errors, form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
