"""Cross-field rules and computed values that a diagram cannot express, per form key.

A rule receives the form's cleaned data (typed values: ``date``, ``Decimal``, ``int``, ``bool``,
``str``, lists of attachment ids for files) and returns ``{field_id: message}`` for each
problem; an empty dict means the data is fine. A computation fills a ``readonly`` field whose
``computed`` property names it. Modules in this package register themselves on import.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

Rule = Callable[[dict[str, Any]], dict[str, str]]
Computation = Callable[[dict[str, Any]], Any]

RULES: dict[str, list[Rule]] = {}
COMPUTATIONS: dict[str, Computation] = {}
# The fields a computation reads, when it says: it is then worked out (and shown) as soon as
# those are right, even while another field of the form still has an error.
COMPUTATION_INPUTS: dict[str, tuple[str, ...]] = {}


def rule(form_key: str) -> Callable[[Rule], Rule]:
    """Register a cross-field rule for the form with this key."""

    def register(func: Rule) -> Rule:
        RULES.setdefault(form_key, []).append(func)
        return func

    return register


def computation(name: str, inputs: tuple[str, ...] | None = None) -> Callable[[Computation], Computation]:
    """Register a calculation that a readonly field names in its ``computed`` property;
    ``inputs`` names the fields it reads."""

    def register(func: Computation) -> Computation:
        COMPUTATIONS[name] = func
        if inputs is not None:
            COMPUTATION_INPUTS[name] = inputs
        return func

    return register


def check(form_key: str, data: dict[str, Any]) -> dict[str, str]:
    """Run every rule registered for ``form_key``; return the merged errors."""
    errors: dict[str, str] = {}
    for func in RULES.get(form_key, ()):
        for field_id, message in func(data).items():
            errors.setdefault(field_id, message)
    return errors


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
