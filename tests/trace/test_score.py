"""Exposure scores and tiers: a pure function of evidence and pack, monotone in what makes an
exposure riskier, with its parts summing to the score."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.protocols import packs
from cordon.trace import evidence
from cordon.trace.score import relative_infectiousness, score_traced, tier_of

HOUR, DAY = 3_600, 86_400
ONSET = 1_640_000_000  # the case's onset (epoch s)
CASE, CLOSE, OTHER = 1, 2, 3
PACKS = ("guangxi-2021-12", "e9-2022-06")


def _rows(rows: list[tuple[int, str, int, str, int, int]]) -> pa.Table:
    """Evidence rows: (contact, kind, index, setting, start, end)."""
    n = len(rows)
    kinds = {"close": 0, "secondary": 1, "companion": 2}
    settings_ = pa.array([r[3] for r in rows], pa.string()).dictionary_encode()
    return pa.table(
        {
            "contact_id": pa.array([r[0] for r in rows], pa.int64()),
            "kind": pa.array([kinds[r[1]] for r in rows], pa.int8()),
            "index_id": pa.array([r[2] for r in rows], pa.int64()),
            "case_id": pa.array([CASE] * n, pa.int64()),
            "place_id": pa.array([None if r[1] == "companion" else 7 for r in rows], pa.int64()),
            "cell_id": pa.array([9 if r[1] == "companion" else None for r in rows], pa.int64()),
            "setting": settings_,
            "start": pa.array([r[4] for r in rows], pa.int64()),
            "end": pa.array([r[5] for r in rows], pa.int64()),
            "rule": pa.array(["r"] * n, pa.string()).dictionary_encode(),
        },
        schema=evidence.EVIDENCE,
    )


def _scores(pack_name: str, rows: list[tuple[int, str, int, str, int, int]]) -> dict[int, float]:
    found = evidence.merge(_rows(rows), evidence.no_met(), exclude={CASE})
    scored = score_traced(found, packs.load(pack_name), {CASE: ONSET})
    people = found.contacts.column("person_id").to_pylist()
    return dict(zip(people, scored.score.tolist(), strict=True))


def _one(pack_name: str, setting: str, start: int, hours: float, kind: str = "close") -> float:
    return _scores(pack_name, [(CLOSE, kind, CASE, setting, start, start + int(hours * HOUR))])[
        CLOSE
    ]


def test_infectiousness_peaks_near_onset_and_is_zero_long_before() -> None:
    profile = packs.load().exposure_score.infectiousness
    days = np.array([-20.0, -5.0, -1.0, 0.0, 0.4, 1.0, 5.0])
    relative = relative_infectiousness(days, profile)
    assert relative[0] == 0 and relative.max() <= 1
    assert relative[3] > relative[1] and relative[3] > relative[6]
    peak = (profile.shape - 1) / profile.rate - profile.shift_days
    assert relative_infectiousness(np.array([peak]), profile)[0] == pytest.approx(1)


@pytest.mark.parametrize("pack_name", PACKS)
def test_a_household_member_outranks_a_market_passer_by(pack_name: str) -> None:
    home = _one(pack_name, "household", ONSET - DAY, 12)
    market = _one(pack_name, "venue", ONSET - DAY, 0.5)
    cell = _one(pack_name, "cell", ONSET - DAY, 0.5, kind="companion")
    assert home > market > cell > 0


@pytest.mark.parametrize("pack_name", PACKS)
def test_days_and_hours_add_up(pack_name: str) -> None:
    one_day = [(CLOSE, "close", CASE, "work", ONSET - DAY, ONSET - DAY + 8 * HOUR)]
    two_days = [*one_day, (CLOSE, "close", CASE, "work", ONSET, ONSET + 8 * HOUR)]
    assert _scores(pack_name, two_days)[CLOSE] > _scores(pack_name, one_day)[CLOSE]


@pytest.mark.parametrize("pack_name", PACKS)
def test_a_secondary_contact_scores_through_its_close_contact(pack_name: str) -> None:
    """Exposed to a close contact, a secondary contact scores below the close contact, and more
    when the close contact's own exposure was heavier."""
    exposed = ONSET + 3 * DAY  # days after the close contact's exposure: it may be infectious

    def secondary(close_hours: float) -> tuple[float, float]:
        found = _scores(
            pack_name,
            [
                (CLOSE, "close", CASE, "household", ONSET, ONSET + int(close_hours * HOUR)),
                (OTHER, "secondary", CLOSE, "household", exposed, exposed + 12 * HOUR),
            ],
        )
        return found[CLOSE], found[OTHER]

    light, heavy = secondary(1), secondary(12)
    assert light[1] < light[0] and heavy[1] < heavy[0]
    assert heavy[1] > light[1]


