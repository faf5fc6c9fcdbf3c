"""A diagram's texts for people, the template (.pot) translators start from, and the check of
the catalogues (.po) uploaded with it: every text translated, or listed as shown in English."""

from __future__ import annotations

import io
import re

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from flask_babel import gettext as _
from flask_babel import ngettext

from app.engine import FormSpec, ProcessModel, parse_xml
from app.outbox.uploaded import NOTICE_SUFFIX, notice_file
from app.steps import status_word
from forms import personal_kind
from forms.translations import (
    CATALOGUE_SUFFIX,
    catalogue_language,
    catalogue_name,
    current_language,
    is_text_property,
    read_catalogue,
)

from .report import _Findings

BANK = "bank"  # a field's ``personal`` kind the app itself words ("bank details")
TASK_TEXT_PROPERTIES = ("ask",)  # a user task's words in its email ("please check it")
# Flow nodes named for people besides the ``…Task``, ``…Event`` and ``…Gateway`` kinds.
NAMED_NODES = frozenset({"task", "subProcess", "transaction", "callActivity", "adHocSubProcess"})
# A message's {min}…, and the ${name} of the title template (a value of the request).
_PLACEHOLDER = re.compile(r"\{(?:min|max|minlength|maxlength|missing)\}|\$\{[^}]*\}")
_LISTED = 5  # texts quoted in a warning; the rest are counted


def _quoted(texts: list[str]) -> str:
    """“Check claim”, “Claim back the cost of travelling to a meeting of your working group. Give…”."""
    shown = []
    for text in texts[:_LISTED]:
        folded = " ".join(text.split())
        shown.append(f"“{folded[:80].rstrip()}…”" if len(folded) > 80 else f"“{folded}”")
    return ", ".join(shown)


def _form_texts(form: FormSpec) -> list[str]:
    texts = []
    for field in form.fields:
        texts.append(field.label)
        texts.extend(label for _value, label in field.options)
        texts.extend(value for key, value in field.properties.items() if value and is_text_property(key, value))
        kind = personal_kind(field)
        if kind and kind != BANK:  # the privacy notice's kind of data ("contact details"); "bank" is the app's
            texts.append(kind)
    return texts


def _node_texts(bpmn: str, model: ProcessModel) -> list[str]:
    """The names of the diagram's other flow nodes, in its order: service, script and rule
    tasks, subprocesses, events and gateways, each as a request's page names it (on one line),
    an end event with the status word made of it ("Claim paid", "Paid")."""
    texts = []
    for element in parse_xml("", bpmn).iter():
        kind = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
        name = " ".join((element.get("name") or "").split())
        if not name or name == element.get("id") or not (
                kind in NAMED_NODES or kind.endswith(("Task", "Event", "Gateway"))):
            continue
        texts.append(name)
        if kind == "endEvent":
            texts.append(status_word(element.get("id", ""), model))
    return texts


def diagram_texts(model: ProcessModel) -> list[str]:
    """Every text of the diagram people read, once each, in the order of the diagram: the
    process's name and title template (docs/DIAGRAMS.md, "Request titles"), its lanes' names,
    the start form, each user task's name, instructions, email words and form (with the kind of
    personal data a field holds), then every other named step, event and gateway."""
    title = " ".join(model.properties.get("title", "").split())
    lanes = [model.start_lane or "", *(task.lane or "" for task in model.tasks.values())]
    texts = [model.name, title, *lanes, model.start_documentation, *_form_texts(model.start_form)]
    for task in model.tasks.values():
        texts += [task.name, task.documentation]
        texts += [task.properties[key] for key in TASK_TEXT_PROPERTIES if task.properties.get(key)]
        texts += _form_texts(task.form)
    bpmn = next(text for name, text in model.files.items() if name.lower().endswith(".bpmn"))
    texts += _node_texts(bpmn, model)
    return [text for text in dict.fromkeys(texts) if text and text.strip() and not _is_id(text, model)]


def _is_id(text: str, model: ProcessModel) -> bool:
    """A name the diagram left out reads as its id: nothing to translate."""
    return text in model.tasks or text == model.process_id


