"""Health-code recompute: Cordon's batch evaluator over the facts table against the same pack
written as one plain SQL query (bench/codes_sql.py), on DuckDB and on PostgreSQL, in one run.

A synthetic city of N residents during an outbreak (about one fact per resident: contacts with
their test schedules, companions, arrivals, cases and discharges, sealed zones, platform codes,
screening tests) is built as the Arrow table ``facts.service.live_table`` returns. Timed:
Cordon from that table (JSON attributes included) to everyone's colour; the SQL peers from a
flat, indexed table already loaded (their JSON parsing and loading are not timed). The
colours are checked to be identical. BENCH_CODES_PEOPLE sets the sizes (default 1000000,
10000000); PostgreSQL (CORDON_TEST_POSTGRES_URL) runs up to BENCH_CODES_PG_MAX (1000000).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa

from bench.codes_sql import attributes, colour_query
from cordon.codes import batch, packs
from cordon.codes.rules.evaluate import seconds
from cordon.facts.service import FACT_TABLE_SCHEMA

SIZES = [int(s) for s in os.environ.get("BENCH_CODES_PEOPLE", "1000000,10000000").split(",")]
PG_MAX = int(os.environ.get("BENCH_CODES_PG_MAX", "1000000"))
T0 = datetime(2021, 12, 10, tzinfo=UTC)
NOW = T0 + timedelta(days=20)
DAY_US = 86_400_000_000


class _Facts:
    def __init__(self) -> None:
        self.person: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.at: list[np.ndarray] = []
        self.attrs: list[np.ndarray] = []

    def add(
        self, person: np.ndarray, kind: str, at_us: np.ndarray, attrs: np.ndarray | str
    ) -> None:
        self.person.append(person.astype(np.int64))
        self.kind.append(np.full(len(person), kind, dtype=object))
        self.at.append(at_us.astype(np.int64))
        self.attrs.append(
            np.full(len(person), attrs, dtype=object) if isinstance(attrs, str) else attrs
        )

    def table(self) -> pa.Table:
        """Ordered by person, as ``facts.service.live_table`` returns the ledger."""
        person = np.concatenate(self.person)
        order = np.argsort(person, kind="stable")
        n = len(person)
        return pa.table(
            [
                pa.array(person[order]),
                pa.array(np.full(n, "450681100001", dtype=object)),
                pa.array(np.concatenate(self.kind)[order]),
                pa.array(np.concatenate(self.at)[order], pa.timestamp("us", tz="UTC")),
                pa.array(np.concatenate(self.attrs)[order]),
                pa.array(np.full(n, "bench", dtype=object)),
            ],
            schema=FACT_TABLE_SCHEMA,
        )


def _choice_json(rng: np.random.Generator, n: int, key: str, values: list[object]) -> np.ndarray:
    texts = np.array([json.dumps({key: v}) for v in values], dtype=object)
    return texts[rng.integers(0, len(values), n)]


def city(n: int, seed: int = 7) -> pa.Table:
    """About one fact per resident, shaped like an outbreak's third week."""
    rng = np.random.default_rng(seed)
    t0 = int(T0.timestamp()) * 1_000_000
    facts = _Facts()

    def people(share: float) -> np.ndarray:
        return rng.choice(n, int(n * share), replace=False) + 1

    def tests(who: np.ndarray, start: np.ndarray, days: list[float], kept: float) -> None:
        for d in days:
            keep = rng.random(len(who)) < kept
            facts.add(
                who[keep],
                "test",
                start[keep] + int(d * DAY_US),
                '{"method": "single", "result": "negative"}',
            )

    for kind, share, days in (
        ("close", 0.02, [0.5, 3.5, 6.5, 13.5, 15.5, 20.5]),
        ("secondary", 0.02, [0.5, 3.5, 6.5]),
    ):
        who = people(share)
        start = t0 + rng.integers(0, 20 * DAY_US, len(who))
        facts.add(who, "contact", start, json.dumps({"case_id": 1, "contact_kind": kind}))
        tests(who, start, days, 0.9)
    who = people(0.03)
    start = t0 + rng.integers(0, 20 * DAY_US, len(who))
    facts.add(who, "contact", start, '{"case_id": 2, "contact_kind": "companion"}')
    tests(who, start, [0.3 + rng.random() * 0.5, 1.6 + rng.random()], 0.8)
    who = people(0.03)
    origins = [
        "high_risk_area",
        "medium_risk_area",
        "same_county_as_risk_area",
        "out_of_province",
        "port",
    ]
    facts.add(
        who,
        "arrival",
        t0 + rng.integers(-30 * DAY_US, 20 * DAY_US, len(who)),
        _choice_json(rng, len(who), "origin", origins),
    )
    who = people(0.002)
    start = t0 + rng.integers(-20 * DAY_US, 20 * DAY_US, len(who))
    facts.add(who, "case", start, '{"status": "confirmed"}')
    half = rng.random(len(who)) < 0.5
    facts.add(
        who[half],
        "discharged",
        start[half] + rng.integers(8 * DAY_US, 20 * DAY_US, int(half.sum())),
        "{}",
    )
    who = people(0.001)
    start = t0 + rng.integers(0, 20 * DAY_US, len(who))
    facts.add(who, "case", start, '{"status": "suspected"}')
    who = people(0.03)
    zone = rng.integers(1, 51, len(who))
    facts.add(
        who,
        "zone",
        np.full(len(who), t0),
        np.array([json.dumps({"level": "sealed", "zone_id": int(z)}) for z in zone], dtype=object),
    )
    lifted = zone <= 25
    facts.add(
        who[lifted],
        "zone_lifted",
        np.full(int(lifted.sum()), t0 + 10 * DAY_US),
        np.array([json.dumps({"zone_id": int(z)}) for z in zone[lifted]], dtype=object),
    )
    who = people(0.005)
    facts.add(
        who,
        "platform_code",
        t0 + rng.integers(0, 20 * DAY_US, len(who)),
        _choice_json(rng, len(who), "colour", ["red", "yellow", "green"]),
    )
    who = people(0.6)
    facts.add(
        who,
        "test",
        t0 + rng.integers(0, 20 * DAY_US, len(who)),
        '{"method": "pool", "result": "negative"}',
    )
    return facts.table()


