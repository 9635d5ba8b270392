"""Contact tracing speed: Cordon's store on the lake (tracing's index of memory-mapped Arrow
files, co-presence joined in numpy, phone cells in DuckDB) against the same questions asked of
PostgreSQL with the indexes a DBA would add ((person_id, start) and (place_id, start) on stays,
(person_id, start) and (cell_id, start) on cell records) and of pandas, in the same run.

Cases are the simulator's ground truth: infected people who infected others and whose window can
open (as in tests/trace/test_engine.py), topped up with other infected people when a batch needs
more. Timed: one case (close, secondary and companions, and its parts), 20 cases (close
contacts: the median of five runs, for every system; and everything), 1,000 cases (close
contacts only), and one case on the full scan of the first version. Lakes are simulated once
into BENCH_TRACE_LAKES (default: the system temp folder) and reused.

BENCH_TRACE_PEOPLE: Cordon's scales (default "200000,1000000"); BENCH_TRACE_PEER_PEOPLE: the
scale the peers load (default 200000; PostgreSQL needs CORDON_TEST_POSTGRES_URL or
BENCH_TRACE_POSTGRES_URL); BENCH_TRACE_PEER_TIMEOUT_S: a peer query slower than this is
reported as such (default 180).
"""

from __future__ import annotations

import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds

from cordon.lake.reader import read_table
from cordon.lake.schemas import SCHEMA_VERSION
from cordon.protocols import packs
from cordon.protocols.packs import Pack
from cordon.sim import service as sim
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace, trace_columns
from cordon.trace.rules import IndexCase, look_back_window

DAYS = 14
SEED = 7
SCALES = [int(n) for n in os.environ.get("BENCH_TRACE_PEOPLE", "200000,1000000").split(",")]
PEER_PEOPLE = int(os.environ.get("BENCH_TRACE_PEER_PEOPLE", "200000"))
PEER_TIMEOUT_S = float(os.environ.get("BENCH_TRACE_PEER_TIMEOUT_S", "180"))
LAKES = Path(os.environ.get("BENCH_TRACE_LAKES", Path(tempfile.gettempdir()) / "cordon-trace"))
# An outbreak seeded at the border crossing and the sea, large enough for 1,000 cases in 14 days.
IMPORTS = {
    "outbreak": {
        "imports": [
            {"day": 0, "kind": "border", "count": 150},
            {"day": 1, "kind": "border", "count": 150},
            {"day": 1, "kind": "sea", "count": 40},
            {"day": 2, "kind": "border", "count": 150},
        ]
    }
}
BATCH, SURGE = 20, 1_000
PANDAS_MAX_PAIRS = 60_000_000  # ~5 GB of candidate pairs in a merge
EVIDENCE = 5


def lake_for(population: int) -> Path:
    folder = LAKES / f"{population}x{DAYS}-seed{SEED}-v{SCHEMA_VERSION}"
    if not (folder / "manifest.json").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        sim.run(sim.RunRequest("dongxing-2021", population, DAYS, SEED, folder, overrides=IMPORTS))
    return folder


def _seconds(value: object) -> int | None:
    return None if pd.isna(value) else int(pd.Timestamp(value).timestamp())  # type: ignore[arg-type]


def pick_cases(lake: Path, end: int) -> list[IndexCase]:
    """Infectors first (shuffled with a fixed seed), then other infected people."""
    disease = read_table(lake, "disease").to_pandas()
    tests = read_table(lake, "routine_tests").to_pandas()
    sampled = tests[tests["positive"]].groupby("person_id")["sampled_at"].min()
    infectors = set(read_table(lake, "infections").to_pandas()["infector"].dropna().astype(int))
    first: list[IndexCase] = []
    more: list[IndexCase] = []
    for row in disease.itertuples():
        onset, sample = _seconds(row.onset), _seconds(sampled.get(row.person_id))
        if onset is None and sample is None:
            continue
        isolated = _seconds(row.isolated_at) or end
        if (onset if onset is not None else sample) >= isolated:  # type: ignore[operator]
            continue
        case = IndexCase(int(row.person_id), onset, sample, isolated)
        (first if row.person_id in infectors else more).append(case)
    shuffle = random.Random(SEED)
    shuffle.shuffle(first)
    shuffle.shuffle(more)
    return first + more


