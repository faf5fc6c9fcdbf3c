"""How long the process keeps personal data (``retention``, ``retention:<end>``,
``retention_basis``, ``retention_basis:<end>`` properties of the process): each period a
number and a unit, each end named one the process has (docs/DIAGRAMS.md, "How long personal
data is kept")."""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from app.engine import ProcessModel
from app.services.history import personal_specs
from app.services.retention.periods import BASIS_KEY, PERIOD_KEY, parse_period
from app.steps import status_word

from .report import B, C, _Findings


def _ends(root: etree._Element, model: ProcessModel) -> dict[str, str]:
    """The process's ends, each by its id and by its status word (lowercased) -> as people read it."""
    ends: dict[str, str] = {}
    for process in root.iterfind(f"{B}process"):
        if process.get("id") != model.process_id:
            continue
        for end in process.iter(f"{B}endEvent"):
            if end.get("id"):
                word = status_word(end.get("id", ""), model)
                ends[end.get("id", "").lower()] = f"{end.get('id')} ({word})"
                ends.setdefault(word.lower(), f"{end.get('id')} ({word})")
    return ends


def _node(root: etree._Element, model: ProcessModel, key: str) -> etree._Element | None:
    for process in root.iterfind(f"{B}process"):
        if process.get("id") == model.process_id:
            path = f"{B}extensionElements/{C}properties/{C}property"
            return next((p for p in process.iterfind(path) if key in (p.get("name"), p.get("id"))), process)
    return None


def check_retention(file: str, root: etree._Element, model: ProcessModel, found: _Findings) -> None:
    """Check the retention the parsed process ``model`` declares (``root`` is its diagram)."""
    declared = {key: value for key, value in model.properties.items()
                if key.partition(":")[0] in (PERIOD_KEY, BASIS_KEY)}
    if not any(key.partition(":")[0] == PERIOD_KEY for key in declared):
        if personal_specs(model):
            found.warning(file, _("the process does not say how long it keeps personal data, so its requests "
                                  "keep it until the initiative ends: add a process property retention, "
                                  "e.g. “7 years”"), _node(root, model, PERIOD_KEY))
        return
    ends = _ends(root, model)
    for key, value in declared.items():
        name, _sep, end = key.partition(":")
        node = _node(root, model, key)
        if name == PERIOD_KEY and parse_period(value) is None:
            found.error(file, _("the retention “%(value)s” (%(key)s) is not a period: write a number and days, "
                                "weeks, months or years, e.g. “7 years” or “12 months”", value=value, key=key), node)
        if name == BASIS_KEY and not value.strip():
            found.error(file, _("%(key)s is empty: say which rule makes the secretariat keep the data, e.g. "
                                "“Financial rules require paid claims to be kept for audit”", key=key), node)
        if ":" in key and end.strip().lower() not in ends:
            found.error(file, _("%(key)s names the end “%(end)s”, which the process does not have: name an end "
                                "event by its id or its status word: %(ends)s", key=key, end=end.strip(),
                                ends=", ".join(dict.fromkeys(ends.values()))), node)
