"""Parsed process models, kept: each stored version is parsed once per process."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .calls import combine
from .parser import ProcessModel, parse_files


class StoredVersion(Protocol):
    """What the cache needs of a stored version (the ``process_version`` row)."""

    id: int
    sha256: str
    files: dict[str, str]


# Keyed by row ids and contents: ids repeat across databases (each test has its own), content does not.
_MODELS: dict[tuple[tuple[int, str], ...], ProcessModel] = {}


def load_model(version: StoredVersion, called: Iterable[StoredVersion] = ()) -> ProcessModel:
    """The parsed model of a stored version; parsed once per process and kept.

    ``called`` are the versions a request's call activities run (``ProcessInstance.called``):
    the model is then the version combined with them (``app.engine.calls``), kept the same way.
    """
    others = sorted((((v.id, v.sha256), v) for v in called), key=lambda pair: pair[0])
    key = ((version.id, version.sha256), *(k for k, _ in others))
    model = _MODELS.get(key)
    if model is None:
        model = parse_files(version.files)
        if others:
            model = combine(model, [load_model(v) for _, v in others])
        _MODELS[key] = model
    return model
