"""People by age and sex, and how they live together.

Vectorised household formation (no loop per person):

1. couples: adults marry with an age- and sex-specific probability; the married men and women
   are paired by rank of age (husband ≈ wife + 2 years);
2. every other adult is a one-person unit;
3. each child joins the unit of a mother whose age is near the child's age plus the mother's
   age at birth (couples, and some single women);
4. many unmarried adults still live with their parents (a couple about a generation
   older); some elderly units move in with a family a generation younger
   (multi-generation households).

A household is a unit together with the units that moved in with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from cordon.sim.city import CityParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def draw_people(
    params: CityParams, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Ages (whole years) and sexes (1 = male) following the 5-year-group pyramid."""
    male = np.asarray(params.age_groups_male, dtype=np.float64)
    female = np.asarray(params.age_groups_female, dtype=np.float64)
    weights = np.concatenate([male, female])
    group = rng.choice(len(weights), size=n, p=weights / weights.sum())
    sex = (group < len(male)).astype(np.int8)
    band = np.where(sex == 1, group, group - len(male))
    age = band * 5 + rng.integers(0, 5, n)
    return age.astype(np.int64), sex


def _married_probability(
    params: CityParams, age: IntArray, sex: npt.NDArray[np.int8]
) -> FloatArray:
    edges = np.asarray(params.marriage_age_edges)
    band = np.searchsorted(edges, age, side="right") - 1
    male = np.asarray(params.married_share_male)
    female = np.asarray(params.married_share_female)
    return np.where(sex == 1, male[band], female[band])


def _pick(
    rng: np.random.Generator, sorted_key: FloatArray, target: FloatArray, window: int
) -> IntArray:
    """For each target, a random index near where it falls in ``sorted_key``."""
    at = np.searchsorted(sorted_key, target)
    jitter = rng.integers(-window, window + 1, len(target))
    picked: IntArray = np.clip(at + jitter, 0, len(sorted_key) - 1)
    return picked


def _sorted_by_age(
    units: IntArray, head_age: FloatArray, rng: np.random.Generator
) -> tuple[IntArray, FloatArray]:
    """Units sorted by head age (ties broken at random) with their sort keys."""
    key = head_age[units] + rng.random(len(units))
    order = np.argsort(key, kind="stable")
    return units[order], key[order]


def form_households(
    params: CityParams, age: IntArray, sex: npt.NDArray[np.int8], rng: np.random.Generator
) -> IntArray:
    """The household index (dense from 0) of every person."""
    n = len(age)
    adult = age >= params.adult_age
    married = adult & (rng.random(n) < _married_probability(params, age, sex))
    men = np.flatnonzero(married & (sex == 1))
    women = np.flatnonzero(married & (sex == 0))
    pairs = min(len(men), len(women))
    men = men[np.sort(rng.permutation(len(men))[:pairs])]
    women = women[np.sort(rng.permutation(len(women))[:pairs])]
    men = men[
        np.argsort(age[men] - params.husband_age_gap + rng.normal(0, 2.0, pairs), kind="stable")
    ]
    women = women[np.argsort(age[women] + rng.normal(0, 2.0, pairs), kind="stable")]

    unit = np.full(n, -1, dtype=np.int64)
    unit[men] = np.arange(pairs)
    unit[women] = np.arange(pairs)
    singles = np.flatnonzero(adult & (unit < 0))
    unit[singles] = pairs + np.arange(len(singles))
    units = pairs + len(singles)

    # Each unit's woman (or -1) and its head age (the woman's, else the single man's).
    unit_woman = np.full(units, -1, dtype=np.int64)
    unit_woman[:pairs] = women
    single_women = singles[sex[singles] == 0]
    unit_woman[unit[single_women]] = single_women
    head_age = np.empty(units, dtype=np.float64)
    head_age[:pairs] = age[women]
    head_age[pairs:] = age[singles]
    couple = np.arange(units) < pairs

    # Movers: elderly units joining a younger family; young singles living with parents.
    elderly_unit = head_age >= params.elderly_age
    elderly_unit[:pairs] &= age[men] >= params.elderly_age
    moving_elderly = elderly_unit & (rng.random(units) < params.elderly_with_children_share)
    single = ~couple & ~elderly_unit
    young = head_age < params.young_with_parents_max_age
    stay_share = np.where(young, params.young_with_parents_share, params.single_with_family_share)
    moving_single = single & (rng.random(units) < stay_share)
    mover = moving_elderly | moving_single

    # Mothers: couples' women and some single women, of child-bearing age.
    has_woman = unit_woman >= 0
    mother_ok = has_woman & ~mover & (head_age >= params.adult_age) & (head_age <= 55)
    mother_ok &= couple | (rng.random(units) < params.single_mother_share)
    mothers, mother_key = _sorted_by_age(np.flatnonzero(mother_ok), head_age, rng)

    children = np.flatnonzero(~adult)
    gap = rng.normal(params.mother_age_at_birth_mean, params.mother_age_at_birth_sd, len(children))
    target = age[children] + np.clip(gap, params.adult_age + 1, 45) + rng.random(len(children))
    if len(mothers):
        unit[children] = mothers[_pick(rng, mother_key, target, params.match_window)]
    elif units:  # a tiny city without any woman of child-bearing age
        unit[children] = rng.integers(0, units, len(children))
    else:  # no adult at all: the children live together
        return np.zeros(n, dtype=np.int64)

    # Hosts for movers: non-moving couples, sorted by the woman's age. Young adults move in
    # with a woman a generation older, elderly units with one a generation younger.
    hosts, host_key = _sorted_by_age(np.flatnonzero(couple & ~mover), head_age, rng)
    moving = np.flatnonzero(mover)
    generation = rng.normal(
        params.mother_age_at_birth_mean, params.mother_age_at_birth_sd, len(moving)
    )
    direction = np.where(moving_elderly[moving], -1.0, 1.0)
    host_target = head_age[moving] + direction * generation + rng.random(len(moving))
    host_of = np.arange(units)
    if len(hosts):
        host_of[moving] = hosts[_pick(rng, host_key, host_target, params.match_window)]
    _, household = np.unique(host_of[unit], return_inverse=True)
    return household.astype(np.int64)
