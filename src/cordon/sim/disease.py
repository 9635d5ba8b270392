"""Natural history of an infection: how infectious a person is by days since infection, when
symptoms start, how likely a PCR test is to be positive, and when a symptomatic person is found.

Pure numpy; the parameters come from ``OutbreakParams`` (``cordon.sim.outbreak``), passed in as
plain numbers so this module depends on nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
DAY = 86_400.0


def lognormal_parameters(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the log of a lognormal variable with this mean and standard deviation."""
    sigma2 = math.log(1.0 + (sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


@dataclass(frozen=True)
class Infectiousness:
    """Relative infectiousness by days since infection: the generation-interval density (a gamma
    distribution with the configured mean and standard deviation) scaled to 1 at its peak and cut
    at ``max_days``. A rate "per hour at peak infectiousness" times this profile is the hazard; its
    integral over the infection, ``effective_days``, turns hourly rates into a reproduction number.
    """

    mean_days: float
    sd_days: float
    max_days: float

    @property
    def shape(self) -> float:
        return (self.mean_days / self.sd_days) ** 2

    @property
    def scale(self) -> float:
        return self.sd_days**2 / self.mean_days

    def density(self, days: FloatArray) -> FloatArray:
        """The generation-interval density (per day) at these days since infection."""
        k, theta = self.shape, self.scale
        tau = np.asarray(days, dtype=np.float64)
        out = np.zeros_like(tau)
        ok = (tau > 0) & (tau < self.max_days)
        t = tau[ok]
        out[ok] = np.exp((k - 1.0) * np.log(t) - t / theta - math.lgamma(k) - k * math.log(theta))
        return out

    @property
    def peak_density(self) -> float:
        mode = max((self.shape - 1.0) * self.scale, 1e-6)
        return float(self.density(np.array([mode]))[0])

    def relative(self, days: FloatArray) -> FloatArray:
        """Infectiousness relative to the peak (1.0 at the mode of the generation interval)."""
        return self.density(days) / self.peak_density

    @property
    def effective_days(self) -> float:
        """Integral of ``relative`` over the infection: the number of days at peak infectiousness
        equivalent to the whole infection (1 / peak density, less the tail cut at max_days)."""
        grid = np.linspace(0.0, self.max_days, 20_001)
        values = self.relative(grid)
        return float(np.sum((values[1:] + values[:-1]) / 2.0) * (grid[1] - grid[0]))

    @property
    def truncated_mean_days(self) -> float:
        """Mean generation interval of the profile as used (cut at max_days)."""
        grid = np.linspace(0.0, self.max_days, 20_001)
        d = self.density(grid)
        return float(np.sum(grid * d) / np.sum(d))


def sensitivity(points: Sequence[tuple[float, float]], days: FloatArray) -> FloatArray:
    """PCR sensitivity at these days since infection, interpolated linearly between the
    (day, sensitivity) points; 0 before infection and after the last point."""
    xs = np.array([p[0] for p in points], dtype=np.float64)
    ys = np.array([p[1] for p in points], dtype=np.float64)
    tau = np.asarray(days, dtype=np.float64)
    return np.where(tau < 0, 0.0, np.interp(tau, xs, ys, left=0.0, right=0.0))


@dataclass(frozen=True)
class Course:
    """The drawn course of a batch of new infections (seconds since the epoch; -1 where none)."""

    symptomatic: npt.NDArray[np.bool_]
    onset: npt.NDArray[np.int64]
    relative_infectiousness: FloatArray
    detected_by_symptoms: npt.NDArray[np.int64]


def draw_course(
    rng: np.random.Generator,
    infected_at: npt.NDArray[np.int64],
    *,
    asymptomatic_share: float,
    asymptomatic_relative_infectiousness: float,
    incubation_mean_days: float,
    incubation_sd_days: float,
    care_seeking_probability: float,
    care_seeking_delay_mean_days: float,
    care_seeking_delay_sd_days: float,
    clinical_turnaround_hours: float,
    sensitivity_points: Sequence[tuple[float, float]],
) -> Course:
    """Draw symptoms, onset and detection through care-seeking for people infected at these
    times. Always the same number of draws per person, in order, so results are reproducible."""
    n = len(infected_at)
    u_symptomatic = rng.random(n)
    mu, sigma = lognormal_parameters(incubation_mean_days, incubation_sd_days)
    incubation = rng.lognormal(mu, sigma, n)
    u_seek = rng.random(n)
    mu_d, sigma_d = lognormal_parameters(care_seeking_delay_mean_days, care_seeking_delay_sd_days)
    delay = rng.lognormal(mu_d, sigma_d, n)
    u_test = rng.random(n)

    symptomatic = u_symptomatic >= asymptomatic_share
    onset = np.where(symptomatic, infected_at + np.round(incubation * DAY).astype(np.int64), -1)
    relative = np.where(symptomatic, 1.0, asymptomatic_relative_infectiousness)
    tested_at = onset + np.round(delay * DAY).astype(np.int64)
    positive = u_test < sensitivity(sensitivity_points, (tested_at - infected_at) / DAY)
    found = symptomatic & (u_seek < care_seeking_probability) & positive
    detected = np.where(found, tested_at + round(clinical_turnaround_hours * 3600), -1).astype(
        np.int64
    )
    return Course(symptomatic, onset.astype(np.int64), relative.astype(np.float64), detected)
