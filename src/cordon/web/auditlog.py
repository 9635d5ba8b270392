"""Audit entries of public lookups, written in batches off the request path.

A resident's lookup must be audited, but one INSERT and COMMIT per lookup puts a database write
(on SQLite: the one write lock of the whole database) on the hottest path there is. Here the
entry is made at the moment of the access (its time is the access time) and queued; a
background thread of each worker writes whatever is queued in one transaction every
``audit_batch_ms`` (or sooner when a batch is full). The queue is written on shutdown (the
app's lifespan, and at exit as a backstop), so nothing is lost on a normal stop; a crash of
the process loses at most the last interval's entries. A failed write keeps the entries
queued and is retried. With ``audit_batch_ms = 0`` each entry is written in its own
transaction before the answer (tests use that to read the trail at once).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cordon.audit.models import AuditEntry
from cordon.auth.schemas import Actor
from cordon.db import transaction, utcnow
from cordon.errors import DeniedAccess

log = logging.getLogger("cordon.audit")

MAX_BATCH = 1000  # rows per transaction; a full batch is written at once
MAX_QUEUED = 200_000  # beyond this (the database is down for long) the oldest are logged out


def _close_at_exit(ref: weakref.ref[AuditBatcher]) -> None:
    batcher = ref()
    if batcher is not None:
        batcher.close()


class AuditBatcher:
    def __init__(self, session_factory: Callable[[], Session], *, interval_ms: int) -> None:
        self.session_factory = session_factory
        self.interval = interval_ms / 1000
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.written = 0
        if self.interval:
            atexit.register(_close_at_exit, weakref.ref(self))

    # -- entries ---------------------------------------------------------------------------
    def record(
        self,
        *,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: str | int,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._put(
            {
                "at": utcnow(),
                "user_id": actor.user_id,
                "username": actor.username,
                "action": action,
                "entity": entity,
                "entity_id": str(entity_id),
                "outcome": outcome,
                "client_addr": actor.client_addr,
                "detail": detail or {},
            }
        )

    def record_denied(self, *, denied: DeniedAccess, client_addr: str | None) -> None:
        attempt = Actor(
            user_id=denied.user_id,
            username=denied.username,
            role="",
            jurisdiction="",
            client_addr=client_addr,
        )
        self.record(
            actor=attempt,
            action=denied.action,
            entity=denied.entity,
            entity_id=denied.entity_id,
            outcome="denied",
            detail=denied.detail,
        )

    def _put(self, row: dict[str, Any]) -> None:
        if not self.interval:
            self._write([row])
            return
        with self._lock:
            self._rows.append(row)
            if len(self._rows) > MAX_QUEUED:
                dropped = self._rows[: len(self._rows) - MAX_QUEUED]
                del self._rows[: len(dropped)]
                log.error("audit queue full: %d entries not stored: %s", len(dropped), dropped)
            full = len(self._rows) >= MAX_BATCH
        self._ensure_thread()
        if full:
            self._wake.set()

    # -- writing ---------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        # Started on first use in each process: a forked worker has no thread of its parent's.
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-flusher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # kept queued; logged; retried at the next interval
                log.exception("audit batch not written; retrying")

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with transaction(self.session_factory) as session:
            session.execute(insert(AuditEntry), rows)
        self.written += len(rows)

    def flush(self) -> int:
        """Write everything queued now; the number of entries written."""
        written = 0
        with self._write_lock:
            while True:
                with self._lock:
                    batch, self._rows = self._rows[:MAX_BATCH], self._rows[MAX_BATCH:]
                if not batch:
                    return written
                try:
                    self._write(batch)
                except BaseException:
                    with self._lock:  # back to the front, in order
                        self._rows[:0] = batch
                    raise
                written += len(batch)

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def close(self) -> None:
        """Stop the flusher and write what is left (the app's shutdown; at exit)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=10)
        try:
            self.flush()
        except Exception:
            log.exception("audit entries left unwritten at shutdown: %d", self.pending())
