"""The outbreak: an agent-based transmission model over the simulated city's stays, with imported
infections, natural history, routine testing, detection and isolation, and its whole
transmission tree as ground truth (lake tables INFECTIONS, DISEASE, ROUTINE_TESTS).

The orchestration calls, once per simulated day and in this order, ``confined(day, …)`` (the
people isolated as of the day's start, whose day the movement model must spend at the treatment
centre) and, after movement, ``step(day, stays, sea_trips)``. Randomness comes from
``rng_for(seed, "outbreak", day)``, so a run is reproducible from its seed and inputs.

Configured reproduction number: with ``w(τ)`` the infectiousness profile (``Infectiousness``,
1.0 at its peak) and ``D = ∫ w dτ`` (``effective_days``), a person who spends ``H_s`` contact-hours
a day with susceptible people in setting ``s`` (summed over those people, after the crowding cap)
is expected to infect ``R = Σ_s rate_s · H_s · D · ρ`` people, where ``ρ`` is the mean relative
infectiousness ``(1 − a) + a · asymptomatic_relative_infectiousness`` — as long as the hazard of
each pair stays small (otherwise ``1 − exp(−rate · H · D · ρ)`` per contact).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cordon.lake import schemas
from cordon.sim import imports, testing
from cordon.sim.disease import DAY, draw_course, sensitivity
from cordon.sim.model import TZ, City, FixedStays, day_start, rng_for
from cordon.sim.outbreak_io import codes, day_stays, ints, tree_statistics
from cordon.sim.outbreak_params import ImportSpec, OutbreakParams, RoutineGroup
from cordon.sim.transmission import DayStays, People, Transmissions, transmit

SETTING_CODE = {name: i for i, name in enumerate(schemas.SETTINGS)}
KIND_CODE = {name: i for i, name in enumerate(schemas.PLACE_KINDS)}
NONE = -1
ROUTINE, SYMPTOMS = 1, 2
DETECTION_NAMES = {ROUTINE: "routine_test", SYMPTOMS: "symptoms"}
IMPORT_KINDS = ("border", "sea")
I64 = npt.NDArray[np.int64]


class Outbreak:
    """The outbreak over one simulated city; see the module docstring for the protocol."""

    def __init__(
        self,
        city: City,
        params: OutbreakParams,
        *,
        start_date: date,
        days: int,
        seed: int,
        vessels: pa.Table | None = None,
    ) -> None:
        """``vessels`` (schema VESSELS), when given, maps a sea trip's vessel to its place, so
        that a sea import is someone aboard the boat that met a foreign vessel (without it: aboard
        any boat at sea at that moment)."""
        self.params = params
        self.start_date = start_date
        self.days = days
        self.seed = seed
        self.origin = day_start(start_date, 0)
        self.profile = params.infectiousness()
        self.rates = params.rate_array()
        self.caps = params.cap_array()

        people = city.people
        ids = ints(people.column("person_id"))
        n = len(ids)
        if not np.array_equal(ids, np.arange(n)):
            raise ValueError("people.person_id must be 0..n-1 in order")
        self.n = n
        self.role = np.asarray(codes(people.column("role"), schemas.ROLES, "role"), dtype=np.int16)
        self.class_id = ints(people.column("class_id"))
        age = np.asarray(people.column("age").to_numpy(zero_copy_only=False), dtype=np.int64)
        self.susceptibility = np.where(age < 20, params.susceptibility_under_20, 1.0)

        places = city.places
        place_ids = ints(places.column("place_id"))
        self.place_kind = np.full(int(place_ids.max(initial=0)) + 1, NONE, dtype=np.int16)
        self.place_kind[place_ids] = codes(places.column("kind"), schemas.PLACE_KINDS, "kind")
        work_place = ints(people.column("work_place_id"))
        known = (work_place >= 0) & (work_place < len(self.place_kind))
        work_kind = np.where(known, self.place_kind[np.where(known, work_place, 0)], NONE)
        self.groups = [self._group(g, work_kind) for g in params.routine_groups]
        for spec in params.imports:
            spec.day_of(start_date)  # an import before the start is a mistake, said now
        self.vessel_place: dict[int, int] = {}
        if vessels is not None:
            self.vessel_place = dict(
                zip(
                    vessels.column("vessel_id").to_pylist(),
                    vessels.column("place_id").to_pylist(),
                    strict=True,
                )
            )

        self.infected_at = np.full(n, NONE, dtype=np.int64)
        self.infector = np.full(n, NONE, dtype=np.int32)
        self.generation = np.full(n, NONE, dtype=np.int16)
        self.infection_place = np.full(n, NONE, dtype=np.int32)
        self.infection_setting = np.full(n, NONE, dtype=np.int8)  # NONE = import
        self.import_kind = np.full(n, NONE, dtype=np.int8)
        self.symptomatic = np.zeros(n, dtype=bool)
        self.onset = np.full(n, NONE, dtype=np.int64)
        self.relative = np.ones(n, dtype=np.float64)
        self.detected_at = np.full(n, NONE, dtype=np.int64)
        self.detection = np.zeros(n, dtype=np.int8)
        self.detection_group = np.full(n, NONE, dtype=np.int16)  # routine group that found one
        self.isolated_at = np.full(n, NONE, dtype=np.int64)
        self.order: list[npt.NDArray[np.int32]] = []  # infectees, in the order infected
        self.tests: list[
            tuple[npt.NDArray[np.int32], I64, npt.NDArray[np.int16], npt.NDArray[np.bool_]]
        ] = []
        self.last_day = -1

    # --- protocol -------------------------------------------------------------------------

    def confined(self, day: int, treatment_place_id: int) -> FixedStays:
        """People isolated as of the start of ``day``: a whole-day stay at the treatment centre."""
        start = self.day_start(day)
        who = np.flatnonzero((self.isolated_at >= 0) & (self.isolated_at <= start)).astype(np.int32)
        n = len(who)
        return FixedStays(
            person_id=who,
            place_id=np.full(n, treatment_place_id, dtype=np.int32),
            start=np.full(n, start, dtype=np.int64),
            end=np.full(n, start + int(DAY), dtype=np.int64),
            setting=np.full(n, "health", dtype=object),
        )

    def step(self, day: int, stays: pa.Table, sea_trips: pa.Table) -> None:
        """Simulate ``day``: imports, transmission over the stays, natural history of the new
        infections, and the routine tests sampled that day."""
        if day != self.last_day + 1:
            raise ValueError(
                f"days must be stepped in order: expected {self.last_day + 1}, got {day}"
            )
        if not 0 <= day < self.days:
            raise ValueError(f"day {day} is outside the run's {self.days} days")
        start = self.day_start(day)
        rng = rng_for(self.seed, "outbreak", day)
        arrays = day_stays(stays)
        if len(arrays) and int(arrays.person.max()) >= self.n:
            raise ValueError("stays refer to a person not in the city")
        if len(arrays) and int(arrays.place.max()) >= len(self.place_kind):
            # Places the city table does not list (e.g. vessels registered separately).
            extra = int(arrays.place.max()) + 1 - len(self.place_kind)
            self.place_kind = np.r_[self.place_kind, np.full(extra, NONE, dtype=np.int16)]

        new: list[npt.NDArray[np.int32]] = []
        for spec in self.params.imports:
            if spec.day_of(self.start_date) == day:
                new.append(self._import(spec, arrays, sea_trips, start, rng))

        alive = self.infected_at >= 0
        isolated_by_then = (self.isolated_at >= 0) & (self.isolated_at <= start)
        transmits = (
            alive
            & (self.infected_at < start)
            & ~isolated_by_then
            & (start - self.infected_at < self.profile.max_days * DAY)
        )
        until = np.where(self.isolated_at >= 0, self.isolated_at, np.iinfo(np.int64).max)
        found = transmit(
            arrays,
            People(
                transmits=transmits,
                transmit_until=until,
                infected_at=self.infected_at,
                relative=self.relative,
                susceptibility=np.where(alive, 0.0, self.susceptibility),
                class_id=self.class_id,
            ),
            rates=self.rates,
            caps=self.caps,
            class_setting=SETTING_CODE["class"],
            profile=self.profile,
            rng=rng,
        )
        new.append(self._record(found))
        infectees = np.concatenate(new)
        self._progress(infectees, rng)
        self._routine_tests(day, start, arrays, rng)
        self.last_day = day

    def tables(self) -> dict[str, pa.Table]:
        """Ground truth as of the end of the last simulated day: detections and isolations
        after it are not (yet) shown; symptom onsets are the course of the disease and are."""
        horizon = self.day_start(self.last_day + 1)
        who = np.concatenate(self.order) if self.order else np.empty(0, np.int32)
        who = who[np.lexsort((who, self.infected_at[who]))]

        def times(values: I64, until: int = horizon) -> pa.Array:
            mask = (values < 0) | (values >= until)
            return pa.array(np.where(mask, 0, values), type=pa.int64(), mask=mask).cast(
                schemas.TIME
            )

        def nullable(values: npt.NDArray[np.integer], type_: pa.DataType) -> pa.Array:
            return pa.array(values, type=type_, mask=values < 0)

        setting = self.infection_setting[who]
        setting_names = np.array([*schemas.SETTINGS, "import"], dtype=object)[
            np.where(setting < 0, len(schemas.SETTINGS), setting)
        ]
        kind = self.import_kind[who]
        kind_names = pa.array(
            np.array([*IMPORT_KINDS, None], dtype=object)[np.where(kind < 0, 2, kind)],
            type=pa.string(),
        )
        infections = pa.table(
            [
                pa.array(who, type=pa.int32()),
                nullable(self.infector[who], pa.int32()),
                times(self.infected_at[who]),
                nullable(self.infection_place[who], pa.int32()),
                pa.array(setting_names, type=pa.string()),
                kind_names,
                pa.array(self.generation[who], type=pa.int16()),
            ],
            schema=schemas.INFECTIONS,
        )
        by_person = np.sort(who)
        detected = self.detected_at[by_person]
        shown = (detected >= 0) & (detected < horizon)
        detection = np.array([None, *DETECTION_NAMES.values()], dtype=object)[
            np.where(shown, self.detection[by_person], 0)
        ]
        disease = pa.table(
            [
                pa.array(by_person, type=pa.int32()),
                times(self.infected_at[by_person]),
                pa.array(self.symptomatic[by_person], type=pa.bool_()),
                times(self.onset[by_person], np.iinfo(np.int64).max),
                times(detected),
                pa.array(detection, type=pa.string()),
                times(self.isolated_at[by_person]),
            ],
            schema=schemas.DISEASE,
        )
        return {
            "infections": infections,
            "disease": disease,
            "routine_tests": self._tests_table(),
        }

    def summary(self) -> dict[str, object]:
        """Headline counts of the run so far."""
        horizon = self.day_start(self.last_day + 1)
        infected = self.infected_at >= 0
        detected = (self.detected_at >= 0) & (self.detected_at < horizon)
        out: dict[str, object] = {
            "days": self.last_day + 1,
            "infections": int(infected.sum()),
            "imports": {k: int((self.import_kind == i).sum()) for i, k in enumerate(IMPORT_KINDS)},
            "detected": int(detected.sum()),
            "detected_by": {
                name: int((detected & (self.detection == code)).sum())
                for code, name in DETECTION_NAMES.items()
            },
            "isolated": int(((self.isolated_at >= 0) & (self.isolated_at < horizon)).sum()),
            "by_setting": {
                name: int((infected & (self.infection_setting == code)).sum())
                for name, code in SETTING_CODE.items()
                if ((self.infection_setting == code) & infected).any()
            },
            "max_generation": int(self.generation.max(initial=0)),
            "routine_tests": int(sum(len(t[0]) for t in self.tests)),
            "routine_positive": int(sum(int(t[3].sum()) for t in self.tests)),
            "first_detection": None,
        }
        if detected.any():
            first = int(np.flatnonzero(detected)[np.argmin(self.detected_at[detected])])
            at = int(self.detected_at[first])
            week = at + 7 * int(DAY)
            out["first_detection"] = {
                "time": datetime.fromtimestamp(at, TZ).isoformat(),
                "day": (at - self.origin) // int(DAY),
                "how": DETECTION_NAMES[int(self.detection[first])],
                "group": (
                    self.groups[self.detection_group[first]].name
                    if self.detection[first] == ROUTINE
                    else None
                ),
                "person_id": first,
            }
            out["infected_by_first_detection"] = int((infected & (self.infected_at <= at)).sum())
            out["infected_within_7_days"] = int((infected & (self.infected_at <= week)).sum())
            out["confirmed_within_7_days"] = int(
                (detected & (self.detected_at <= min(week, horizon))).sum()
            )
        return out

    # --- parts ----------------------------------------------------------------------------

    def day_start(self, day: int) -> int:
        """Local midnight beginning ``day`` (Asia/Shanghai has no daylight saving)."""
        return self.origin + day * int(DAY)

    def _group(self, group: RoutineGroup, work_kind: npt.NDArray[np.int16]) -> testing.Group:
        for kind in [*group.work_place_kinds, *group.visited_place_kinds]:
            if kind not in KIND_CODE:
                raise ValueError(f"routine group {group.name}: unknown place kind {kind}")
        for role in group.roles:
            if role not in schemas.ROLES:
                raise ValueError(f"routine group {group.name}: unknown role {role}")
        roles = [schemas.ROLES.index(r) for r in group.roles]
        work_kinds = [KIND_CODE[k] for k in group.work_place_kinds]
        static = np.isin(self.role, roles) | np.isin(work_kind, work_kinds)
        visited = np.array([KIND_CODE[k] for k in group.visited_place_kinds], dtype=np.int16)
        sampled = np.array(
            sorted({KIND_CODE[k] for k in [*group.visited_place_kinds, *group.work_place_kinds]}),
            dtype=np.int16,
        )
        return testing.Group(group.name, static, visited, sampled, group.every_days)

    def _import(
        self,
        spec: ImportSpec,
        stays: DayStays,
        sea_trips: pa.Table,
        start: int,
        rng: np.random.Generator,
    ) -> npt.NDArray[np.int32]:
        """Infect ``spec.count`` people from outside (see cordon.sim.imports)."""
        free = (self.infected_at < 0) & ~((self.isolated_at >= 0) & (self.isolated_at <= start))
        found = imports.choose(
            spec.kind,
            spec.count,
            stays,
            free=free,
            role=self.role,
            place_kind=self.place_kind,
            meetings=imports.rendezvous(sea_trips, self.vessel_place) if spec.kind == "sea" else [],
            day_start=start,
            rng=rng,
        )
        who = found.person
        self.infected_at[who] = found.time
        self.infection_place[who] = found.place
        self.infection_setting[who] = NONE
        self.import_kind[who] = IMPORT_KINDS.index(spec.kind)
        self.generation[who] = 0
        self.order.append(who)
        return who

    def _record(self, found: Transmissions) -> npt.NDArray[np.int32]:
        who = found.infectee
        self.infected_at[who] = found.time
        self.infector[who] = found.infector
        self.generation[who] = self.generation[found.infector] + 1
        self.infection_place[who] = found.place
        self.infection_setting[who] = found.setting
        self.order.append(who)
        return who

    def _progress(self, who: npt.NDArray[np.int32], rng: np.random.Generator) -> None:
        p = self.params
        course = draw_course(
            rng,
            self.infected_at[who],
            asymptomatic_share=p.asymptomatic_share,
            asymptomatic_relative_infectiousness=p.asymptomatic_relative_infectiousness,
            incubation_mean_days=p.incubation_mean_days,
            incubation_sd_days=p.incubation_sd_days,
            care_seeking_probability=p.care_seeking_probability,
            care_seeking_delay_mean_days=p.care_seeking_delay_mean_days,
            care_seeking_delay_sd_days=p.care_seeking_delay_sd_days,
            clinical_turnaround_hours=p.clinical_turnaround_hours,
            sensitivity_points=p.test_sensitivity,
        )
        self.symptomatic[who] = course.symptomatic
        self.onset[who] = course.onset
        self.relative[who] = course.relative_infectiousness
        found = course.detected_by_symptoms >= 0
        self._detect(who[found], course.detected_by_symptoms[found], SYMPTOMS)

    def _detect(self, who: npt.NDArray[np.int32], at: I64, how: int) -> npt.NDArray[np.int32]:
        """Record detections that are earlier than any so far; returns who was (newly) found."""
        earlier = (self.detected_at[who] < 0) | (at < self.detected_at[who])
        who, at = who[earlier], at[earlier]
        self.detected_at[who] = at
        self.detection[who] = how
        delay = round(self.params.isolation_delay_hours * 3600)
        days = -((self.origin - (at + delay)) // int(DAY))  # ceil to the next day start
        self.isolated_at[who] = self.origin + days * int(DAY)
        return who

    def _routine_tests(
        self, day: int, start: int, stays: DayStays, rng: np.random.Generator
    ) -> None:
        if not self.groups:
            return
        excluded = ((self.isolated_at >= 0) & (self.isolated_at <= start)) | (
            (self.detected_at >= 0) & (self.detected_at < start + int(DAY))
        )
        sampled = testing.select(
            self.groups,
            stays,
            day=day,
            day_start=start,
            place_kind=self.place_kind,
            away_settings=np.array([SETTING_CODE["outside"], SETTING_CODE["vessel"]], np.int8),
            excluded=excluded,
            rng=rng,
        )
        who, at = sampled.person, sampled.sampled_at
        infected_at = self.infected_at[who]
        days_since = (at - infected_at) / DAY
        chance = np.where(
            (infected_at >= 0) & (infected_at <= at),
            sensitivity(self.params.test_sensitivity, days_since),
            0.0,
        )
        positive = rng.random(len(who)) < chance
        result = at + round(self.params.routine_turnaround_hours * 3600)
        earlier = self._detect(who[positive], result[positive], ROUTINE)
        self.detection_group[earlier] = sampled.group[positive][np.isin(who[positive], earlier)]
        self.tests.append((who, at, sampled.group, positive))

    def _tests_table(self) -> pa.Table:
        if not self.tests:
            return schemas.ROUTINE_TESTS.empty_table()
        who = np.concatenate([t[0] for t in self.tests])
        at = np.concatenate([t[1] for t in self.tests])
        group = np.concatenate([t[2] for t in self.tests])
        positive = np.concatenate([t[3] for t in self.tests])
        order = np.lexsort((who, at))
        names = np.array([g.name for g in self.groups], dtype=object)
        turnaround = round(self.params.routine_turnaround_hours * 3600)
        return pa.table(
            [
                pa.array(who[order], type=pa.int32()),
                pa.array(at[order], type=pa.int64()).cast(schemas.TIME),
                pa.array(names[group[order]], type=pa.string()),
                pa.array(positive[order], type=pa.bool_()),
                pa.array(at[order] + turnaround, type=pa.int64()).cast(schemas.TIME),
            ],
            schema=schemas.ROUTINE_TESTS,
        )


__all__ = [
    "ImportSpec",
    "Outbreak",
    "OutbreakParams",
    "RoutineGroup",
    "day_stays",
    "tree_statistics",
]
