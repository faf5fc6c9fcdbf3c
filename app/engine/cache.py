"""Parsed process models, kept: each stored version is parsed once per process."""

from __future__ import annotations

from typing import Protocol

from .parser import ProcessModel, parse_files


class StoredVersion(Protocol):
    """What the cache needs of a stored version (the ``process_version`` row)."""

    id: int
    sha256: str
    files: dict[str, str]


# Keyed by row id and content: ids repeat across databases (each test has its own), content does not.
_MODELS: dict[tuple[int, str], ProcessModel] = {}


def load_model(version: StoredVersion) -> ProcessModel:
    """The parsed model of a stored version; parsed once per process and kept."""
    key = (version.id, version.sha256)
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = parse_files(version.files)
    return model
