"""Screening rules (pure): zones and pool sizes, result words, site load, turnaround, and the
pooling maths of the planner (Dorfman two-stage, binary splitting, the entropy bound).

Protocol §5: sealed zones single tube (or one tube per household), controlled zones 10-in-1,
others 20-in-1; 600–800 people per sampling table a day; screening results within 24 h.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ZONE_LEVELS = ("sealed", "controlled", "other")
DEFAULT_POOLING: dict[str, int] = {"sealed": 1, "controlled": 10, "other": 20}
MAX_POOL = 50
TABLE_LOW, TABLE_HIGH = 600, 800  # people a sampling table handles in a day
RESULT_HOURS = 24

POSITIVE_WORDS = {"positive", "pos", "+", "阳性", "阳", "p"}
NEGATIVE_WORDS = {"negative", "neg", "-", "阴性", "阴", "n"}


def zone_of(grid_code: str | None, division_code: str, zones: Mapping[str, str]) -> str:
    """The zone level of a home: the longest listed code that is a prefix of its grid (or of
    its division when it has no grid); "other" when none is."""
    home = grid_code or division_code
    best, level = -1, "other"
    for code, given in zones.items():
        if home.startswith(code) and len(code) > best:
            best, level = len(code), given
    return level


def pool_size(level: str, pooling: Mapping[str, int]) -> int:
    return int(pooling.get(level, DEFAULT_POOLING.get(level, DEFAULT_POOLING["other"])))


def parse_result(text: str) -> str | None:
    """ "negative" or "positive" from a lab's word for it; None when it is neither."""
    word = text.strip().lower()
    if word in POSITIVE_WORDS:
        return "positive"
    if word in NEGATIVE_WORDS:
        return "negative"
    return None


@dataclass(frozen=True)
class SiteLoad:
    expected: int
    per_table_day: float
    capacity_day: int
    overloaded: bool
    underused: bool


def site_load(*, expected: int, tables: int, days: float, capacity_per_table: int) -> SiteLoad:
    """Expected people per table and day against the table's capacity."""
    per = expected / max(tables, 1) / max(days, 1e-9)
    return SiteLoad(
        expected=expected,
        per_table_day=round(per, 1),
        capacity_day=capacity_per_table * max(tables, 1),
        overloaded=per > capacity_per_table,
        underused=expected > 0 and per < TABLE_LOW / 4,
    )


def tables_needed(expected: int, days: float, capacity_per_table: int) -> int:
    return max(1, math.ceil(expected / max(days, 1e-9) / capacity_per_table))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# --- Pooling maths -----------------------------------------------------------------------
# Prevalences can be tiny (1e-9 and below): 1 - p then rounds to 1 in floating point, and
# 1 - (1 - p)**k to 0. The chance that a pool is positive is computed as -expm1(k·log1p(-p)),
# which keeps its precision however small p is.


def positive_chance(p: float, k: int) -> float:
    """P(a pool of k holds at least one positive) = 1 - (1 - p)**k, precise for tiny p."""
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    return -math.expm1(k * math.log1p(-p))


def dorfman(p: float, k: int) -> float:
    """Expected tests per person of Dorfman two-stage pooling with pools of k."""
    if k <= 1:
        return 1.0
    return 1 / k + positive_chance(p, k)


def best_dorfman(p: float, max_k: int = MAX_POOL) -> tuple[int, float]:
    """The pool size up to ``max_k`` with the fewest expected tests per person (1 = no pool)."""
    best = min(range(1, max_k + 1), key=lambda k: (dorfman(p, k), k))
    return best, dorfman(p, best)


def entropy_bound(p: float) -> float:
    """Binary entropy H(p): no design can use fewer tests per person on average."""
    if p <= 0 or p >= 1:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log1p(-p) / math.log(2))


def _split(n: int) -> tuple[int, int]:
    return (n + 1) // 2, n // 2