def _catalogue(model: ProcessModel, language: str | None = None) -> Catalog:
    """An empty catalogue of the diagram, its header naming the process, not a software project."""
    return Catalog(locale=language, project=model.name, version=model.process_id, charset="utf-8", fuzzy=False,
                   header_comment=f"# The texts of the diagram {model.process_id} (docs/DIAGRAMS.md)\n#")


def _template(model: ProcessModel) -> Catalog:
    catalogue = _catalogue(model)
    for text in diagram_texts(model):
        catalogue.add(text)
    return catalogue


def _written(catalogue: Catalog) -> str:
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=0, ignore_obsolete=True)
    return buffer.getvalue().decode("utf-8")


def translation_template(model: ProcessModel) -> str:
    """The .pot file of a diagram: every text, untranslated, for translators to copy to
    ``<process id>.<language>.po`` and fill in (Poedit, Weblate or any text editor)."""
    return _written(_template(model))


def updated_translation(model: ProcessModel, language: str, text: str | None = None) -> str:
    """The catalogue ``text`` of ``language`` (or a new one) with every text of the diagram:
    new texts added untranslated, texts the diagram no longer has dropped."""
    catalogue = read_po(io.StringIO(text), locale=language) if text else _catalogue(model, language)
    catalogue.update(_template(model), no_fuzzy_matching=True)
    return _written(catalogue)


def _language_name(code: str) -> str:
    try:
        return Locale.parse(code).get_display_name(current_language()) or code
    except (UnknownLocaleError, ValueError):
        return code


def check_translations(model: ProcessModel, found: _Findings) -> None:
    """Each catalogue: named for the process and a language, readable, and complete. A text with
    no translation is shown in English: one warning per language lists them."""
    texts = diagram_texts(model)
    for name, content in model.files.items():
        if not name.lower().endswith(CATALOGUE_SUFFIX):
            continue
        language = catalogue_language(name)
        if language is None or not name.startswith(f"{model.process_id}."):
            found.error(name, _("a translation must be named after the process and a language, like "
                                "%(example)s", example=catalogue_name(model.process_id, "fr")))
            continue
        try:
            Locale.parse(language)
        except (UnknownLocaleError, ValueError):
            found.error(name, _("“%(code)s” is not a language code: name the file with a code like fr, de or pt_BR",
                                code=language))
            continue
        try:
            translated = read_catalogue(content)
        except ValueError as exc:
            found.error(name, _("the file is not a gettext catalogue: %(reason)s", reason=str(exc)))
            continue
        missing = [text for text in texts if not translated.get(text)]
        if missing:
            quoted = _quoted(missing)
            more = len(missing) - _LISTED
            found.warning(name, ngettext("%(num)d of %(total)d texts has no %(language)s translation and is shown "
                                         "in English: %(texts)s",
                                         "%(num)d of %(total)d texts have no %(language)s translation and are "
                                         "shown in English: %(texts)s", len(missing), total=len(texts),
                                         language=_language_name(language), texts=quoted)
                          + (_(" and %(more)d more", more=more) if more > 0 else ""))
        for text, translation in translated.items():
            if sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(translation)):
                found.warning(name, _("the translation of “%(text)s” must keep its placeholders %(names)s",
                                      text=" ".join(text.split())[:80],
                                      names=", ".join(_PLACEHOLDER.findall(text)) or "(none)"))
        for notice in sorted(n for n in model.files if n.endswith(NOTICE_SUFFIX) and n.count(".") == 1):
            if notice_file(notice.removesuffix(NOTICE_SUFFIX), language) not in model.files:
                found.warning(name, _("the email text %(file)s has no %(language)s version: upload %(translated)s, "
                                      "or it is sent in English", file=notice, language=_language_name(language),
                                      translated=notice_file(notice.removesuffix(NOTICE_SUFFIX), language)))
        unknown = [text for text in translated if text not in texts]
        if unknown:
            found.warning(name, ngettext("%(num)d text is not in the diagram (any longer) and is not used: %(texts)s",
                                         "%(num)d texts are not in the diagram (any longer) and are not used: "
                                         "%(texts)s", len(unknown), texts=_quoted(unknown)))
