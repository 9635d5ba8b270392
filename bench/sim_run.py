"""The whole simulator: `cordon sim run` at 200,000 people × 21 days (and, with
BENCH_SIM_LARGE=1, 1,000,000 × 14), wall time and peak memory of the process, beside the
agent-based peer covasim simulating the same population and days (its own contact networks, no
movement data) in the same run. Targets: ≤ 60 s and ≤ 4 GB; ≤ 6 min and ≤ 16 GB."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = [(200_000, 21)]
if os.environ.get("BENCH_SIM_LARGE"):
    SIZES.append((1_000_000, 14))


def measure(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident GB) of one child process, from its own rusage."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, command)
    return seconds, usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux


COVASIM = """
import sys, covasim as cv
pop, days = int(sys.argv[1]), int(sys.argv[2])
cv.Sim(pop_size=pop, n_days=days, pop_type="hybrid", pop_infected=2, verbose=0, rand_seed=7).run()
"""


def run() -> dict[str, object]:
    out: dict[str, object] = {}
    for population, days in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            lake = Path(folder) / "lake"
            ours = measure(
                [
                    sys.executable,
                    "-m",
                    "cordon",
                    "sim",
                    "run",
                    "--population",
                    str(population),
                    "--days",
                    str(days),
                    "--seed",
                    "7",
                    "--out",
                    str(lake),
                ]
            )
        peer = measure([sys.executable, "-c", COVASIM, str(population), str(days)])
        out[f"{population}x{days}"] = {
            "cordon_sim_s": round(ours[0], 1),
            "cordon_peak_gb": round(ours[1], 2),
            "covasim_s": round(peer[0], 1),
            "covasim_peak_gb": round(peer[1], 2),
            "ratio_cordon_to_covasim_time": round(ours[0] / peer[0], 2),
        }
    return out
