"""The pooling planner: designs compared at an estimated prevalence, and a simulation mode
that pools the simulated city's people on a sampling day and counts tests, found and missed
infections against the simulator's ground truth.

Truth on the sampling day: a person is infected when their infection time is before their
swab. Whether the swab shows it follows the PCR sensitivity curve the simulator itself uses
for routine tests (by days since infection; Hellewell et al. 2021), drawn once per person with
a fixed seed, so every design sees the same detectable people. Pooling is taken not to dilute
a detectable swab below the limit of detection (pools of ≤ 20, as in practice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from cordon.auth.schemas import Actor
from cordon.auth.service import require
from cordon.errors import Problem, ValidationFailed
from cordon.lake.reader import read_table
from cordon.lake.writer import is_lake, read_manifest
from cordon.screening import rules
from cordon.screening.schemas import DesignOut, PlannerIn, PlannerOut

TZ = ZoneInfo("Asia/Shanghai")
# The simulator's default curve, for lakes whose manifest does not carry one.
HELLEWELL = [
    (0.0, 0.0),
    (1.0, 0.1),
    (2.0, 0.4),
    (3.0, 0.65),
    (4.0, 0.77),
    (10.0, 0.5),
    (21.0, 0.15),
    (30.0, 0.0),
]


def _design(d: rules.Design) -> DesignOut:
    return DesignOut(name=d.name, pool=d.pool, tests_per_person=round(d.tests_per_person, 5))


def recommend(*, actor: Actor, query: PlannerIn) -> PlannerOut:
    require(actor, "screening:view")
    plan = rules.plan_pooling(
        prevalence=query.prevalence,
        max_pool=query.max_pool,
        people=query.people,
        lab_per_day=query.lab_per_day,
    )
    return PlannerOut(
        prevalence=plan.prevalence,
        max_pool=plan.max_pool,
        designs=[_design(d) for d in plan.designs],
        recommended=_design(plan.recommended),
        per_zone={z: _design(d) for z, d in plan.per_zone.items()},
        entropy=round(plan.entropy, 5),
        people=plan.people,
        lab_per_day=plan.lab_per_day,
        tests_needed=plan.tests_needed,
        lab_days=plan.lab_days,
    )


@dataclass(frozen=True)
class Truth:
    """Who is infected and who would test positive if swabbed at ``at`` (lake person ids)."""

    at: datetime
    infected: npt.NDArray[np.bool_]
    detectable: npt.NDArray[np.bool_]
    isolated: npt.NDArray[np.bool_]


def sampling_day(lake: Path, day: int) -> datetime:
    """08:00 CST of a simulated day."""
    start = date.fromisoformat(read_manifest(lake)["start_date"])
    return datetime.combine(start + timedelta(days=day), time(8), tzinfo=TZ)


def truth(lake: Path, at: datetime, seed: int = 7) -> Truth:
    if not is_lake(lake):
        message = f"{lake} is not a Cordon lake (no manifest.json)"
        raise ValidationFailed(message, problems=[Problem("lake", message)])
    manifest = read_manifest(lake)
    points = manifest.get("parameters", {}).get("outbreak", {}).get("test_sensitivity") or HELLEWELL
    n = int(manifest["population"])
    rows = read_table(lake, "disease").select(["person_id", "infected_at", "isolated_at"])
    moment = at.timestamp()
    who = np.array(rows.column("person_id").to_pylist(), dtype=np.int64)
    infected_at = np.array([t.timestamp() for t in rows.column("infected_at").to_pylist()])
    isolated_at = np.array(
        [t.timestamp() if t else math.inf for t in rows.column("isolated_at").to_pylist()]
    )
    infected = np.zeros(n, dtype=bool)
    detectable = np.zeros(n, dtype=bool)
    isolated = np.zeros(n, dtype=bool)
    infected[who] = infected_at <= moment
    isolated[who] = isolated_at <= moment
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    days = (moment - infected_at) / 86_400
    chance = np.where(days < 0, 0.0, np.interp(days, xs, ys, left=0.0, right=0.0))
    draws = np.random.default_rng(seed).random(len(who))
    detectable[who] = draws < chance
    return Truth(at=at, infected=infected, detectable=detectable & ~isolated, isolated=isolated)


def _pools(order: npt.NDArray[np.int64], size: int) -> list[npt.NDArray[np.int64]]:
    return [order[i : i + size] for i in range(0, len(order), size)]


def simulate(
    *, lake: Path, day: int, max_pool: int = 20, lab_per_day: int | None = None, seed: int = 7
) -> dict[str, Any]:
    """Pool everyone not isolated (by grid and household, as they come to the sites) and count,
    for each design, tests used, infections found and missed, and lab days at capacity."""
    at = sampling_day(lake, day)
    found = truth(lake, at, seed)
    people = read_table(lake, "people")
    grid = people.column("grid_code").to_numpy(zero_copy_only=False)
    household = people.column("household_id").to_numpy()
    order = np.lexsort((household, grid)).astype(np.int64)
    order = order[~found.isolated[order]]
    status = found.detectable
    prevalence = max(float(status[order].mean()), 1e-6) if len(order) else 1e-6
    k_opt, _cost = rules.best_dorfman(prevalence, max_pool)
    kb, _bcost = rules.best_binary_splitting(prevalence, max_pool)
    designs = {
        "single": (1, rules.tests_dorfman),
        "fixed_10": (10, rules.tests_dorfman),
        "fixed_20": (20, rules.tests_dorfman),
        "dorfman_optimum": (k_opt, rules.tests_dorfman),
        "binary_splitting": (kb, rules.tests_binary_splitting),
    }
    infected_sampled = int(found.infected[order].sum())
    report: dict[str, Any] = {
        "sampled_at": at.isoformat(),
        "people_sampled": len(order),
        "isolated_not_sampled": int(found.isolated.sum()),
        "infected_sampled": infected_sampled,
        "detectable": int(status[order].sum()),
        "observed_prevalence": round(prevalence, 6),
        "entropy_tests_per_person": round(rules.entropy_bound(prevalence), 5),
        "designs": {},
    }
    for name, (size, count) in designs.items():
        tests = sum(count([bool(x) for x in status[pool]]) for pool in _pools(order, size))
        report["designs"][name] = {
            "pool": size,
            "tests": tests,
            "tests_per_person": round(tests / max(len(order), 1), 5),
            # Perfect pooling: a detectable swab is found by every design; the rest are missed.
            "found": int(status[order].sum()),
            "missed": infected_sampled - int(status[order].sum()),
            "lab_days": math.ceil(tests / lab_per_day) if lab_per_day else None,
        }
    return report
