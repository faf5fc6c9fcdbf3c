"""Every text of the shipped diagrams has a French and a German translation, placeholders kept,
and the joint statement (uploaded by the tests) too."""

from __future__ import annotations

import re

import pytest

from app.engine import parse_files
from app.services.diagram_checks import diagram_texts
from app.services.versions import folder_file_sets
from forms.translations import catalogue_name, read_catalogue
from tests.diagrams import FIXTURES
from tests.workflows.steps import WORKFLOWS

LANGUAGES = ("fr", "de")
SHIPPED = [parse_files(files) for files in folder_file_sets(WORKFLOWS)]
JOINT_STATEMENT = parse_files({path.name: path.read_text(encoding="utf-8")
                               for path in (FIXTURES / "joint_statement").iterdir()
                               if path.suffix in (".bpmn", ".dmn", ".po", ".form", ".txt")})
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@pytest.mark.parametrize("model", [*SHIPPED, JOINT_STATEMENT], ids=lambda m: m.process_id)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_with_its_placeholders(model, language):
    name = catalogue_name(model.process_id, language)
    assert name in model.files, f"{name} is not with the diagram"
    translated = read_catalogue(model.files[name])
    texts = diagram_texts(model)
    assert len(texts) > 20
    missing = [text for text in texts if not translated.get(text)]
    assert missing == [], f"{name} lacks {len(missing)} texts: {missing[:5]}"
    for text in texts:
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(translated[text])), text
    assert set(translated) <= set(texts), f"{name} holds texts the diagram no longer has"
