"""The shared limiter: exact under concurrency across processes (the SQLite store) and in
Redis (when one answers at 127.0.0.1:6379), with the wait until the next allowed hit."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cordon.web.ratelimit import Limit, Limiter, RedisLimiter, SqliteLimiter, make_limiter

REDIS_URL = os.environ.get("CORDON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip(tmp_path: Path) -> RedisLimiter:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except (redis.RedisError, OSError):
        pytest.skip(f"no Redis at {REDIS_URL}")
    limiter = make_limiter(data_dir=tmp_path, redis_url=REDIS_URL)
    assert isinstance(limiter, RedisLimiter)
    return limiter


def _burst(path: str, key: str, count: int) -> int:
    """In a child process: ``count`` concurrent hits from 8 threads; how many passed."""
    limiter = SqliteLimiter(Path(path))
    with ThreadPoolExecutor(max_workers=8) as pool:
        passed = sum(
            r is None for r in pool.map(lambda _: limiter.hit([Limit(key, 25, 60)]), range(count))
        )
    limiter.close()
    return passed


def test_the_sqlite_store_holds_a_limit_across_processes_and_threads(tmp_path: Path) -> None:
    path = str(tmp_path / "ratelimit.db")
    SqliteLimiter(Path(path)).close()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        passed = pool.starmap(_burst, [(path, "k", 30)] * 4)
    assert sum(passed) == 25  # of 120 concurrent hits from 4 processes


def _check_windows(limiter: Limiter) -> None:
    key = uuid.uuid4().hex
    both = [Limit(f"{key}:addr", 3, 60), Limit(f"{key}:number", 2, 10)]
    assert limiter.hit(both, now=1000.0) is None
    assert limiter.hit(both, now=1001.0) is None
    # The number's limit refuses, and the refused hit counts against neither limit.
    assert limiter.hit(both, now=1002.0) == pytest.approx(8.0)
    assert limiter.hit(both[:1], now=1002.5) is None  # the address had one left
    assert limiter.hit(both[:1], now=1003.0) == pytest.approx(57.0)
    # Ten seconds after the first hit, the number's window has room again; the address not.
    assert limiter.hit(both[1:], now=1010.5) is None
    assert limiter.hit(both, now=1061.0) is None
    limiter.close()


def test_sliding_windows_and_waits_in_sqlite(tmp_path: Path) -> None:
    _check_windows(SqliteLimiter(tmp_path / "ratelimit.db"))


def test_sliding_windows_and_waits_in_redis(tmp_path: Path) -> None:
    _check_windows(_redis_or_skip(tmp_path))


def test_redis_holds_a_limit_under_concurrency(tmp_path: Path) -> None:
    limiter = _redis_or_skip(tmp_path)
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: limiter.hit([Limit(key, 5, 60)]), range(100)))
    assert sum(a is None for a in answers) == 5
    limiter.close()


def test_an_unreachable_redis_falls_back_to_the_local_store(tmp_path: Path) -> None:
    limiter = make_limiter(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    answers = [limiter.hit([Limit("k", 2, 60)]) for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None
    limiter.close()
