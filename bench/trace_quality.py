"""Tracing quality and the tiers' calibration, at full city size, against the twin's truth.

For each seed, a 200,000-person city over 28 days; the first 10 cases the city itself detects
(routine tests or symptoms, in detection order, as a command centre meets them) are traced
one by one under each protocol pack, and every contact scored and tiered (trace/score.py,
which reads no truth). Against the simulator's infections:

* recall: of the people those cases really infected inside the city during their
  look-back-to-isolation window, the share found among close or secondary contacts (target
  >= 95 %), in tier 1 (target >= 80 %) and cumulatively per tier;
* list sizes: close + secondary per case (target <= 500) and per true infection; the share of
  the city listed after the 10 cases, close + secondary (target <= 5 %) and everything with
  companions (target <= 15 %), each person counted once;
* the yield of each tier: true infections per person listed (what the packs' costs quote to
  the commander as expected infections caught).

BENCH_TRACE_QUALITY_SEEDS (e.g. "9,33,45,57") and BENCH_TRACE_QUALITY_CASES change the run;
BENCH_TRACE_QUALITY_POPULATION and _DAYS make a smaller city for a quick look.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from cordon.lake.reader import read_table
from cordon.protocols import packs
from cordon.sim import service as sim
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace_columns
from cordon.trace.evidence import KINDS
from cordon.trace.rules import IndexCase
from cordon.trace.score import onsets_of, score_traced

POPULATION = int(os.environ.get("BENCH_TRACE_QUALITY_POPULATION", "200000"))
DAYS = int(os.environ.get("BENCH_TRACE_QUALITY_DAYS", "28"))
SEEDS = [int(s) for s in os.environ.get("BENCH_TRACE_QUALITY_SEEDS", "9,33,45,57").split(",")]
CASES = int(os.environ.get("BENCH_TRACE_QUALITY_CASES", "10"))
PACKS = ("guangxi-2021-12", "e9-2022-06")
COMPANION = "companion"


def _seconds(value: object) -> int | None:
    return None if pd.isna(value) else int(pd.Timestamp(value).timestamp())  # type: ignore[arg-type]


def detected_cases(lake: Path, limit: int) -> list[IndexCase]:
    """The first ``limit`` cases the city detected, with onset (symptomatic), first positive
    sample and isolation as the simulator recorded them (isolation: the lake's end if none)."""
    disease = read_table(lake, "disease").to_pandas()
    tests = read_table(lake, "routine_tests").to_pandas()
    sampled = tests[tests["positive"]].groupby("person_id")["sampled_at"].min()
    end = int(read_table(lake, "stays").to_pandas()["end"].max().timestamp())
    found = disease[disease["detected_at"].notna()].sort_values("detected_at")
    cases = []
    for row in found.itertuples():
        onset = _seconds(row.onset) if row.symptomatic else None
        sample = _seconds(sampled.get(row.person_id))
        if onset is None and sample is None:
            continue
        cases.append(IndexCase(int(row.person_id), onset, sample, _seconds(row.isolated_at) or end))
        if len(cases) == limit:
            break
    return cases


def _window_opens(case: IndexCase, pack: packs.Pack) -> int:
    starts = []
    if case.onset is not None:
        starts.append(case.onset - pack.look_back.days_before_onset * 86_400)
    if case.sampled is not None:
        starts.append(case.sampled - pack.look_back.days_before_sampling * 86_400)
    return min(starts)


def _group(kind: str, tier: int) -> str:
    return COMPANION if kind == COMPANION else str(tier)


def _one_pack(
    pack: packs.Pack, cases: list[IndexCase], store: DuckDBStore, infections: pd.DataFrame
) -> dict[str, object]:
    tiers = [str(t.tier) for t in pack.tiers]
    listed: dict[str, set[int]] = {g: set() for g in [*tiers, COMPANION]}  # each person once
    per_case = {"close": 0, "secondary": 0, COMPANION: 0}
    in_group = {g: 0 for g in [*tiers, COMPANION]}  # contacts per group, summed over cases
    caught = {g: 0 for g in [*tiers, COMPANION]}  # true infections per group
    true_total = 0
    started = time.perf_counter()
    for case in cases:
        found = trace_columns([case], pack, store)
        scored = score_traced(found, pack, onsets_of([case]))
        people = found.contacts.column("person_id").to_numpy()
        kinds = [KINDS[k] for k in found.contacts.column("kind").to_numpy()]
        group_of = {
            int(p): _group(k, int(t)) for p, k, t in zip(people, kinds, scored.tier, strict=True)
        }
        for kind in kinds:
            per_case[kind] += 1
        for person, group in group_of.items():
            in_group[group] += 1
            listed[group].add(person)
        truly = infections[
            (infections["infector"] == case.person_id)
            & (infections["setting"] != "import")
            & (infections["at"] >= _window_opens(case, pack))
            & (infections["at"] < case.isolated)
        ]["infectee"]
        true_total += len(truly)
        for person in truly:
            hit = group_of.get(int(person))
            if hit is not None:
                caught[hit] += 1
    seconds = time.perf_counter() - started
    # A person is counted once, in the highest tier any case put them in.
    seen: set[int] = set()
    for group in [*tiers, COMPANION]:
        listed[group] -= seen
        seen |= listed[group]
    close_secondary = per_case["close"] + per_case["secondary"]
    quarantine_listed = sum(len(listed[t]) for t in tiers)
    cumulative, running = {}, 0
    for t in tiers:
        running += caught[t]
        cumulative[t] = round(running / true_total, 4) if true_total else None
    return {
        "true_infections_in_windows": true_total,
        "recall_close_or_secondary": round(sum(caught[t] for t in tiers) / true_total, 4)
        if true_total
        else None,
        "recall_tier_1": cumulative[tiers[0]],
        "recall_up_to_tier": cumulative,
        "caught_by_companions": caught[COMPANION],
        "close_contacts": per_case["close"],
        "secondary_contacts": per_case["secondary"],
        "companions": per_case[COMPANION],
        "close_plus_secondary_per_case": round(close_secondary / max(len(cases), 1)),
        "close_plus_secondary_per_true_infection": round(close_secondary / true_total, 1)
        if true_total
        else None,
        "people_listed_by_tier": {g: len(listed[g]) for g in listed},
        "share_of_city_close_or_secondary": round(quarantine_listed / POPULATION, 4),
        "share_of_city_everything": round(len(seen) / POPULATION, 4),
        "infections_per_contact": {
            g: round(caught[g] / in_group[g], 5) if in_group[g] else None for g in in_group
        },
        "contacts_per_tier_summed_over_cases": in_group,
        "seconds_tracing_one_by_one": round(seconds, 1),
    }


def _one_seed(seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        lake = Path(folder) / "lake"
        sim.run(sim.RunRequest("dongxing-2021", POPULATION, DAYS, seed, lake))
        cases = detected_cases(lake, CASES)
        infections = read_table(lake, "infections").to_pandas()
        infections["at"] = infections["time"].map(lambda t: t.timestamp())
        store = DuckDBStore(lake)
        out: dict[str, Any] = {"cases_traced": len(cases)}
        for pack_name in PACKS:
            out[pack_name] = _one_pack(packs.load(pack_name), cases, store, infections)
        return out


def _summary(per_seed: dict[str, dict[str, Any]]) -> dict[str, object]:
    """Per pack, over the seeds: the worst of each target's measure and the pooled yields."""
    out: dict[str, object] = {}
    for pack_name in PACKS:
        runs = [seed[pack_name] for seed in per_seed.values()]
        pooled: dict[str, float | None] = {}
        for group in runs[0]["contacts_per_tier_summed_over_cases"]:
            listed = sum(r["contacts_per_tier_summed_over_cases"][group] for r in runs)
            hits = sum(
                (r["infections_per_contact"][group] or 0)
                * r["contacts_per_tier_summed_over_cases"][group]
                for r in runs
            )
            pooled[group] = round(hits / listed, 5) if listed else None
        out[pack_name] = {
            "min_recall_close_or_secondary": min(r["recall_close_or_secondary"] or 0 for r in runs),
            "min_recall_tier_1": min(r["recall_tier_1"] or 0 for r in runs),
            "max_close_plus_secondary_per_case": max(
                r["close_plus_secondary_per_case"] for r in runs
            ),
            "max_share_close_or_secondary": max(
                r["share_of_city_close_or_secondary"] for r in runs
            ),
            "max_share_everything": max(r["share_of_city_everything"] for r in runs),
            "pooled_infections_per_contact": pooled,
        }
    return out


def run() -> dict[str, object]:
    per_seed = {str(seed): _one_seed(seed) for seed in SEEDS}
    return {
        "population": POPULATION,
        "days": DAYS,
        "cases": CASES,
        "seeds": SEEDS,
        "targets": {
            "recall_close_or_secondary": ">= 0.95",
            "recall_tier_1": ">= 0.80",
            "close_plus_secondary_per_case": "<= 500",
            "share_close_or_secondary": "<= 0.05",
            "share_everything": "<= 0.15",
        },
        "summary": _summary(per_seed),
        "per_seed": per_seed,
    }
