"""Email content: render notices and task emails from templates/email/ into both parts.

A notice template (``templates/email/notices/<name>.txt``) has two blocks, ``subject`` and
``body``; the body is plain text — paragraphs separated by blank lines, ``- `` for list
items. The HTML part is made from the same text, so the two parts always say the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup, escape

from app.locale import in_language
from app.models import User

URL = re.compile(r"(https?://[^\s<>\"]+)")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_blocks(template_name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Render the ``subject``, ``body`` and (if it has one) ``after`` blocks of a template."""
    env = current_app.jinja_env
    template = env.get_template(template_name)
    # No request here (the worker renders too): only what the caller gives, plus the settings.
    ctx = template.new_context({"config": current_app.config, **context})
    subject = " ".join("".join(template.blocks["subject"](ctx)).split())
    body = "".join(template.blocks["body"](ctx)).strip("\n")
    after = "".join(template.blocks["after"](ctx)) if "after" in template.blocks else ""
    return subject, _tidy(body), _tidy(after)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    blank = False
    for line in lines:
        if not line.strip():
            if not blank and tidy:
                tidy.append("")
            blank = True
        else:
            tidy.append(line.strip() if not line.lstrip().startswith("- ") else "- " + line.lstrip()[2:])
            blank = False
    return "\n".join(tidy).strip()


def text_to_html(text: str) -> Markup:
    """Paragraphs and lists of a plain-text body as HTML, links made clickable."""
    parts = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_link(line[2:])}</li>" for line in lines)
            parts.append(f'<ul style="padding-left:20px;margin:0 0 16px">{items}</ul>')
        else:
            parts.append('<p style="margin:0 0 16px">' + "<br>".join(_link(line) for line in lines) + "</p>")
    return Markup("\n".join(parts))  # noqa: S704 - every piece of text went through escape()


def _link(line: str) -> str:
    """The line, escaped, with the app's own addresses as links. An address someone typed into
    a form stays text: a link in the app's email would lend it the app's authority."""
    own = current_app.config["EXTERNAL_BASE_URL"].rstrip("/")

    def link(match: re.Match) -> str:
        url = match.group(1)
        if url != own and not url.startswith(own + "/"):
            return url
        return f'<a href="{url}" style="color:#1d70b8">{url}</a>'

    return URL.sub(link, str(escape(line)))


def render_email(template_name: str, context: dict[str, Any], actions: list[tuple[str, str]] | None = None, *,
                 to: User | None = None) -> Rendered:
    """Subject, text and HTML of an email, in the language of ``to`` (the default language for
    an address with no account, None); ``actions`` are (label, url) buttons under the body
    (lazy_gettext labels, so that they too are in that language), and the template's optional
    ``after`` block is text under the buttons."""
    with in_language(to):
        subject, body, after = render_blocks(template_name, context)
        return both_parts(subject, body, actions, after)


def both_parts(subject: str, body: str, actions: list[tuple[str, str]] | None = None, after: str = "") -> Rendered:
    """An email from its subject and plain-text body: the text part and the HTML part, each with
    the ``actions`` (as links, as buttons) under the body, and then the plain text ``after``."""
    body, after = _tidy(body), _tidy(after)
    actions = actions or []
    text = body
    if actions:
        text += "\n\n" + "\n".join(f"{label}: {url}" for label, url in actions)  # lazy labels read here
    if after:
        text += "\n\n" + after
    layout = current_app.jinja_env.get_template("email/layout.html")
    html = layout.render(subject=subject, body=text_to_html(body), actions=actions, language=get_locale() or "en",
                         after=text_to_html(after) if after else "")
    return Rendered(subject=subject, text=text + "\n", html=html)
