from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from cordon.sim.model import FixedStays, day_start, rng_for


def test_days_begin_at_local_midnight() -> None:
    start = day_start(date(2021, 12, 1), 2)
    assert datetime.fromtimestamp(start, ZoneInfo("Asia/Shanghai")) == datetime(
        2021, 12, 3, tzinfo=ZoneInfo("Asia/Shanghai")
    )


def test_random_streams_are_reproducible_and_independent() -> None:
    a = rng_for(7, "movement", 3).integers(0, 10**9, 5)
    assert (a == rng_for(7, "movement", 3).integers(0, 10**9, 5)).all()
    assert not (a == rng_for(7, "movement", 4).integers(0, 10**9, 5)).all()
    assert not (a == rng_for(8, "movement", 3).integers(0, 10**9, 5)).all()


def test_fixed_stays_concatenate() -> None:
    one = FixedStays(
        np.array([1]), np.array([2]), np.array([3]), np.array([4]), np.array(["vessel"])
    )
    both = FixedStays.concat([one, FixedStays.empty(), one])
    assert both.person_id.dtype == np.int32 and len(both.start) == 2
