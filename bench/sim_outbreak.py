"""The outbreak model (cordon.sim.outbreak), checked and timed:

* scenario — the default parameters on the dongxing-2021 city (cordon.sim.city, movement and
  vessels, run as `cordon sim run` does) for several seeds: how and when the first case is
  found and how many are infected / confirmed within 7 days of it (reference scenario: a
  routine test on 20 Dec evening, 19 confirmed by 26 Dec); the time of step();
* calibration — on the same city, the reproduction number implied by contact-hours and rates
  (R = Σ_s rate_s · H_s · effective_days · ρ, linear in contact-hours) for the mean person and
  for the early cohort actually infected, against the R and generation interval measured on
  the ground-truth tree of that cohort (no detection, 10 imports, infected on days 2-12);
* validation — R and generation interval measured on a population with exactly known contacts
  (as in tests/sim/test_outbreak.py) against the configured values, over several seeds;
* peer — the agent-based peer covasim on a matched configuration: the same population size,
  households of 3, workplaces of 10 and a daily-reshuffled community group of 20, the same
  asymptomatic share and relative infectiousness, durations that give a similar generation
  interval, per-contact daily probabilities derived from our per-hour rates and then scaled so
  that the early R matches; both seeded with the same number of infections. Reports R, the
  generation interval, growth rate and doubling time, peak day and attack rate, and ratios;
* timing — step() on ~800,000 stays a day (the city at 215,000 people) as the epidemic grows,
  undetected, from 10 imports to thousands of infectious people.

Sizes can be changed with BENCH_OUTBREAK_POPULATION, BENCH_OUTBREAK_SEEDS,
BENCH_OUTBREAK_PEER_POPULATION and BENCH_OUTBREAK_TIMING_POPULATION.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tests.sim.outbreak_fixtures import mixing_city, mixing_stays

from cordon.lake import schemas
from cordon.sim import city as city_model
from cordon.sim import movement, vessels
from cordon.sim.model import City, FixedStays, day_start, rng_for
from cordon.sim.outbreak import ImportSpec, Outbreak, OutbreakParams, day_stays, tree_statistics
from cordon.sim.scenario import Scenario, load
from cordon.sim.transmission import People, exposures

START = date(2021, 12, 7)  # for the validation and the peer comparison
POPULATION = int(os.environ.get("BENCH_OUTBREAK_POPULATION", "200000"))
SEEDS = int(os.environ.get("BENCH_OUTBREAK_SEEDS", "10"))
PEER_POPULATION = int(os.environ.get("BENCH_OUTBREAK_PEER_POPULATION", "100000"))
TIMING_POPULATION = int(os.environ.get("BENCH_OUTBREAK_TIMING_POPULATION", "215000"))
PEER_DAYS = 90
PEER_SEEDS = (1, 2, 3)
SEED_INFECTIONS = 20
HOUR = 3600


def _quiet() -> dict[str, Any]:
    return {"routine_groups": [], "care_seeking_probability": 0.0}


# --- the dongxing-2021 city, as `cordon sim run` builds and moves it ---------------------------


@dataclass
class Town:
    scenario: Scenario
    city: City
    fleet: vessels.Fleet
    plan: Any
    treatment: int
    seed: int

    @property
    def start(self) -> date:
        return self.scenario.start_date

    def outbreak(self, params: OutbreakParams, days: int) -> Outbreak:
        return Outbreak(
            self.city,
            params,
            start_date=self.start,
            days=days,
            seed=self.seed,
            vessels=self.fleet.vessels,
        )

    def day(self, day: int, confined: FixedStays) -> tuple[pa.Table, pa.Table]:
        at_sea = vessels.simulate_day(
            self.fleet,
            self.scenario.vessels,
            day=day,
            start_date=self.start,
            rng=rng_for(self.seed, "vessels", day),
            unavailable=confined.person_id,
        )
        moved = movement.simulate_day(
            self.plan,
            day=day,
            start_date=self.start,
            rng=rng_for(self.seed, "movement", day),
            fixed=FixedStays.concat([confined, at_sea.crew_stays]),
        )
        return moved.stays, at_sea.trips


def town(population: int, seed: int) -> Town:
    scenario = load("dongxing-2021")
    start = scenario.start_date
    city = city_model.build_city(
        scenario.city, population=population, start_date=start, rng=rng_for(seed, "city")
    )
    fleet = vessels.build_fleet(
        city, scenario.vessels, rng=rng_for(seed, "fleet"), first_place_id=city.places.num_rows
    )
    city = City(
        people=city.people,
        households=city.households,
        places=pa.concat_tables([city.places, fleet.places]),
        grids=city.grids,
    )
    plan = movement.prepare(city, scenario.movement, rng=rng_for(seed, "routine"))
    places = city.places
    treatment = places.filter(pc.equal(places["kind"], "treatment_centre"))["place_id"][0]
    return Town(scenario, city, fleet, plan, int(treatment.as_py()), seed)


def simulate(
    place: Town, params: OutbreakParams, days: int, step_ms: list[float] | None = None
) -> Outbreak:
    outbreak = place.outbreak(params, days)
    for day in range(days):
        stays, trips = place.day(day, outbreak.confined(day, place.treatment))
        started = time.perf_counter()
        outbreak.step(day, stays, trips)
        if step_ms is not None:
            step_ms.append((time.perf_counter() - started) * 1000)
    return outbreak


# --- scenario ---------------------------------------------------------------------------------


def scenario() -> dict[str, object]:
    start = load("dongxing-2021").start_date
    days = (date(2021, 12, 28) - start).days  # a week after 20 Dec
    runs: list[dict[str, Any]] = []
    step_ms: list[float] = []
    for seed in range(1, SEEDS + 1):
        outbreak = simulate(town(POPULATION, seed), OutbreakParams(), days, step_ms)
        s = outbreak.summary()
        first = s["first_detection"] if isinstance(s["first_detection"], dict) else {}
        runs.append(
            {
                "seed": seed,
                "infections": s["infections"],
                "first_detection": str(first.get("time", ""))[:16],
                "how": first.get("how"),
                "infected_by_first_detection": s.get("infected_by_first_detection"),
                "infected_within_7_days": s.get("infected_within_7_days"),
                "confirmed_within_7_days": s.get("confirmed_within_7_days"),
            }
        )

    def median(key: str) -> float | None:
        values = [r[key] for r in runs if r[key] is not None]
        return float(statistics.median(values)) if values else None

    return {
        "population": POPULATION,
        "start_date": start.isoformat(),
        "days": days,
        "imports": [spec.model_dump(mode="json") for spec in OutbreakParams().imports],
        "runs": runs,
        "first_found_by_routine_test": f"{sum(r['how'] == 'routine_test' for r in runs)}/{SEEDS}",
        "median_infected_within_7_days": median("infected_within_7_days"),
        "median_confirmed_within_7_days": median("confirmed_within_7_days"),
        "step_ms_mean": round(statistics.fmean(step_ms), 1),
        "step_ms_max": round(max(step_ms), 1),
    }


# --- calibration ------------------------------------------------------------------------------


class _Flat:
    def relative(self, days: np.ndarray) -> np.ndarray:
        return np.ones_like(days)


def contact_hours(place: Town, params: OutbreakParams, chosen: np.ndarray) -> np.ndarray:
    """Mean susceptibility-weighted contact-hours a day, per setting, of the chosen people with
    others (after the crowding caps), over the first week of the city's movement."""
    people_table = place.city.people
    n = people_table.num_rows
    transmits = np.zeros(n, dtype=bool)
    transmits[chosen] = True
    age = people_table.column("age").to_numpy()
    susceptibility = np.where(age < 20, params.susceptibility_under_20, 1.0)
    susceptibility[chosen] = 0.0
    class_id = np.asarray(people_table.column("class_id").fill_null(-1).to_numpy(), np.int32)
    people = People(
        transmits, np.full(n, 2**62), np.zeros(n, np.int64), np.ones(n), susceptibility, class_id
    )
    total = np.zeros(len(schemas.SETTINGS))
    for day in range(7):
        arrays = day_stays(place.day(day, FixedStays.empty())[0])
        pairs = exposures(
            arrays,
            people,
            rates=np.ones(len(schemas.SETTINGS)),
            caps=params.cap_array(),
            class_setting=schemas.SETTINGS.index("class"),
            profile=_Flat(),
            rng=np.random.default_rng(day),
        )
        total += np.bincount(
            arrays.setting[pairs.exposed], weights=pairs.hazard, minlength=len(schemas.SETTINGS)
        )
    return total / 7 / len(chosen)


