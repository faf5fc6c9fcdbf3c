"""Keep the secrets of emailed links out of the access logs (the dev server's and gunicorn's).

A decision link's path is its secret: whoever reads it in a log could decide as the person it
was sent to, until the link is used or expires. A link to choose a password is one too: whoever
reads it could take over the account.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

SECRET_PATH = re.compile(r"(/decide/|/account/password/)[^/\s?\"']+")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    return SECRET_PATH.sub(r"\1[hidden]", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments (a tuple for werkzeug, the atoms' dict for
    gunicorn) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: redact(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(value) if isinstance(value, str) else value for value in record.args)
        return True


_FILTER = RedactSecrets()


def init_app(app: Flask) -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