def timed(job: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = job()
    return time.perf_counter() - started, result


def windows(cases: list[IndexCase], pack: Pack) -> list[tuple[int, int, int]]:
    return [
        (
            c.person_id,
            *look_back_window(
                c,
                days_before_onset=pack.look_back.days_before_onset,
                days_before_sampling=pack.look_back.days_before_sampling,
            ),
        )
        for c in cases
    ]


# --- Cordon ---------------------------------------------------------------------------------


def _warm(lake: Path) -> None:
    """Read the lake's files once, so that Cordon, like PostgreSQL after its load, answers from
    memory: the peers' load of the other scale would otherwise have pushed this lake out of the
    OS page cache, and the first cases would time the disk."""
    for path in sorted(lake.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass


def cordon(lake: Path, cases: list[IndexCase], pack: Pack) -> dict[str, Any]:
    """Times ``trace_columns``: contacts classified, deduplicated and with their evidence, as
    Arrow tables (what the engine answers); building one Python object per contact and per
    piece of evidence is timed apart (``*_objects_s``)."""
    _warm(lake)
    store = DuckDBStore(lake)  # a fresh store: the first case pays for opening the files
    one = cases[:1]
    out: dict[str, Any] = {"index_cases_available": len(cases)}
    seconds, found = timed(lambda: trace_columns(one, pack, store))
    out["one_case_full_s"] = round(seconds, 3)
    out["one_case_contacts"] = found.counts()
    seconds, _ = timed(found.to_contacts)
    out["one_case_full_objects_s"] = round(seconds, 3)
    # The first case may have no phone (no companions): the next five full traces too.
    fulls = []
    for case in cases[1:6]:
        seconds, found = timed(lambda case=case: trace_columns([case], pack, store))
        fulls.append((seconds, found.counts()))
    fulls.sort(key=lambda item: item[0])
    out["one_case_full_median_of_5_s"] = round(fulls[2][0], 3)
    out["one_case_full_median_of_5_contacts"] = fulls[2][1]
    out["one_case_full_max_of_5_s"] = round(fulls[-1][0], 3)
    seconds, close = timed(lambda: trace_columns(one, pack, store, kinds={"close"}))
    out["one_case_close_s"] = round(seconds, 3)
    seconds, _ = timed(lambda: trace_columns(cases[1:2], pack, store, kinds={"companion"}))
    out["one_case_companions_s"] = round(seconds, 3)
    singles = []
    for case in cases[1:BATCH]:
        seconds, _ = timed(lambda case=case: trace_columns([case], pack, store, kinds={"close"}))
        singles.append(seconds)
    out["one_case_close_median_of_19_s"] = round(statistics.median(singles), 3)
    out["one_case_close_max_of_19_s"] = round(max(singles), 3)
    # Twenty cases with everything: millions of rows through memory, whose time on a shared
    # two-core machine varies by half from run to run; the median of five, and the spread.
    fulls = [timed(lambda: trace_columns(cases[:BATCH], pack, store)) for _ in range(5)]
    out["batch_20_full_s"] = round(statistics.median(s for s, _ in fulls), 3)
    out["batch_20_full_min_max_s"] = [
        round(min(s for s, _ in fulls), 3),
        round(max(s for s, _ in fulls), 3),
    ]
    out["batch_20_contacts"] = fulls[0][1].counts()
    runs = [
        timed(lambda: trace_columns(cases[:BATCH], pack, store, kinds={"close"})) for _ in range(5)
    ]
    out["batch_20_close_s"] = round(statistics.median(s for s, _ in runs), 3)
    close20 = runs[0][1]
    surge = cases[:SURGE]
    seconds, found = timed(lambda: trace_columns(surge, pack, store, kinds={"close"}))
    out["surge_cases"] = len(surge)
    out["surge_close_s"] = round(seconds, 3)
    out["surge_close_contacts"] = len(found)
    seconds, _ = timed(found.to_contacts)
    out["surge_close_objects_s"] = round(seconds, 3)
    close1000 = found
    scan = DuckDBStore(lake, scan=True)
    seconds, _ = timed(lambda: trace(one, pack, scan, kinds={"close"}))
    out["first_version_scan_one_case_close_s"] = round(seconds, 3)
    out["_close_sets"] = {
        name: set(found.contacts.column("person_id").to_pylist())
        for name, found in (("one", close), ("batch", close20), ("surge", close1000))
    }
    return out


# --- the peers: the same questions -------------------------------------------------------------


def _movement(lake: Path, table: str) -> pa.Table:
    data = ds.dataset(lake / table, format="parquet", partitioning=None).to_table()
    keep = ["person_id", "place_id", "start", "end", "setting"] if table == "stays" else None
    keep = keep or ["person_id", "cell_id", "start", "end"]
    columns = {
        # Parquet has no seconds unit: the files read back in milliseconds.
        name: (
            data.column(name).cast(pa.timestamp("s", tz="UTC")).cast(pa.int64())
            if name in ("start", "end")
            else data[name]
        )
        for name in keep
    }
    return pa.table(columns)


PG_CLOSE = """
WITH c(person_id, wstart, wend) AS (
    SELECT * FROM unnest(%(people)s::int[], %(starts)s::bigint[], %(ends)s::bigint[])
), rule(setting, min_seconds) AS (
    SELECT * FROM unnest(%(settings)s::text[], %(minimums)s::bigint[])
), q AS (
    SELECT s.person_id AS source_id, s.place_id, s.setting,
           greatest(s.start, c.wstart) AS start, least(s."end", c.wend) AS "end"
    FROM c JOIN stays s ON s.person_id = c.person_id AND s.start < c.wend AND s."end" > c.wstart
), pairs AS (
    SELECT o.person_id, q.source_id, q.place_id, q.setting,
           greatest(o.start, q.start) AS start, least(o."end", q."end") AS "end", r.min_seconds
    FROM q JOIN rule r USING (setting)
    JOIN stays o ON o.place_id = q.place_id AND o.start < q."end" AND o."end" > q.start
                -- a stay never outlasts a day: bounds the index range scan from below
                AND o.start > q.start - 86400
    WHERE o.person_id <> q.source_id AND {same_class}
)
SELECT person_id, source_id, place_id, setting, start, "end" FROM (
    SELECT *, row_number() OVER (PARTITION BY person_id, source_id ORDER BY start) AS n
    FROM pairs WHERE "end" - start >= greatest(min_seconds, 1)
) ranked WHERE n <= 5
"""

PG_SECONDARY = """
WITH c(person_id, wstart, case_id) AS (
    SELECT * FROM unnest(%(people)s::int[], %(starts)s::bigint[], %(cases)s::int[])
), rule(setting, min_seconds) AS (
    SELECT * FROM unnest(%(settings)s::text[], %(minimums)s::bigint[])
), q AS (
    SELECT s.person_id AS source_id, s.place_id, s.setting,
           greatest(s.start, c.wstart) AS start, least(s."end", %(until)s) AS "end"
    FROM c JOIN stays s ON s.person_id = c.person_id
                       AND s.start < %(until)s AND s."end" > c.wstart
), pairs AS (
    SELECT o.person_id, q.source_id, q.place_id, q.setting,
           greatest(o.start, q.start) AS start, least(o."end", q."end") AS "end", r.min_seconds
    FROM q JOIN rule r USING (setting)
    JOIN stays o ON o.place_id = q.place_id AND o.start < q."end" AND o."end" > q.start
                AND o.start > q.start - 86400
    WHERE o.person_id <> q.source_id AND q."end" > q.start AND {same_class}
)
SELECT person_id, source_id, place_id, setting, start, "end" FROM (
    SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY start, source_id) AS n
    FROM pairs WHERE "end" - start >= greatest(min_seconds, 1)
) ranked WHERE n <= 5
"""

# At school the setting is the classroom: pupils of different classes are not contacts (staff,
# without a class, meet everyone there). As Cordon's engine and the simulator do.
PG_SAME_CLASS = """(q.setting <> 'class' OR NOT EXISTS (
    SELECT 1 FROM people a, people b WHERE a.person_id = o.person_id AND b.person_id = q.source_id
    AND a.class_id <> b.class_id))"""
PG_CLOSE = PG_CLOSE.replace("{same_class}", PG_SAME_CLASS)
PG_SECONDARY = PG_SECONDARY.replace("{same_class}", PG_SAME_CLASS)

PG_COMPANIONS = """
WITH mine AS (
    SELECT person_id AS source_id, cell_id, greatest(start, %(wstart)s) AS start,
           least("end", %(wend)s) AS "end"
    FROM cell_records WHERE person_id = %(person)s AND start < %(wend)s AND "end" > %(wstart)s
)
SELECT o.person_id, m.source_id, m.cell_id, greatest(o.start, m.start) AS start,
       least(o."end", m."end") AS "end"
FROM mine m JOIN cell_records o ON o.cell_id = m.cell_id AND o.start < m."end"
     AND o."end" > m.start AND o.start > m.start - 86400
WHERE o.person_id <> m.source_id AND least(o."end", m."end") - greatest(o.start, m.start) > %(min)s
"""


def _rule(minimums: dict[str, int]) -> dict[str, Any]:
    return {"settings": list(minimums), "minimums": [60 * m for m in minimums.values()]}


def _close_params(cases: list[IndexCase], pack: Pack) -> dict[str, Any]:
    w = windows(cases, pack)
    minimums = {s: pack.close_contact.min_overlap_minutes[s] for s in pack.close_contact.settings}
    return {
        "people": [p for p, _s, _e in w],
        "starts": [s for _p, s, _e in w],
        "ends": [e for _p, _s, e in w],
        **_rule(minimums),
    }


def _first_exposures(close: pd.DataFrame) -> pd.DataFrame:
    """Each close contact's first exposure and the case it came from (earliest, then the lower
    case id: enough for timing; Cordon breaks ties by the order of the cases)."""
    ordered = close.sort_values(["person_id", "start", "source_id"])
    return ordered.groupby("person_id", as_index=False).first()[["person_id", "start", "source_id"]]


def _dataframe(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


OVERLAP_COLUMNS = ["person_id", "source_id", "place_id", "setting", "start", "end"]


def postgres(url: str, lake: Path, cases: list[IndexCase], pack: Pack) -> dict[str, Any]:
    out: dict[str, Any] = {}
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as db:
        db.execute("DROP SCHEMA IF EXISTS bench_trace CASCADE")
        db.execute("CREATE SCHEMA bench_trace")
        db.execute("SET search_path TO bench_trace")
        started = time.perf_counter()
        db.execute(
            "CREATE UNLOGGED TABLE stays (person_id int, place_id int, start bigint, "
            '"end" bigint, setting text)'
        )
        db.execute(
            "CREATE UNLOGGED TABLE cell_records (person_id int, cell_id bigint, start bigint, "
            '"end" bigint)'
        )
        db.execute("CREATE UNLOGGED TABLE people (person_id int PRIMARY KEY, class_id int)")
        classes = _classes(lake)
        pupils = np.flatnonzero(classes >= 0)
        db.execute(
            "INSERT INTO people SELECT * FROM unnest(%(p)s::int[], %(c)s::int[])",
            {"p": pupils.tolist(), "c": classes[pupils].tolist()},
        )
        for table in ("stays", "cell_records"):
            data = _movement(lake, table)
            with db.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
                for batch in data.to_batches(max_chunksize=500_000):
                    buffer = io.BytesIO()
                    pacsv.write_csv(
                        pa.Table.from_batches([batch]),
                        buffer,
                        pacsv.WriteOptions(include_header=False),
                    )
                    copy.write(buffer.getvalue())
            out[f"{table}_rows"] = data.num_rows
            del data
        out["load_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        db.execute("CREATE INDEX ON stays (person_id, start)")
        db.execute("CREATE INDEX ON stays (place_id, start)")
        db.execute("CREATE INDEX ON cell_records (person_id, start)")
        db.execute("CREATE INDEX ON cell_records (cell_id, start)")
        db.execute("ANALYZE stays")
        db.execute("ANALYZE cell_records")
        out["index_s"] = round(time.perf_counter() - started, 1)
        db.execute(f"SET statement_timeout = {int(PEER_TIMEOUT_S * 1000)}")

        def query(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]] | None:
            try:
                return db.execute(sql, params).fetchall()
            except psycopg.errors.QueryCanceled:
                return None

        def close(batch: list[IndexCase]) -> tuple[float, pd.DataFrame | None]:
            seconds, rows = timed(lambda: query(PG_CLOSE, _close_params(batch, pack)))
            frame = None if rows is None else _dataframe(rows, OVERLAP_COLUMNS)
            if frame is not None:
                frame = frame[_meets(frame, pack.close_contact.min_overlap_minutes)]
            return seconds, frame

        def secondary(close_rows: pd.DataFrame, until: int) -> tuple[float, Any]:
            rule = pack.secondary_contact
            if rule is None:
                return 0.0, []
            first = _first_exposures(close_rows)
            params = {
                "people": first["person_id"].tolist(),
                "starts": first["start"].tolist(),
                "cases": first["source_id"].tolist(),
                "until": until,
                **_rule({s: rule.min_overlap_minutes[s] for s in rule.settings}),
            }
            return timed(lambda: query(PG_SECONDARY, params))

        def companions(case: IndexCase) -> tuple[float, Any]:
            (_p, start, end) = windows([case], pack)[0]
            params = {
                "person": case.person_id,
                "wstart": start,
                "wend": end,
                "min": 60 * pack.companion.min_minutes,
            }
            return timed(lambda: query(PG_COMPANIONS, params))

        out.update(_peer_runs(close, secondary, companions, cases, pack))
        db.execute("DROP SCHEMA bench_trace CASCADE")
    return out


def _classes(lake: Path) -> np.ndarray:
    """Each person's school class (-1 for none), indexed by person id."""
    people = read_table(lake, "people")
    ids = people.column("person_id").to_numpy()
    classes = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    classes[ids] = people.column("class_id").fill_null(-1).to_numpy()
    return classes


def _same_class(frame: pd.DataFrame, classes: np.ndarray) -> pd.Series:
    """Classroom pairs need the same class (staff, without one, meet everyone there)."""
    mine = classes[frame["person_id"].to_numpy()]
    theirs = classes[frame["source_id"].to_numpy()]
    in_class = (frame["setting"] == "class").to_numpy()
    return pd.Series(~(in_class & (mine >= 0) & (theirs >= 0) & (mine != theirs)), frame.index)


def _meets(frame: pd.DataFrame, minimums: dict[str, int]) -> pd.Series:
    seconds = {setting: float(60 * m) for setting, m in minimums.items()}
    need = frame["setting"].astype(object).map(seconds).astype("float64").fillna(np.inf)
    span = frame["end"] - frame["start"]
    return (span > 0) & (span >= need)


def _peer_runs(
    close: Callable[[list[IndexCase]], tuple[float, pd.DataFrame | None]],
    secondary: Callable[[pd.DataFrame, int], tuple[float, Any]],
    companions: Callable[[IndexCase], tuple[float, Any]],
    cases: list[IndexCase],
    pack: Pack,
) -> dict[str, Any]:
    """The runs Cordon makes, with the same cases, timed the same way (None: timed out)."""
    out: dict[str, Any] = {}
    one = cases[0]
    close_s, close_one = close([one])
    companion_s, found = companions(one)
    out["one_case_close_s"] = round(close_s, 3)
    out["one_case_companions_s"] = None if found is None else round(companion_s, 3)
    if close_one is not None:
        secondary_s, found = secondary(close_one, one.isolated)
        out["one_case_secondary_s"] = None if found is None else round(secondary_s, 3)
        if found is not None and out["one_case_companions_s"] is not None:
            out["one_case_full_s"] = round(close_s + secondary_s + companion_s, 3)
    answered = [close([case]) for case in cases[1:BATCH]]
    singles = [seconds for seconds, frame in answered if frame is not None]
    out["one_case_close_median_of_19_s"] = round(statistics.median(singles), 3)
    out["one_case_close_unanswered_of_19"] = len(answered) - len(singles)
    batches = [close(cases[:BATCH]) for _ in range(5)]
    out["batch_20_close_s"] = round(statistics.median(s for s, _ in batches), 3)
    close_batch = batches[0][1]
    surge_s, close_surge = close(cases[:SURGE])
    out["surge_close_s"] = None if close_surge is None else round(surge_s, 3)
    runs = (("one", close_one, 1), ("batch", close_batch, BATCH), ("surge", close_surge, SURGE))
    out["_close_sets"] = {
        # Cases are not their own (or each other's) contacts.
        name: None
        if frame is None
        else set(frame["person_id"].astype(int)) - {c.person_id for c in cases[:size]}
        for name, frame, size in runs
    }
    return out


def pandas_peer(lake: Path, cases: list[IndexCase], pack: Pack) -> dict[str, Any]:
    """A careful pandas analyst: the stays in one DataFrame, masks and merges, the top few per
    person with a sort and groupby().head()."""
    started = time.perf_counter()
    stays = _movement(lake, "stays").to_pandas()
    cells = _movement(lake, "cell_records").to_pandas()
    out: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 1)}
    close_minimums = pack.close_contact.min_overlap_minutes

    classes = _classes(lake)
    day0 = DuckDBStore(lake).day0
    stays["day"] = (stays["start"] - day0) // 86_400
    cells["day"] = (cells["start"] - day0) // 86_400

    def co_present(q: pd.DataFrame, minimums: dict[str, int], by: list[str]) -> pd.DataFrame | None:
        q = q[q["setting"].isin(list(minimums))]
        q = q.assign(day=(q["start"] - day0) // 86_400)  # stays never cross midnight
        lo, hi = q["start"].min() - 86_400, q["end"].max()
        others = stays[(stays["start"] < hi) & (stays["start"] > lo)]
        others = others[others["place_id"].isin(q["place_id"].unique())]
        # merge() materialises every candidate pair of a (place, day) before filtering: refuse
        # rather than exhaust the memory other processes share.
        keys = ["place_id", "day"]
        sizes = others.groupby(keys).size().rename("n").reset_index()
        candidates = q.groupby(keys).size().rename("m").reset_index().merge(sizes, on=keys)
        if (candidates["n"] * candidates["m"]).sum() > PANDAS_MAX_PAIRS:
            return None
        pairs = others[["person_id", "place_id", "day", "start", "end"]].merge(
            q, on=keys, suffixes=("", "_q")
        )
        pairs = pairs[
            (pairs["start"] < pairs["end_q"])
            & (pairs["end"] > pairs["start_q"])
            & (pairs["person_id"] != pairs["source_id"])
        ]
        pairs = pairs.assign(
            start=np.maximum(pairs["start"], pairs["start_q"]),
            end=np.minimum(pairs["end"], pairs["end_q"]),
        )[OVERLAP_COLUMNS]
        pairs = pairs[_meets(pairs, minimums) & _same_class(pairs, classes)]
        return pairs.sort_values([*by, "start", "source_id"]).groupby(by).head(EVIDENCE)

    def close(batch: list[IndexCase]) -> tuple[float, pd.DataFrame | None]:
        def run() -> pd.DataFrame | None:
            w = pd.DataFrame(windows(batch, pack), columns=["person_id", "wstart", "wend"])
            own = stays[stays["person_id"].isin(w["person_id"])].merge(w, on="person_id")
            own = own.assign(
                start=np.maximum(own["start"], own["wstart"]),
                end=np.minimum(own["end"], own["wend"]),
            )
            own = own[own["end"] > own["start"]].rename(columns={"person_id": "source_id"})
            q = own[["source_id", "place_id", "setting", "start", "end"]]
            return co_present(q, close_minimums, ["person_id", "source_id"])

        return timed(run)

    def secondary(close_rows: pd.DataFrame, until: int) -> tuple[float, Any]:
        rule = pack.secondary_contact
        if rule is None:
            return 0.0, []

        def run() -> pd.DataFrame | None:
            first = _first_exposures(close_rows).rename(columns={"start": "opens"})
            own = stays[stays["person_id"].isin(first["person_id"])].merge(
                first[["person_id", "opens"]], on="person_id"
            )
            own = own.assign(
                start=np.maximum(own["start"], own["opens"]), end=np.minimum(own["end"], until)
            )
            own = own[own["end"] > own["start"]].rename(columns={"person_id": "source_id"})
            q = own[["source_id", "place_id", "setting", "start", "end"]]
            return co_present(q, rule.min_overlap_minutes, ["person_id"])

        return timed(run)

    def companions(case: IndexCase) -> tuple[float, Any]:
        (_p, start, end) = windows([case], pack)[0]

        def run() -> pd.DataFrame:
            mine = cells[
                (cells["person_id"] == case.person_id)
                & (cells["start"] < end)
                & (cells["end"] > start)
            ]
            mine = mine.assign(
                start=np.maximum(mine["start"], start), end=np.minimum(mine["end"], end)
            ).rename(columns={"person_id": "source_id"})
            mine = mine.assign(day=(mine["start"] - day0) // 86_400)
            others = cells[cells["cell_id"].isin(mine["cell_id"].unique())]
            pairs = others.merge(mine, on=["cell_id", "day"], suffixes=("", "_m"))
            overlap = np.minimum(pairs["end"], pairs["end_m"]) - np.maximum(
                pairs["start"], pairs["start_m"]
            )
            keep = (overlap > 60 * pack.companion.min_minutes) & (
                pairs["person_id"] != pairs["source_id"]
            )
            return pairs[keep]

        return timed(run)

    out.update(_peer_runs(close, secondary, companions, cases, pack))
    return out


def _same(ours: dict[str, set[int]], theirs: dict[str, set[int] | None]) -> dict[str, Any]:
    return {name: None if theirs[name] is None else ours[name] == theirs[name] for name in ours}


def _ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, float]:
    return {
        key.removesuffix("_s"): round(peer[key] / ours[key], 1)
        for key in peer
        if key.endswith("_s") and key in ours and peer[key] is not None and ours[key]
    }


def run() -> dict[str, Any]:
    pack = packs.load()
    out: dict[str, Any] = {
        "pack": pack.name,
        "days": DAYS,
        "note": (
            "2 cores, nothing else running; each lake read once before Cordon is timed (page "
            "cache warm, as PostgreSQL's buffers are after its load). Cordon's times are "
            "trace_columns (contacts with evidence as Arrow tables); *_objects_s is building "
            "Python objects from them. Peer times of None ran past the timeout or were refused "
            "for memory. The machine is a 2-core VM on a shared host: the same run varies by "
            "up to half from one repetition to the next, hence medians where runs are cheap."
        ),
    }
    url = os.environ.get("BENCH_TRACE_POSTGRES_URL") or os.environ.get("CORDON_TEST_POSTGRES_URL")
    for population in sorted(set(SCALES) | {PEER_PEOPLE}):
        lake = lake_for(population)
        manifest = json.loads((lake / "manifest.json").read_text())
        end = DuckDBStore(lake).day0 + DAYS * 86_400
        cases = pick_cases(lake, end)
        scale: dict[str, Any] = {
            "stays": manifest["row_counts"]["stays"],
            "cell_records": manifest["row_counts"]["cell_records"],
            "infections": manifest["outbreak"]["infections"],
        }
        ours = cordon(lake, cases, pack)
        our_sets = ours.pop("_close_sets")
        scale["cordon"] = ours
        if population == PEER_PEOPLE:
            if url:
                theirs = postgres(url, lake, cases, pack)
                same = _same(our_sets, theirs.pop("_close_sets"))
                scale["postgresql"] = theirs | {"same_close_contacts": same}
                scale["postgresql_to_cordon_time"] = _ratios(ours, theirs)
            theirs = pandas_peer(lake, cases, pack)
            same = _same(our_sets, theirs.pop("_close_sets"))
            scale["pandas"] = theirs | {"same_close_contacts": same}
            scale["pandas_to_cordon_time"] = _ratios(ours, theirs)
        out[f"{population}x{DAYS}"] = scale
        # A scale's results as soon as they are known (a long run is not all-or-nothing).
        print(json.dumps({population: scale}, default=str), file=sys.stderr, flush=True)
    return out
