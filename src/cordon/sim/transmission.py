"""One day of transmission over the day's stays, vectorised.

An infectious person's stay at a place exposes every other stay at the same place that overlaps
it in time. The hazard of a pair is

    rate[setting of the exposed stay] × crowding × infectiousness(days since infection at the
    middle of the overlap) × relative infectiousness of the infector × susceptibility × hours

where ``crowding = min(1, cap[setting] / n)`` with ``n`` the number of other stays overlapping
the infector's stay (in a crowd one is close to only so many people). Stays of the setting
"class" meet only stays of the same class. A susceptible person's hazards add up; they are
infected with probability ``1 - exp(-total)``, the infector is drawn in proportion to the pair
hazards and the infection time uniformly inside that pair's overlap.

Only places where an infectious person was are looked at: their stays are sorted by (place,
start) and each infectious stay is matched against the window of stays that can overlap it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cordon.sim.disease import DAY

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int8]
# Pairs expanded at once; bounds memory (~80 bytes a pair) on days with many infectious stays.
CHUNK_PAIRS = 4_000_000
# In a crowd of more than CROWD_SAMPLE × cap stays, an infectious stay is matched against that
# many stays drawn at random from the crowd, each pair weighted by crowd / drawn: the expected
# hazard of everyone in the crowd is unchanged, the work is bounded.
CROWD_SAMPLE = 8


class Profile(Protocol):
    def relative(self, days: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True)
class DayStays:
    """One day's stays as arrays (times in epoch seconds, setting as an index into SETTINGS)."""

    person: I32
    place: I32
    start: I64
    end: I64
    setting: I8

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class People:
    """Per-person state the day's transmission needs (indexed by person id)."""

    transmits: npt.NDArray[np.bool_]  # infectious today (infected before the day, not isolated)
    transmit_until: I64  # epoch seconds from which the person no longer transmits (isolation)
    infected_at: I64
    relative: F64  # relative infectiousness (asymptomatic < 1)
    susceptibility: F64  # 0 for the already infected
    class_id: I32  # -1 outside school classes


@dataclass(frozen=True)
class Transmissions:
    infectee: I32
    infector: I32
    time: I64
    place: I32
    setting: I8

    @classmethod
    def empty(cls) -> Transmissions:
        return cls(
            np.empty(0, np.int32),
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, np.int32),
            np.empty(0, np.int8),
        )

    def __len__(self) -> int:
        return len(self.infectee)


@dataclass(frozen=True)
class Exposures:
    """Pairs of an infectious stay and an overlapping stay of a susceptible person."""

    exposed: I64  # stay index of the exposed (susceptible) stay
    infector: I64  # stay index of the infectious stay
    hazard: F64
    begin: I64  # the overlap
    finish: I64

    @classmethod
    def concat(cls, parts: list[Exposures]) -> Exposures:
        return cls(
            np.concatenate([p.exposed for p in parts]),
            np.concatenate([p.infector for p in parts]),
            np.concatenate([p.hazard for p in parts]),
            np.concatenate([p.begin for p in parts]),
            np.concatenate([p.finish for p in parts]),
        )


def transmit(
    stays: DayStays,
    people: People,
    *,
    rates: F64,
    caps: F64,
    class_setting: int,
    profile: Profile,
    rng: np.random.Generator,
) -> Transmissions:
    """The infections of one day. ``rates`` and ``caps`` are indexed by setting code."""
    pairs = exposures(
        stays,
        people,
        rates=rates,
        caps=caps,
        class_setting=class_setting,
        profile=profile,
        rng=rng,
    )
    if len(pairs.hazard) == 0:
        return Transmissions.empty()
    return _draw(stays, pairs, rng)


def exposures(
    stays: DayStays,
    people: People,
    *,
    rates: F64,
    caps: F64,
    class_setting: int,
    profile: Profile,
    rng: np.random.Generator,
) -> Exposures:
    """Every (infectious stay, susceptible overlapping stay) pair of the day with its hazard
    (in large capped crowds, a weighted random sample of them: see CROWD_SAMPLE)."""
    none = Exposures(*(np.empty(0, np.int64),) * 2, np.empty(0), *(np.empty(0, np.int64),) * 2)
    if len(stays) == 0:
        return none
    person, place, start, setting = stays.person, stays.place, stays.start, stays.setting
    end = np.minimum(stays.end, people.transmit_until[person])
    infectious = np.flatnonzero(
        people.transmits[person] & (end > start) & (rates[setting] > 0)
    ).astype(np.int64)
    if len(infectious) == 0:
        return none

    # Stays at the places an infectious person visited, sorted by (place, start).
    flagged = np.zeros(int(place.max()) + 1, dtype=bool)
    flagged[place[infectious]] = True
    candidates = np.flatnonzero(flagged[place])
    candidates = candidates[np.lexsort((start[candidates], place[candidates]))]
    base = int(start[candidates].min())
    keys = (place[candidates].astype(np.int64) << 34) | (start[candidates] - base)
    group_first = np.flatnonzero(np.r_[True, np.diff(place[candidates]) != 0])
    group_place = place[candidates][group_first]
    longest = np.maximum.reduceat(stays.end[candidates] - start[candidates], group_first)

    inf_place = place[infectious].astype(np.int64)
    reach = longest[np.searchsorted(group_place, inf_place)]
    lo = np.searchsorted(
        keys, (inf_place << 34) | np.maximum(start[infectious] - reach - base, 0), side="left"
    )
    hi = np.searchsorted(keys, (inf_place << 34) | (end[infectious] - base), side="left")
    counts = (hi - lo).astype(np.int64)
    limit = CROWD_SAMPLE * caps[setting[infectious]]
    draws = np.where(counts > limit, np.ceil(np.minimum(limit, counts)), counts).astype(np.int64)

    parts: list[Exposures] = [none]
    first = 0
    cumulative = np.cumsum(draws)
    while first < len(infectious):
        already = cumulative[first - 1] if first else 0
        last = int(np.searchsorted(cumulative, already + CHUNK_PAIRS, side="right"))
        last = max(last, first + 1)
        parts.append(
            _pairs(
                stays,
                end,
                people,
                infectious[first:last],
                lo[first:last],
                counts[first:last],
                draws[first:last],
                candidates,
                rates=rates,
                caps=caps,
                class_setting=class_setting,
                profile=profile,
                rng=rng,
            )
        )
        first = last
    return Exposures.concat(parts)


