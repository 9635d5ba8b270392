"""The pooling planner at prevalence 0.01 %, 0.1 % and 1 % (pools up to 50): the recommended
Dorfman design against the best Dorfman design found by brute force over pool sizes up to
1,000 and against the textbook rule k ≈ 1/√p; binary splitting (the adaptive design Cordon
implements) against the entropy bound; and a Monte Carlo run of 1,000,000 people per
prevalence as the peer that checks the formulas."""

from __future__ import annotations

import math
import random
import time
from typing import Any

from cordon.screening import rules

PREVALENCES = (0.0001, 0.001, 0.01)
MAX_POOL = 50
SIMULATED = 1_000_000


def monte_carlo(p: float, k: int, counter: Any, people: int = SIMULATED, seed: int = 1) -> float:
    rng = random.Random(seed)
    tests = 0
    pools = people // k
    for _ in range(pools):
        tests += counter([rng.random() < p for _ in range(k)])
    return tests / (pools * k)


def run() -> dict[str, Any]:
    out: dict[str, Any] = {"max_pool": MAX_POOL, "simulated_people": SIMULATED, "prevalences": {}}
    for p in PREVALENCES:
        began = time.perf_counter()
        plan = rules.plan_pooling(prevalence=p, max_pool=MAX_POOL, people=1_000_000)
        planner_ms = (time.perf_counter() - began) * 1000
        k, cost = plan.recommended.pool, plan.recommended.tests_per_person
        brute_k = min(range(1, 1001), key=lambda n: rules.dorfman(p, n))
        brute = rules.dorfman(p, brute_k)
        within_cap = min(rules.dorfman(p, n) for n in range(1, MAX_POOL + 1))
        rule_k = max(1, min(MAX_POOL, round(1 / math.sqrt(p))))
        bk, bcost = rules.best_binary_splitting(p, MAX_POOL)
        entropy = rules.entropy_bound(p)
        out["prevalences"][str(p)] = {
            "dorfman_recommended": {"pool": k, "tests_per_person": round(cost, 5)},
            "dorfman_best_within_max_pool": round(within_cap, 5),
            "recommended_vs_best_within_max_pool": round(cost / within_cap - 1, 6),
            "dorfman_unbounded_best": {"pool": brute_k, "tests_per_person": round(brute, 5)},
            "textbook_rule": {
                "pool": rule_k,
                "tests_per_person": round(rules.dorfman(p, rule_k), 5),
            },
            "fixed_10": round(rules.dorfman(p, 10), 5),
            "fixed_20": round(rules.dorfman(p, 20), 5),
            "binary_splitting": {"pool": bk, "tests_per_person": round(bcost, 5)},
            "entropy_bound": round(entropy, 5),
            # How much of the gap between Dorfman and the bound binary splitting closes.
            "binary_splitting_share_of_gap_closed": round((cost - bcost) / (cost - entropy), 3),
            "binary_splitting_over_bound": round(bcost / entropy, 2),
            "monte_carlo_dorfman": round(monte_carlo(p, k, rules.tests_dorfman), 5),
            "monte_carlo_binary_splitting": round(
                monte_carlo(p, bk, rules.tests_binary_splitting), 5
            ),
            "planner_ms": round(planner_ms, 2),
        }
    return out
