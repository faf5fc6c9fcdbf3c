"""Error pages in plain words, and the security headers every response carries."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

MESSAGES = {
    403: ("You cannot see this page",
          "This page is for other people. If you think you should see it, ask the secretariat."),
    404: ("Page not found",
          "If you typed the web address, check it is correct. If you followed a link, the item may have been removed."),
    413: ("The files are too large",
          "Together the files you sent are larger than this service accepts. Go back and send smaller files; "
          "nothing was saved."),
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    for code in MESSAGES:
        app.register_error_handler(code, error_page)
    app.after_request(security_headers)


def csrf_error(error):
    return render_template("errors/csrf.html"), 400


def error_page(error):
    title, message = MESSAGES[error.code]
    return render_template("errors/message.html", title=title, message=message), error.code


def security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
