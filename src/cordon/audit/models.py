"""One row per access to personal data, allowed or denied: one record read, or one list page
or export with the ids it showed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordon.db import Base, wall_utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=wall_utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, default=None)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # view, search, create, update, import…
    entity: Mapped[str] = mapped_column(String(32))  # person, household, user…
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(8), default="ok")  # ok | denied
    client_addr: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # The records a list page or export showed, as ",12,57,": one entry per request, and
    # "who has seen record 57" stays one query (LIKE '%,57,%') on SQLite and PostgreSQL.
    ids: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def id_list(self) -> list[str]:
        """The ids a list entry holds, in the order shown."""
        return [part for part in (self.ids or "").split(",") if part]