def binary_splitting(p: float, k: int) -> float:
    """Expected tests per person when a positive pool of k is halved recursively down to single
    people, skipping the test of a right half whose left sibling was negative (it must then be
    positive). A node is tested when its parent is positive (left child) or when its left
    sibling is positive (right child); the sum of those probabilities is the expected count."""
    if k <= 1:
        return 1.0
    if p <= 0:
        return 1 / k  # no positives: the pool's own test is all

    def positive(size: int) -> float:
        return positive_chance(p, size)

    def below(size: int) -> float:
        """Expected tests under a node of ``size`` known or found positive."""
        if size <= 1:
            return 0.0
        left, right = _split(size)
        left_pos = positive(left) / positive(size)  # P(left positive | node positive)
        # The right half is positive for sure when the left was negative.
        right_pos = left_pos * positive(right) + (1 - left_pos)
        return 1 + left_pos * (1 + below(left)) + right_pos * below(right)

    # The pool itself is tested; what is below it runs only when it is positive.
    return (1 + positive(k) * below(k)) / k


def best_binary_splitting(p: float, max_k: int = MAX_POOL) -> tuple[int, float]:
    best = min(range(1, max_k + 1), key=lambda k: (binary_splitting(p, k), k))
    return best, binary_splitting(p, best)


def tests_dorfman(statuses: Sequence[bool]) -> int:
    """Tests Dorfman uses on one pool with these true statuses."""
    if len(statuses) <= 1:
        return len(statuses)
    return 1 + (len(statuses) if any(statuses) else 0)


def tests_binary_splitting(statuses: Sequence[bool], known_positive: bool = False) -> int:
    """Tests binary splitting uses on one pool (same design as ``binary_splitting``)."""
    n = len(statuses)
    if n == 0:
        return 0
    used = 0 if known_positive else 1
    if not any(statuses) or n == 1:
        return used
    left, _right = _split(n)
    left_part, right_part = statuses[:left], statuses[left:]
    used += tests_binary_splitting(left_part)
    if any(left_part):
        used += tests_binary_splitting(right_part)
    else:
        used += tests_binary_splitting(right_part, known_positive=True)
    return used


@dataclass(frozen=True)
class Design:
    name: str
    pool: int
    tests_per_person: float


@dataclass(frozen=True)
class Plan:
    prevalence: float
    max_pool: int
    designs: list[Design]
    recommended: Design
    per_zone: dict[str, Design]
    entropy: float
    people: int
    lab_per_day: int | None
    tests_needed: int
    lab_days: int | None


def plan_pooling(
    *,
    prevalence: float,
    max_pool: int,
    people: int = 0,
    lab_per_day: int | None = None,
    pooling: Mapping[str, int] | None = None,
    zone_people: Mapping[str, int] | None = None,
) -> Plan:
    """Compare designs at an estimated prevalence and recommend a pool size per zone level.

    Dorfman is recommended (it is what sampling sites and labs run); binary splitting is shown
    as the adaptive design that gets closer to the entropy bound when labs can retest pools.
    Sealed zones keep single tubes: people there are likely exposed, and a pool would hide who.
    """
    p = prevalence
    policy = dict(DEFAULT_POOLING, **(pooling or {}))
    k, cost = best_dorfman(p, max_pool)
    bk, bcost = best_binary_splitting(p, max_pool)
    designs = [
        Design("single", 1, 1.0),
        Design("dorfman_optimum", k, cost),
        *(Design(f"fixed_{n}", n, dorfman(p, n)) for n in (10, 20) if n <= max_pool),
        Design("binary_splitting", bk, bcost),
        Design("entropy_bound", 0, entropy_bound(p)),
    ]
    per_zone = {
        "sealed": Design("sealed", policy["sealed"], dorfman(p, policy["sealed"])),
        "controlled": Design(
            "controlled",
            min(k, policy["controlled"]),
            dorfman(p, min(k, policy["controlled"])),
        ),
        "other": Design("other", k, cost),
    }
    counts = dict(zone_people or {"other": people})
    total = sum(counts.values())
    needed = math.ceil(sum(per_zone[z].tests_per_person * n for z, n in counts.items() if n))
    days = math.ceil(needed / lab_per_day) if lab_per_day and needed else None
    return Plan(
        prevalence=p,
        max_pool=max_pool,
        designs=designs,
        recommended=Design("dorfman_optimum", k, cost),
        per_zone=per_zone,
        entropy=entropy_bound(p),
        people=total,
        lab_per_day=lab_per_day,
        tests_needed=needed,
        lab_days=days,
    )
