"""Ids in URLs stay within the database's integer range: past it, a page is simply not found.

Every id column is an ``integer``: on PostgreSQL a number past 2**31 - 1 in a query is an
error of the database's ("integer out of range"), and on SQLite one past 64 bits is Python's
OverflowError; either would answer 500. The ``int`` converter of every route is replaced by
one that does not match past that range, so werkzeug answers 404 before a view runs.
"""

from __future__ import annotations

import builtins

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # PostgreSQL's integer, the type of every id (and version number) column


class IdConverter(IntegerConverter):
    """``<int:…>``, no larger than MAX_ID (or a smaller ``max`` a route gives)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else builtins.min(max, MAX_ID), signed)


def init_app(app: Flask) -> None:
    """Before any route is added: werkzeug binds a rule's converters when the rule is added."""
    app.url_map.converters["int"] = IdConverter
