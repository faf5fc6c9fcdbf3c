"""Error pages in plain words, and the security and cache headers every response carries.

Two pages answer for what a view did not handle: 503 when the database cannot be reached
(nothing was saved; try again in a minute) and 500 for anything else, with a short reference
that the one log record of the failure carries too. Neither page reads the database: the
failure may be the database's, and a page that fails again would be werkzeug's bare one.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa
from werkzeug.exceptions import HTTPException

from app.extensions import db

MESSAGES = {
    403: (_l("You cannot see this page"),
          _l("This page is for other people. If you think you should see it, ask the secretariat.")),
    404: (_l("Page not found"),
          _l("If you typed the web address, check it is correct. If you followed a link, the item may have been "
             "removed.")),
    413: (_l("The files are too large"),
          _l("Together the files you sent are larger than this service accepts. Go back and send smaller files; "
             "nothing was saved.")),
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
}
RETRY_AFTER = 60  # seconds: the 503 page says "in a minute"
REFERENCE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on the phone

# The database is unreachable, or did not answer in time (a statement timeout, a dead pooled
# connection, no free connection in the pool): SQLAlchemy's wrappers, and psycopg's own errors
# where they escape unwrapped (its QueryCanceled, a statement timeout, is an OperationalError).
UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError)
try:
    import psycopg
except ImportError:  # psycopg comes with the [postgres] extra only
    pass
else:
    UNAVAILABLE += (psycopg.OperationalError, psycopg.InterfaceError)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    for code in MESSAGES:
        app.register_error_handler(code, error_page)
    app.register_error_handler(Exception, unexpected_error)
    app.after_request(security_headers)


def csrf_error(error):
    return render_template("errors/csrf.html"), 400


def error_page(error):
    title, message = MESSAGES[error.code]
    return render_template("errors/message.html", title=title, message=message), error.code


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from or while handling, is the database's."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, UNAVAILABLE):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_LETTERS) for _ in range(8))


def unexpected_error(error: Exception):
    """What no view handled: 503 if the database is out of reach, else 500; one log record."""
    if isinstance(error, HTTPException) and error.code != 500:
        return error  # redirects, 405 and the like: werkzeug's own response is right
    unavailable = database_unavailable(error)
    if not unavailable and _propagate():
        raise error  # testing and debugging: let the test or the debugger see it
    _roll_back()
    reference = new_reference()
    where = f"{request.method} {request.path}"
    if unavailable:
        # Expected while the database is down: one line each, no traceback to scroll past.
        summary = " ".join(f"{type(error).__name__}: {getattr(error, 'orig', None) or error}".split())
        current_app.logger.error("database unavailable [ref %s] %s: %s", reference, where, summary[:500])
        response = current_app.response_class(_render("errors/unavailable.html", reference=reference), 503)
        response.headers["Retry-After"] = str(RETRY_AFTER)
    else:
        current_app.logger.error("unexpected error [ref %s] %s", reference, where, exc_info=error)
        response = current_app.response_class(_render("errors/server_error.html", reference=reference), 500)
    response.headers["Cache-Control"] = "no-store"
    return response


def _propagate() -> bool:
    """Flask's own rule for letting an unhandled exception through (PROPAGATE_EXCEPTIONS)."""
    propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
    return bool(current_app.testing or current_app.debug) if propagate is None else bool(propagate)


def _roll_back() -> None:
    """Undo what the request began; on a dead connection the rollback itself may fail."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001, S110 - the connection is gone: nothing to undo, nothing more to log
        pass


def _render(template: str, **context) -> str:
    """The page in the app's layout, without the context processors (they read the database
    for the header) and as if nobody were signed in: the header then needs nothing stored.
    In the browser's language: the person's own choice is stored."""
    context.update(current_user=AnonymousUserMixin(), get_flashed_messages=lambda **kwargs: [])
    languages = current_app.config["LANGUAGES"]
    with force_locale(request.accept_languages.best_match(languages) or languages[0]):
        return current_app.jinja_env.get_template(template).render(**context)


def security_headers(response):
    """The headers above on every response; and no cache may keep anything but static files.

    Pages, the CSV export and attachments carry personal data (bank details, receipts): no
    proxy or browser cache keeps them, nor shows them again from the back button after signing
    out. ``send_file``'s own "no-cache" (store, but check first) is replaced too. Static files
    (app/static) keep their caching.
    """
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not _static(request.endpoint):
        response.headers["Cache-Control"] = "no-store"
    return response


def _static(endpoint: str | None) -> bool:
    """Whether the endpoint serves app/static (or a blueprint's static folder)."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))
