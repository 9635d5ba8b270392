"""Tracing quality at full city size against the simulator's ground truth.

A 200,000-person city over 28 days (seed 9: the demo's city); the first 8 cases the city itself
detects (routine tests or symptoms, in detection order, as a command centre meets them) are
traced under each protocol pack. Recall: of the people those cases really infected inside the
city during their look-back-to-isolation window, the share found among their close or secondary
contacts (target ≥ 95 %). List size: close + secondary contacts per true infection, and per case.
Set BENCH_TRACE_QUALITY_CASES to trace more or fewer cases.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from cordon.lake.reader import read_table
from cordon.protocols import packs
from cordon.sim import service as sim
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace
from cordon.trace.rules import IndexCase

POPULATION, DAYS, SEED = 200_000, 28, 9
CASES = int(os.environ.get("BENCH_TRACE_QUALITY_CASES", "8"))
PACKS = ("guangxi-2021-12", "e9-2022-06")


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


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        lake = Path(folder) / "lake"
        sim.run(sim.RunRequest("dongxing-2021", POPULATION, DAYS, SEED, lake))
        cases = detected_cases(lake, CASES)
        infections = read_table(lake, "infections").to_pandas()
        infections["at"] = infections["time"].map(lambda t: t.timestamp())
        store = DuckDBStore(lake)
        out: dict[str, object] = {
            "population": POPULATION,
            "days": DAYS,
            "seed": SEED,
            "cases_traced": len(cases),
        }
        for pack_name in PACKS:
            pack = packs.load(pack_name)
            found = missed = close = secondary = companion = 0
            started = time.perf_counter()
            for case in cases:
                contacts = trace([case], pack, store)
                named = {c.person_id for c in contacts if c.kind in ("close", "secondary")}
                close += sum(c.kind == "close" for c in contacts)
                secondary += sum(c.kind == "secondary" for c in contacts)
                companion += sum(c.kind == "companion" for c in contacts)
                opens = min(
                    t
                    for t in (
                        case.onset - pack.look_back.days_before_onset * 86_400
                        if case.onset is not None
                        else None,
                        case.sampled - pack.look_back.days_before_sampling * 86_400
                        if case.sampled is not None
                        else None,
                    )
                    if t is not None
                )
                truly = infections[
                    (infections["infector"] == case.person_id)
                    & (infections["setting"] != "import")
                    & (infections["at"] >= opens)
                    & (infections["at"] < case.isolated)
                ]
                hits = sum(int(p) in named for p in truly["infectee"])
                found, missed = found + hits, missed + len(truly) - hits
            seconds = time.perf_counter() - started
            true_total = found + missed
            out[pack_name] = {
                "true_infections_in_windows": true_total,
                "found_among_close_or_secondary": found,
                "recall": round(found / true_total, 4) if true_total else None,
                "close_contacts": close,
                "secondary_contacts": secondary,
                "companions": companion,
                "close_plus_secondary_per_true_infection": round(
                    (close + secondary) / true_total, 1
                )
                if true_total
                else None,
                "close_plus_secondary_per_case": round((close + secondary) / max(len(cases), 1)),
                "seconds_tracing_one_by_one": round(seconds, 1),
            }
        return out
