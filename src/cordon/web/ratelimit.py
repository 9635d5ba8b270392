"""Request brakes shared by every worker process: sliding windows counted outside the database.

A public endpoint (residents' code and result lookups) counts each request against one or more
limits, e.g. 10 a minute per client address and 5 per identity number in 15 minutes. The count
must hold across worker processes and under concurrency: the check and the hit are one atomic
step, or 100 concurrent requests all read "4 so far" and all pass (issue 13: 14 of 100 did).

Two stores, both exact sliding windows over the allowed hits (refused ones are not counted):

* :class:`RedisLimiter` when ``CORDON_REDIS_URL`` is set: one Lua script per request checks and
  records every limit atomically in Redis (sorted sets), shared by workers and machines.
* :class:`SqliteLimiter` otherwise: a small SQLite file in the data folder (``ratelimit.db``,
  not the main database, so a hit never waits for a staff write or a CLI job). Each request is
  one ``BEGIN IMMEDIATE`` transaction of a few index operations (tens of microseconds), so the
  file's lock serialises the workers of one machine exactly. Chosen over dividing each limit by
  the number of workers, which refuses a resident whose requests all land on one worker after
  a fifth of their allowance. The counters are not durable (``synchronous=OFF``): a power
  cut may forget the last second's hits, which for a brake is harmless.

If Redis is configured but unreachable, the SQLite store takes over (logged), so a brake never
becomes a 500 and never opens.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from cordon import clock

log = logging.getLogger("cordon.ratelimit")


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits on ``key`` in any ``seconds``-long window."""

    key: str
    limit: int
    seconds: float


class Limiter(Protocol):
    def hit(self, limits: Sequence[Limit], now: float | None = None) -> float | None:
        """Count one request against every limit: None when all allow it (and it is counted in
        each), else the seconds until it would be allowed (and nothing is counted)."""

    def close(self) -> None:
        """Let go of files and connections (the app's shutdown)."""


def _now(now: float | None) -> float:
    # Real seconds, not the scenario clock: a brake runs on wall time even in a replayed demo.
    return clock.real_time() if now is None else now


