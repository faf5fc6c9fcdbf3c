"""Percentiles from counts, as the reports work them out, and a hint for SQLite's planner.

SQLite has no percentile_cont, PostgreSQL does. Rather than rank every duration (a sort of
all the rows, on every page), a report counts its durations by whole hours (kept on each row
by the step writer: ``hours_to_end``, ``hours_waited``, app/steps/figures.py) in the same
GROUP BY that counts everything else, and ``percentile`` picks from those counts in Python:
one pass over an index, a few hundred rows out, on both databases alike. A percentile is the
duration at its rank (the nearest-rank definition: the median of 4 durations is the 2nd, the
90th percentile of 10 the 9th), to the hour, which is finer than the tenth of a day shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class unindexed(FunctionElement):
    """A column that SQLite's planner may not look up by an index: ``+column`` there, SQLite's
    documented way to take a term out of the indexes' reach (the value is the same); the
    column itself elsewhere. SQLite plans without statistics and takes an index that leads with
    a filter's column even when it matches every row; PostgreSQL's statistics tell it better,
    and hiding the column from them would mislead its estimates (docs/PERFORMANCE.md)."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw) -> str:
    return "+" + compiler.process(element.clauses, **kw)


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
