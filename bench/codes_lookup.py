"""Residents' code lookups under load, open loop: POST /api/v1/codes/lookup at a fixed offered
rate from 100 connections, against `cordon serve` (gunicorn, uvicorn workers) on loopback, on
SQLite and on PostgreSQL.

Why open loop: a closed loop (plain wrk) sends the next request only when one returns, so it
measures connections ÷ throughput and hides a stall (coordinated omission). Here request i is
due at t0 + i/rate whatever happened before; 100 connections take due requests from one queue,
and a request's latency is counted from the time it was due, so time spent waiting for a free
connection while the server is slow counts too. Requests still unanswered 10 s after the run
are errors.

Each lookup is a distinct, real resident (identity number and matching name; a tenth have a
close-contact fact): the server reads the person by keyed hash, decides the code from the
ledger, signs a token and queues an audit entry. The limiter counts every request (its limit
raised: one address sends everything). During the 1,000/s run a staff client reads people
records (GET /api/v1/people/ID with a bearer token; each read is audited in its request's
transaction) ten times a second, and their latency is reported. Then a step search finds the
highest offered rate whose p99 stays within 50 ms with no errors.

Targets (issue 13): at 1,000/s, p99 ≤ 20 ms on PostgreSQL and ≤ 50 ms on SQLite, 0 errors;
staff p99 ≤ 200 ms during the burst. PostgreSQL runs when BENCH_POSTGRES_URL (or
CORDON_TEST_POSTGRES_URL) is set; its public schema is dropped and rebuilt.

Environment: BENCH_LOOKUP_PEOPLE (20000), BENCH_LOOKUP_SECONDS (15, the 1,000/s run),
BENCH_STEP_SECONDS (8), BENCH_WORKERS (server default), BENCH_RATES ("500,1000,...").
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from cordon.auth import service as auth_service
from cordon.auth.rules import Role
from cordon.auth.schemas import UserIn
from cordon.config import Settings
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo
from cordon.geo.schemas import GridIn
from cordon.migrate import upgrade
from cordon.people import service as people_service
from cordon.people.rules import with_check_digit
from cordon.security.crypto import FieldCipher

PEOPLE = int(os.environ.get("BENCH_LOOKUP_PEOPLE", "20000"))
SECONDS = float(os.environ.get("BENCH_LOOKUP_SECONDS", "15"))
STEP_SECONDS = float(os.environ.get("BENCH_STEP_SECONDS", "8"))
RATES = [
    int(r) for r in os.environ.get("BENCH_RATES", "500,1000,1250,1500,2000,2500,3000").split(",")
]
CONNECTIONS = 100
TARGET_RATE = 1000
STAFF_PER_S = 10
GRID = GridIn(code="450681100001001", name="网格1", division_code="450681100001")
KEYS = {
    "CORDON_FIELD_KEY": "22" * 32,
    "CORDON_LOOKUP_KEY": "33" * 32,
    "CORDON_SESSION_KEY": "11" * 32,
}
STAFF = ("bench-staff", "bench staff password 1")


def _number(i: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=i % 20000)
    return with_check_digit(f"450681{born:%Y%m%d}{i // 20000:03d}")


def _seed(data_dir: Path, url: str | None) -> list[dict[str, str]]:
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        **{k.removeprefix("CORDON_").lower(): v for k, v in KEYS.items()},
    )
    engine = make_engine(settings.resolved_database_url)
    if url and url.startswith("postgresql"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    cipher = FieldCipher(
        field_key=settings.secret("field_key"), lookup_key=settings.secret("lookup_key")
    )
    people = [
        {
            "id": i + 1,
            "name": f"居民{i}",
            "id_number": _number(i),
            "sex": "M",
            "birth_date": date(1990, 1, 1),
            "division_code": GRID.division_code,
            "grid_code": GRID.code,
        }
        for i in range(PEOPLE)
    ]
    with transaction(make_session_factory(engine)) as session:
        geo.load_divisions(session=session)
        geo.add_grid(session=session, grid=GRID)
        auth_service.create_user(
            session=session,
            user=UserIn(username=STAFF[0], password=STAFF[1], role=Role.ADMIN, jurisdiction="45"),
        )
        people_service.load_registry(session=session, cipher=cipher, households=[], people=people)
        from cordon.facts.models import PersonFact  # the bench seeds the ledger directly

        at = datetime.now(UTC) - timedelta(days=3)
        session.execute(
            insert(PersonFact),
            [
                {
                    "person_id": p["id"],
                    "division_code": GRID.division_code,
                    "kind": "contact",
                    "at": at,
                    "attrs": {"contact_kind": "close", "case_id": 1},
                    "source": "bench",
                    "recorded_at": at,
                }
                for p in people[::10]
            ],
        )
    engine.dispose()
    return [{"id_number": p["id_number"], "name": p["name"]} for p in people]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{headers}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


class _Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _summary(latencies: list[float], errors: int, offered: float, seconds: float) -> dict:
    ordered = sorted(latencies)

    def pct(q: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "offered_per_s": offered,
        "answered_per_s": round(len(ordered) / seconds, 1),
        "requests": len(ordered) + errors,
        "errors": errors,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
    }


async def _open_loop(
    port: int,
    bodies: list[bytes],
    rate: float,
    seconds: float,
    staff: tuple[str, list[int]] | None = None,
) -> dict:
    """Offer ``rate`` lookups a second for ``seconds`` from CONNECTIONS connections; latency
    from each request's due time. With ``staff`` (a token and person ids), a staff client
    reads a person record STAFF_PER_S times a second, on its own connections, also open loop."""
    loop = asyncio.get_running_loop()
    due: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    start = loop.time() + 0.2

    async def connection_worker() -> None:
        nonlocal errors
        connection = _Connection(port)
        while (item := await due.get()) is not None:
            at, raw = item
            try:
                status = await asyncio.wait_for(connection.send(raw), 10)
                if status == 200:
                    latencies.append(loop.time() - at)
                else:
                    errors += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                connection.close()
        connection.close()

    async def dispatcher() -> None:
        i = 0
        while i < total:
            now = loop.time()
            while i < total and start + i / rate <= now:
                due.put_nowait((start + i / rate, bodies[i % len(bodies)]))
                i += 1
            await asyncio.sleep(max(start + i / rate - loop.time(), 0) if i < total else 0)
        for _ in range(CONNECTIONS):
            due.put_nowait(None)

    staff_latencies: list[float] = []
    staff_errors = 0

    async def staff_client() -> None:
        nonlocal staff_errors
        if staff is None:
            return
        token, ids = staff
        header = f"Authorization: Bearer {token}\r\n"
        count = int(STAFF_PER_S * seconds)
        pool = [_Connection(port) for _ in range(4)]

        async def one(k: int, at: float) -> None:
            nonlocal staff_errors
            await asyncio.sleep(max(at - loop.time(), 0))
            connection = pool[k % len(pool)]
            try:
                raw = _request("GET", f"/api/v1/people/{ids[k % len(ids)]}", headers=header)
                status = await asyncio.wait_for(connection.send(raw), 10)
                if status == 200:
                    staff_latencies.append(loop.time() - at)
                else:
                    staff_errors += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                staff_errors += 1
                connection.close()

        # One request per connection at a time: a connection's requests run in turn.
        async def lane(k0: int) -> None:
            for k in range(k0, count, len(pool)):
                await one(k, start + k / STAFF_PER_S)

        await asyncio.gather(*(lane(k) for k in range(len(pool))))
        for connection in pool:
            connection.close()

    workers = [asyncio.create_task(connection_worker()) for _ in range(CONNECTIONS)]
    await asyncio.gather(dispatcher(), staff_client())
    await asyncio.wait_for(asyncio.gather(*workers), seconds + 30)
    out = _summary(latencies, errors, rate, seconds)
    if staff is not None:
        out["staff"] = _summary(staff_latencies, staff_errors, STAFF_PER_S, seconds)
    return out


def _load(port: int, bodies: list[bytes], rate: float, seconds: float, staff=None) -> dict:
    try:
        import uvloop

        return uvloop.run(_open_loop(port, bodies, rate, seconds, staff))
    except ImportError:
        return asyncio.run(_open_loop(port, bodies, rate, seconds, staff))


def _wait_up(base: str) -> None:
    for _ in range(600):  # the CLI imports every slice; a busy machine takes a while
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _token(base: str) -> str:
    body = json.dumps({"username": STAFF[0], "password": STAFF[1]}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def _backend(name: str, url: str | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        people = _seed(data_dir, url)
        random.Random(7).shuffle(people)
        bodies = [
            _request("POST", "/api/v1/codes/lookup", json.dumps(p, ensure_ascii=False).encode())
            for p in people
        ]
        port = _free_port()
        env = {
            **os.environ,
            **KEYS,
            "CORDON_DATA_DIR": str(data_dir),
            "CORDON_CODE_LOOKUP_PER_MINUTE": str(10**9),
        }
        env.pop("CORDON_DATABASE_URL", None)
        if url:
            env["CORDON_DATABASE_URL"] = url
        args = [sys.executable, "-m", "cordon", "serve", "--port", str(port)]
        if os.environ.get("BENCH_WORKERS"):
            args += ["--workers", os.environ["BENCH_WORKERS"]]
        log = (data_dir / "server.log").open("w")
        server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(base)
            token = _token(base)
            ids = list(range(1, PEOPLE + 1))
            random.Random(8).shuffle(ids)
            _load(port, bodies[-2000:], 300, 3)  # warm-up: every worker's caches and pools
            at_target = _load(port, bodies, TARGET_RATE, SECONDS, staff=(token, ids))
            steps = []
            best = None
            offset = 0
            for rate in RATES:
                chunk = bodies[offset:] + bodies[:offset]
                offset = (offset + int(rate * STEP_SECONDS)) % len(bodies)
                step = _load(port, chunk, rate, STEP_SECONDS)
                steps.append(step)
                print(f"  {name} {rate}/s: {json.dumps(step)}", flush=True)
                if step["errors"] or step["p99_ms"] is None or step["p99_ms"] > 50:
                    break
                best = rate
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
            log.close()
        audit_rows = _audit_rows(data_dir, url)
    sent = 3 * 300 + at_target["requests"] + sum(int(s["requests"]) for s in steps)
    return {
        "backend": name,
        "at_1000_per_s": at_target,
        "steps": steps,
        "highest_rate_p99_within_50_ms": best,
        "lookups_sent": sent,
        "lookup_audit_rows_after_shutdown": audit_rows,
    }


def _audit_rows(data_dir: Path, url: str | None) -> int:
    engine = make_engine(url or f"sqlite:///{data_dir / 'cordon.db'}")
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM audit_entries WHERE action = 'code_lookup'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _workers() -> int:
    from cordon.serving import worker_count

    requested = os.environ.get("BENCH_WORKERS")
    return worker_count(Settings(), int(requested) if requested else None)


def run() -> dict[str, object]:
    results: dict[str, object] = {
        "residents": PEOPLE,
        "connections": CONNECTIONS,
        "seconds_at_1000": SECONDS,
        "seconds_per_step": STEP_SECONDS,
        "server": f"cordon serve: gunicorn, {_workers()} uvicorn workers (uvloop, httptools)",
        "load": "open loop, latency from each request's due time, loopback, distinct residents",
        "load_average_at_start": os.getloadavg(),
        "targets": {
            "postgresql_p99_ms_at_1000": 20,
            "sqlite_p99_ms_at_1000": 50,
            "errors": 0,
            "staff_p99_ms_during_burst": 200,
        },
    }
    results["sqlite"] = _backend("sqlite", None)
    postgres = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("CORDON_TEST_POSTGRES_URL")
    if postgres:
        results["postgresql"] = _backend("postgresql", postgres)
    else:
        results["postgresql"] = {"skipped": "set BENCH_POSTGRES_URL"}
    return results