def configured_r(params: OutbreakParams, hours: np.ndarray) -> dict[str, dict[str, float]]:
    """R = Σ_s rate_s · H_s · effective_days · ρ, by setting (linear in the contact-hours)."""
    factor = params.infectiousness().effective_days * params.mean_relative_infectiousness()
    return {
        s: {
            "contact_hours_per_day": round(float(h), 2),
            "R": round(params.rates[s] * h * factor, 3),
        }
        for s, h in zip(schemas.SETTINGS, hours, strict=True)
        if h > 0
    }


def calibration() -> dict[str, object]:
    params = OutbreakParams()
    days = 26
    measured, cohort_r = [], []
    everyone = np.random.default_rng(0).choice(POPULATION, 5000, replace=False)
    mean_person = configured_r(params, contact_hours(town(POPULATION, 1), params, everyone))
    imports = [
        ImportSpec(day=0, kind="border", count=5).model_dump(),
        ImportSpec(day=0, kind="sea", count=5).model_dump(),
    ]
    quiet = OutbreakParams.model_validate({**params.model_dump(), **_quiet(), "imports": imports})
    for seed in (1, 2):
        place = town(POPULATION, seed)
        outbreak = simulate(place, quiet, days)
        lo, hi = day_start(place.start, 2), day_start(place.start, 12)
        measured.append(
            tree_statistics(
                outbreak.tables()["infections"],
                cohort_from=lo,
                cohort_until=hi,
                follow_days=days - 12,
            )
        )
        cohort = np.flatnonzero((outbreak.infected_at >= lo) & (outbreak.infected_at < hi))
        mine = configured_r(params, contact_hours(town(POPULATION, seed), params, cohort))
        cohort_r.append(round(sum(v["R"] for v in mine.values()), 2))
    return {
        "population": POPULATION,
        "effective_days": round(params.infectiousness().effective_days, 3),
        "mean_relative_infectiousness": params.mean_relative_infectiousness(),
        "mean_person": mean_person,
        "configured_R_mean_person": round(sum(v["R"] for v in mean_person.values()), 2),
        "configured_R_of_the_cohort": cohort_r,
        "measured_R_of_the_cohort": [round(m["reproduction_number"], 2) for m in measured],
        "measured_generation_interval_days": [
            round(m["generation_interval_days"], 2) for m in measured
        ],
        "configured_generation_interval_days": round(
            params.infectiousness().truncated_mean_days, 2
        ),
        "cohorts": [int(m["cohort"]) for m in measured],
        "note": "cohort: infected on days 2-12 after 10 imports (5 border, 5 sea), no detection, "
        "offspring followed 14 days. Infections go preferentially to people with many contacts, "
        "so the cohort's R exceeds the mean person's; the configured R is linear in "
        "contact-hours and overstates repeated contacts (a housemate can be infected once), so "
        "it bounds the measured R from above",
    }


