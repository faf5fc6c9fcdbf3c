"""SQL the reports share: the seconds between two timestamps, and percentiles by rank.

SQLite has no percentile_cont, PostgreSQL does: both have window functions, so a percentile
is the value at its rank (the nearest-rank definition: the median of 4 values is the 2nd, the
90th percentile of 10 values the 9th), picked by the database. Only two rows per group leave
it, however many durations it ranked: no list of durations travels to Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db

PERCENTILES = (50, 90)


class seconds_between(FunctionElement):
    """The seconds from the first timestamp to the second, as a float."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def percentiles(keys: list, value, where: list, source=None) -> dict[tuple, dict[int, float]]:
    """The 50th and 90th percentile of ``value`` for each group of ``keys``: {key: {50: v, 90: v}},
    over the rows of ``source`` (a table or join; by default the keys' table) that ``where`` keeps."""
    rank = func.row_number().over(partition_by=keys, order_by=value)
    count = func.count().over(partition_by=keys)
    ranked = select(*keys, value.label("value"), rank.label("rank"), count.label("n"))
    if source is not None:
        ranked = ranked.select_from(source)
    inner = ranked.where(*where).subquery()
    picked = [and_(inner.c.rank * 100 >= share * inner.c.n, (inner.c.rank - 1) * 100 < share * inner.c.n)
              for share in PERCENTILES]
    key_columns = [inner.c[column.key] for column in keys]
    found: dict[tuple, dict[int, float]] = {}
    for *key, value_, rank_, n in db.session.execute(
            select(*key_columns, inner.c.value, inner.c.rank, inner.c.n).where(or_(*picked))):
        for share in PERCENTILES:
            if rank_ * 100 >= share * n and (rank_ - 1) * 100 < share * n:
                found.setdefault(tuple(key), {})[share] = float(value_)
    return found


def days(seconds: Any) -> float | None:
    """Seconds as days, to one decimal (None stays None)."""
    return None if seconds is None else round(float(seconds) / 86400, 1)
