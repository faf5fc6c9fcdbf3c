"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, Form, PasswordField
from wtforms.validators import DataRequired

from app.extensions import db
from app.models import User

bp = Blueprint("auth", __name__)


class SignInForm(Form):
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
    form = SignInForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, str]] = []
    if request.method == "POST" and form.validate():
        user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        errors = [("email", "Enter a correct email address and password")]
    elif request.method == "POST":
        errors = [(name, msgs[0]) for name, msgs in form.errors.items()]
    return render_template("auth/login.html", form=form, errors=errors), 200 if not errors else 400


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
