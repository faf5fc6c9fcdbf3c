"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from app.extensions import db
from app.services import people

from .helpers import Errors, actor, form_errors, render_page
from .login import forget_browser, sign_in
from .two_step import needs_second_step, start_second_step

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField(_l("Email address"), [DataRequired(_l("Enter your email address"))])
    password = PasswordField(_l("Password"), [DataRequired(_l("Enter your password"))])
    remember = BooleanField(_l("Keep me signed in on this device"))


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
        try:
            user = people.check_sign_in(form.email.data, form.password.data, request.remote_addr or "")
        except people.SignInRefused as refusal:
            db.session.commit()  # the failure counts towards the limit, and administrators see it
            errors = [("email", str(refusal))]
        else:
            if needs_second_step(user):
                return start_second_step(user, bool(form.remember.data), safe_next(request.args.get("next")))
            sign_in(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")))
    elif form.is_submitted():
        errors = form_errors(form)
    return render_page("auth/login.html", errors, form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    people.end_session(actor())
    db.session.commit()
    forget_browser()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    people.sign_out_everywhere(actor())
    db.session.commit()
    forget_browser()
    flash(_("You have signed out on every device and browser."), "success")
    return redirect(url_for("auth.login"))
