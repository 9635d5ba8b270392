"""The pooling maths at the edges of the prevalence range."""

from __future__ import annotations

import math

import pytest

from cordon.screening import rules


@pytest.mark.parametrize("p", [1e-17, 1e-12, 1e-300, 5e-324])
def test_tiny_prevalences_give_finite_designs(p: float) -> None:
    # 1 - p rounds to 1 here; the pool-positive chance used to be 0 and a division failed.
    plan = rules.plan_pooling(prevalence=p, max_pool=50, people=1_000)
    for design in plan.designs:
        assert math.isfinite(design.tests_per_person), design
    assert plan.recommended.pool == 50
    assert plan.recommended.tests_per_person == pytest.approx(1 / 50)
    assert rules.binary_splitting(p, 50) == pytest.approx(1 / 50)


def test_the_pool_positive_chance_keeps_its_precision() -> None:
    assert rules.positive_chance(1e-17, 20) == pytest.approx(2e-16, rel=1e-9)
    assert rules.positive_chance(0.001, 20) == pytest.approx(1 - 0.999**20, rel=1e-12)
    assert rules.positive_chance(0.0, 20) == 0.0
    assert rules.positive_chance(1.0, 20) == 1.0
    assert rules.binary_splitting(0.0, 8) == pytest.approx(1 / 8)


def test_ordinary_prevalences_are_unchanged() -> None:
    assert rules.dorfman(0.001, 20) == pytest.approx(1 / 20 + 1 - 0.999**20, rel=1e-12)
    h = -(0.01 * math.log2(0.01) + 0.99 * math.log2(0.99))
    assert rules.entropy_bound(0.01) == pytest.approx(h, rel=1e-12)
