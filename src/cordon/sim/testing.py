"""Routine nucleic-acid testing of key groups (border, port, fishers, health workers).

A person belongs to a group by role, by the kind of their work place, or, on a given day, by a
stay at a place of one of the group's kinds. Members are tested every ``every_days`` days,
staggered by person id (person ``p`` on the days where ``(p + day) % every_days == 0``), at most
once a day (the first group that applies names the test). The sample is taken at the start of
the person's first stay at a place of the group's kinds that day, otherwise in the morning. No
one is tested while isolated or after being found, nor on a day spent wholly at sea or outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cordon.sim.transmission import DayStays

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
MORNING_FROM = 7 * 3600
MORNING_SPAN = 4 * 3600
SAMPLE_SPAN = 3600


@dataclass(frozen=True)
class Group:
    """A routine-testing group with its members resolved: ``static`` by role or work place kind,
    ``kind_codes`` the place kinds where a stay makes one a member (and where one is sampled)."""

    name: str
    static: Mask  # indexed by person id
    visited_kinds: npt.NDArray[np.int16]  # a stay at these kinds makes one a member that day
    sampled_kinds: npt.NDArray[np.int16]  # sampled at a stay at these kinds, if any
    every_days: int


@dataclass(frozen=True)
class Sampled:
    person: I32
    sampled_at: I64
    group: npt.NDArray[np.int16]  # index into the groups


def select(
    groups: list[Group],
    stays: DayStays,
    *,
    day: int,
    day_start: int,
    place_kind: npt.NDArray[np.int16],
    away_settings: npt.NDArray[np.int8],
    excluded: Mask,
    rng: np.random.Generator,
) -> Sampled:
    """Who is sampled today, when, and for which group. ``excluded`` marks people who are not
    to be tested (isolated or already found); ``place_kind`` maps place id to a kind code."""
    n = len(excluded)
    person = stays.person
    kind = place_kind[stays.place]
    in_city = np.zeros(n, dtype=bool)
    in_city[person[~np.isin(stays.setting, away_settings)]] = True
    ids = np.arange(n, dtype=np.int64)
    assigned = np.full(n, -1, dtype=np.int16)
    for index, group in enumerate(groups):
        member = group.static.copy()
        if len(group.visited_kinds):
            member[person[np.isin(kind, group.visited_kinds)]] = True
        due = member & ((ids + day) % group.every_days == 0) & in_city & ~excluded
        assigned[due & (assigned < 0)] = index
    chosen = np.flatnonzero(assigned >= 0).astype(np.int32)
    u = rng.random(len(chosen))
    when = day_start + MORNING_FROM + np.floor(u * MORNING_SPAN).astype(np.int64)

    # Sampled at the first stay at one of the group's places, where there is one.
    at_kind = np.zeros(len(stays), dtype=bool)
    group_of_stay = assigned[person]
    for index, group in enumerate(groups):
        if len(group.sampled_kinds):
            at_kind |= (group_of_stay == index) & np.isin(kind, group.sampled_kinds)
    rows = np.flatnonzero(at_kind)
    if len(rows):
        rows = rows[np.lexsort((stays.start[rows], person[rows]))]
        firsts = rows[np.r_[True, np.diff(person[rows]) != 0]]
        where = np.searchsorted(chosen, person[firsts])
        span = np.minimum(stays.end[firsts] - stays.start[firsts], SAMPLE_SPAN)
        when[where] = stays.start[firsts] + np.floor(u[where] * span).astype(np.int64)
    return Sampled(chosen, when.astype(np.int64), assigned[chosen])
