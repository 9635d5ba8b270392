"""A whole round over a small simulated city, measured against the simulator's truth."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cordon.auth.rules import Role
from cordon.screening import coverage, planner, simulation
from cordon.security.crypto import FieldCipher
from cordon.sim import service as sim
from tests.helpers import make_actor

DAYS = 12
SEED_IMPORTS = {
    "outbreak": {
        "imports": [
            {"day": 0, "kind": "border", "count": 10},
            {"day": 1, "kind": "sea", "count": 3},
        ],
    },
    # A round's roster is the registered residents of its area; visitors (registered where they
    # live) are left out of this city so that everyone in the lake is on the roster.
    "city": {"visitor_share": 0.0},
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("screening") / "lake"
    sim.run(sim.RunRequest("dongxing-2021", 4_000, DAYS, 11, out, overrides=SEED_IMPORTS))
    return out


def test_a_round_over_the_city_finds_the_detectable_infections(
    session: Session, cipher: FieldCipher, lake: Path, tmp_path: Path
) -> None:
    sim.load(session=session, cipher=cipher, folder=lake)
    actor = make_actor(Role.ADMIN, "45")
    report = simulation.simulate_round(
        session=session,
        actor=actor,
        cipher=cipher,
        options=simulation.Options(lake=lake, day=DAYS - 1, out_dir=tmp_path),
    )
    truth = planner.truth(lake, planner.sampling_day(lake, DAYS - 1))
    assert report["expected"] == 4_000
    assert report["sampled"] + report["not_sampled"] == 4_000
    assert report["not_sampled"] == int(truth.isolated.sum())
    assert report["infected_sampled"] > 0 and report["found"] > 0
    assert report["found"] + report["missed"] == report["infected_sampled"]
    # Every detectable swab makes its tube positive; an infected person sharing the tube with
    # one is found too (flagged for a retest) even when their own swab would not have shown.
    detectable = int(truth.detectable.sum())
    assert 0 < report["positive_tubes"] <= detectable <= report["found"]
    assert (tmp_path / f"lab-round{report['round_id']}.xlsx").exists()
    rows = coverage.coverage(session=session, actor=actor, round_id=report["round_id"])
    assert sum(r.sampled for r in rows) == report["sampled"]
    assert sum(r.positive for r in rows) == report["flagged_people"]
    assert report["within_24h"] >= 0.95 and report["turnaround_p50_hours"] < 24


def test_the_planner_simulation_counts_tests_per_design(lake: Path) -> None:
    report = planner.simulate(lake=lake, day=DAYS - 1, max_pool=20, lab_per_day=1_000)
    designs = report["designs"]
    assert designs["single"]["tests"] == report["people_sampled"]
    assert designs["binary_splitting"]["tests"] <= designs["dorfman_optimum"]["tests"]
    assert designs["fixed_20"]["lab_days"] == -(-designs["fixed_20"]["tests"] // 1_000)
