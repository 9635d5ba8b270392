"""Serving: gunicorn's pre-fork arbiter over uvicorn workers (uvloop and httptools).

One uvicorn process served everything and was the bottleneck (issue 13: /healthz p99 293 ms
at 100 connections, code lookups p99 1.6 s). Python runs one request's code at a time per
process, so the server runs several worker processes: gunicorn's arbiter forks them, restarts
one that dies, stops them gracefully on SIGTERM/SIGINT (in-flight requests finish; each
worker's lifespan shutdown writes its queued audit entries), and uvicorn inside each worker
speaks HTTP with the C parser (httptools) on uvloop.

Why gunicorn and not granian: granian's Rust HTTP layer is faster per request, but what this
server needs from the process manager is the well-trodden part (crash restarts, graceful
timeouts, signals, the ASGI lifespan per worker) and uvicorn's behaviour, which the
development server and the tests already have; the application's own Python (decrypting,
deciding a code, signing a token) dominates a lookup, not the HTTP parser.

Each worker builds its own application (``create_app`` runs after the fork: its own engine
and pool, sized per worker, its own audit flusher and limiter connections); the settings
object, and anything the parent set before serving (such as the scenario clock), is
inherited through the fork. Forwarded headers are ignored by uvicorn here (``proxy_headers``
off): ``cordon.web.deps.client_addr`` believes them only from ``CORDON_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import logging
import os
from typing import Any, ClassVar

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from cordon.config import Settings
from cordon.logs import MaskingFilter

log = logging.getLogger("cordon")

MAX_DEFAULT_WORKERS = 8


def worker_count(settings: Settings, requested: int | None = None) -> int:
    """Workers asked for, else the setting, else two per core (at most 8); one for a SQLite
    database in memory, which a second process could not see."""
    url = settings.resolved_database_url
    if url in ("sqlite://", "sqlite:///:memory:"):
        return 1
    count = requested or settings.workers
    if not count:
        count = min(2 * (os.cpu_count() or 1), MAX_DEFAULT_WORKERS)
    return max(count, 1)


class CordonWorker(UvicornWorker):
    """uvicorn in a gunicorn worker: uvloop, httptools, lifespan on, no proxy headers, no
    Server header, and identity numbers masked in its logs."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "proxy_headers": False,
        "server_header": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("uvicorn.error", "uvicorn.access"):
            for handler in logging.getLogger(name).handlers:
                handler.addFilter(MaskingFilter())


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Called in each worker after the fork (no preload): one application per process.
        from cordon.app import create_app

        return create_app(self.settings)


def check_pool(settings: Settings, workers: int) -> None:
    """Warn when the workers' pools together could exceed PostgreSQL's max_connections."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        return
    from sqlalchemy import text

    from cordon.db import make_engine

    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            allowed = int(connection.execute(text("SHOW max_connections")).scalar_one())
    except Exception as exc:  # the server will report its own connection errors
        log.warning("could not read max_connections: %s", exc)
        return
    finally:
        engine.dispose()
    wanted = workers * (settings.db_pool_size + settings.db_max_overflow)
    if wanted >= allowed:
        log.warning(
            "%d workers × (pool %d + overflow %d) = %d connections may exceed PostgreSQL's "
            "max_connections (%d): lower CORDON_DB_POOL_SIZE / CORDON_DB_MAX_OVERFLOW",
            workers,
            settings.db_pool_size,
            settings.db_max_overflow,
            wanted,
            allowed,
        )


def options(
    *, host: str, port: int, workers: int, log_level: str = "info", access_log: bool = True
) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "cordon.serving.CordonWorker",
        "preload_app": False,
        "timeout": 120,  # a worker whose event loop stops answering for that long is replaced
        "graceful_timeout": 20,
        "keepalive": 5,
        "backlog": 2048,
        "forwarded_allow_ips": "",
        "loglevel": log_level,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "proc_name": "cordon",
        "control_socket_disable": True,  # one per user by default: servers side by side clash
    }


def run(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    log_level: str = "info",
) -> None:
    """Serve until stopped (SIGINT/SIGTERM: a graceful stop of every worker)."""
    count = worker_count(settings, workers)
    check_pool(settings, count)
    opts = options(
        host=host, port=port, workers=count, log_level=log_level, access_log=log_level == "info"
    )
    Server(settings, opts).run()