# --- validation -------------------------------------------------------------------------------


def validation() -> dict[str, object]:
    n, rooms, days, target = 100_000, 10_000, 22, 2.0
    base = OutbreakParams()
    rate = target / (
        9 * 8 * base.infectiousness().effective_days * base.mean_relative_infectiousness()
    )
    p = base.model_copy(
        update={
            **_quiet(),
            "rates": {"work": rate},
            "crowding_caps": {},
            "imports": [ImportSpec(day=0, kind="border", count=400)],
        }
    )
    results = []
    for seed in (1, 2, 3, 4, 5):
        outbreak = Outbreak(mixing_city(n, rooms), p, start_date=START, days=days, seed=seed)
        for day in range(days):
            stays = mixing_stays(n, rooms, START, day, seed=seed, hours=(9, 17))
            outbreak.step(day, stays, schemas.SEA_TRIPS.empty_table())
        results.append(
            tree_statistics(
                outbreak.tables()["infections"],
                cohort_from=day_start(START, 0),
                cohort_until=day_start(START, 1),
                follow_days=21,
            )
        )
    r = [m["reproduction_number"] for m in results]
    g = [m["generation_interval_days"] for m in results]
    return {
        "setup": "100,000 adults, 09-17 in rooms of 10 reshuffled daily; 400 imports on day 0; "
        "R of the imports' offspring over 21 days",
        "configured_R": target,
        "configured_generation_interval_days": round(p.infectiousness().truncated_mean_days, 3),
        "measured_R": [round(x, 3) for x in r],
        "measured_R_mean": round(statistics.fmean(r), 3),
        "measured_generation_interval_days": [round(x, 3) for x in g],
        "measured_generation_interval_mean": round(statistics.fmean(g), 3),
        "measured_generation_interval_sd": round(
            statistics.fmean(m["generation_interval_sd_days"] for m in results), 3
        ),
        "configured_generation_interval_sd": p.generation_sd_days,
        "tolerance": "R within 15%, generation interval within 10% (tests/sim/test_outbreak.py)",
    }


