"""What the tracing engine asks of the movement store, so DuckDB (one machine) and Spark
(province scale) can answer the same questions. Tables use the lake's column names with times
as epoch seconds (int64)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple, Protocol

import pyarrow as pa

EarliestPer = Literal["person", "cell", "source"]


class Residency(NamedTuple):
    """The companion rule's residency filter: no pair in a cell where either phone spent more
    than ``min_hours`` in the ``within_days`` before the window closes."""

    min_hours: float
    within_days: int


class MovementStore(Protocol):
    def stays_of(self, person_ids: list[int], start: int, end: int) -> pa.Table:
        """Stays of these people overlapping [start, end): person_id, place_id, start, end,
        setting."""
        ...

    def co_present(
        self,
        stays: pa.Table,
        minimums: dict[str, int],
        *,
        within: Mapping[str, str],
        first_per_source: bool = False,
    ) -> pa.Table:
        """Everyone else overlapping the given stays (columns source_id, place_id, start, end,
        setting) at the same place, for stays in the settings of ``minimums`` (minutes; 0 =
        any overlap) and at least that long: person_id, source_id, place_id, setting, start,
        end (the overlap). ``within`` says per setting what together means (``packs.Together``):
        the same place (home, section, vessel); ``class``: pupils of another class are not
        contacts (staff, without a class, meet everyone there); ``team``: only people who
        work at that place are. Decided before the earliest few are chosen. A store may
        return only each person's earliest few overlaps; with ``first_per_source``, it returns
        each person's earliest overlap with each source (all of them: a batch of cases learns
        every case each contact met)."""
        ...

    def co_cell(
        self,
        windows: pa.Table,
        *,
        longer_than_minutes: float = 0,
        earliest_per: EarliestPer = "cell",
        residency: Residency | None = None,
    ) -> pa.Table:
        """Phone-cell overlaps longer than ``longer_than_minutes`` with the records of these
        people (``windows``: person_id, start, end) in their windows: person_id, source_id,
        cell_id, start, end (the overlap); with a ``residency`` filter (one window per person),
        none in a cell where either phone lives (before the earliest few are chosen). A store
        may return only each person's earliest few overlaps per ``earliest_per``: person,
        (person, cell) or (person, source); for a source, exactly the earliest one."""
        ...
