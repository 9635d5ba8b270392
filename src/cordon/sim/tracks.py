"""One fishing trip's track: where the boat is at every moment between leaving and re-entering
its harbour, and the BeiDou position reports sampled from it.

A track is a polyline with a time at every vertex ("knots"): out along the fairway, a run to a
fishing spot, a slow random walk while fishing, optionally a run to a rendezvous point near the
maritime border and a stop there, and home the same way. Positions between knots are linear in
time, so sampling fixes is one ``np.interp`` over all report times of the trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from cordon.sim import sea

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FISHING_STEP_MINUTES = (15.0, 45.0)  # heading changes while fishing
DRIFT_KM = 0.2  # how far a boat drifts during a rendezvous stop
POSITION_NOISE_KM = 0.01  # BeiDou fix error, ~10 m
SPEED_NOISE_KNOTS = 0.2


@dataclass(frozen=True)
class TripPlan:
    """What shapes one track (all durations in seconds, speeds in knots)."""

    duration: int
    cruise_knots: float
    fishing_knots: float
    stop: int = 0  # > 0: the trip meets a foreign vessel and stops this long
    km_from_border: float = 0.0  # where the rendezvous point lies, east of the border


@dataclass(frozen=True)
class Track:
    t: FloatArray  # seconds after departure at each knot; t[0] = 0, t[-1] = duration
    x: FloatArray  # km east of sea.ORIGIN
    y: FloatArray  # km north of sea.ORIGIN
    rendezvous: tuple[float, float, float] | None  # (seconds after departure, lon, lat)

    def position(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(lon, lat) at seconds ``t`` after departure."""
        return sea.to_lonlat(np.interp(t, self.t, self.x), np.interp(t, self.t, self.y))

    def speed_knots(self, t: FloatArray) -> FloatArray:
        """Speed over ground of the segment each ``t`` falls in."""
        dist = np.hypot(np.diff(self.x), np.diff(self.y))
        dt = np.maximum(np.diff(self.t), 1e-9)
        knots = dist / dt * 3600.0 / sea.KM_PER_NAUTICAL_MILE
        segment = np.clip(np.searchsorted(self.t, t, side="right") - 1, 0, len(dist) - 1)
        speed: FloatArray = knots[segment]
        return speed


def _length(path: FloatArray) -> float:
    return float(np.hypot(*np.diff(path, axis=0).T).sum())


@lru_cache(maxsize=4096)
def _km_to_grounds(lon: float, lat: float) -> float:
    gx0, _, _, gy1 = sea.grounds_km()
    return _length(sea.route(lon, lat, np.array([gx0, gy1])))