# --- peer: covasim ----------------------------------------------------------------------------

RATES = {"household": 0.005, "work": 0.0015, "venue": 0.01}
HOURS = {"household": 14.0, "work": 9.0, "venue": 1.0}  # per day with each contact
COVASIM_DURATIONS = {  # lognormal (mean, sd) days; infectious for ~4.5 d after a ~2.5 d latency
    "exp2inf": (2.5, 1.0),
    "inf2sym": (1.9, 1.0),  # incubation 2.5 + 1.9 = 4.4 d, as ours
    "asym2rec": (4.5, 1.5),
    "mild2rec": (2.6, 1.0),
}
COVASIM_INFECTIOUS_DAYS = 4.5


def structured_city(n: int) -> City:
    """n adults in households of 3 and workplaces of 10, with n/20 venues."""
    homes, works, venues = n // 3 + 1, n // 10 + 1, n // 20 + 1
    kinds = ["home"] * homes + ["workplace"] * works + ["restaurant"] * venues
    people = mixing_city(n, 1).people
    m = len(kinds)
    places = pa.table(
        {
            "place_id": pa.array(np.arange(m), pa.int32()),
            "kind": pa.array(kinds),
            "name": pa.array([str(i) for i in range(m)]),
            "lon": pa.array(np.full(m, 108.0)),
            "lat": pa.array(np.full(m, 21.5)),
            "cell_id": pa.array(np.zeros(m, np.int64)),
            "village_code": pa.array(["450681100001"] * m),
            "grid_code": pa.nulls(m, pa.string()),
            "compound_id": pa.nulls(m, pa.int32()),
            "capacity": pa.array(np.full(m, 20), pa.int32()),
            "site_id": pa.array(np.arange(m, dtype=np.int32)),
        },
        schema=schemas.PLACES,
    )
    return City(people, schemas.HOUSEHOLDS.empty_table(), places, schemas.GRIDS.empty_table())


def structured_stays(n: int, day: int, seed: int) -> pa.Table:
    """Home 00-08, work 08-17, a venue 17-18 (groups of 20 drawn daily), home 18-24."""
    homes, works = n // 3 + 1, n // 10 + 1
    layout = np.random.default_rng([seed, 7])
    home = np.arange(n) // 3
    work = homes + layout.permutation(n) // 10
    venue = homes + works + rng_for(seed, "venues", day).permutation(n) // 20
    base = day_start(START, day)
    people = np.tile(np.arange(n), 4)
    place = np.concatenate([home, work, venue, home])
    start = base + np.repeat(np.array([0, 8, 17, 18]) * HOUR, n)
    end = base + np.repeat(np.array([8, 17, 18, 24]) * HOUR, n)
    setting = np.repeat(np.array(["household", "work", "venue", "household"], dtype=object), n)
    return pa.table(
        {
            "day": pa.array(np.full(4 * n, day), pa.int16()),
            "person_id": pa.array(people, pa.int32()),
            "place_id": pa.array(place, pa.int32()),
            "start": pa.array(start, pa.int64()).cast(schemas.TIME),
            "end": pa.array(end, pa.int64()).cast(schemas.TIME),
            "setting": pa.array(setting, pa.string()),
            "cell_id": pa.array(np.zeros(4 * n, np.int64)),
        },
        schema=schemas.STAYS,
    )


def curve_stats(day: np.ndarray, n: int, days: int) -> dict[str, Any]:
    """From the infection day of every infection: the early cohort (infected before cumulative
    infections reach 1% of the population), growth rate and doubling time (log-linear fit of
    daily incidence while cumulative infections are between 0.2% and 5%), peak day and attack
    rate."""
    incidence = np.bincount(day, minlength=days)[:days]
    cumulative = np.cumsum(incidence)
    cutoff = int(np.searchsorted(cumulative, 0.01 * n))
    cohort = day < cutoff
    lo = int(np.searchsorted(cumulative, 0.002 * n))
    hi = int(np.searchsorted(cumulative, 0.05 * n))
    window = np.arange(lo, max(hi, lo + 3))
    slope = float(np.polyfit(window, np.log(np.maximum(incidence[window], 1)), 1)[0])
    return {
        "cohort_end_day": cutoff,
        "cohort_size": int(cohort.sum()),
        "growth_rate_per_day": round(slope, 4),
        "doubling_time_days": round(float(np.log(2) / slope), 2) if slope > 0 else float("nan"),
        "peak_day": int(np.argmax(incidence)),
        "peak_daily_infections": int(incidence.max()),
        "attack_rate": round(float(cumulative[-1] / n), 4),
    }


