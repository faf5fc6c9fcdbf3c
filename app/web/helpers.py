"""What the views share: the signed-in actor, role checks, and handling a submitted form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import Field, Form
from wtforms.utils import unset_value
from wtforms.validators import ValidationError

from app.engine.model import FieldSpec
from app.errors import InvalidData, ServiceError
from app.extensions import db
from app.models import Attachment, User
from app.services import monitoring
from app.services.attachments import UploadsNotSaved, keep_uploads, report_uploads_not_saved, send_attachment
from app.services.storage import StorageRefused
from app.steps import Conflict
from forms.convert import DATE_PARTS, EMAIL_MESSAGE, DateInvalid, is_email, not_a_date, parse_date_parts
from forms.text import format_date

from .ids import MAX_ID

T = TypeVar("T")
Errors = list[tuple[str | None, str]]  # (field name, message); no field name: a problem with the whole page
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)  # plausible_day
CONFLICT = _l("Someone changed this request at the same moment: look at it again, then retry.")


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
    """The id in a form or query string, or None: not a number, or none a row can have
    (past the database's integer range a query would fail)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def page_number() -> int:
    """The list page asked for (``?page=``): 1 when missing or not a number, and within the
    pages a query can skip to (past them the database's OFFSET would fail)."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_ID)


def day_spec(name: str, label: str, what: str | None = None) -> FieldSpec:
    """A date field for the date rules of forms/convert.py; ``what`` ("the date the meeting
    starts") words its messages as GOV.UK's date input does: "… must be a real date",
    "… must include a month"."""
    properties = {}
    if what:
        what = str(what)
        what = what[0].upper() + what[1:]
        properties = {"error_format": _("%(what)s must be a real date", what=what),
                      # forms/convert.py fills in {missing}: the day, month or year
                      "error_incomplete": _("%(what)s must include a {missing}", what=what)}
    return FieldSpec(id=name, label=label, type="date", properties=properties)


class DayField(Field):
    """A date typed into GOV.UK's day, month and year boxes (``NAME-day``, ``NAME-month``,
    ``NAME-year``; templates/macros/admin.html ``date_input``); one ISO date sent as ``NAME``
    is read too. ``parts`` is what the boxes show, ``marked`` the boxes a problem is about;
    ``what`` words the messages (``day_spec``)."""

    def __init__(self, label=None, validators=None, *, what: str | None = None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.what = what

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        self.process_errors = []
        self.marked: tuple[str, ...] = ()
        self.data = data if isinstance(data, dt.date) else None
        self.parts = date_parts(self.data)
        self.raw_data = []
        if formdata is None:
            return
        self.parts = {part: str(formdata.get(f"{self.name}-{part}", "")).strip() for part in DATE_PARTS}
        spec = day_spec(self.name, self.label.text, self.what)
        if not any(f"{self.name}-{part}" in formdata for part in DATE_PARTS) and (
                whole := str(formdata.get(self.name, "")).strip()):
            try:
                day = dt.date.fromisoformat(whole)
            except ValueError:
                self.raw_data = [whole]
                self.process_errors.append(not_a_date(spec))
                return
            self.parts = date_parts(day)
        self.raw_data = [" ".join(self.parts.values()).strip()]
        try:
            self.data = parse_date_parts(spec, **self.parts)
        except DateInvalid as problem:
            self.data = None
            self.process_errors.append(problem.message)
            self.marked = problem.parts


def date_parts(day: dt.date | None) -> dict[str, str]:
    """What the day, month and year boxes show for ``day`` (empty for None)."""
    if day is None:
        return dict.fromkeys(DATE_PARTS, "")
    return {"day": str(day.day), "month": str(day.month), "year": f"{day.year:04d}"}


def plausible_day(form: Form, field) -> None:
    """A WTForms validator: a date filter within years the app can compute with (a day
    after 31 December 9999, or before 1 January 1 in UTC, does not exist)."""
    if isinstance(field.data, dt.date) and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_("‘%(label)s’ must be a date between %(first)s and %(last)s", label=field.label.text,
                                first=format_date(FIRST_DAY), last=format_date(LAST_DAY)))


def email_address(form: Form, field) -> None:
    """A WTForms validator: the email address rule the diagrams' forms follow too."""
    if not is_email((field.data or "").strip()):
        raise ValidationError(EMAIL_MESSAGE)


def form_errors(form: Form) -> Errors:
    """Each field's first error, in the words of the GOV.UK error message patterns."""
    errors: Errors = []
    for field in form:
        if field.errors:
            errors.append((field.name, field.errors[0]))
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


def keep_files(form, task=None) -> None:
    """A form shown again after a POST keeps the files it was sent (forms never drop them)."""
    if form.posted is not None and form.file_fields():
        keep_uploads(form, current_user, task)
        db.session.commit()


def uploads_not_saved(problem: UploadsNotSaved) -> tuple[str, int]:
    """Roll the step back, tell the administrators; the message and status for the form page.

    507 (Insufficient Storage) when the folder is full, else 503: either way the person sees
    their answers again and is asked to attach the files once more.
    """
    db.session.rollback()
    report_uploads_not_saved(problem)
    db.session.commit()
    return str(problem), 507 if problem.full else 503


def download(row: Attachment):
    """A stored file as a download (the caller checked who may see it); 503 with a plain
    message when the store cannot be read (object storage out of reach)."""
    try:
        return send_attachment(row)
    except StorageRefused as problem:
        current_app.logger.error("a stored file could not be read: %s", problem)
        return render_template("errors/message.html", title=_("The file cannot be downloaded at the moment"),
                               message=_("Try again in a few minutes.")), 503
