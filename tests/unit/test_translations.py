"""The French and German catalogues (app/translations/): complete, faithful and compiled.

Every string marked in the code is in each catalogue (`make translations` was run), each is
translated and none is fuzzy, each translation keeps the placeholders of its original, and
each compiled .mo says what its .po says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
LANGUAGES = sorted(path.name for path in TRANSLATIONS.iterdir() if (path / "LC_MESSAGES" / "messages.po").exists())
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def forms(value) -> list[str]:
    return list(value) if isinstance(value, list | tuple) else [value]


def test_french_and_german_are_there():
    assert {"fr", "de"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_with_its_placeholders(language):
    problems = []
    for message in catalogue(language):
        if not message.id:
            continue
        original = forms(message.id)
        translated = forms(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {original[0]!r}")
        if not all(text.strip() for text in translated):
            problems.append(f"not translated: {original[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(original[-1]))  # the plural's: the singular may say "one" in words
        needed = set(PLACEHOLDER.findall(original[0]))  # ... so a form may leave out what the singular does
        for n, text in enumerate(translated):
            found = set(PLACEHOLDER.findall(text))
            if not needed <= found <= wanted or (n == len(translated) - 1 and found != wanted):
                problems.append(f"placeholders differ: {original[0]!r} -> {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_up_to_date(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = {tuple(forms(message.id)): forms(message.string) for message in read_mo(mo) if message.id}
    written = {tuple(forms(message.id)): forms(message.string) for message in catalogue(language)
               if message.id and not message.fuzzy and all(forms(message.string))}
    assert compiled == written, "run make translations"


def test_every_marked_string_is_in_the_catalogues(tmp_path):
    template = tmp_path / "messages.pot"
    # As `make translations` extracts them (pybabel's own command line, in this process).
    CommandLineInterface().run(["pybabel", "-q", "extract", "--no-location", "-F", str(ROOT / "babel.cfg"),
                                "-k", "lazy_gettext", "-k", "_l", "-o", str(template), str(ROOT)])
    with open(template, "rb") as pot:
        marked = {forms(message.id)[0] for message in read_po(pot) if message.id}
    for language in LANGUAGES:
        known = {forms(message.id)[0] for message in catalogue(language) if message.id}
        assert not marked - known, f"{language}: run make translations, then translate {sorted(marked - known)}"