def tree_stats(
    infectee: np.ndarray, infector: np.ndarray, when: np.ndarray, n: int, cutoff: float
) -> dict[str, float]:
    """R and generation interval (days) of the cohort infected before ``cutoff`` (days)."""
    at = np.full(n, np.nan)
    at[infectee] = when
    in_cohort = np.zeros(n, dtype=bool)
    in_cohort[infectee[when < cutoff]] = True
    child = (infector >= 0) & in_cohort[np.maximum(infector, 0)]
    gi = when[child] - at[infector[child]]
    return {
        "R": round(float(child.sum() / in_cohort.sum()), 3),
        "generation_interval_days": round(float(gi.mean()), 3),
        "generation_interval_sd_days": round(float(gi.std()), 3),
    }


def ours_peer_run(n: int, seed: int) -> dict[str, Any]:
    params = OutbreakParams(
        **_quiet(),
        rates=RATES,
        crowding_caps={},
        susceptibility_under_20=1.0,
        imports=[ImportSpec(day=0, kind="border", count=SEED_INFECTIONS)],
    )
    outbreak = Outbreak(structured_city(n), params, start_date=START, days=PEER_DAYS, seed=seed)
    started = time.perf_counter()
    for day in range(PEER_DAYS):
        outbreak.step(day, structured_stays(n, day, seed), schemas.SEA_TRIPS.empty_table())
    seconds = time.perf_counter() - started
    inf = outbreak.tables()["infections"]
    when = (inf["time"].cast(pa.int64()).to_numpy() - day_start(START, 0)) / 86_400
    infector = inf["infector"].fill_null(-1).to_numpy()
    infectee = inf["infectee"].to_numpy()
    stats = curve_stats(np.floor(when).astype(np.int64), n, PEER_DAYS)
    stats |= tree_stats(infectee, infector, when, n, stats["cohort_end_day"])
    stats["R_implied_by_growth_rate"] = implied_r(stats)
    stats["seconds"] = round(seconds, 1)
    return stats


def covasim_layers(multiplier: float) -> dict[str, float]:
    """Per-contact daily transmission probabilities equivalent to our per-hour rates: a static
    contact's total hazard over the infection (rate × hours × effective_days) spread over
    covasim's ~4.5 infectious days; the community layer is redrawn daily, so linear."""
    effective = OutbreakParams().infectiousness().effective_days
    out = {}
    for layer, setting in (("h", "household"), ("w", "work")):
        total = RATES[setting] * HOURS[setting] * effective
        out[layer] = multiplier * float(-np.expm1(-total / COVASIM_INFECTIOUS_DAYS))
    out["c"] = multiplier * RATES["venue"] * HOURS["venue"] * effective / COVASIM_INFECTIOUS_DAYS
    return out