@pytest.mark.parametrize("pack_name", PACKS)
def test_parts_sum_to_the_score(pack_name: str) -> None:
    rows = [
        (CLOSE, "close", CASE, "household", ONSET - DAY, ONSET - DAY + 10 * HOUR),
        (CLOSE, "close", CASE, "venue", ONSET, ONSET + HOUR),
        (CLOSE, "companion", CASE, "cell", ONSET + DAY, ONSET + DAY + HOUR),
    ]
    found = evidence.merge(_rows(rows), evidence.no_met(), exclude={CASE})
    scored = score_traced(found, packs.load(pack_name), {CASE: ONSET})
    assert scored.score[0] == pytest.approx(1 - math.exp(-scored.hazard.sum()))
    assert scored.days[0] == 3 and scored.minutes[0] == pytest.approx(12 * 60)


def test_tiers_cut_at_the_pack_s_thresholds() -> None:
    tiers = packs.load().tiers
    cuts = [t.min_score for t in tiers]
    assert tier_of(np.array([1.0, cuts[0], cuts[1], 0.0]), tiers).tolist() == [1, 1, 2, 3]


@pytest.mark.parametrize("pack_name", PACKS)
def test_companions_are_not_tiered(pack_name: str) -> None:
    rows = [(OTHER, "companion", CASE, "cell", ONSET, ONSET + 5 * HOUR)]
    found = evidence.merge(_rows(rows), evidence.no_met(), exclude={CASE})
    assert score_traced(found, packs.load(pack_name), {CASE: ONSET}).tier.tolist() == [0]


SETTINGS = ["household", "work", "class", "venue", "health", "transit", "vessel"]


@settings(max_examples=200, deadline=None)
@given(
    pack_name=st.sampled_from(PACKS),
    setting=st.sampled_from(SETTINGS),
    offset_hours=st.integers(-72, 96),
    hours=st.floats(0.1, 20),
    more=st.floats(0.0, 10),
)
def test_a_longer_exposure_never_scores_lower(
    pack_name: str, setting: str, offset_hours: int, hours: float, more: float
) -> None:
    start = ONSET + offset_hours * HOUR
    assert _one(pack_name, setting, start, hours + more) >= _one(pack_name, setting, start, hours)


@settings(max_examples=200, deadline=None)
@given(
    pack_name=st.sampled_from(PACKS),
    pair=st.permutations(SETTINGS).map(lambda s: s[:2]),
    offset_hours=st.integers(-72, 96),
    hours=st.floats(0.1, 20),
)
def test_a_closer_exposure_never_scores_lower(
    pack_name: str, pair: list[str], offset_hours: int, hours: float
) -> None:
    """Closer: a setting the pack weighs more (a home against a phone cell, say)."""
    weights = packs.load(pack_name).exposure_score.weight_per_hour
    near, far = sorted(pair, key=lambda s: -weights[s])
    start = ONSET + offset_hours * HOUR
    assert _one(pack_name, near, start, hours) >= _one(pack_name, far, start, hours)
    assert _one(pack_name, far, start, hours) >= _one(pack_name, "cell", start, hours, "companion")


@settings(max_examples=200, deadline=None)
@given(
    pack_name=st.sampled_from(PACKS),
    setting=st.sampled_from(SETTINGS),
    offsets=st.lists(st.integers(-120, 120), min_size=2, max_size=2),
    hours=st.floats(0.1, 6),
)
def test_a_more_infectious_exposure_never_scores_lower(
    pack_name: str, setting: str, offsets: list[int], hours: float
) -> None:
    profile = packs.load(pack_name).exposure_score.infectiousness
    starts = [ONSET + o * HOUR for o in offsets]
    middles = np.array([(s + hours * HOUR / 2 - ONSET) / DAY for s in starts])
    relative = relative_infectiousness(middles, profile)
    more, less = (0, 1) if relative[0] >= relative[1] else (1, 0)
    assert _one(pack_name, setting, starts[more], hours) >= _one(
        pack_name, setting, starts[less], hours
    )
