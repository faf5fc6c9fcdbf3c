"""Check an uploaded Camunda Form (a form-js ``.form`` file): JSON, the form-js JSON schema,
then what the app can show (``app.engine.camunda_forms``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from app.engine.camunda_forms import FormJsError, form_spec, load_schema

from .report import _Findings

SCHEMA_FOLDER = Path(__file__).parent / "formjs_schema"
_BASE = "http://niklaskiefer.de/schema/form-js/"  # the $id of src/index.json, which its $refs build on
MAX_SCHEMA_PROBLEMS = 10


def _retrieve(uri: str) -> Resource:
    if not uri.startswith(_BASE):
        raise LookupError(uri)  # never fetched: only the vendored files are read
    path = (SCHEMA_FOLDER / uri[len(_BASE):]).resolve()
    if SCHEMA_FOLDER.resolve() not in path.parents:
        raise LookupError(uri)
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT7)


@cache
def _validator() -> Draft7Validator:
    schema = json.loads((SCHEMA_FOLDER / "src" / "index.json").read_text())
    schema["$id"] = _BASE + "index.json"  # its $refs (src/defs/...) start from the package folder
    registry: Registry = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    return Draft7Validator(schema, registry=registry)


def _where(path: Any, schema: dict[str, Any]) -> str:
    """``components 2 (Amount)`` for a schema error's path into the form."""
    parts = list(path)
    words = []
    node: Any = schema
    for part in parts:
        node = node[part] if isinstance(node, (dict, list)) else None
        if isinstance(part, int) and isinstance(node, dict):
            words.append(f"component {part + 1}" + (f" ({node.get('label') or node.get('key')})"
                                                     if node.get("label") or node.get("key") else ""))
        elif not isinstance(part, int):
            words.append(str(part))
    return " → ".join(w for w in words if w != "components") or "the form"


def check_form_file(name: str, text: str, found: _Findings) -> None:
    """Report what is wrong with one .form file: each problem an error on the file."""
    try:
        schema = load_schema(text)
    except FormJsError as error:
        for problem in error.problems:
            found.error(name, problem)
        return
    errors = sorted(_validator().iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    for invalid in errors[:MAX_SCHEMA_PROBLEMS]:
        message = invalid.message
        if message.startswith("False schema does not allow"):  # form-js's way to refuse a property
            message = f"{json.dumps(invalid.instance)[:60]} is not allowed for this kind of component"
        found.error(name, _("not a valid Camunda Form: %(where)s: %(message)s",
                            where=_where(invalid.absolute_path, schema), message=message))
    if errors:
        return
    try:
        form_spec(schema, name)
    except FormJsError as error:
        for problem in error.problems:
            found.error(name, problem)
