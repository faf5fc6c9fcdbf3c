"""The process's title template (``camunda:property name="title"``): each name a value to show.

A name that no form asks for gets a warning (a step may still set it); a personal field is
refused, as titles are read in every list, the CSV export and email subjects.
"""

from __future__ import annotations

from difflib import get_close_matches

from flask_babel import gettext as _
from lxml import etree

from app.engine import ProcessModel
from app.outbox.titles import NAME, field_specs, never_shown, template_parts

from .report import B, C, _Findings


def check_title(file: str, root: etree._Element, model: ProcessModel, found: _Findings) -> None:
    """Check the title template of the parsed process ``model`` (``root`` is its diagram)."""
    template = model.properties.get("title")
    if template is None:
        return
    node = _title_node(root, model.process_id)
    if not template.strip():
        found.warning(file, _("the process's title property is empty: requests are titled with the process's name "
                              "and their first key field"), node)
        return
    names = template_parts(template)[1]
    if not names:
        found.warning(file, _("the process's title names no value, so every request has the same title: add fields "
                              "as ${name}, e.g. ${meeting_date}"), node)
    specs = field_specs(model)
    for name in dict.fromkeys(names):
        spec = specs.get(name)
        if not NAME.fullmatch(name):
            found.warning(file, _("the title's ${%(file)s} is left out: a title shows fields by their id only, "
                                  "e.g. ${meeting_date}", file=name), node)
        elif never_shown(spec):
            found.error(file, _("the title shows “%(value)s” (%(file)s), which holds personal data or a file: "
                                "titles are read in every list, the CSV export and email subjects, so remove it "
                                "from the title", value=spec.label if spec else name, file=name), node)
        elif spec is None:
            fields = sorted(n for n, s in specs.items() if not never_shown(s))
            close = get_close_matches(name, fields, n=3)
            known = ("did you mean " + " or ".join(f"${{{n}}}" for n in close) + "?" if close
                     else "the fields are " + ", ".join(fields[:12]) + (", …" if len(fields) > 12 else ""))
            found.warning(file, _("the title's ${%(file)s} is not a field of any form of the process, so it is "
                                  "left out unless a step sets it: %(known)s", file=name, known=known), node)


def _title_node(root: etree._Element, process_id: str) -> etree._Element | None:
    for process in root.iterfind(f"{B}process"):
        if process.get("id") == process_id:
            path = f"{B}extensionElements/{C}properties/{C}property"
            return next((p for p in process.iterfind(path) if "title" in (p.get("name"), p.get("id"))), process)
    return None
