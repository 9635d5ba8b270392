"""Residents' code lookup under load: p50/p99 latency of POST /api/v1/codes/lookup at 100
concurrent connections on loopback, measured with wrk against a running `cordon serve`, beside
the same server's /healthz (one SELECT 1) in the same run as the peer.

Prerequisite: wrk (Debian: `apt-get install -y wrk`); the bench installs nothing and is skipped
with a message when wrk is absent. The server gets a fresh SQLite database (the default
deployment) with BENCH_LOOKUP_PEOPLE residents (default 20000), a tenth of them with facts; the
lookup limit is raised for the run (one address sends everything). Each lookup reads the
person by keyed hash, decides the code from the ledger, signs a token and writes an audit row.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from cordon.config import Settings
from cordon.db import make_engine, make_session_factory, transaction
from cordon.geo import service as geo
from cordon.geo.schemas import GridIn
from cordon.migrate import upgrade
from cordon.people import service as people_service
from cordon.people.rules import with_check_digit
from cordon.security.crypto import FieldCipher

PEOPLE = int(os.environ.get("BENCH_LOOKUP_PEOPLE", "20000"))
SECONDS = int(os.environ.get("BENCH_LOOKUP_SECONDS", "20"))
CONNECTIONS = 100
GRID = GridIn(code="450681100001001", name="网格1", division_code="450681100001")
KEYS = {
    "CORDON_FIELD_KEY": "22" * 32,
    "CORDON_LOOKUP_KEY": "33" * 32,
    "CORDON_SESSION_KEY": "11" * 32,
}


def _number(i: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=i % 20000)
    return with_check_digit(f"450681{born:%Y%m%d}{i // 20000:03d}")


def _seed(data_dir: Path) -> list[dict[str, str]]:
    settings = Settings(
        data_dir=data_dir, **{k.removeprefix("CORDON_").lower(): v for k, v in KEYS.items()}
    )
    engine = make_engine(settings.resolved_database_url)
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
    return [
        {"id_number": p["id_number"], "name": p["name"]} for p in people[:: max(1, PEOPLE // 500)]
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk(url: str, script: Path | None, connections: int = CONNECTIONS) -> dict[str, object]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "--latency", "--timeout", "10s"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if found is None:
            raise RuntimeError(f"no {label}% line in wrk output:\n{out}")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "connections": connections,
        "socket_errors": errors.group(1) if errors else "none",
        "p50_ms": ms("50"),
        "p90_ms": ms("90"),
        "p99_ms": ms("99"),
        "requests_per_s": float(rate.group(1)) if rate else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def run() -> dict[str, object]:
    if shutil.which("wrk") is None:
        message = "skipped: wrk is not installed (Debian: apt-get install -y wrk)"
        print(message)
        return {"skipped": message}
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        bodies = _seed(data_dir)
        script = data_dir / "lookup.lua"
        lua_bodies = ",\n".join("  [[" + json.dumps(b, ensure_ascii=False) + "]]" for b in bodies)
        script.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"local bodies = {{\n{lua_bodies}\n}}\n"
            "local i = 0\n"
            "request = function()\n  i = i % #bodies + 1\n"
            "  return wrk.format(nil, nil, nil, bodies[i])\nend\n",
            encoding="utf-8",
        )
        port = _free_port()
        env = {
            **os.environ,
            **KEYS,
            "CORDON_DATA_DIR": str(data_dir),
            "CORDON_CODE_LOOKUP_PER_MINUTE": str(10**9),
        }
        env.pop("CORDON_DATABASE_URL", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "cordon", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            healthz = _wrk(f"{base}/healthz", None)
            lookup = _wrk(f"{base}/api/v1/codes/lookup", script)
            light = _wrk(f"{base}/api/v1/codes/lookup", script, connections=10)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()  # keep-alive connections can hold a graceful shutdown
                server.wait(timeout=15)
    return {
        "residents": PEOPLE,
        "connections": CONNECTIONS,
        "seconds": SECONDS,
        "server": "cordon serve (uvicorn, one process), SQLite",
        "lookup": lookup,
        "lookup_at_10_connections": light,
        "healthz_peer": healthz,
        "lookup_p99_over_healthz_p99": round(float(lookup["p99_ms"]) / float(healthz["p99_ms"]), 2),  # type: ignore[arg-type]
        "target_p99_ms": 20,
    }