def covasim_run(n: int, seed: int, multiplier: float) -> dict[str, Any]:
    os.environ.setdefault("COVASIM_VERBOSE", "0")
    import covasim as cv
    import starsim as ss

    prognoses = cv.get_prognoses(by_age=False)
    prognoses["symp_probs"][:] = 1 - OutbreakParams().asymptomatic_share
    for key in ("severe_probs", "crit_probs", "death_probs"):
        prognoses[key][:] = 0.0
    durations = cv.make_pars()["dur"]
    for key, (mean, sd) in COVASIM_DURATIONS.items():
        durations[key] = {"dist": "lognormal_int", "par1": mean, "par2": sd}
    layers = covasim_layers(multiplier)
    beta = 0.1
    networks = [
        ss.ClusterNet(name="h", cluster_size=ss.constant(v=3)),
        ss.ClusterNet(name="w", cluster_size=ss.constant(v=10)),
        ss.ClusterNet(name="c", cluster_size=ss.constant(v=20), dynamic=True),
    ]
    sim = cv.Sim(
        pop_size=n,
        n_days=PEER_DAYS,
        pop_infected=SEED_INFECTIONS,
        rand_seed=seed,
        verbose=0,
        networks=networks,
        beta=beta,
        beta_layer={k: v / beta for k, v in layers.items()},
        prognoses=prognoses,
        asymp_factor=OutbreakParams().asymptomatic_relative_infectiousness,
        viral_dist={"frac_time": 0.3, "load_ratio": 1, "high_cap": 4},  # flat infectiousness
        beta_dist={"dist": "uniform", "par1": 1.0, "par2": 1.0},  # no overdispersion, as ours
        use_waning=False,
        dur=durations,
    )
    started = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - started
    log = sim.diseases.covid.infection_log.to_df()
    day = log["day"].to_numpy().astype(np.int64)
    source = log["source"].fillna(-1).to_numpy().astype(np.int64)
    target = log["target"].to_numpy().astype(np.int64)
    stats = curve_stats(day, n, PEER_DAYS)
    stats |= tree_stats(target, source, day.astype(np.float64), n, stats["cohort_end_day"])
    stats["R_implied_by_growth_rate"] = implied_r(stats)
    stats["seconds"] = round(seconds, 1)
    stats["layer_daily_probabilities"] = {k: round(v, 5) for k, v in layers.items()}
    return stats


def implied_r(stats: dict[str, Any]) -> float:
    """R implied by the growth rate and a gamma generation interval with the measured mean and
    SD (Wallinga & Lipsitch 2007, Proc R Soc B 274:599): R = (1 + r·θ)^k."""
    mean, sd = stats["generation_interval_days"], stats["generation_interval_sd_days"]
    k, theta = (mean / sd) ** 2, sd**2 / mean
    return round(float((1 + stats["growth_rate_per_day"] * theta) ** k), 3)


def _mean(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    return {k: round(statistics.fmean(r[k] for r in runs), 4) for k in keys}


def peer() -> dict[str, object]:
    n = PEER_POPULATION
    ours = [ours_peer_run(n, seed) for seed in PEER_SEEDS]
    ours_mean = _mean(ours)
    first = [covasim_run(n, seed, 1.0) for seed in PEER_SEEDS]
    multiplier = ours_mean["R"] / _mean(first)["R"]  # match the early R
    peer_runs = [covasim_run(n, seed, multiplier) for seed in PEER_SEEDS]
    peer_mean = _mean(peer_runs)
    ratio = {
        k: round(peer_mean[k] / ours_mean[k], 3)
        for k in (
            "R",
            "generation_interval_days",
            "generation_interval_sd_days",
            "growth_rate_per_day",
            "doubling_time_days",
            "peak_day",
            "attack_rate",
        )
        if ours_mean.get(k)
    }
    return {
        "population": n,
        "days": PEER_DAYS,
        "seed_infections": SEED_INFECTIONS,
        "seeds": list(PEER_SEEDS),
        "cordon": ours_mean,
        "covasim_unscaled_R": _mean(first)["R"],
        "covasim_beta_multiplier": round(multiplier, 3),
        "covasim": peer_mean,
        "ratio_covasim_to_cordon": ratio,
        "covasim_layer_daily_probabilities": peer_runs[0]["layer_daily_probabilities"],
    }


# --- timing ---------------------------------------------------------------------------------


def timing() -> dict[str, object]:
    """step() on the city at TIMING_POPULATION (~800,000 stays a day), no detection, so that
    the epidemic grows from 10 imports to thousands of infectious people."""
    place = town(TIMING_POPULATION, 1)
    days = 30
    params = OutbreakParams(**_quiet(), imports=[ImportSpec(day=0, kind="border", count=10)])
    outbreak = place.outbreak(params, days)
    rows = []
    for day in range(days):
        stays, trips = place.day(day, FixedStays.empty())
        start = day_start(place.start, day)
        infected = int(((outbreak.infected_at >= 0) & (outbreak.infected_at < start)).sum())
        started = time.perf_counter()
        outbreak.step(day, stays, trips)
        rows.append(
            [day, stays.num_rows, infected, round((time.perf_counter() - started) * 1000, 1)]
        )
    return {
        "population": TIMING_POPULATION,
        "columns": ["day", "stays", "infected_before_day", "step_ms"],
        "days": rows,
    }


def run() -> dict[str, object]:
    return {
        "scenario": scenario(),
        "calibration": calibration(),
        "validation": validation(),
        "peer_covasim": peer(),
        "timing": timing(),
    }
