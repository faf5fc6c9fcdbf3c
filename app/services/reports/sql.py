"""SQL the reports share: whole hours between two timestamps, and percentiles from counts.

SQLite has no percentile_cont, PostgreSQL does. Rather than rank every duration (a sort of
all the rows, on every page), a report counts its durations by whole hours in the same
GROUP BY that counts everything else, and ``percentile`` picks from those counts in Python:
one pass over an index, a few hundred rows out, on both databases alike. A percentile is the
duration at its rank (the nearest-rank definition: the median of 4 durations is the 2nd, the
90th percentile of 10 the 9th), to the hour, which is finer than the tenth of a day shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class hours_between(FunctionElement):
    """The whole hours from the first timestamp to the second (NULL if either is)."""

    type = Integer()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST((julianday({end}) - julianday({start})) * 24 AS INTEGER)"


@compiles(hours_between, "postgresql")
def _hours_postgresql(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 3600) AS INTEGER)"


def percentile(counts: Mapping[int, int], share: int) -> int | None:
    """The ``share``-th percentile (nearest rank) of durations counted by hours: {hours: how many}."""
    total = sum(counts.values())
    if not total:
        return None
    rank = -(-share * total // 100)  # ceil(share% of total), at least 1
    seen = 0
    for hours in sorted(counts):
        seen += counts[hours]
        if seen >= max(rank, 1):
            return hours
    return None


def days(hours: int | None) -> float | None:
    """Hours as days, to one decimal (None stays None)."""
    return None if hours is None else round(hours / 24, 1)
