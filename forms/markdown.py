"""A Camunda Form's text component: Markdown as sanitised HTML in GOV.UK styles."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
_TAGS = {"p", "a", "strong", "em", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "br",
         "hr", "blockquote"}
# GOV.UK classes for the tags Markdown writes; the page has its own <h1>, so headings start at <h2>.
_CLASSES = {
    "p": ("p", "govuk-body"), "ul": ("ul", "govuk-list govuk-list--bullet"),
    "ol": ("ol", "govuk-list govuk-list--number"), "h1": ("h2", "govuk-heading-m"),
    "h2": ("h2", "govuk-heading-m"), "h3": ("h3", "govuk-heading-s"), "h4": ("h4", "govuk-heading-s"),
    "h5": ("h4", "govuk-heading-s"), "h6": ("h4", "govuk-heading-s"),
    "hr": ("hr", "govuk-section-break govuk-section-break--m govuk-section-break--visible"),
    "blockquote": ("div", "govuk-inset-text"), "a": ("a", "govuk-link"),
}
_TAG = re.compile(r"<(/?)(p|ul|ol|h[1-6]|hr|blockquote|a)(\s[^>]*)?>")


def _styled(match: re.Match[str]) -> str:
    closing, tag, rest = match.group(1), match.group(2), match.group(3) or ""
    name, css = _CLASSES[tag]
    return f"</{name}>" if closing else f'<{name} class="{css}"{rest}>'


def markdown_html(text: str) -> Markup:
    """Render Markdown (no raw HTML) to HTML that keeps only plain tags and safe links."""
    html = nh3.clean(_MARKDOWN.render(text), tags=_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")
    return Markup(_TAG.sub(_styled, html))  # noqa: S704 - sanitised by nh3 just above