_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, until REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ix_hits_key_until ON hits (key, until);
CREATE TABLE IF NOT EXISTS counts (
    key TEXT PRIMARY KEY, n INTEGER NOT NULL, last_until REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_counts_last_until ON counts (last_until);
"""


class SqliteLimiter:
    """Sliding windows in a SQLite file, exact across the processes that share the file.

    ``hits`` holds one row per counted hit with the time it leaves its window; ``counts`` the
    number of live rows per key, so a check costs an index range delete and a primary-key read
    however high the limit (a bench raises it to a billion)."""

    PURGE_EVERY = 2000  # hits between sweeps of keys whose every hit has expired

    def __init__(self, path: Path, *, busy_ms: int = 5000) -> None:
        self.path = path
        self.busy_ms = busy_ms
        self.lock_path = path.with_suffix(".lock")
        self._thread_lock = threading.Lock()
        self._pid = 0
        self._db: sqlite3.Connection | None = None
        self._lock_file: BinaryIO | None = None
        self._hits_since_purge = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=self.busy_ms / 1000, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        return connection

    def hit(self, limits: Sequence[Limit], now: float | None = None) -> float | None:
        # SQLite's own busy handler polls with sleeps of 1, 2, 5, 10… ms, so 40 threads of 4
        # workers contending for the write lock waited seconds. Writers queue instead: on a
        # lock of this process, then on an flock of the file (the kernel wakes the next one
        # as soon as it is released), so BEGIN IMMEDIATE never finds the database busy.
        with self._thread_lock:
            if self._pid != os.getpid():  # first use, or a forked worker: its own handles
                self._db = self._connect()
                self._lock_file = open(self.lock_path, "a+b")  # noqa: SIM115 (kept open)
                self._pid = os.getpid()
            if self._db is None or self._lock_file is None:
                raise RuntimeError("the rate limiter is closed")
            fd = self._lock_file.fileno()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                return self._hit(self._db, limits, _now(now))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            if self._lock_file is not None and self._pid == os.getpid():
                self._lock_file.close()
            self._db = self._lock_file = None
            self._pid = -1

    def __del__(self) -> None:
        with suppress(Exception):  # at interpreter exit, modules may be gone
            self.close()

    def _hit(
        self, connection: sqlite3.Connection, limits: Sequence[Limit], at: float
    ) -> float | None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            wait = 0.0
            counts: list[int] = []
            for limit in limits:
                gone = connection.execute(
                    "DELETE FROM hits WHERE key = ? AND until <= ?", (limit.key, at)
                ).rowcount
                row = connection.execute(
                    "SELECT n FROM counts WHERE key = ?", (limit.key,)
                ).fetchone()
                n = max((row[0] if row else 0) - gone, 0)
                counts.append(n)
                if n >= limit.limit:
                    oldest = connection.execute(
                        "SELECT min(until) FROM hits WHERE key = ?", (limit.key,)
                    ).fetchone()[0]
                    wait = max(wait, (oldest or at) - at, 0.001)
            for limit, n in zip(limits, counts, strict=True):
                until = at + limit.seconds
                added = 0 if wait else 1
                if added:
                    connection.execute(
                        "INSERT INTO hits (key, until) VALUES (?, ?)", (limit.key, until)
                    )
                connection.execute(
                    "INSERT INTO counts (key, n, last_until) VALUES (?, ?, ?) ON CONFLICT (key)"
                    " DO UPDATE SET n = excluded.n,"
                    " last_until = max(counts.last_until, excluded.last_until)",
                    (limit.key, n + added, until if added else at),
                )
            self._hits_since_purge += 1
            if self._hits_since_purge >= self.PURGE_EVERY:
                self._hits_since_purge = 0
                self._purge(connection, at)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return wait or None

    @staticmethod
    def _purge(connection: sqlite3.Connection, at: float) -> None:
        """Forget keys all of whose hits have left their windows, so the file stays small."""
        connection.execute(
            "DELETE FROM hits WHERE key IN (SELECT key FROM counts WHERE last_until <= ?)", (at,)
        )
        connection.execute("DELETE FROM counts WHERE last_until <= ?", (at,))


# KEYS: the limits' keys; ARGV: now, a unique member, then limit and seconds per key.
_SCRIPT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local seconds = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - seconds)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + seconds - now
    if w > wait then wait = w end
    if wait < 0.001 then wait = 0.001 end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i]) * 1000))
end
return false
"""


class RedisLimiter:
    """Sliding windows in Redis sorted sets, checked and counted by one atomic script."""

    PREFIX = "cordon:limit:"

    def __init__(self, url: str, fallback: Limiter) -> None:
        import redis  # optional component: imported only when configured

        self.url = url
        self.fallback = fallback
        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        self._script = self._client.register_script(_SCRIPT)
        self._errors = (redis.RedisError, OSError)

    def hit(self, limits: Sequence[Limit], now: float | None = None) -> float | None:
        at = _now(now)
        args: list[str | int] = [repr(at), uuid.uuid4().hex]
        for limit in limits:
            args += [limit.limit, repr(float(limit.seconds))]
        try:
            answer = self._script(keys=[self.PREFIX + x.key for x in limits], args=args)
        except self._errors as exc:
            log.warning("Redis unreachable for rate limits (%s); using the local store", exc)
            return self.fallback.hit(limits, now)
        return float(answer) if answer else None

    def close(self) -> None:
        self._client.close()
        self.fallback.close()


def make_limiter(*, data_dir: Path, redis_url: str | None, busy_ms: int = 5000) -> Limiter:
    local = SqliteLimiter(data_dir / "ratelimit.db", busy_ms=busy_ms)
    if redis_url:
        return RedisLimiter(redis_url, fallback=local)
    return local
