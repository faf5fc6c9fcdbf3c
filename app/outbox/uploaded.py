"""Notice texts that travel with a diagram: ``<template>.txt`` files uploaded beside the .bpmn.

They are written like the app's own notices (templates/email/notices/): a ``subject`` block and
a ``body`` block of plain text. An administrator wrote them, not a developer, so they are
rendered in Jinja's immutable sandbox, see only plain values (names, titles, the request's data,
its link — never an account or a database row) and may not include other files or reach names
that start with an underscore. ``text_problems`` refuses such a text at upload; the sandbox
stops it again at run time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOTICE_SUFFIX = ".txt"
_FORBIDDEN = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_ENV = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def notice_file(template: str, language: str | None = None) -> str:
    """The name of the uploaded file that holds the notice ``template`` (in ``language``:
    ``statement_published.fr.txt`` beside the English ``statement_published.txt``)."""
    return f"{template}.{language}{NOTICE_SUFFIX}" if language else f"{template}{NOTICE_SUFFIX}"


def notice_text(files: dict[str, str], template: str, language: str | None = None) -> str | None:
    """The uploaded text of the notice ``template`` in ``language``, else in English, else None."""
    return (files.get(notice_file(template, language)) if language else None) or files.get(notice_file(template))


def text_problems(text: str) -> list[tuple[int | None, str]]:
    """Why a notice text cannot be used, as (line, message) pairs; [] when it can."""
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError as exc:
        return [(exc.lineno, _("the text cannot be read: %(error)s", error=exc.message))]
    problems: list[tuple[int | None, str]] = []
    blocks = {block.name for block in tree.find_all(nodes.Block)}
    for needed in ("subject", "body"):
        if needed not in blocks:
            problems.append((None, _("it has no %(block)s block: write {%% block %(block)s %%}…{%% endblock %%}",
                                     block=needed)))
    for node in tree.find_all(_FORBIDDEN):
        problems.append((node.lineno, _("a notice text cannot include or import other files")))
    for attribute in tree.find_all(nodes.Getattr):
        if attribute.attr.startswith("_"):
            problems.append((attribute.lineno, _("%(name)s cannot be used in a notice text", name=attribute.attr)))
    for item in tree.find_all(nodes.Getitem):
        key = getattr(item.arg, "value", None)
        if isinstance(key, str) and key.startswith("_"):
            problems.append((item.lineno, _("%(name)s cannot be used in a notice text", name=key)))
    return problems


@lru_cache(maxsize=256)
def _compiled(text: str):
    return _ENV.from_string(text)


def render_text(text: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of an uploaded notice text, rendered in the sandbox."""
    template = _compiled(text)
    ctx = template.new_context(context)
    subject = " ".join("".join(template.blocks["subject"](ctx)).split())
    body = "".join(template.blocks["body"](ctx)).strip("\n")
    return subject, body
