"""Every kind of history line, and every phrase a line may hold, reads in French and in German:
each is put together from its parameters (none left over, none missing) into a sentence that is
not the English one. The pages that show each kind are tested in
tests/integration/test_history_lines*.py."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from app.models import AuditEvent, User
from app.outbox.lines import ALL_PHRASES, KEY, LINES, event_line, said
from app.outbox.records import phrase, words

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# A value of each kind of parameter that is not plain text (app/outbox/lines.py).
SAMPLES = {
    "people": ["Clara Schmidt", "Tom Peeters"], "period": [2, "year"], "roles": ["buyer", "finance"],
    "old_roles": [], "language": "de", "country": "AT", "old_country": "BE", "until": "2027-03-14",
    "role": "coordinator", "org_type": "City", "old_org_type": "Region", "what": phrase("the_signal", signal="go"),
    "label": phrase("message_label", message="Group ready"), "why": phrase("why_roles"),
    "meaning": words("everyone with the finance role"), "old": phrase("none"),
    "changes": [phrase("changed_name", old="Ana", new="Ana Costa"), phrase("deactivated")],
    "reached": ["Claim 12", phrase("new_request_named", title="Welcome")],
    "names": [phrase("quoted_name", name="management")], "page": words("Administration → Names in diagrams"),
}


def sample_args(text: str) -> dict:
    return {name: SAMPLES.get(name, f"<{name}>") for name in PLACEHOLDER.findall(text) if name != "person"}


def shown(key: str, language: str) -> str:
    event = AuditEvent(summary="", data={KEY: said(key, **sample_args(LINES[key])).stored()},
                       actor=User(name="Ana Costa"))
    with force_locale(language):
        return event_line(event, None)


@pytest.mark.parametrize("key", sorted(LINES))
def test_each_kind_of_line_reads_in_french_and_german(app, key):
    english = said(key, **sample_args(LINES[key])).english(User(name="Ana Costa"))
    assert "%(" not in english and "<person>" not in english
    for language in ("fr", "de"):
        line = shown(key, language)
        assert line and line != english, (language, line)  # not the stored English summary
        assert "%(" not in line, line
        for name, value in sample_args(LINES[key]).items():
            if isinstance(value, str) and value.startswith("<"):
                assert value in line, (language, name, line)  # every plain parameter is said


@pytest.mark.parametrize("key", sorted(ALL_PHRASES))
def test_each_phrase_reads_in_french_and_german(app, key):
    args = {name: f"<{name}>" for name in PLACEHOLDER.findall(ALL_PHRASES[key])}
    event = AuditEvent(summary="", data={KEY: said("group_updated", group="G", changes=[phrase(key, **args)])
                                         .stored()}, actor=None)
    with force_locale("de"):
        german = event_line(event, None)
    assert german.startswith("Arbeitsgruppe G: ") and "%(" not in german, german
    assert all(value in german for value in args.values()), german
