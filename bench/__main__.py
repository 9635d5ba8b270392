"""Runs every benchmark module in this folder and writes its results to bench/results/."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "people_import",
    "sim_run",
    "sim_outbreak",
    "trace_quality",
    "trace_speed",
    "codes_recompute",
    "codes_lookup",
    "screening_ingest",
    "screening_planner",
    "user_paths",
]


def machine() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def main(names: list[str]) -> None:
    for name in names or BENCHES:
        module = importlib.import_module(f"bench.{name}")
        results = module.run()
        record = {
            "bench": name,
            "at": datetime.now(UTC).isoformat(),
            "machine": machine(),
            "results": results,
        }
        out = HERE / "results" / f"{name}.json"
        out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        print(json.dumps(record["results"], ensure_ascii=False, indent=2))
        print(f"→ {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
