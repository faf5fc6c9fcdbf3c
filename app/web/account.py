"""A person's own account without signing in: forgotten password, and choosing a password
from an emailed link (an invitation or a forgotten-password link).

Opening a link shows a page and changes nothing, as mail scanners open links before people do;
only posting the new password, with the page's CSRF token, sets it.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.errors import InvalidData, ServiceError
from app.extensions import db
from app.services.people import (
    MIN_PASSWORD_LENGTH,
    check_link,
    find_link,
    request_password_reset,
    set_password_by_link,
)

from .helpers import Errors, email_address, form_errors, render_page

bp = Blueprint("account", __name__, url_prefix="/account")

# A page reached by a secret link says nothing to other sites, not even its address.
NO_REFERRER = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class ForgottenPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), [DataRequired(_l("Enter your email address")), email_address],
                       description=_l("The address you sign in with."))


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), [
        DataRequired(_l("Enter a new password")),
        # WTForms fills in %(min)d and %(max)d
        Length(min=MIN_PASSWORD_LENGTH, message=_l("The password needs at least %(min)d characters")),
        Length(max=200, message=_l("The password must be %(max)d characters or fewer"))],
        description=_l("At least %(count)d characters. A few unrelated words make a strong password "
                       "that is easy to remember.", count=MIN_PASSWORD_LENGTH))


@bp.route("/forgotten-password", methods=["GET", "POST"])
def forgotten_password():
    form = ForgottenPasswordForm()
    errors: Errors = []
    if form.is_submitted():
        if form.validate():
            request_password_reset(form.email.data)
            db.session.commit()
            # The same page whether or not an account uses the address.
            return render_template("account/link_sent.html", email=form.email.data.strip())
        errors = form_errors(form)
    return render_page("account/forgotten_password.html", errors, form=form)


@bp.route("/password/<secret>", methods=["GET", "POST"])
def choose_password(secret: str):
    token = find_link(secret)
    refusal = check_link(token)
    if refusal is not None or token is None:
        status = 404 if token is None else 410
        return render_template("account/link_refused.html", refusal=refusal), status, NO_REFERRER
    form = ChoosePasswordForm()
    errors: Errors = []
    if form.is_submitted():
        if form.validate():
            try:
                user = set_password_by_link(token, form.password.data)
            except InvalidData as exc:
                db.session.rollback()
                errors = exc.errors
            except ServiceError:  # the link died in the meantime (used in another tab, say)
                db.session.rollback()
                refusal = check_link(find_link(secret))
                return render_template("account/link_refused.html", refusal=refusal), 410, NO_REFERRER
            else:
                db.session.commit()
                return render_template("account/password_set.html", user=user), 200, NO_REFERRER
        else:
            errors = form_errors(form)
    body, status = render_page("account/choose_password.html", errors, form=form, token=token)
    return body, status, NO_REFERRER
