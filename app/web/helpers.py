"""What the views share: the signed-in actor, role checks, and handling a submitted form."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, render_template
from flask_login import current_user, login_required
from wtforms import DateField, Form
from wtforms.validators import ValidationError

from app.errors import InvalidData, ServiceError
from app.extensions import db
from app.models import User
from app.services import monitoring
from app.services.attachments import UploadsNotSaved, report_uploads_not_saved
from app.steps import Conflict
from forms.convert import EMAIL_MESSAGE, is_email

T = TypeVar("T")
Errors = list[tuple[str | None, str]]  # (field name, message); no field name: a problem with the whole page
CONFLICT = "Someone changed this request at the same moment: look at it again, then retry."


def actor() -> User:
    """The signed-in person, as the services take them."""
    return current_user._get_current_object()


def role_required(allowed: Callable[[User], bool]):
    """A view decorator: sign in first, then 403 unless ``allowed(current_user)``."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_required = role_required(monitoring.may_administer)
monitor_required = role_required(monitoring.may_monitor)


def id_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def email_address(form: Form, field) -> None:
    """A WTForms validator: the e-mail address rule the diagrams' forms follow too."""
    if not is_email((field.data or "").strip()):
        raise ValidationError(EMAIL_MESSAGE)


def form_errors(form: Form) -> Errors:
    """Each field's first error, in the words of the GOV.UK error message patterns."""
    errors: Errors = []
    for field in form:
        if field.errors:
            message = field.errors[0]
            if isinstance(field, DateField) and "valid date" in message:  # WTForms' words
                message = f"Enter ‘{field.label.text.lower()}’ as a date like 2026-11-26"
            errors.append((field.name, message))
    return errors


def submit(form: Form, change: Callable[[], T], field: str | None = None) -> tuple[T | None, Errors]:
    """Validate ``form``, make the one change and commit; else the errors, with nothing changed.

    A refusal from the service is shown at the field it names, or at ``field``.
    """
    if not form.validate():
        return None, form_errors(form)
    try:
        result = change()
    except InvalidData as exc:
        db.session.rollback()
        return None, exc.errors
    except ServiceError as exc:
        db.session.rollback()
        return None, [(field, str(exc))]
    except Conflict:
        db.session.rollback()
        return None, [(field, CONFLICT)]
    db.session.commit()
    return result, []


def render_page(template: str, errors: Errors, **context):
    """The page, with status 400 when it shows errors."""
    return render_template(template, errors=errors, **context), 400 if errors else 200


def uploads_not_saved(problem: UploadsNotSaved) -> tuple[str, int]:
    """Roll the step back, tell the administrators; the message and status for the form page.

    507 (Insufficient Storage) when the folder is full, else 503: either way the person sees
    their answers again and is asked to attach the files once more.
    """
    db.session.rollback()
    report_uploads_not_saved(problem)
    db.session.commit()
    return str(problem), 507 if problem.full else 503