def _flat(table: pa.Table, names: list[str]) -> pa.Table:
    """The facts with one text column per attribute, epoch seconds: the SQL peers' input."""
    con = duckdb.connect()
    con.register("facts", table)
    extract = ", ".join(f"json_extract_string(attrs, '$.{n}') AS {n}" for n in names)
    t = 'floor(epoch_us("at") / 1000000)::BIGINT'
    flat = con.sql(f"SELECT person_id, kind, {t} AS t, {extract} FROM facts").to_arrow_table()
    con.close()
    return flat


def _best(fn, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _duckdb(flat: pa.Table, query: str) -> tuple[float, dict[int, int]]:
    con = duckdb.connect()
    con.register("arrow_flat", flat)
    con.execute("CREATE TABLE facts_flat AS SELECT * FROM arrow_flat")
    seconds_taken, result = _best(lambda: con.sql(query).fetchnumpy(), repeat=2)
    con.close()
    return seconds_taken, dict(
        zip(result["person_id"].tolist(), result["colour"].tolist(), strict=True)
    )  # type: ignore[index]


def _postgres(flat: pa.Table, names: list[str], query: str) -> tuple[float, dict[int, int]] | None:
    url = os.environ.get("CORDON_TEST_POSTGRES_URL")
    if not url:
        return None
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_codes CASCADE")
        conn.execute("CREATE SCHEMA bench_codes")
        conn.execute("SET search_path TO bench_codes")
        columns = ", ".join(f"{n} text" for n in names)
        conn.execute(f"CREATE TABLE facts_flat (person_id bigint, kind text, t bigint, {columns})")
        with (
            conn.cursor() as cur,
            cur.copy(
                f"COPY facts_flat (person_id, kind, t, {', '.join(names)}) FROM STDIN"
            ) as copy,
        ):
            for batch_rows in flat.to_batches(200_000):
                for row in zip(*(c.to_pylist() for c in batch_rows.columns), strict=True):
                    copy.write_row(row)
        conn.execute("CREATE INDEX ON facts_flat (person_id, kind, t)")
        conn.execute("ANALYZE facts_flat")
        start = time.perf_counter()
        rows = conn.execute(query).fetchall()
        taken = time.perf_counter() - start
        conn.execute("DROP SCHEMA bench_codes CASCADE")
    return taken, {int(p): int(c) for p, c in rows}


def run() -> dict[str, object]:
    pack = packs.load("guangxi-2021-12")
    tz = ZoneInfo("Asia/Shanghai")
    results: dict[str, object] = {"pack": pack.name, "now": NOW.isoformat(), "sizes": []}
    for n in SIZES:
        table = city(n)
        cordon_s, colours = _best(
            lambda table=table: batch.colours(batch.match_states(table, NOW, pack), pack)
        )
        ours = dict(zip(colours.person.tolist(), colours.colour.tolist(), strict=True))  # type: ignore[attr-defined]
        start = time.perf_counter()
        decided = batch.decisions(table, NOW, pack, tz)
        with_text = time.perf_counter() - start
        names = attributes(pack)
        flat = _flat(table, names)
        query = colour_query(pack, seconds(NOW))
        duck_s, duck = _duckdb(flat, query)
        if duck != ours:
            raise RuntimeError("DuckDB SQL and the batch evaluator disagree")
        row: dict[str, object] = {
            "residents": n,
            "facts": table.num_rows,
            "held_by_a_rule": len(ours),
            "red": sum(1 for c in ours.values() if c == 2),
            "yellow": sum(1 for c in ours.values() if c == 1),
            "cordon_colours_s": round(cordon_s, 3),
            "cordon_with_reasons_s": round(with_text, 3),
            "reasons_built_for": len(decided),
            "duckdb_sql_s": round(duck_s, 3),
            "duckdb_sql_over_cordon": round(duck_s / cordon_s, 2),
        }
        if n <= PG_MAX:
            found = _postgres(flat, names, query)
            if found is None:
                row["postgresql_sql_s"] = "skipped: set CORDON_TEST_POSTGRES_URL"
            else:
                pg_s, pg = found
                if pg != ours:
                    raise RuntimeError("PostgreSQL SQL and the batch evaluator disagree")
                row["postgresql_sql_s"] = round(pg_s, 3)
                row["postgresql_sql_over_cordon"] = round(pg_s / cordon_s, 2)
        else:
            row["postgresql_sql_s"] = f"not run above {PG_MAX} residents (BENCH_CODES_PG_MAX)"
        results["sizes"].append(row)  # type: ignore[attr-defined]
        print(json.dumps(row), flush=True)
    return results