def build_track(
    harbour_lon: float, harbour_lat: float, plan: TripPlan, rng: np.random.Generator
) -> Track:
    """A track of exactly ``plan.duration`` seconds from the harbour and back."""
    cruise = plan.cruise_knots * sea.KM_PER_NAUTICAL_MILE / 3600.0  # km/s
    fishing = plan.fishing_knots * sea.KM_PER_NAUTICAL_MILE / 3600.0
    gx0, gy0, gx1, gy1 = sea.grounds_km()
    corner = np.array([gx0, gy1])
    to_corner = _km_to_grounds(harbour_lon, harbour_lat)
    middle = max(plan.duration - 2 * to_corner / cruise - plan.stop, 600.0)

    # The fishing spot: anywhere in the grounds, but no further than the time allows.
    spot = np.array([rng.uniform(gx0, gx1), rng.uniform(gy0, gy1)])
    reach = 0.25 * middle * cruise
    away = float(np.hypot(*(spot - corner)))
    if away > reach:
        spot = corner + (spot - corner) * reach / away

    meet = plan.stop > 0
    rendezvous = turn = np.zeros(2)
    if meet:  # a point near the border, reached along its latitude from inside the grounds
        _, y_lo = sea.to_km(0.0, sea.RENDEZVOUS_LAT[0])
        _, y_hi = sea.to_km(0.0, sea.RENDEZVOUS_LAT[1])
        y = rng.uniform(max(float(y_lo), min(float(y_hi), gy1 - reach)), float(y_hi))
        x_border, _ = sea.to_km(sea.border_lon(sea.to_lonlat(0.0, y)[1]), 0.0)
        rendezvous = np.array([float(x_border) + plan.km_from_border, y])
        turn = np.array([gx0 + rng.uniform(0.0, 3.0), y])

    # Fishing: a slow random walk from the spot; whatever time the runs leave is spent on it.
    runs = 2 * float(np.hypot(*(spot - corner)))
    if meet:
        runs += 2 * float(np.hypot(*(spot - turn)) + np.hypot(*(turn - rendezvous)))
    walk_time = max(middle - runs / cruise, 0.0)
    steps = max(1, round(walk_time / (30 * 60)))
    step_t = rng.uniform(*FISHING_STEP_MINUTES, steps) * 60.0
    step_t *= walk_time / step_t.sum()
    heading = rng.uniform(0.0, 2 * np.pi, steps)
    moves = np.column_stack([np.cos(heading), np.sin(heading)]) * (fishing * step_t)[:, None]
    walk = spot + np.cumsum(moves, axis=0)
    walk = np.column_stack(sea.clip_to_grounds(walk[:, 0], walk[:, 1]))
    split = int(rng.integers(0, steps + 1)) if meet else steps

    # Knots, each with the nominal time of the segment that ends there: > 0 given (fishing),
    # 0 from the distance at cruising speed, < 0 the stop alongside the foreign boat.
    knots: list[FloatArray] = list(sea.route(harbour_lon, harbour_lat, spot))
    given = [0.0] * (len(knots) - 1)
    knots += list(walk[:split])
    given += list(step_t[:split])
    if meet:
        drift = rendezvous + rng.normal(0.0, DRIFT_KM / 2, 2)
        drift[0] = max(drift[0], rendezvous[0] - plan.km_from_border / 2)
        there = [] if sea.clear(knots[-1], rendezvous)[0] else [turn]
        on = walk[split] if split < steps else None  # back in the grounds afterwards
        back_via = [] if on is not None and sea.clear(drift, on)[0] else [turn]
        knots += [*there, rendezvous, drift, *back_via]
        given += [0.0] * len(there) + [0.0, -1.0] + [0.0] * len(back_via)
        knots += list(walk[split:])
        given += [0.0, *step_t[split + 1 :]][: steps - split]
    back = sea.route(harbour_lon, harbour_lat, knots[-1])[::-1]
    knots += list(back[1:])
    given += [0.0] * (len(back) - 1)

    path = np.array(knots)
    dist = np.hypot(*np.diff(path, axis=0).T)
    marks = np.array(given)
    is_stop = marks < 0
    nominal = np.where(marks > 0, marks, dist / cruise)
    nominal[is_stop] = 0.0
    seconds = nominal * ((plan.duration - plan.stop) / nominal.sum())
    seconds[is_stop] = plan.stop
    t = np.r_[0.0, np.cumsum(seconds)]
    t[-1] = float(plan.duration)

    met = None
    if meet:
        at = int(np.flatnonzero(is_stop)[0])
        lon, lat = sea.to_lonlat(rendezvous[0], rendezvous[1])
        met = (float(t[at]), float(lon), float(lat))
    return Track(t=t, x=path[:, 0], y=path[:, 1], rendezvous=met)


@dataclass(frozen=True)
class Fixes:
    time: IntArray  # epoch seconds
    lon: FloatArray
    lat: FloatArray
    speed_knots: FloatArray

    @classmethod
    def empty(cls) -> Fixes:
        return cls(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0))

    def split(self, at: int) -> tuple[Fixes, Fixes]:
        """(reports before ``at``, reports from ``at`` on)."""
        before = self.time < at
        after = ~before
        return (
            Fixes(self.time[before], self.lon[before], self.lat[before], self.speed_knots[before]),
            Fixes(self.time[after], self.lon[after], self.lat[after], self.speed_knots[after]),
        )


def sample_fixes(
    track: Track,
    *,
    depart: int,
    interval: int,
    gap: tuple[int, int] | None,
    loss_share: float,
    rng: np.random.Generator,
) -> Fixes:
    """BeiDou reports every ``interval`` seconds while at sea, none during ``gap`` (seconds after
    departure, [start, end)), each also lost with probability ``loss_share``."""
    duration = int(track.t[-1])
    rel = np.arange(int(rng.integers(0, interval)), duration, interval, dtype=np.int64)
    keep = rng.random(len(rel)) >= loss_share
    if gap is not None:
        keep &= (rel < gap[0]) | (rel >= gap[1])
    rel = rel[keep]
    lon, lat = track.position(rel.astype(np.float64))
    noise = rng.normal(0.0, POSITION_NOISE_KM, (2, len(rel)))
    lon = lon + noise[0] / sea.KM_PER_DEG_LON
    lat = lat + noise[1] / sea.KM_PER_DEG_LAT
    speed = track.speed_knots(rel.astype(np.float64)) + rng.normal(0.0, SPEED_NOISE_KNOTS, len(rel))
    return Fixes(depart + rel, lon, lat, np.maximum(speed, 0.0))
