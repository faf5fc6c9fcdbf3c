"""The second sign-in step: set up an authenticator app, enter its code; and an
administrator's reset of another person's second step.

Between the password and the code a person is half signed in: the session holds who they
are (``two_step``), not Flask-Login, so no page but this step's answers them, and the state
lapses after TWO_STEP_MINUTES.
"""

from __future__ import annotations

import time

import segno
from flask import Blueprint, current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from app.errors import ServiceError
from app.extensions import db
from app.models import User
from app.services import people
from app.services.people import two_step
from app.services.people.two_step import needs_second_step

from .helpers import Errors, actor, admin_required, form_errors, render_page
from .login import forget_browser, sign_in

bp = Blueprint("two_step", __name__)

PENDING = "two_step"


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), [DataRequired(_l("Enter the 6-digit code from your authenticator app"))])


def start_second_step(user: User, remember: bool, next_url: str):
    """After a right password: remember who is half signed in, and send them to set up their
    authenticator app or to enter its code. ``next_url`` is already checked to be this site's."""
    set_up = two_step.prepare_second_step(user)
    db.session.commit()
    session[PENDING] = {"user_id": user.id, "remember": bool(remember), "next": next_url,
                        "since": time.time(), "set_up": set_up}
    return redirect(url_for("two_step.set_up" if set_up else "two_step.code"))


def _lapsed(pending: dict) -> bool:
    minutes = current_app.config["TWO_STEP_MINUTES"]
    return time.time() - float(pending.get("since", 0)) > minutes * 60


@bp.before_app_request
def keep_to_the_second_step():
    """Half signed in, only this step's pages answer; going back to the password starts over.
    Signed in, an administrator without an authenticator app (theirs was reset, or they were
    just made an administrator) is signed out, to set one up after their password."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    pending = session.get(PENDING)
    if pending is not None:
        if current_user.is_authenticated or endpoint == "auth.login":
            session.pop(PENDING)
            return None
        if _lapsed(pending):
            session.pop(PENDING)
            flash(_("You took too long to enter the code. Sign in again."), "info")
            return redirect(url_for("auth.login"))
        step_page = "two_step.set_up" if pending["set_up"] else "two_step.code"
        if endpoint not in (step_page, "two_step.cancel"):
            return redirect(url_for(step_page))
        return None
    if current_user.is_authenticated and endpoint != "auth.logout" and two_step.must_set_up(current_user):
        people.end_session(current_user)
        db.session.commit()
        forget_browser()
        flash(_("Administrators sign in in two steps. Sign in again to set up your authenticator app."), "info")
        return redirect(url_for("auth.login"))
    return None


def _pending_user(set_up: bool) -> User | None:
    pending = session.get(PENDING)
    if pending is None or pending["set_up"] != set_up:
        return None
    user = db.session.get(User, pending["user_id"])
    return user if user is not None and user.active else None


def _finish(user: User):
    """Signed in at last: Flask-Login takes over from the half-signed-in state."""
    pending = session.pop(PENDING)
    sign_in(user, remember=pending["remember"])
    return pending["next"]


def _too_many():
    session.pop(PENDING, None)
    flash(_("You entered a wrong code too many times. Sign in again."), "info")
    return redirect(url_for("auth.login"))


def _wrong(check: two_step.CodeCheck, recovery: bool) -> Errors:
    left = check.tries_left
    if recovery:
        message = ngettext("The code is not right, or was used already. Enter the code from your authenticator app "
                           "or a recovery code (%(num)d try left)",
                           "The code is not right, or was used already. Enter the code from your authenticator app "
                           "or a recovery code (%(num)d tries left)", left)
    else:
        message = ngettext("The code is not right, or was used already. Enter the code your authenticator app shows "
                           "now (%(num)d try left)",
                           "The code is not right, or was used already. Enter the code your authenticator app shows "
                           "now (%(num)d tries left)", left)
    return [("code", message)]


def _no_store(response):
    """Pages with a secret on them stay out of every cache, the browser's back button too."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sign-in/code", methods=["GET", "POST"])
def code():
    user = _pending_user(set_up=False)
    if user is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    errors: Errors = []
    if form.validate_on_submit():
        check = two_step.check_code(user, form.code.data)
        db.session.commit()
        if check.accepted:
            next_url = _finish(user)
            if check.recovery_codes_left is not None:
                left = check.recovery_codes_left
                message = ngettext("You signed in with a recovery code. You have %(num)d recovery code left.",
                                   "You signed in with a recovery code. You have %(num)d recovery codes left.", left)
                if left <= 3:
                    message = _("%(message)s Ask another administrator to reset your two-step sign-in to get new "
                                "ones.", message=message)
                flash(message, "info" if left > 3 else "warning")
            return redirect(next_url)
        if check.tries_left == 0:
            return _too_many()
        errors = _wrong(check, recovery=True)
    elif form.is_submitted():
        errors = form_errors(form)
    return render_page("two_step/code.html", errors, form=form)


@bp.route("/sign-in/set-up", methods=["GET", "POST"])
def set_up():
    user = _pending_user(set_up=True)
    if user is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    errors: Errors = []
    if form.validate_on_submit():
        check, recovery_codes = two_step.confirm_set_up(user, form.code.data)
        db.session.commit()
        if check.accepted:
            next_url = _finish(user)
            # Shown in this answer, not after a redirect: the codes never go into the session cookie.
            return _no_store(render_page("two_step/recovery_codes.html", [], codes=recovery_codes,
                                         next_url=next_url))
        if check.tries_left == 0:
            return _too_many()
        errors = _wrong(check, recovery=False)
    elif form.is_submitted():
        errors = form_errors(form)
    secret = two_step.set_up_secret(user)
    uri = two_step.set_up_uri(user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, dark="#0b0c0c")
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _no_store(render_page("two_step/set_up.html", errors, form=form, qr=qr, secret=grouped,
                                 email=user.email, issuer=two_step.ISSUER))


@bp.route("/sign-in/cancel", methods=["POST"])
def cancel():
    session.pop(PENDING, None)
    return redirect(url_for("auth.login"))


@bp.route("/admin/people/<int:user_id>/two-step", methods=["GET", "POST"])
@admin_required
def person(user_id: int):
    """A person's two-step sign-in, and its reset when they have lost their phone."""
    user = db.get_or_404(User, user_id)
    errors: Errors = []
    if request.method == "POST":
        form = FlaskForm()
        if form.validate_on_submit():
            try:
                two_step.reset_second_factor(actor(), user)
            except ServiceError as exc:
                db.session.rollback()
                errors = [(None, str(exc))]
            else:
                db.session.commit()
                flash(_("Two-step sign-in of %(name)s is reset. They set up a new authenticator app when they next "
                        "sign in.", name=user.name) if needs_second_step(user) else
                      _("Two-step sign-in of %(name)s is reset. They now sign in with their password alone.",
                        name=user.name), "success")
                return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_page("two_step/person.html", errors, person=user, since=two_step.second_factor_since(user),
                       recovery_codes_left=two_step.recovery_codes_left(user))