def _pairs(
    stays: DayStays,
    end: I64,
    people: People,
    infectious: I64,
    lo: I64,
    counts: I64,
    draws: I64,
    candidates: I64,
    *,
    rates: F64,
    caps: F64,
    class_setting: int,
    profile: Profile,
    rng: np.random.Generator,
) -> Exposures:
    total = int(draws.sum())
    local = np.repeat(np.arange(len(infectious)), draws)
    offsets = np.arange(total) - np.repeat(np.cumsum(draws) - draws, draws)
    sampled = (draws < counts)[local]
    if sampled.any():
        size = counts[local[sampled]]
        offsets[sampled] = np.floor(rng.random(len(size)) * size).astype(np.int64)
    weight = counts / np.maximum(draws, 1)
    j = candidates[lo[local] + offsets]
    i = infectious[local]
    person_i, person_j = stays.person[i], stays.person[j]
    begin = np.maximum(stays.start[i], stays.start[j])
    finish = np.minimum(end[i], stays.end[j])
    setting_i, setting_j = stays.setting[i], stays.setting[j]
    meet = (finish > begin) & (person_i != person_j)
    both_class = (setting_i == class_setting) & (setting_j == class_setting)
    meet &= ~both_class | (people.class_id[person_i] == people.class_id[person_j])
    crowd = np.bincount(local[meet], weights=weight[local[meet]], minlength=len(infectious))

    keep = meet & (people.susceptibility[person_j] > 0) & (rates[setting_j] > 0)
    i, j, local = i[keep], j[keep], local[keep]
    person_i, person_j, setting_j = person_i[keep], person_j[keep], setting_j[keep]
    begin, finish = begin[keep], finish[keep]
    middle = (begin + finish) / 2.0
    days_since = (middle - people.infected_at[person_i]) / DAY
    hazard = (
        rates[setting_j]
        * np.minimum(1.0, caps[setting_j] / crowd[local])
        * profile.relative(days_since)
        * people.relative[person_i]
        * people.susceptibility[person_j]
        * weight[local]
        * (finish - begin)
        / 3600.0
    )
    positive = hazard > 0
    return Exposures(j[positive], i[positive], hazard[positive], begin[positive], finish[positive])


def _draw(stays: DayStays, pairs: Exposures, rng: np.random.Generator) -> Transmissions:
    exposed_person = stays.person[pairs.exposed]
    order = np.lexsort((pairs.begin, pairs.infector, exposed_person))
    exposed_person = exposed_person[order]
    hazard = pairs.hazard[order]
    group_first = np.flatnonzero(np.r_[True, np.diff(exposed_person) != 0])
    group_end = np.r_[group_first[1:], len(hazard)]
    total = np.add.reduceat(hazard, group_first)
    n = len(group_first)
    u_infect, u_who, u_when = rng.random(n), rng.random(n), rng.random(n)
    infected = u_infect < -np.expm1(-total)
    if not infected.any():
        return Transmissions.empty()

    cumulative = np.cumsum(hazard)
    before = np.r_[0.0, cumulative][group_first]
    g = np.flatnonzero(infected)
    chosen = np.searchsorted(cumulative, before[g] + u_who[g] * total[g], side="right")
    chosen = np.clip(chosen, group_first[g], group_end[g] - 1)
    pick = order[chosen]
    begin, finish = pairs.begin[pick], pairs.finish[pick]
    when = begin + np.floor(u_when[g] * (finish - begin)).astype(np.int64)
    infector_stay, exposed_stay = pairs.infector[pick], pairs.exposed[pick]
    return Transmissions(
        infectee=exposed_person[group_first[g]].astype(np.int32),
        infector=stays.person[infector_stay].astype(np.int32),
        time=when.astype(np.int64),
        place=stays.place[exposed_stay].astype(np.int32),
        setting=stays.setting[exposed_stay].astype(np.int8),
    )
