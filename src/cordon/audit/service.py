"""Writing and browsing audit entries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cordon.audit.models import AuditEntry
from cordon.auth.schemas import Actor
from cordon.errors import DeniedAccess


def add(
    *,
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | int,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    ids: Iterable[int | str] | None = None,
) -> AuditEntry:
    """Add an entry to the session without flushing (for many entries at once). ``ids`` are
    the records a list or export showed: one entry per request, not one per record."""
    listed = [str(i) for i in ids] if ids is not None else None
    entry = AuditEntry(
        user_id=actor.user_id,
        username=actor.username,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        outcome=outcome,
        client_addr=actor.client_addr,
        detail=detail or {},
        ids=f",{','.join(listed)}," if listed else None,
    )
    session.add(entry)
    return entry


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | int,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    ids: Iterable[int | str] | None = None,
) -> AuditEntry:
    entry = add(
        session=session,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        outcome=outcome,
        detail=detail,
        ids=ids,
    )
    session.flush()
    return entry


def record_denied(*, session: Session, denied: DeniedAccess, client_addr: str | None) -> None:
    """Store a denied attempt; called in its own transaction after the request's rollback."""
    attempt = Actor(
        user_id=denied.user_id,
        username=denied.username,
        role="",
        jurisdiction="",
        client_addr=client_addr,
    )
    record(
        session=session,
        actor=attempt,
        action=denied.action,
        entity=denied.entity,
        entity_id=denied.entity_id,
        outcome="denied",
        detail=denied.detail,
    )


def browse(
    *,
    session: Session,
    username: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[AuditEntry]]:
    query = select(AuditEntry)
    if username:
        query = query.where(AuditEntry.username == username)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        # A record's own entries, and the list pages and exports that showed it.
        listed = AuditEntry.ids.contains(f",{entity_id},", autoescape=True)
        query = query.where(or_(AuditEntry.entity_id == entity_id, listed))
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    if since:
        if since.tzinfo is None:  # a bare time from a user means China Standard Time
            since = since.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        query = query.where(AuditEntry.at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return total, list(rows)
